/*
 * cfg.h: danemilter's configuration, read from a libconfig file.
 *
 * cfg_load() parses and validates a whole file into an immutable struct cfg:
 * unknown keys, wrong types, out-of-range values and malformed entries are
 * errors that name the file and line. A loaded cfg is reference-counted
 * (cfg_ref/cfg_unref) so a reload can swap it while users keep the one they
 * started with; the last cfg_unref() frees everything inside it.
 * Strings inside are owned by the cfg. Thread-safe for concurrent readers.
 */
#ifndef DM_CFG_H
#define DM_CFG_H

#include <stdbool.h>
#include <stddef.h>

/* A DNS stub zone: queries for names at or below zone go to addrs. */
struct cfg_stub {
	char *cs_zone;          /* "example.test" or "." (as written, no check of trailing dot) */
	char **cs_addrs;        /* "IP" or "IP@port" */
	size_t cs_naddrs;       /* >= 1 */
};

struct cfg_dns {
	char **cd_forward;      /* forwarders "IP" / "IP@port"; empty = recursive from the root */
	size_t cd_nforward;
	char *cd_trust_anchor_file;  /* default "/usr/share/dns/root.key"; "" = none (then
	                                cd_trust_anchors is not empty: cfg_load checks) */
	char **cd_trust_anchors;     /* extra one-line DS/DNSKEY anchors */
	size_t cd_ntrust_anchors;
	struct cfg_stub *cd_stubs;
	size_t cd_nstubs;
	unsigned cd_timeout_ms;      /* per DNS query bound; default 5000, range 100..60000 */
};

/* The Postfix socketmap policy server. */
struct cfg_socketmap {
	char **csm_listen;              /* "inet:HOST:PORT", "unix:/path"; default inet:127.0.0.1:8642 */
	size_t csm_nlisten;
	bool csm_tlsrpt;                /* TLSRPT attributes on QUERY too (Postfix >= 3.10) */
	char *csm_mode;                 /* unix socket permissions, octal text, default "0666" */
	char *csm_owner;                /* unix socket owner; "" = daemon.user (or as created) */
	char *csm_group;                /* unix socket group; "" = daemon.group / the user's group */
	unsigned csm_max_connections;   /* default 1000 */
	unsigned csm_idle_timeout_ms;   /* default 60000 (Postfix closes idle ones after 10 s) */
	unsigned csm_io_timeout_ms;     /* default 10000 */
};

struct cfg_mta_sts {
	bool cst_enabled;               /* default true */
	char *cst_ca_file;              /* PKIX roots for policy hosts; default the system bundle */
	bool cst_strict_testing;        /* treat mode testing like enforce; default false */
	unsigned cst_timeout_ms;        /* whole fetch, default 30000 */
	unsigned cst_connect_timeout_ms;        /* default 10000 */
};

struct cfg_cache {
	char *cca_file;                 /* saved across restarts; "" = none (default) */
	unsigned cca_min_ttl;           /* DANE TTL clamp, seconds; default 60 */
	unsigned cca_max_ttl;           /* default 86400 */
	unsigned cca_error_ttl;         /* temporary errors; default 30 */
	unsigned cca_max_entries;       /* default 100000 */
	unsigned cca_max_policies;      /* MTA-STS policies kept; default 100000 */
	unsigned cca_save_interval;     /* seconds between saves; default 300; 0 = only at exit */
	bool cca_refresh_ahead;         /* refresh popular entries before they expire; default true */
	/* the fleet's shared cache on Redis (policy/shared.h); read at start-up */
	char *cca_shared;               /* "redis://HOST:PORT/DB", "unix:/PATH"; "" = none (default) */
	char *cca_shared_user;          /* Redis ACL user; "" = AUTH with the password alone */
	char *cca_shared_password_file; /* "" = no AUTH */
	char *cca_shared_prefix;        /* of every key; default "danemilter:" */
	unsigned cca_shared_timeout_ms; /* the longest a reply waits for Redis; default 50 */
	char *cca_shared_key_file;      /* the fleet's HMAC key; "" = values not signed */
};

/* milter.on_timeout: what a message gets when a verdict is not ready in time. */
enum cfg_on_timeout {
	CFG_TIMEOUT_CONTINUE,   /* policy=temperror in the header, the message goes on */
	CFG_TIMEOUT_TEMPFAIL    /* 451 4.4.3 at end of message */
};

/* milter.require_dane_reply: the RCPT reply for a require = "dane" domain
 * that has no usable DANE (lookup errors always get the temporary one). */
enum cfg_reply_class {
	CFG_REPLY_TEMPORARY,    /* 450 4.7.5 */
	CFG_REPLY_PERMANENT     /* 550 5.7.5 */
};

/* milter.plaintext_sender: a message from a domain with usable DANE or
 * MTA-STS enforce that arrived without TLS. */
