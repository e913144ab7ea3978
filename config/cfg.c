/*
 * NAME
 *	cfg - danemilter's configuration file
 * SUMMARY
 *	load, validate and query the libconfig configuration
 * SYNOPSIS
 *	#include "config/cfg.h"
 *
 *	struct cfg *cfg_load(const char *path, char **errp);
 *	struct cfg *cfg_load_string(const char *text, const char *name,
 *	    char **errp);
 *	struct cfg *cfg_default(void);
 *	struct cfg *cfg_ref(struct cfg *c);
 *	void cfg_unref(struct cfg *c);
 *	void cfg_domain_lookup(const struct cfg *c, const char *domain,
 *	    struct cfg_domain_view *out);
 * DESCRIPTION
 *	This module owns the schema of the configuration file and the
 *	immutable struct cfg built from it. Nothing else includes
 *	<libconfig.h>: the config_t lives only inside cfg_parse() and
 *	every string is copied out of it.
 *
 *	The schema is data: one table of keys per section (struct
 *	cfg_section). A key says its name, its kind (string, array of
 *	strings, bounded integer, boolean, tristate, enumeration, group,
 *	list of groups), where in the C struct its value goes, its
 *	default and an optional check of each string value. The same
 *	tables drive defaults, decoding, type checking, the "unknown key"
 *	check and freeing, so a new section is a struct in cfg.h, a key
 *	table and one line in the table of its parent.
 *
 *	cfg_load() reads a file, cfg_load_string() a string (name is used
 *	in messages only), cfg_default() gives the built-in defaults.
 *	Each returns a cfg with one reference; cfg_ref() adds one,
 *	cfg_unref() drops one and frees everything at zero.
 *
 *	cfg_domain_lookup() merges the "domains" entries that match a
 *	domain, most specific first, without allocating.
 * DIAGNOSTICS
 *	The first problem found is returned in *errp as a malloc'ed
 *	"FILE:LINE: message" (the caller frees it): syntax errors as
 *	libconfig words them, unknown keys, wrong types, values out of
 *	range, bad addresses and names, duplicate domains entries (with
 *	the line of the first). A file that cannot be opened gives
 *	"FILE: cannot read: <strerror>".
 * BUGS
 *	libconfig 1.5 parses an integer without the L suffix with atoi():
 *	"4294972296" silently becomes 5000. The range checks here see only
 *	the wrapped value.
 */
#include "config/cfg.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"

#define CFG_DEFAULT_TA_FILE	"/usr/share/dns/root.key"
#define CFG_DEFAULT_MILTER_SOCKET	"inet:8895@127.0.0.1"

/* What a key holds and how its C field is typed. */
enum cfg_kind {
	CFG_K_STR,		/* char *; ck_check on the copy */
	CFG_K_STRS,		/* char ** + size_t count; array or list */
	CFG_K_UINT,		/* unsigned, ck_min..ck_max */
	CFG_K_BOOL,		/* bool */
	CFG_K_TRI,		/* enum cfg_tristate, CFG_UNSET when absent */
	CFG_K_ENUM,		/* int-sized enum, one of ck_names */
	CFG_K_GROUP,		/* embedded struct described by ck_sub */
	CFG_K_LIST		/* array of ck_sub structs + size_t count */
};

#define CFG_F_REQUIRED	(1 << 0)	/* absent is an error */
#define CFG_F_NONEMPTY	(1 << 1)	/* CFG_K_STRS: at least one */

struct cfg_ld;
struct cfg_section;

/* Checks (and may rewrite in place) one string value; false = error set. */
typedef bool (*cfg_check_fn)(struct cfg_ld *, const config_setting_t *,
    const char *label, char *val);

struct cfg_name {
	const char *cn_name;
	int cn_value;
};

struct cfg_key {
	const char *ck_name;
	enum cfg_kind ck_kind;
	int ck_flags;
	size_t ck_off;			/* the field */
	size_t ck_noff;			/* its count (STRS, LIST) */
	long long ck_min, ck_max;	/* UINT */
	long long ck_defint;		/* UINT, BOOL, ENUM default */
	const char *ck_defstr;		/* STR default, NULL = none */
	cfg_check_fn ck_check;		/* STR, STRS: per string */
	const struct cfg_name *ck_names; /* ENUM */
	const struct cfg_section *ck_sub; /* GROUP, LIST */
};

struct cfg_section {
	size_t sc_size;			/* sizeof the struct it fills */
	const struct cfg_key *sc_keys;	/* ends with a NULL ck_name */
	const char *sc_label_key;	/* list entries: member naming the entry */
	long sc_line_off;		/* int field for the entry's line, or -1 */
};

/* One load in progress. */
struct cfg_ld {
	const char *ld_name;		/* file name for messages */
	char *ld_err;			/* the first error, malloc'ed */
};

