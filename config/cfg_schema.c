/*
 * NAME
 *	cfg_schema - the schema of danemilter's configuration file
 * SUMMARY
 *	every section and key, their types, ranges and defaults, and the
 *	checks of string values
 * SYNOPSIS
 *	#include "config/cfg_private.h"
 *
 *	extern const struct cfg_section cfg_schema_top;
 * DESCRIPTION
 *	The schema is data: one table of keys per section (struct
 *	cfg_section), each key a KEY_* line saying its name, its kind
 *	(string, array of strings, bounded integer, boolean, tristate,
 *	enumeration, group, list of groups), where in the C struct of
 *	config/cfg.h its value goes, its default and an optional check of
 *	each string value. cfg_schema_top is the top-level group, struct
 *	cfg. The same tables drive defaults, decoding, type checking, the
 *	"unknown key" check and freeing (cfg_decode.c), so a new section is
 *	a struct in cfg.h, a key table here and one line in the table of
 *	its parent.
 *
 *	The KEY_* lines of this file are the whole schema:
 *	tests/install/install.sh checks danemilter.conf(5) against them
 *	(every key in its section, with its type, range and default).
 *
 *	The checks of string values (cfg_check_*) may rewrite the value in
 *	place (lower-case a domain name); endpoints are read with
 *	endpoint_parse() (common/endpoint.h).
 * DIAGNOSTICS
 *	A check that fails records "FILE:LINE: message" with
 *	cfg_decode_fail(), naming the key and usually the value.
 */
#include "config/cfg_private.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"
#include "common/endpoint.h"

#define CFG_DEFAULT_TA_FILE	"/usr/share/dns/root.key"
#define CFG_DEFAULT_MILTER_SOCKET	"inet:8895@127.0.0.1"
#define CFG_DEFAULT_CONTROL_SOCKET	"unix:/run/danemilter/control.sock"

const char cfg_default_control_socket[] = CFG_DEFAULT_CONTROL_SOCKET;

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
static bool cfg_check_network(struct cfg_ld *, const config_setting_t *,
    const char *, char *);
static bool cfg_check_shared(struct cfg_ld *, const config_setting_t *,
    const char *, char *);

#define KEY_STR(st, key, field, def, check, flags) \
	{ .ck_name = key, .ck_kind = CFG_K_STR, .ck_flags = flags, \
	  .ck_off = offsetof(st, field), .ck_defstr = def, .ck_check = check }
#define KEY_STRS(st, key, field, nfield, def, check, flags) \
	{ .ck_name = key, .ck_kind = CFG_K_STRS, .ck_flags = flags, \
	  .ck_off = offsetof(st, field), .ck_noff = offsetof(st, nfield), \
	  .ck_defstrs = def, .ck_check = check }
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
	KEY_STRS(struct cfg_stub, "addrs", cs_addrs, cs_naddrs, NULL, cfg_check_addr,
	    CFG_F_REQUIRED | CFG_F_NONEMPTY),
	KEY_END
};

static const struct cfg_section cfg_stub_section = {
	sizeof(struct cfg_stub), cfg_stub_keys, "zone", -1
};