enum cfg_plaintext {
	CFG_PLAINTEXT_TAG,        /* violation=plaintext in X-DANE-Sender (default) */
	CFG_PLAINTEXT_QUARANTINE, /* tag + hold (smfi_quarantine) */
	CFG_PLAINTEXT_REJECT      /* tag + 550 5.7.10 at end of message */
};

/* The libmilter filter. socket, like every listener, changes only on restart. */
struct cfg_milter {
	char *cm_socket;                /* "inet:PORT@HOST", "inet6:PORT@HOST", "unix:/path";
	                                   default "inet:8895@127.0.0.1"; "" = no milter */
	char *cm_mode;                  /* unix socket permissions, octal text, default "0660" */
	char *cm_owner;                 /* unix socket owner; "" = daemon.user (or as created) */
	char *cm_group;                 /* unix socket group; "" = daemon.group / the user's group */
	char *cm_authserv_id;           /* header authserv-id; "" = the MTA's j macro, else the host name */
	unsigned cm_timeout_ms;         /* wait for verdicts; default 5000, range 50..25000 */
	enum cfg_on_timeout cm_on_timeout;      /* default continue */
	enum cfg_reply_class cm_require_dane_reply;     /* default temporary */
	bool cm_bogus_tempfail;         /* RCPT to a dane=bogus domain: 450 4.7.5; default false */
	enum cfg_plaintext cm_plaintext_sender; /* default tag */
	unsigned cm_max_recipient_headers;      /* default 20, range 1..1000 */
	unsigned cm_drain_timeout_ms;   /* SIGTERM: wait for open messages; default 10000 */
	char **cm_trusted_networks;     /* CIDR networks (common/cidr.h) whose clients
	                                   submit: their plaintext is no violation;
	                                   default 127.0.0.0/8 and ::1/128; [ ] = none */
	size_t cm_ntrusted_networks;
};

/* TLS probes of MX hosts (danemilter check; the milter's probe= when enabled). */
struct cfg_probe {
	bool cpr_enabled;               /* the milter probes recipient domains; default false */
	unsigned cpr_timeout_ms;        /* one probe, connect to end of handshake; default 10000 */
	unsigned cpr_max_parallel;      /* probes at once; default 8 */
	unsigned cpr_ttl;               /* a passing result is reused this long (s); default 3600 */
	unsigned cpr_fail_ttl;          /* a failure or error (s): also the per-host rate limit; default 300 */
	unsigned cpr_port;              /* SMTP port probed; default 25 (labs: another) */
	char *cpr_helo;                 /* EHLO name; "" = this host's name */
};

/* The Prometheus metrics endpoint (http/metricsd.h). listen changes only on restart. */
struct cfg_metrics {
	char *cmt_listen;               /* "inet:HOST:PORT" or "unix:/path"; "" = off (default) */
	unsigned cmt_max_connections;   /* scrapes at once; default 16, range 1..1000 */
	unsigned cmt_timeout_ms;        /* a whole connection (request + reply); default 5000 */
};

/* The control socket (control/ctld.h, `danemilter ctl`). Changes only on restart. */
struct cfg_control {
	char *cc_socket;                /* "unix:/path" or "inet:HOST:PORT"; default
	                                   cfg_default_control_socket; "" = off */
	char *cc_mode;                  /* unix socket permissions, octal text, default "0600" */
};

/* control.socket's default: "unix:/run/danemilter/control.sock" (the
 * unit's RuntimeDirectory=). */
extern const char cfg_default_control_socket[];
/* One of the operator's own domains the daemon's monitor watches. */
struct cfg_monitor_domain {
	char *cmd_name;                 /* a domain name, lower case, no trailing dot */
	char **cmd_cert_files;          /* the next certificates (tlsa-rollover); absolute paths */
	size_t cmd_ncert_files;
	int cmd_line;                   /* line in the file */
};

/* The scheduled monitor (policy/monitorsched.h; `danemilter monitor` reads
 * expiry_warn_days and each domain's cert_files too). */
struct cfg_monitor {
	struct cfg_monitor_domain *cmo_domains; /* none: the daemon does not monitor */
	size_t cmo_ndomains;
	unsigned cmo_interval_s;        /* between runs; default 3600 */
	unsigned cmo_expiry_warn_days;  /* cert-expiry warns this many days ahead; default 21 */
};

/* The process. Read at start-up only. */
struct cfg_daemon {
	char *cdm_user;                 /* drop to this user after binding; "" = stay */
	char *cdm_group;                /* and group; "" = the user's login group */
	char *cdm_pidfile;              /* "" = none (-p overrides) */
};

enum cfg_log_dest {
	CFG_LOG_SYSLOG,
	CFG_LOG_STDERR
};

enum cfg_log_format {
	CFG_LOG_TEXT,
	CFG_LOG_JSON
};

struct cfg_log {
	enum cfg_log_dest clg_dest;     /* default syslog */
	int clg_facility;               /* syslog facility (LOG_MAIL default) */
	int clg_level;                  /* syslog priority (LOG_INFO default) */
	enum cfg_log_format clg_format; /* summary lines; default text */
};