static bool cfg_check_addr(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_zone(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_domain(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_policy(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_listen(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_mode(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_path(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_milter_socket(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_authserv(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_account(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_helo(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_metrics_listen(struct cfg_ld *, const config_setting_t *,
    const char *, char *);

#define KEY_STR(st, key, field, def, check, flags) \
	{ .ck_name = key, .ck_kind = CFG_K_STR, .ck_flags = flags, \
	  .ck_off = offsetof(st, field), .ck_defstr = def, .ck_check = check }
#define KEY_STRS(st, key, field, nfield, check, flags) \
	{ .ck_name = key, .ck_kind = CFG_K_STRS, .ck_flags = flags, \
	  .ck_off = offsetof(st, field), .ck_noff = offsetof(st, nfield), \
	  .ck_check = check }
#define KEY_UINT(st, key, field, def, min, max) \
	{ .ck_name = key, .ck_kind = CFG_K_UINT, \
	  .ck_off = offsetof(st, field), .ck_defint = def, \
	  .ck_min = min, .ck_max = max }
#define KEY_BOOL(st, key, field, def) \
	{ .ck_name = key, .ck_kind = CFG_K_BOOL, \
	  .ck_off = offsetof(st, field), .ck_defint = def }
#define KEY_TRI(st, key, field) \
	{ .ck_name = key, .ck_kind = CFG_K_TRI, .ck_off = offsetof(st, field) }
#define KEY_ENUM(st, key, field, def, names) \
	{ .ck_name = key, .ck_kind = CFG_K_ENUM, \
	  .ck_off = offsetof(st, field), .ck_defint = def, .ck_names = names }
#define KEY_GROUP(st, key, field, sub) \
	{ .ck_name = key, .ck_kind = CFG_K_GROUP, \
	  .ck_off = offsetof(st, field), .ck_sub = sub }
#define KEY_LIST(st, key, field, nfield, sub) \
	{ .ck_name = key, .ck_kind = CFG_K_LIST, \
	  .ck_off = offsetof(st, field), .ck_noff = offsetof(st, nfield), \
	  .ck_sub = sub }
#define KEY_END	{ .ck_name = NULL }

/* CFG_K_ENUM stores through an int *. */
_Static_assert(sizeof(enum cfg_require) == sizeof(int),
    "enum cfg_require is int-sized");
_Static_assert(sizeof(enum cfg_tristate) == sizeof(int),
    "enum cfg_tristate is int-sized");
_Static_assert(sizeof(enum cfg_on_timeout) == sizeof(int) &&
    sizeof(enum cfg_reply_class) == sizeof(int) &&
    sizeof(enum cfg_plaintext) == sizeof(int), "milter enums are int-sized");
_Static_assert(sizeof(enum cfg_log_dest) == sizeof(int) &&
    sizeof(enum cfg_log_format) == sizeof(int), "log enums are int-sized");

/* ---- the schema ---- */

static const struct cfg_key cfg_stub_keys[] = {
	KEY_STR(struct cfg_stub, "zone", cs_zone, NULL, cfg_check_zone,
	    CFG_F_REQUIRED),
	KEY_STRS(struct cfg_stub, "addrs", cs_addrs, cs_naddrs, cfg_check_addr,
	    CFG_F_REQUIRED | CFG_F_NONEMPTY),
	KEY_END
};

static const struct cfg_section cfg_stub_section = {
	sizeof(struct cfg_stub), cfg_stub_keys, "zone", -1
};

static const struct cfg_key cfg_dns_keys[] = {
	KEY_STRS(struct cfg_dns, "forward", cd_forward, cd_nforward,
	    cfg_check_addr, 0),
	KEY_STR(struct cfg_dns, "trust_anchor_file", cd_trust_anchor_file,
	    CFG_DEFAULT_TA_FILE, cfg_check_path, 0),
	KEY_STRS(struct cfg_dns, "trust_anchors", cd_trust_anchors,
	    cd_ntrust_anchors, NULL, 0),
	KEY_LIST(struct cfg_dns, "stubs", cd_stubs, cd_nstubs,
	    &cfg_stub_section),
	KEY_UINT(struct cfg_dns, "timeout_ms", cd_timeout_ms, 5000, 100, 60000),
	KEY_END
};

static const struct cfg_section cfg_dns_section = {
	sizeof(struct cfg_dns), cfg_dns_keys, NULL, -1
};

static const struct cfg_name cfg_require_names[] = {
	{ "dane", CFG_REQUIRE_DANE },
	{ "none", CFG_REQUIRE_NONE },
	{ NULL, 0 }
};

static const struct cfg_key cfg_domain_keys[] = {
	KEY_STR(struct cfg_domain, "name", cdom_name, NULL, cfg_check_domain,
	    CFG_F_REQUIRED),
	KEY_TRI(struct cfg_domain, "log_resolution", cdom_log_resolution),
	KEY_TRI(struct cfg_domain, "log_tls", cdom_log_tls),
	KEY_ENUM(struct cfg_domain, "require", cdom_require, CFG_REQUIRE_UNSET,
	    cfg_require_names),
	KEY_STR(struct cfg_domain, "policy", cdom_policy, NULL,
	    cfg_check_policy, 0),
	KEY_END
};

static const struct cfg_section cfg_domain_section = {
	sizeof(struct cfg_domain), cfg_domain_keys, "name",
	offsetof(struct cfg_domain, cdom_line)
};

static const struct cfg_key cfg_socketmap_keys[] = {
	KEY_STRS(struct cfg_socketmap, "listen", csm_listen, csm_nlisten,
	    cfg_check_listen, 0),
	KEY_BOOL(struct cfg_socketmap, "tlsrpt", csm_tlsrpt, 0),
	KEY_STR(struct cfg_socketmap, "mode", csm_mode, "0666", cfg_check_mode, 0),
	KEY_UINT(struct cfg_socketmap, "max_connections", csm_max_connections,
	    1000, 1, 100000),
	KEY_UINT(struct cfg_socketmap, "idle_timeout_ms", csm_idle_timeout_ms,
	    60000, 100, 86400000),
	KEY_UINT(struct cfg_socketmap, "io_timeout_ms", csm_io_timeout_ms,
	    10000, 100, 600000),
	KEY_END
};

static const struct cfg_section cfg_socketmap_section = {
	sizeof(struct cfg_socketmap), cfg_socketmap_keys, NULL, -1
};

static const struct cfg_key cfg_mta_sts_keys[] = {
	KEY_BOOL(struct cfg_mta_sts, "enabled", cst_enabled, 1),
	KEY_STR(struct cfg_mta_sts, "ca_file", cst_ca_file, NULL, cfg_check_path, 0),
	KEY_BOOL(struct cfg_mta_sts, "strict_testing", cst_strict_testing, 0),
	KEY_UINT(struct cfg_mta_sts, "timeout_ms", cst_timeout_ms, 30000, 100, 120000),
	KEY_UINT(struct cfg_mta_sts, "connect_timeout_ms", cst_connect_timeout_ms,
	    10000, 100, 120000),
	KEY_END
};

static const struct cfg_section cfg_mta_sts_section = {
	sizeof(struct cfg_mta_sts), cfg_mta_sts_keys, NULL, -1
};

static const struct cfg_key cfg_cache_keys[] = {
	KEY_STR(struct cfg_cache, "file", cca_file, "", cfg_check_path, 0),
	KEY_UINT(struct cfg_cache, "min_ttl", cca_min_ttl, 60, 0, 86400),
	KEY_UINT(struct cfg_cache, "max_ttl", cca_max_ttl, 86400, 1, 31557600),
	KEY_UINT(struct cfg_cache, "error_ttl", cca_error_ttl, 30, 0, 3600),
	KEY_UINT(struct cfg_cache, "max_entries", cca_max_entries, 100000, 1, 10000000),
	KEY_UINT(struct cfg_cache, "save_interval", cca_save_interval, 300, 0, 86400),
	KEY_BOOL(struct cfg_cache, "refresh_ahead", cca_refresh_ahead, 1),
	KEY_END
};

static const struct cfg_section cfg_cache_section = {
	sizeof(struct cfg_cache), cfg_cache_keys, NULL, -1
};

static const struct cfg_name cfg_log_dest_names[] = {
	{ "syslog", CFG_LOG_SYSLOG },
	{ "stderr", CFG_LOG_STDERR },
	{ NULL, 0 }
};

static const struct cfg_name cfg_log_facility_names[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	{ NULL, 0 }
};

static const struct cfg_name cfg_log_level_names[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING }, { "error", LOG_ERR },
	{ NULL, 0 }
};

static const struct cfg_name cfg_log_format_names[] = {
	{ "text", CFG_LOG_TEXT },
	{ "json", CFG_LOG_JSON },
	{ NULL, 0 }
};

static const struct cfg_key cfg_log_keys[] = {
	KEY_ENUM(struct cfg_log, "destination", clg_dest, CFG_LOG_SYSLOG, cfg_log_dest_names),
	KEY_ENUM(struct cfg_log, "facility", clg_facility, LOG_MAIL, cfg_log_facility_names),
	KEY_ENUM(struct cfg_log, "level", clg_level, LOG_INFO, cfg_log_level_names),
	KEY_ENUM(struct cfg_log, "format", clg_format, CFG_LOG_TEXT, cfg_log_format_names),
	KEY_END
};

static const struct cfg_section cfg_log_section = {
	sizeof(struct cfg_log), cfg_log_keys, NULL, -1
};

static const struct cfg_name cfg_on_timeout_names[] = {
	{ "continue", CFG_TIMEOUT_CONTINUE },
	{ "tempfail", CFG_TIMEOUT_TEMPFAIL },
	{ NULL, 0 }
};

static const struct cfg_name cfg_reply_class_names[] = {
	{ "temporary", CFG_REPLY_TEMPORARY },
	{ "permanent", CFG_REPLY_PERMANENT },
	{ NULL, 0 }
};

static const struct cfg_name cfg_plaintext_names[] = {
	{ "tag", CFG_PLAINTEXT_TAG },
	{ "quarantine", CFG_PLAINTEXT_QUARANTINE },
	{ "reject", CFG_PLAINTEXT_REJECT },
	{ NULL, 0 }
};

static const struct cfg_key cfg_milter_keys[] = {
	KEY_STR(struct cfg_milter, "socket", cm_socket, CFG_DEFAULT_MILTER_SOCKET,
	    cfg_check_milter_socket, 0),
	KEY_STR(struct cfg_milter, "authserv_id", cm_authserv_id, "",
	    cfg_check_authserv, 0),
	KEY_UINT(struct cfg_milter, "timeout_ms", cm_timeout_ms, 5000, 50, 25000),
	KEY_ENUM(struct cfg_milter, "on_timeout", cm_on_timeout,
	    CFG_TIMEOUT_CONTINUE, cfg_on_timeout_names),
	KEY_ENUM(struct cfg_milter, "require_dane_reply", cm_require_dane_reply,
	    CFG_REPLY_TEMPORARY, cfg_reply_class_names),
	KEY_BOOL(struct cfg_milter, "bogus_tempfail", cm_bogus_tempfail, 0),
	KEY_ENUM(struct cfg_milter, "plaintext_sender", cm_plaintext_sender,
	    CFG_PLAINTEXT_TAG, cfg_plaintext_names),
	KEY_UINT(struct cfg_milter, "max_recipient_headers",
	    cm_max_recipient_headers, 20, 1, 1000),
	KEY_UINT(struct cfg_milter, "drain_timeout_ms", cm_drain_timeout_ms,
	    10000, 0, 600000),
	KEY_END
};

static const struct cfg_section cfg_milter_section = {
	sizeof(struct cfg_milter), cfg_milter_keys, NULL, -1
};

static const struct cfg_key cfg_probe_keys[] = {
	KEY_BOOL(struct cfg_probe, "enabled", cpr_enabled, 0),
	KEY_UINT(struct cfg_probe, "timeout_ms", cpr_timeout_ms, 10000, 100, 120000),
	KEY_UINT(struct cfg_probe, "max_parallel", cpr_max_parallel, 8, 1, 256),
	KEY_UINT(struct cfg_probe, "ttl", cpr_ttl, 3600, 0, 86400),
	KEY_UINT(struct cfg_probe, "fail_ttl", cpr_fail_ttl, 300, 0, 86400),
	KEY_UINT(struct cfg_probe, "port", cpr_port, 25, 1, 65535),
	KEY_STR(struct cfg_probe, "helo", cpr_helo, "", cfg_check_helo, 0),
	KEY_END
};

static const struct cfg_section cfg_probe_section = {
	sizeof(struct cfg_probe), cfg_probe_keys, NULL, -1
};

static const struct cfg_key cfg_daemon_keys[] = {
	KEY_STR(struct cfg_daemon, "user", cdm_user, "", cfg_check_account, 0),
	KEY_STR(struct cfg_daemon, "group", cdm_group, "", cfg_check_account, 0),
	KEY_STR(struct cfg_daemon, "pidfile", cdm_pidfile, "", cfg_check_path, 0),
	KEY_END
};

static const struct cfg_section cfg_daemon_section = {
	sizeof(struct cfg_daemon), cfg_daemon_keys, NULL, -1
};

static const struct cfg_key cfg_metrics_keys[] = {
	KEY_STR(struct cfg_metrics, "listen", cmt_listen, "", cfg_check_metrics_listen, 0),
	KEY_UINT(struct cfg_metrics, "max_connections", cmt_max_connections, 16, 1, 1000),
	KEY_UINT(struct cfg_metrics, "timeout_ms", cmt_timeout_ms, 5000, 100, 60000),
	KEY_END
};

static const struct cfg_section cfg_metrics_section = {
	sizeof(struct cfg_metrics), cfg_metrics_keys, NULL, -1
};

static const struct cfg_key cfg_top_keys[] = {
	KEY_GROUP(struct cfg, "dns", c_dns, &cfg_dns_section),
	KEY_GROUP(struct cfg, "socketmap", c_socketmap, &cfg_socketmap_section),
	KEY_GROUP(struct cfg, "mta_sts", c_mta_sts, &cfg_mta_sts_section),
	KEY_GROUP(struct cfg, "cache", c_cache, &cfg_cache_section),
	KEY_GROUP(struct cfg, "log", c_log, &cfg_log_section),
	KEY_GROUP(struct cfg, "milter", c_milter, &cfg_milter_section),
	KEY_GROUP(struct cfg, "probe", c_probe, &cfg_probe_section),
	KEY_GROUP(struct cfg, "daemon", c_daemon, &cfg_daemon_section),
	KEY_GROUP(struct cfg, "metrics", c_metrics, &cfg_metrics_section),
	KEY_LIST(struct cfg, "domains", c_domains, c_ndomains,
	    &cfg_domain_section),
	KEY_END
};

static const struct cfg_section cfg_top_section = {
	sizeof(struct cfg), cfg_top_keys, NULL, -1
};

/* Postfix TLS security levels a fixed policy may start with. */
static const char *const cfg_tls_levels[] = {
	"none", "may", "encrypt", "dane", "dane-only", "fingerprint",
	"verify", "secure", NULL
};

/* ---- errors ---- */

/* Record the first error as "FILE:LINE: message"; always returns false. */
static bool DM_PRINTF(3, 4)
cfg_fail(struct cfg_ld *ld, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = NULL;
	char *msg;
	va_list ap;
	int len;

	if (ld->ld_err != NULL)
		return false;
	if (s != NULL)
		file = config_setting_source_file(s);
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		log_abort("cfg: cannot format an error message");
	msg = xmalloc((size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)len + 1, fmt, ap);
	va_end(ap);
	ld->ld_err = xasprintf("%s:%u: %s", file ? file : ld->ld_name,
	    s ? config_setting_source_line(s) : 0, msg);
	free(msg);
	return false;
}

/* ---- value checks ---- */

/* "IP" or "IP@port", IPv4 or IPv6, port 1..65535. */
static bool
cfg_check_addr(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char *at = strchr(val, '@');
	char host[INET6_ADDRSTRLEN];
	size_t hlen = at ? (size_t)(at - val) : strlen(val);

	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, val, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, buf) != 1 &&
	    inet_pton(AF_INET6, host, buf) != 1)
		goto bad;
	if (at != NULL) {
		const char *p = at + 1;
		long port = 0;

		if (*p == '\0' || strlen(p) > 5)
			goto badport;
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				goto badport;
			port = port * 10 + (*p - '0');
		}
		if (port < 1 || port > 65535)
			goto badport;
	}
	return true;
bad:
	return cfg_fail(ld, s, "%s: bad address \"%s\" (want an IPv4 or IPv6 "
	    "address, optionally @port)", label, val);
badport:
	return cfg_fail(ld, s, "%s: bad port in \"%s\" (want 1 to 65535)",
	    label, val);
}

/* Plausible DNS name without a trailing dot: labels 1..63 of [A-Za-z0-9_-]. */
static bool
cfg_name_ok(const char *name, size_t len)
{
	size_t i, lab = 0;

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		char ch = name[i];

		if (ch == '.') {
			if (lab == 0)
				return false;
			lab = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
			if (++lab > 63)
				return false;
		} else
			return false;
	}
	return lab > 0;
}

/* Stub zone: "." or a DNS name, trailing dot allowed; kept as written. */
static bool
cfg_check_zone(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	size_t len = strlen(val);

	if (strcmp(val, ".") == 0)
		return true;
	if (len > 0 && val[len - 1] == '.')
		len--;
	if (!cfg_name_ok(val, len))
		return cfg_fail(ld, s, "%s must be \".\" or a DNS name", label);
	return true;
}

/* Domain entry name: lower-case it, drop a trailing dot, check its form. */
static bool
cfg_check_domain(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	size_t len;
	char *p;

	for (p = val; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = *p - 'A' + 'a';
	len = strlen(val);
	if (len > 1 && val[len - 1] == '.')
		val[--len] = '\0';
	if (strcmp(val, "*") == 0)
		return true;
	p = val;
	if (p[0] == '*' && p[1] == '.')
		p += 2;
	else if (p[0] == '.')
		p++;
	if (!cfg_name_ok(p, strlen(p)))
		return cfg_fail(ld, s, "%s must be \"*\", a domain name, "
		    "\".parent\" or \"*.parent\"", label);
	return true;
}

/* Fixed Postfix policy: a TLS level as first word, no control characters. */
static bool
cfg_check_policy(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	size_t wlen = strcspn(val, " \t");
	const char *const *lv;
	const unsigned char *p;

	for (p = (const unsigned char *)val; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return cfg_fail(ld, s, "%s must not contain control "
			    "characters", label);
	for (lv = cfg_tls_levels; *lv != NULL; lv++)
		if (strlen(*lv) == wlen && strncmp(*lv, val, wlen) == 0)
			return true;
	return cfg_fail(ld, s, "%s must start with a Postfix TLS level (none, "
	    "may, encrypt, dane, dane-only, fingerprint, verify, secure)",
	    label);
}

/*
 * socketmap.listen: "inet:HOST:PORT" (HOST a name, an IPv4 address or
 * [IPv6]; not empty) or "unix:/path". Only the shape (ENDPOINT_F_LOOSE):
 * the host is looked at when the daemon listens.
 */
static bool
cfg_check_listen(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	struct endpoint ep;

	switch (endpoint_parse(val, ENDPOINT_LISTEN, ENDPOINT_F_HOST |
	    ENDPOINT_F_ABSOLUTE | ENDPOINT_F_LOOSE, &ep)) {
	case ENDPOINT_OK:
		return true;
	case ENDPOINT_ERR_PATH:
		return cfg_fail(ld, s, "%s \"%s\": unix: needs an absolute path "
		    "shorter than %d bytes", label, val, ENDPOINT_PATH_MAX);
	case ENDPOINT_ERR_PORT:
		return cfg_fail(ld, s, "%s \"%s\": the port must be 1 to 65535",
		    label, val);
	case ENDPOINT_ERR_SCHEME:
	case ENDPOINT_ERR_FORM:
	case ENDPOINT_ERR_HOST:
		break;
	}
	return cfg_fail(ld, s, "%s \"%s\" must be inet:HOST:PORT or unix:/path",
	    label, val);
}

/* metrics.listen: "" (off), or an endpoint as for socketmap.listen. */
static bool
cfg_check_metrics_listen(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	return *val == '\0' || cfg_check_listen(ld, s, label, val);
}

/* libmilter's socket: "" (no milter), "inet:PORT@HOST", "inet:PORT" (every
 * address), "inet6:PORT@HOST", "unix:/path" or "local:/path". Only the
 * shape (ENDPOINT_F_LOOSE): the host is libmilter's to resolve. */
static bool
cfg_check_milter_socket(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	struct endpoint ep;

	if (*val == '\0')
		return true;
	switch (endpoint_parse(val, ENDPOINT_MILTER, ENDPOINT_F_ABSOLUTE |
	    ENDPOINT_F_LOOSE, &ep)) {
	case ENDPOINT_OK:
		return true;
	case ENDPOINT_ERR_SCHEME:
		return cfg_fail(ld, s, "%s \"%s\" must be inet:PORT@HOST, "
		    "inet6:PORT@HOST or unix:/path (\"\" for no milter)", label, val);
	case ENDPOINT_ERR_PATH:
		return cfg_fail(ld, s, "%s \"%s\": needs an absolute path "
		    "shorter than %d bytes", label, val, ENDPOINT_PATH_MAX);
	case ENDPOINT_ERR_FORM:
	case ENDPOINT_ERR_HOST:
	case ENDPOINT_ERR_PORT:
		break;
	}
	return cfg_fail(ld, s, "%s \"%s\": want PORT@HOST with a port "
	    "from 1 to 65535", label, val);
}

/* The authserv-id goes into headers as is: a token without spaces, ";",
 * quotes or control characters. */
static bool
cfg_check_authserv(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	const unsigned char *p;

	for (p = (const unsigned char *)val; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr(";\"\\()", *p) != NULL)
			return cfg_fail(ld, s, "%s \"%s\": only printable ASCII "
			    "without spaces, ';', quotes or parentheses", label, val);
	if (strlen(val) > 255)
		return cfg_fail(ld, s, "%s is longer than 255 bytes", label);
	return true;
}

/* An EHLO name: "" or a host name (letters, digits, '-', '.'). */
static bool
cfg_check_helo(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	if (strlen(val) > 253 || strspn(val, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != strlen(val))
		return cfg_fail(ld, s, "%s \"%s\" is not a host name", label, val);
	return true;
}

/* A user or group name (looked up when the daemon starts). */
static bool
cfg_check_account(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	if (strlen(val) > 64 || strspn(val, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(val) ||
	    *val == '-')
		return cfg_fail(ld, s, "%s \"%s\" is not a user or group name",
		    label, val);
	return true;
}

/* A file the daemon opens again after detaching or on reload: absolute
 * ("" means none). */
static bool
cfg_check_path(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	if (*val != '\0' && *val != '/')
		return cfg_fail(ld, s, "%s must be an absolute path (\"%s\")", label, val);
	return true;
}

/* Octal file permissions such as "0660". */
static bool
cfg_check_mode(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	size_t n = strspn(val, "01234567");

	if (n == 0 || n > 4 || val[n] != '\0')
		return cfg_fail(ld, s, "%s must be octal permissions such as \"0660\"",
		    label);
	if ((strtoul(val, NULL, 8) & 0600) != 0600)
		return cfg_fail(ld, s, "%s must let the owner read and write (such as \"0660\")",
		    label);
	return true;
}

/* ---- table-driven defaults, free, decode ---- */

#define CFG_FIELD(obj, off, type)	((type *)(void *)((char *)(obj) + (off)))

static void
cfg_defaults(const struct cfg_section *sec, void *obj)
{
	const struct cfg_key *k;

	for (k = sec->sc_keys; k->ck_name != NULL; k++) {
		switch (k->ck_kind) {
		case CFG_K_STR:
			*CFG_FIELD(obj, k->ck_off, char *) =
			    k->ck_defstr ? xstrdup(k->ck_defstr) : NULL;
			break;
		case CFG_K_STRS:
		case CFG_K_LIST:
			*CFG_FIELD(obj, k->ck_off, void *) = NULL;
			*CFG_FIELD(obj, k->ck_noff, size_t) = 0;
			break;
		case CFG_K_UINT:
			*CFG_FIELD(obj, k->ck_off, unsigned) =
			    (unsigned)k->ck_defint;
			break;
		case CFG_K_BOOL:
			*CFG_FIELD(obj, k->ck_off, bool) = k->ck_defint != 0;
			break;
		case CFG_K_TRI:
			*CFG_FIELD(obj, k->ck_off, enum cfg_tristate) = CFG_UNSET;
			break;
		case CFG_K_ENUM:
			*CFG_FIELD(obj, k->ck_off, int) = (int)k->ck_defint;
			break;
		case CFG_K_GROUP:
			cfg_defaults(k->ck_sub, CFG_FIELD(obj, k->ck_off, char));
			break;
		}
	}
}

/* Free what obj owns (not obj itself). Safe on partly decoded structs. */
static void
cfg_free_fields(const struct cfg_section *sec, void *obj)
{
	const struct cfg_key *k;
	size_t i, n;

	for (k = sec->sc_keys; k->ck_name != NULL; k++) {
		switch (k->ck_kind) {
		case CFG_K_STR:
			free(*CFG_FIELD(obj, k->ck_off, char *));
			break;
		case CFG_K_STRS: {
			char **v = *CFG_FIELD(obj, k->ck_off, char **);

			n = *CFG_FIELD(obj, k->ck_noff, size_t);
			for (i = 0; i < n; i++)
				free(v[i]);
			free(v);
			break;
		}
		case CFG_K_LIST: {
			char *v = *CFG_FIELD(obj, k->ck_off, char *);

			n = *CFG_FIELD(obj, k->ck_noff, size_t);
			for (i = 0; i < n; i++)
				cfg_free_fields(k->ck_sub,
				    v + i * k->ck_sub->sc_size);
			free(v);
			break;
		}
		case CFG_K_GROUP:
			cfg_free_fields(k->ck_sub, CFG_FIELD(obj, k->ck_off, char));
			break;
		default:
			break;
		}
	}
}

static const struct cfg_key *
cfg_key_find(const struct cfg_section *sec, const char *name)
{
	const struct cfg_key *k;

	for (k = sec->sc_keys; k->ck_name != NULL; k++)
		if (strcmp(k->ck_name, name) == 0)
			return k;
	return NULL;
}

static bool cfg_decode_group(struct cfg_ld *, const config_setting_t *,
    const struct cfg_section *, const char *, bool, void *);

/* The type error for key k, named label, at setting s. */
static bool
cfg_type_error(struct cfg_ld *ld, const config_setting_t *s,
    const struct cfg_key *k, const char *label)
{
	const struct cfg_name *n;
	struct sbuf sb = SBUF_INIT;
	bool r;

	switch (k->ck_kind) {
	case CFG_K_STR:
		return cfg_fail(ld, s, "%s must be a string", label);
	case CFG_K_STRS:
		return cfg_fail(ld, s, "%s must be %s array of strings", label,
		    (k->ck_flags & CFG_F_NONEMPTY) ? "a non-empty" : "an");
	case CFG_K_UINT:
		return cfg_fail(ld, s, "%s must be an integer from %lld to %lld",
		    label, k->ck_min, k->ck_max);
	case CFG_K_BOOL:
	case CFG_K_TRI:
		return cfg_fail(ld, s, "%s must be true or false", label);
	case CFG_K_ENUM:
		for (n = k->ck_names; n->cn_name != NULL; n++)
			sbuf_printf(&sb, "%s\"%s\"", n == k->ck_names ? "" :
			    n[1].cn_name == NULL ? " or " : ", ", n->cn_name);
		r = cfg_fail(ld, s, "%s must be %s", label, sbuf_str(&sb));
		sbuf_free(&sb);
		return r;
	case CFG_K_GROUP:
		return cfg_fail(ld, s, "%s must be a group { ... }", label);
	case CFG_K_LIST:
		return cfg_fail(ld, s, "%s must be a list of groups ( { ... }, "
		    "... )", label);
	}
	log_abort("cfg: unknown key kind %d", (int)k->ck_kind);
}

/* Decode the list of groups s into key k's array inside obj. */
static bool
cfg_decode_list(struct cfg_ld *ld, const config_setting_t *s,
    const struct cfg_key *k, const char *label, void *obj)
{
	const struct cfg_section *sub = k->ck_sub;
	config_setting_t *e, *lm;
	char *arr, *where;
	size_t i, n;
	bool ok;

	if (!config_setting_is_list(s) &&
	    !(config_setting_is_array(s) && config_setting_length(s) == 0))
		return cfg_type_error(ld, s, k, label);
	if ((n = (size_t)config_setting_length(s)) == 0)
		return true;
	arr = xcalloc(n, sub->sc_size);
	*CFG_FIELD(obj, k->ck_off, char *) = arr;
	*CFG_FIELD(obj, k->ck_noff, size_t) = n;
	for (i = 0; i < n; i++) {
		void *eobj = arr + i * sub->sc_size;

		cfg_defaults(sub, eobj);
		e = config_setting_get_elem(s, (unsigned)i);
		if (!config_setting_is_group(e))
			return cfg_type_error(ld, e, k, label);
		lm = sub->sc_label_key ?
		    config_setting_get_member(e, sub->sc_label_key) : NULL;
		if (lm != NULL && config_setting_type(lm) == CONFIG_TYPE_STRING)
			where = xasprintf("%s entry \"%s\"", label,
			    config_setting_get_string(lm));
		else
			where = xasprintf("%s entry", label);
		if (sub->sc_line_off >= 0)
			*CFG_FIELD(eobj, (size_t)sub->sc_line_off, int) =
			    (int)config_setting_source_line(e);
		ok = cfg_decode_group(ld, e, sub, where, true, eobj);
		free(where);
		if (!ok)
			return false;
	}
	return true;
}

/* Decode setting s (present in the file) for key k into obj. */
static bool
cfg_decode_key(struct cfg_ld *ld, const config_setting_t *s,
    const struct cfg_key *k, const char *label, void *obj)
{
	const struct cfg_name *nm;
	config_setting_t *e;
	long long v;
	const char *str;
	char *val;
	char **arr;
	size_t i, n;
	int type = config_setting_type(s);

	switch (k->ck_kind) {
	case CFG_K_STR:
		if (type != CONFIG_TYPE_STRING)
			return cfg_type_error(ld, s, k, label);
		val = xstrdup(config_setting_get_string(s));
		if (k->ck_check != NULL && !k->ck_check(ld, s, label, val)) {
			free(val);
			return false;
		}
		free(*CFG_FIELD(obj, k->ck_off, char *));
		*CFG_FIELD(obj, k->ck_off, char *) = val;
		return true;
	case CFG_K_STRS:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			return cfg_type_error(ld, s, k, label);
		n = (size_t)config_setting_length(s);
		if (n == 0 && (k->ck_flags & CFG_F_NONEMPTY))
			return cfg_type_error(ld, s, k, label);
		if (n == 0)
			return true;
		arr = xcalloc(n, sizeof(*arr));
		*CFG_FIELD(obj, k->ck_off, char **) = arr;
		*CFG_FIELD(obj, k->ck_noff, size_t) = n;
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, (unsigned)i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return cfg_type_error(ld, e, k, label);
			arr[i] = xstrdup(config_setting_get_string(e));
			if (k->ck_check != NULL &&
			    !k->ck_check(ld, e, label, arr[i]))
				return false;
		}
		return true;
	case CFG_K_UINT:
		if (type == CONFIG_TYPE_INT)
			v = config_setting_get_int(s);
		else if (type == CONFIG_TYPE_INT64)
			v = config_setting_get_int64(s);
		else
			return cfg_type_error(ld, s, k, label);
		if (v < k->ck_min || v > k->ck_max)
			return cfg_type_error(ld, s, k, label);
		*CFG_FIELD(obj, k->ck_off, unsigned) = (unsigned)v;
		return true;
	case CFG_K_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			return cfg_type_error(ld, s, k, label);
		*CFG_FIELD(obj, k->ck_off, bool) = config_setting_get_bool(s);
		return true;
	case CFG_K_TRI:
		if (type != CONFIG_TYPE_BOOL)
			return cfg_type_error(ld, s, k, label);
		*CFG_FIELD(obj, k->ck_off, enum cfg_tristate) =
		    config_setting_get_bool(s) ? CFG_TRUE : CFG_FALSE;
		return true;
	case CFG_K_ENUM:
		if (type != CONFIG_TYPE_STRING)
			return cfg_type_error(ld, s, k, label);
		str = config_setting_get_string(s);
		for (nm = k->ck_names; nm->cn_name != NULL; nm++) {
			if (strcmp(nm->cn_name, str) == 0) {
				*CFG_FIELD(obj, k->ck_off, int) = nm->cn_value;
				return true;
			}
		}
		return cfg_type_error(ld, s, k, label);
	case CFG_K_GROUP:
		if (type != CONFIG_TYPE_GROUP)
			return cfg_type_error(ld, s, k, label);
		return cfg_decode_group(ld, s, k->ck_sub, label, false,
		    CFG_FIELD(obj, k->ck_off, char));
	case CFG_K_LIST:
		return cfg_decode_list(ld, s, k, label, obj);
	}
	log_abort("cfg: unknown key kind %d", (int)k->ck_kind);
}

/*
 * Decode group grp against sec into obj (defaults already applied).
 * where names the group in messages: NULL at top level, "dns" for a
 * section (keys shown as "dns.key"), "domains entry \"x\"" for a list
 * entry (keys shown as "domains entry \"x\": key").
 */
static bool
cfg_decode_group(struct cfg_ld *ld, const config_setting_t *grp,
    const struct cfg_section *sec, const char *where, bool entry, void *obj)
{
	const struct cfg_key *k;
	config_setting_t *s;
	char *label;
	int i, n = config_setting_length(grp);
	bool ok;

	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(grp, (unsigned)i);
		if (cfg_key_find(sec, config_setting_name(s)) == NULL)
			return cfg_fail(ld, s, "unknown key \"%s\" %s%s",
			    config_setting_name(s),
			    where ? "in " : "at top level", where ? where : "");
	}
	for (k = sec->sc_keys; k->ck_name != NULL; k++) {
		if (where == NULL)
			label = xstrdup(k->ck_name);
		else
			label = xasprintf("%s%s%s", where, entry ? ": " : ".",
			    k->ck_name);
		s = config_setting_get_member(grp, k->ck_name);
		if (s == NULL)
			ok = !(k->ck_flags & CFG_F_REQUIRED) ||
			    cfg_fail(ld, grp, "%s is required", label);
		else
			ok = cfg_decode_key(ld, s, k, label, obj);
		free(label);
		if (!ok)
			return false;
	}
	return true;
}

/* ---- checks across entries ---- */

/* Name without its "." / "*." prefix, and whether it had one. */
static const char *
cfg_domain_key(const char *name, bool *subs)
{
	*subs = true;
	if (name[0] == '.')
		return name + 1;
	if (name[0] == '*' && name[1] == '.')
		return name + 2;
	*subs = false;
	return name;
}

/* ".x" and "*.x" mean the same, so they count as duplicates. */
static bool
cfg_check_duplicates(struct cfg_ld *ld, const config_t *cf,
    const struct cfg *c)
{
	const config_setting_t *list = config_lookup(cf, "domains");
	const config_setting_t *si, *sj;
	const char *ki, *kj, *fi, *fj;
	bool subi, subj;
	size_t i, j;

	for (j = 1; j < c->c_ndomains; j++) {
		kj = cfg_domain_key(c->c_domains[j].cdom_name, &subj);
		for (i = 0; i < j; i++) {
			ki = cfg_domain_key(c->c_domains[i].cdom_name, &subi);
			if (subi != subj || strcmp(ki, kj) != 0)
				continue;
			si = config_setting_get_elem(list, (unsigned)i);
			sj = config_setting_get_elem(list, (unsigned)j);
			fi = config_setting_source_file(si);
			fj = config_setting_source_file(sj);
			if (fi == fj || (fi && fj && strcmp(fi, fj) == 0))
				return cfg_fail(ld, sj, "duplicate domains "
				    "entry \"%s\" (first at line %d)",
				    c->c_domains[j].cdom_name,
				    c->c_domains[i].cdom_line);
			return cfg_fail(ld, sj, "duplicate domains entry \"%s\" "
			    "(first at %s:%d)", c->c_domains[j].cdom_name,
			    fi ? fi : ld->ld_name, c->c_domains[i].cdom_line);
		}
	}
	return true;
}

/* ---- public API ---- */

static struct cfg *
cfg_new(const char *file)
{
	struct cfg *c = xcalloc(1, sizeof(*c));

	cfg_defaults(&cfg_top_section, c);
	c->c_file = file ? xstrdup(file) : NULL;
	c->c_refs = 1;
	return c;
}

static void
cfg_free(struct cfg *c)
{
	cfg_free_fields(&cfg_top_section, c);
	free(c->c_file);
	free(c);
}

/* Turn a parsed config_t into a cfg, or NULL with *errp set. */
static struct cfg *
cfg_build(const config_t *cf, const char *name, char **errp)
{
	struct cfg_ld ld = { name, NULL };
	struct cfg *c = cfg_new(name);

	if (!cfg_decode_group(&ld, config_root_setting(cf), &cfg_top_section,
	    NULL, false, c) || !cfg_check_duplicates(&ld, cf, c)) {
		cfg_free(c);
		*errp = ld.ld_err;
		return NULL;
	}
	return c;
}

/* The message for a failed config_read_*; name when libconfig has no file. */
static char *
cfg_parse_error(const config_t *cf, const char *name)
{
	const char *file = config_error_file(cf);

	if (config_error_type(cf) == CONFIG_ERR_FILE_IO)
		return xasprintf("%s: cannot read: %s", file ? file : name,
		    config_error_text(cf));
	return xasprintf("%s:%d: %s", file ? file : name,
	    config_error_line(cf), config_error_text(cf));
}

struct cfg *
cfg_load(const char *path, char **errp)
{
	struct cfg *c = NULL;
	struct stat st;
	config_t cf;
	FILE *fp;

	*errp = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		*errp = xasprintf("%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(fp);
		*errp = xasprintf("%s: cannot read: %s", path, strerror(EISDIR));
		return NULL;
	}
	fclose(fp);
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE)
		*errp = cfg_parse_error(&cf, path);
	else
		c = cfg_build(&cf, path, errp);
	config_destroy(&cf);
	return c;
}

struct cfg *
cfg_load_string(const char *text, const char *name, char **errp)
{
	struct cfg *c = NULL;
	config_t cf;

	*errp = NULL;
	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE)
		*errp = cfg_parse_error(&cf, name);
	else
		c = cfg_build(&cf, name, errp);
	config_destroy(&cf);
	return c;
}

struct cfg *
cfg_default(void)
{
	return cfg_new(NULL);
}

struct cfg *
cfg_ref(struct cfg *c)
{
	if (__atomic_add_fetch(&c->c_refs, 1, __ATOMIC_RELAXED) <= 1)
		log_abort("cfg_ref: cfg %p was already freed", (void *)c);
	return c;
}

void
cfg_unref(struct cfg *c)
{
	int left;

	if (c == NULL)
		return;
	left = __atomic_sub_fetch(&c->c_refs, 1, __ATOMIC_ACQ_REL);
	if (left > 0)
		return;
	if (left < 0)
		log_abort("cfg_unref: cfg %p has no reference left", (void *)c);
	cfg_free(c);
}

/*
 * How specifically entry name matches domain[0..dlen): -1 no match,
 * 0 for "*", 1 + length of the parent for ".parent"/"*.parent", INT_MAX
 * for the exact name. Case-insensitive, no allocation.
 */
static int
cfg_domain_rank(const char *name, const char *domain, size_t dlen)
{
	const char *parent;
	size_t plen;
	bool subs;

	if (name[0] == '*' && name[1] == '\0')
		return 0;
	parent = cfg_domain_key(name, &subs);
	plen = strlen(parent);
	if (!subs)
		return plen == dlen && strncasecmp(parent, domain, dlen) == 0 ?
		    INT_MAX : -1;
	if (dlen < plen + 2 || domain[dlen - plen - 1] != '.' ||
	    strncasecmp(parent, domain + dlen - plen, plen) != 0)
		return -1;
	return 1 + (int)plen;
}

void
cfg_domain_lookup(const struct cfg *c, const char *domain,
    struct cfg_domain_view *out)
{
	int best_lr = -1, best_lt = -1, best_req = -1, best_pol = -1, rank;
	size_t i, dlen = strlen(domain);
	const struct cfg_domain *d;

	if (dlen > 0 && domain[dlen - 1] == '.')
		dlen--;
	out->cdv_log_resolution = false;
	out->cdv_log_tls = false;
	out->cdv_require = CFG_REQUIRE_NONE;
	out->cdv_policy = NULL;
	for (i = 0; i < c->c_ndomains; i++) {
		d = &c->c_domains[i];
		if ((rank = cfg_domain_rank(d->cdom_name, domain, dlen)) < 0)
			continue;
		if (d->cdom_log_resolution != CFG_UNSET && rank > best_lr) {
			best_lr = rank;
			out->cdv_log_resolution =
			    d->cdom_log_resolution == CFG_TRUE;
		}
		if (d->cdom_log_tls != CFG_UNSET && rank > best_lt) {
			best_lt = rank;
			out->cdv_log_tls = d->cdom_log_tls == CFG_TRUE;
		}
		if (d->cdom_require != CFG_REQUIRE_UNSET && rank > best_req) {
			best_req = rank;
			out->cdv_require = d->cdom_require;
		}
		if (d->cdom_policy != NULL && rank > best_pol) {
			best_pol = rank;
			out->cdv_policy = d->cdom_policy;
		}
	}
}