static const struct cfg_key cfg_dns_keys[] = {
	KEY_STRS(struct cfg_dns, "forward", cd_forward, cd_nforward, NULL,
	    cfg_check_addr, 0),
	KEY_STR(struct cfg_dns, "trust_anchor_file", cd_trust_anchor_file,
	    CFG_DEFAULT_TA_FILE, cfg_check_path, 0),
	KEY_STRS(struct cfg_dns, "trust_anchors", cd_trust_anchors,
	    cd_ntrust_anchors, NULL, NULL, 0),
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
	KEY_STRS(struct cfg_socketmap, "listen", csm_listen, csm_nlisten, NULL,
	    cfg_check_listen, 0),
	KEY_BOOL(struct cfg_socketmap, "tlsrpt", csm_tlsrpt, 0),
	KEY_STR(struct cfg_socketmap, "mode", csm_mode, "0666", cfg_check_mode, 0),
	KEY_STR(struct cfg_socketmap, "owner", csm_owner, "", cfg_check_account, 0),
	KEY_STR(struct cfg_socketmap, "group", csm_group, "", cfg_check_account, 0),
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
	KEY_UINT(struct cfg_cache, "max_policies", cca_max_policies, 100000, 1, 10000000),
	KEY_UINT(struct cfg_cache, "save_interval", cca_save_interval, 300, 0, 86400),
	KEY_BOOL(struct cfg_cache, "refresh_ahead", cca_refresh_ahead, 1),
	KEY_STR(struct cfg_cache, "shared", cca_shared, "", cfg_check_shared, 0),
	KEY_STR(struct cfg_cache, "shared_user", cca_shared_user, "", NULL, 0),
	KEY_STR(struct cfg_cache, "shared_password_file", cca_shared_password_file, "",
	    cfg_check_path, 0),
	KEY_STR(struct cfg_cache, "shared_prefix", cca_shared_prefix, "danemilter:", NULL, 0),
	KEY_UINT(struct cfg_cache, "shared_timeout_ms", cca_shared_timeout_ms, 50, 1, 10000),
	KEY_STR(struct cfg_cache, "shared_key_file", cca_shared_key_file, "", cfg_check_path, 0),
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

/* milter.trusted_networks: loopback (local submission, the MTA's own
 * re-injection). */
static const char *const cfg_default_trusted_networks[] = {
	"127.0.0.0/8", "::1/128", NULL
};

static const struct cfg_key cfg_milter_keys[] = {
	KEY_STR(struct cfg_milter, "socket", cm_socket, CFG_DEFAULT_MILTER_SOCKET,
	    cfg_check_milter_socket, 0),
	KEY_STR(struct cfg_milter, "mode", cm_mode, "0660", cfg_check_mode, 0),
	KEY_STR(struct cfg_milter, "owner", cm_owner, "", cfg_check_account, 0),
	KEY_STR(struct cfg_milter, "group", cm_group, "", cfg_check_account, 0),
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
	KEY_STRS(struct cfg_milter, "trusted_networks", cm_trusted_networks,
	    cm_ntrusted_networks, cfg_default_trusted_networks, cfg_check_network, 0),
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

static const struct cfg_key cfg_control_keys[] = {
	KEY_STR(struct cfg_control, "socket", cc_socket, CFG_DEFAULT_CONTROL_SOCKET,
	    cfg_check_metrics_listen, 0),
	KEY_STR(struct cfg_control, "mode", cc_mode, "0600", cfg_check_mode, 0),
	KEY_END
};

static const struct cfg_section cfg_control_section = {
	sizeof(struct cfg_control), cfg_control_keys, NULL, -1
};

static bool cfg_check_monitor_domain(struct cfg_ld *, const config_setting_t *,
    const char *, char *);

static const struct cfg_key cfg_monitor_domain_keys[] = {
	KEY_STR(struct cfg_monitor_domain, "name", cmd_name, NULL,
	    cfg_check_monitor_domain, CFG_F_REQUIRED),
	KEY_STRS(struct cfg_monitor_domain, "cert_files", cmd_cert_files,
	    cmd_ncert_files, NULL, cfg_check_path, 0),
	KEY_END
};

static const struct cfg_section cfg_monitor_domain_section = {
	sizeof(struct cfg_monitor_domain), cfg_monitor_domain_keys, "name",
	offsetof(struct cfg_monitor_domain, cmd_line)
};

static const struct cfg_key cfg_monitor_keys[] = {
	KEY_LIST(struct cfg_monitor, "domains", cmo_domains, cmo_ndomains,
	    &cfg_monitor_domain_section),
	KEY_UINT(struct cfg_monitor, "interval_s", cmo_interval_s, 3600, 1, 604800),
	KEY_UINT(struct cfg_monitor, "expiry_warn_days", cmo_expiry_warn_days, 21, 0, 365),
	KEY_END
};

static const struct cfg_section cfg_monitor_section = {
	sizeof(struct cfg_monitor), cfg_monitor_keys, NULL, -1
};

static bool cfg_check_havedane_zone(struct cfg_ld *, const config_setting_t *,
    const char *, char *);

static const struct cfg_key cfg_havedane_keys[] = {
	KEY_STR(struct cfg_havedane, "zone", chd_zone, "", cfg_check_havedane_zone, 0),
	KEY_STRS(struct cfg_havedane, "listen", chd_listen, chd_nlisten, NULL,
	    cfg_check_listen, 0),
	KEY_UINT(struct cfg_havedane, "keep", chd_keep, 1000, 1, 100000),
	KEY_UINT(struct cfg_havedane, "grace_s", chd_grace_s, 15, 1, 3600),
	KEY_STR(struct cfg_havedane, "token_key_file", chd_token_key_file, "",
	    cfg_check_path, 0),
	KEY_UINT(struct cfg_havedane, "token_ttl_s", chd_token_ttl_s, 86400, 60, 2592000),
	KEY_STR(struct cfg_havedane, "state_file", chd_state_file, "", cfg_check_path, 0),
	KEY_UINT(struct cfg_havedane, "creates_per_minute", chd_creates_per_minute,
	    10, 1, 100000),
	KEY_UINT(struct cfg_havedane, "max_connections", chd_max_connections, 64, 1, 10000),
	KEY_UINT(struct cfg_havedane, "timeout_ms", chd_timeout_ms, 10000, 100, 600000),
	KEY_END
};

static const struct cfg_section cfg_havedane_section = {
	sizeof(struct cfg_havedane), cfg_havedane_keys, NULL, -1
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
	KEY_GROUP(struct cfg, "control", c_control, &cfg_control_section),
	KEY_STR(struct cfg, "overrides_file", c_overrides_file, "", cfg_check_path, 0),
	KEY_GROUP(struct cfg, "monitor", c_monitor, &cfg_monitor_section),
	KEY_GROUP(struct cfg, "havedane", c_havedane, &cfg_havedane_section),
	KEY_LIST(struct cfg, "domains", c_domains, c_ndomains,
	    &cfg_domain_section),
	KEY_END
};

const struct cfg_section cfg_schema_top = {
	sizeof(struct cfg), cfg_top_keys, NULL, -1
};

/* Postfix TLS security levels a fixed policy may start with. */
static const char *const cfg_tls_levels[] = {
	"none", "may", "encrypt", "dane", "dane-only", "fingerprint",
	"verify", "secure", NULL
};

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
	return cfg_decode_fail(ld, s, "%s: bad address \"%s\" (want an IPv4 or IPv6 "
	    "address, optionally @port)", label, val);
badport:
	return cfg_decode_fail(ld, s, "%s: bad port in \"%s\" (want 1 to 65535)",
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
		return cfg_decode_fail(ld, s, "%s must be \".\" or a DNS name", label);
	return true;
}

/* A domain name as configured, in place: lower case, a trailing dot
 * dropped; its length. */
static size_t
cfg_domain_normalize(char *val)
{
	size_t len;
	char *p;

	for (p = val; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = *p - 'A' + 'a';
	len = strlen(val);
	if (len > 1 && val[len - 1] == '.')
		val[--len] = '\0';
	return len;
}

/* Domain entry name: lower-case it, drop a trailing dot, check its form. */
static bool
cfg_check_domain(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	const char *p;

	(void)cfg_domain_normalize(val);
	if (strcmp(val, "*") == 0)
		return true;
	p = val;
	if (p[0] == '*' && p[1] == '.')
		p += 2;
	else if (p[0] == '.')
		p++;
	if (!cfg_name_ok(p, strlen(p)))
		return cfg_decode_fail(ld, s, "%s must be \"*\", a domain name, "
		    "\".parent\" or \"*.parent\"", label);
	return true;
}

const char *
cfg_policy_problem(const char *val)
{
	static char toolong[128];
	size_t wlen = strcspn(val, " \t"), len = strlen(val);
	const char *const *lv;
	const unsigned char *p;

	if (len > CFG_POLICY_MAX) {
		snprintf(toolong, sizeof(toolong), "is %zu bytes, more than a Postfix socketmap "
		    "reply holds (%d after \"OK \")", len, CFG_POLICY_MAX);
		return toolong;
	}
	for (p = (const unsigned char *)val; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "must not contain control characters";
	for (lv = cfg_tls_levels; *lv != NULL; lv++)
		if (strlen(*lv) == wlen && strncmp(*lv, val, wlen) == 0)
			return NULL;
	return "must start with a Postfix TLS level (none, may, encrypt, dane, dane-only, "
	    "fingerprint, verify, secure)";
}

/* Fixed Postfix policy: cfg_policy_problem(). */
static bool
cfg_check_policy(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	const char *problem = cfg_policy_problem(val);

	if (problem != NULL)
		return cfg_decode_fail(ld, s, "%s %s", label, problem);
	return true;
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
		return cfg_decode_fail(ld, s, "%s \"%s\": unix: needs an absolute path "
		    "shorter than %d bytes", label, val, ENDPOINT_PATH_MAX);
	case ENDPOINT_ERR_PORT:
		return cfg_decode_fail(ld, s, "%s \"%s\": the port must be 1 to 65535",
		    label, val);
	case ENDPOINT_ERR_SCHEME:
	case ENDPOINT_ERR_FORM:
	case ENDPOINT_ERR_HOST:
		break;
	}
	return cfg_decode_fail(ld, s, "%s \"%s\" must be inet:HOST:PORT or unix:/path",
	    label, val);
}

/* metrics.listen, control.socket: "" (off), or an endpoint as for
 * socketmap.listen. */
static bool
cfg_check_metrics_listen(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	return *val == '\0' || cfg_check_listen(ld, s, label, val);
}

/* cache.shared: "" (none), a Redis server (endpoint_parse_redis). */
static bool
cfg_check_shared(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	struct endpoint ep;
	unsigned db;
	enum endpoint_status st;

	if (*val == '\0' || (st = endpoint_parse_redis(val, &ep, &db)) == ENDPOINT_OK)
		return true;
	return cfg_decode_fail(ld, s, "%s \"%s\" must be redis://HOST:PORT/DB or unix:/path (%s)",
	    label, val, endpoint_status_text(st));
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
		return cfg_decode_fail(ld, s, "%s \"%s\" must be inet:PORT@HOST, "
		    "inet6:PORT@HOST or unix:/path (\"\" for no milter)", label, val);
	case ENDPOINT_ERR_PATH:
		return cfg_decode_fail(ld, s, "%s \"%s\": needs an absolute path "
		    "shorter than %d bytes", label, val, ENDPOINT_PATH_MAX);
	case ENDPOINT_ERR_FORM:
	case ENDPOINT_ERR_HOST:
	case ENDPOINT_ERR_PORT:
		break;
	}
	return cfg_decode_fail(ld, s, "%s \"%s\": want PORT@HOST with a port "
	    "from 1 to 65535", label, val);
}

/* A network in CIDR notation, or one address (common/cidr.h). */
static bool
cfg_check_network(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	struct cidr net;
	enum cidr_status st = cidr_parse(val, &net);

	if (st == CIDR_ERR_HOSTBITS)
		return cfg_decode_fail(ld, s, "%s \"%s\": bits are set after the "
		    "prefix length (write the network address, such as 127.0.0.0/8)",
		    label, val);
	if (st != CIDR_OK)
		return cfg_decode_fail(ld, s, "%s \"%s\": %s (want an IPv4 or IPv6 "
		    "address, optionally /PREFIX, such as 192.0.2.0/24 or 2001:db8::/32)",
		    label, val, cidr_status_name(st));
	return true;
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
			return cfg_decode_fail(ld, s, "%s \"%s\": only printable ASCII "
			    "without spaces, ';', quotes or parentheses", label, val);
	if (strlen(val) > 255)
		return cfg_decode_fail(ld, s, "%s is longer than 255 bytes", label);
	return true;
}

/* An EHLO name: "" or a host name (letters, digits, '-', '.'). */
static bool
cfg_check_helo(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	if (strlen(val) > 253 || strspn(val, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != strlen(val))
		return cfg_decode_fail(ld, s, "%s \"%s\" is not a host name", label, val);
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
		return cfg_decode_fail(ld, s, "%s \"%s\" is not a user or group name",
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
		return cfg_decode_fail(ld, s, "%s must be an absolute path (\"%s\")", label, val);
	return true;
}

/* Octal file permissions such as "0660". */
static bool
cfg_check_mode(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	size_t n = strspn(val, "01234567");

	if (n == 0 || n > 4 || val[n] != '\0')
		return cfg_decode_fail(ld, s, "%s must be octal permissions such as \"0660\"",
		    label);
	if ((strtoul(val, NULL, 8) & 0600) != 0600)
		return cfg_decode_fail(ld, s, "%s must let the owner read and write (such as \"0660\")",
		    label);
	return true;
}

/* monitor.domains name: a domain name (no wildcard, no ".parent"); lower
 * case, a trailing dot dropped. */
static bool
cfg_check_monitor_domain(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	size_t len = cfg_domain_normalize(val);

	if (!cfg_name_ok(val, len))
		return cfg_decode_fail(ld, s, "%s must be a domain name", label);
	return true;
}

/* havedane.zone: "" (off) or a domain name; lower case, a trailing dot
 * dropped. */
static bool
cfg_check_havedane_zone(struct cfg_ld *ld, const config_setting_t *s,
    const char *label, char *val)
{
	return *val == '\0' || cfg_check_monitor_domain(ld, s, label, val);
}