enum cfg_require {
	CFG_REQUIRE_UNSET = 0,  /* not said by this entry */
	CFG_REQUIRE_NONE,       /* require = "none" */
	CFG_REQUIRE_DANE        /* require = "dane" */
};

enum cfg_tristate {
	CFG_UNSET = -1,
	CFG_FALSE = 0,
	CFG_TRUE = 1
};

/* The longest fixed policy: Postfix takes a socketmap reply of at most
 * 100000 bytes (socketmap_table(5)), and the policy goes after "OK ". */
#define CFG_POLICY_MAX  99997

/* One entry of the domains list, as written. */
struct cfg_domain {
	char *cdom_name;                 /* "*", "example.com" or ".example.com" / "*.example.com" (subdomains) ; lower-case */
	enum cfg_tristate cdom_log_resolution;
	enum cfg_tristate cdom_log_tls;
	enum cfg_require cdom_require;
	char *cdom_policy;               /* fixed Postfix policy text ("may", "dane-only", "secure match=..."), or NULL;
	                                    at most CFG_POLICY_MAX bytes */
	int cdom_line;                   /* line in the file */
};

/* The effective settings for one domain after merging matching entries. */
struct cfg_domain_view {
	bool cdv_log_resolution;         /* default false */
	bool cdv_log_tls;                /* default false */
	enum cfg_require cdv_require;    /* default CFG_REQUIRE_NONE */
	const char *cdv_policy;          /* NULL when no entry sets one; points into the cfg */
};

/*
 * HaveDane: outbound DANE tests of other mail servers (policy/hdtoken.h,
 * policy/hdstore.h). Off while zone is "".
 */
struct cfg_havedane {
	char *chd_zone;                 /* "havedane.example": tests go to <token>@{do,dont,wrong}.<zone>;
	                                   "" = off (default); lower-case, no trailing dot */
	char **chd_listen;              /* the web page and API: "inet:HOST:PORT", "unix:/path" */
	size_t chd_nlisten;
	unsigned chd_keep;              /* records kept, the oldest go first; default 1000 */
	unsigned chd_grace_s;           /* how long after do (dont) the verdict waits; default 15 */
	char *chd_token_key_file;       /* the HMAC key of the tokens (>= 16 bytes); required when zone is set */
	unsigned chd_token_ttl_s;       /* a token is accepted this long after its creation; default 86400 */
	char *chd_state_file;           /* records saved across restarts; "" = memory only */
	unsigned chd_creates_per_minute;        /* tests one client address may create per minute; default 10 */
	unsigned chd_max_connections;   /* HTTP connections at once; default 64 */
	unsigned chd_timeout_ms;        /* one HTTP connection's whole life; default 10000 */
};

struct cfg {
	char *c_file;                    /* the path it was read from, or NULL for defaults */
	struct cfg_dns c_dns;
	struct cfg_socketmap c_socketmap;
	struct cfg_mta_sts c_mta_sts;
	struct cfg_cache c_cache;
	struct cfg_log c_log;
	struct cfg_milter c_milter;
	struct cfg_probe c_probe;
	struct cfg_daemon c_daemon;
	struct cfg_metrics c_metrics;
	struct cfg_control c_control;
	char *c_overrides_file;          /* policy/overrides.h; "" = none (default) */
	struct cfg_monitor c_monitor;
	struct cfg_havedane c_havedane;
	struct cfg_domain *c_domains;
	size_t c_ndomains;
	int c_refs;                      /* private: use cfg_ref/cfg_unref */
};

/*
 * NULL when policy is a valid fixed Postfix policy (a domains entry's
 * `policy`, an overrides file's POLICY): a TLS level as first word, no
 * control characters, at most CFG_POLICY_MAX bytes; else what is wrong
 * ("must start with ...": static text, valid until the next call).
 */
const char *cfg_policy_problem(const char *policy);

/*
 * Read and validate path. Returns a cfg with one reference, or NULL with
 * *errp set to a malloc'ed message "FILE:LINE: what is wrong" (free it).
 */
struct cfg *cfg_load(const char *path, char **errp);
/* Parse from a string (tests, fuzzing); name is used in messages. */
struct cfg *cfg_load_string(const char *text, const char *name, char **errp);
/* The built-in defaults, as if from an empty file. Never NULL. */
struct cfg *cfg_default(void);
struct cfg *cfg_ref(struct cfg *c);
void cfg_unref(struct cfg *c);

/*
 * The effective settings for domain (lower-case, no trailing dot).
 * Matching entries: "*" (everything), ".parent"/"*.parent" (strict
 * subdomains of parent), the exact name. For each setting the most specific
 * entry that sets it wins: exact > longer parent > shorter parent > "*".
 */
void cfg_domain_lookup(const struct cfg *c, const char *domain, struct cfg_domain_view *out);

#endif
