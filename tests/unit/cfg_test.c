/*
 * cfg_test.c: unit tests for config/ (cfg.c, cfg_schema.c, cfg_decode.c) (TAP).
 *
 * A full file with every key, the defaults, one exact message per kind of
 * error, domain lookup precedence and reference counting. Configurations
 * are parsed from strings named "t.conf" except where a real file is the
 * point (missing file, directory, the shipped sample).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syslog.h>

#include "common/xmalloc.h"
#include "config/cfg.h"
#include "tests/tap.h"

#define NAME	"t.conf"

static const char full_text[] =
	"# every key\n"						/* 1 */
	"dns = {\n"						/* 2 */
	"  forward = [ \"192.0.2.1\", \"2001:db8::1@5353\" ];\n"	/* 3 */
	"  trust_anchor_file = \"/etc/ta.key\";\n"		/* 4 */
	"  trust_anchors = [ \". IN DS 20326 8 2 E06D44B8\",\n"	/* 5 */
	"                    \"test. IN DS 1 13 2 AB\" ];\n"	/* 6 */
	"  stubs = (\n"						/* 7 */
	"    { zone = \"example.test\"; addrs = [ \"127.0.0.1@5353\", \"::1\" ]; },\n" /* 8 */
	"    { zone = \".\"; addrs = [ \"192.0.2.53\" ]; }\n"	/* 9 */
	"  );\n"						/* 10 */
	"  timeout_ms = 2500;\n"				/* 11 */
	"};\n"							/* 12 */
	"domains = (\n"						/* 13 */
	"  { name = \"*\"; log_resolution = false; log_tls = true; },\n" /* 14 */
	"  { name = \"Example.COM.\"; require = \"dane\"; log_resolution = true;\n" /* 15 */
	"    log_tls = false; policy = \"secure match=nexthop:dot-nexthop\"; },\n" /* 16 */
	"  { name = \".example.com\"; require = \"none\"; },\n"	/* 17 */
	"  { name = \"*.Sub.example.com\"; policy = \"dane-only\"; }\n" /* 18 */
	");\n";							/* 19 */

static void
test_full(void)
{
	struct cfg *c;
	char *err = NULL;
	const struct cfg_domain *d;

	c = cfg_load_string(full_text, NAME, &err);
	if (!tap_ok(c != NULL, "full file loads")) {
		tap_diag("error: %s", err ? err : "(none)");
		free(err);
		return;
	}
	tap_is_str(err, NULL, "full file: no error");
	tap_is_str(c->c_file, NAME, "c_file");
	tap_is_long((long)c->c_dns.cd_nforward, 2, "cd_nforward");
	tap_is_str(c->c_dns.cd_forward[0], "192.0.2.1", "cd_forward[0]");
	tap_is_str(c->c_dns.cd_forward[1], "2001:db8::1@5353", "cd_forward[1]");
	tap_is_str(c->c_dns.cd_trust_anchor_file, "/etc/ta.key",
	    "cd_trust_anchor_file");
	tap_is_long((long)c->c_dns.cd_ntrust_anchors, 2, "cd_ntrust_anchors");
	tap_is_str(c->c_dns.cd_trust_anchors[0], ". IN DS 20326 8 2 E06D44B8",
	    "cd_trust_anchors[0]");
	tap_is_str(c->c_dns.cd_trust_anchors[1], "test. IN DS 1 13 2 AB",
	    "cd_trust_anchors[1]");
	tap_is_long((long)c->c_dns.cd_nstubs, 2, "cd_nstubs");
	tap_is_str(c->c_dns.cd_stubs[0].cs_zone, "example.test", "stub 0 zone");
	tap_is_long((long)c->c_dns.cd_stubs[0].cs_naddrs, 2, "stub 0 naddrs");
	tap_is_str(c->c_dns.cd_stubs[0].cs_addrs[0], "127.0.0.1@5353",
	    "stub 0 addr 0");
	tap_is_str(c->c_dns.cd_stubs[0].cs_addrs[1], "::1", "stub 0 addr 1");
	tap_is_str(c->c_dns.cd_stubs[1].cs_zone, ".", "stub 1 zone");
	tap_is_long((long)c->c_dns.cd_stubs[1].cs_naddrs, 1, "stub 1 naddrs");
	tap_is_str(c->c_dns.cd_stubs[1].cs_addrs[0], "192.0.2.53",
	    "stub 1 addr 0");
	tap_is_long(c->c_dns.cd_timeout_ms, 2500, "cd_timeout_ms");

	tap_is_long((long)c->c_ndomains, 4, "c_ndomains");
	d = &c->c_domains[0];
	tap_is_str(d->cdom_name, "*", "domain 0 name");
	tap_is_long(d->cdom_log_resolution, CFG_FALSE, "domain 0 log_resolution");
	tap_is_long(d->cdom_log_tls, CFG_TRUE, "domain 0 log_tls");
	tap_is_long(d->cdom_require, CFG_REQUIRE_UNSET, "domain 0 require");
	tap_is_str(d->cdom_policy, NULL, "domain 0 policy");
	tap_is_long(d->cdom_line, 14, "domain 0 line");
	d = &c->c_domains[1];
	tap_is_str(d->cdom_name, "example.com",
	    "domain 1 name lower-cased, trailing dot dropped");
	tap_is_long(d->cdom_log_resolution, CFG_TRUE, "domain 1 log_resolution");
	tap_is_long(d->cdom_log_tls, CFG_FALSE, "domain 1 log_tls");
	tap_is_long(d->cdom_require, CFG_REQUIRE_DANE, "domain 1 require");
	tap_is_str(d->cdom_policy, "secure match=nexthop:dot-nexthop",
	    "domain 1 policy kept as written");
	tap_is_long(d->cdom_line, 15, "domain 1 line");
	d = &c->c_domains[2];
	tap_is_str(d->cdom_name, ".example.com", "domain 2 name");
	tap_is_long(d->cdom_log_resolution, CFG_UNSET, "domain 2 log_resolution");
	tap_is_long(d->cdom_log_tls, CFG_UNSET, "domain 2 log_tls");
	tap_is_long(d->cdom_require, CFG_REQUIRE_NONE, "domain 2 require");
	tap_is_str(d->cdom_policy, NULL, "domain 2 policy");
	tap_is_long(d->cdom_line, 17, "domain 2 line");
	d = &c->c_domains[3];
	tap_is_str(d->cdom_name, "*.sub.example.com", "domain 3 name");
	tap_is_str(d->cdom_policy, "dane-only", "domain 3 policy");
	tap_is_long(d->cdom_require, CFG_REQUIRE_UNSET, "domain 3 require");
	tap_is_long(d->cdom_line, 18, "domain 3 line");
	cfg_unref(c);
}

/* Settings every default configuration must have; cache.file is
 * want_file (the sample sets one under the systemd unit's state directory). */
static void
check_defaults(const struct cfg *c, const char *what, const char *want_file)
{
	char desc[128];

#define DESC(s)	(snprintf(desc, sizeof(desc), "%s: %s", what, s), desc)
	tap_is_long((long)c->c_dns.cd_nforward, 0, DESC("no forwarders"));
	tap_ok(c->c_dns.cd_forward == NULL, "%s", DESC("cd_forward NULL"));
	tap_is_str(c->c_dns.cd_trust_anchor_file, "/usr/share/dns/root.key",
	    DESC("trust_anchor_file"));
	tap_is_long((long)c->c_dns.cd_ntrust_anchors, 0, DESC("no trust anchors"));
	tap_is_long((long)c->c_dns.cd_nstubs, 0, DESC("no stubs"));
	tap_is_long(c->c_dns.cd_timeout_ms, 5000, DESC("timeout_ms"));
	tap_is_long((long)c->c_ndomains, 0, DESC("no domains"));
	tap_is_long((long)c->c_socketmap.csm_nlisten, 0, DESC("socketmap: no listen (the daemon's default applies)"));
	tap_is_str(c->c_socketmap.csm_mode, "0666", DESC("socketmap.mode"));
	tap_ok(c->c_socketmap.csm_max_connections == 1000 && c->c_socketmap.csm_idle_timeout_ms == 60000 &&
	    c->c_socketmap.csm_io_timeout_ms == 10000 && !c->c_socketmap.csm_tlsrpt, "%s", DESC("socketmap numbers"));
	tap_ok(c->c_mta_sts.cst_enabled && !c->c_mta_sts.cst_strict_testing && c->c_mta_sts.cst_ca_file == NULL &&
	    c->c_mta_sts.cst_timeout_ms == 30000 && c->c_mta_sts.cst_connect_timeout_ms == 10000,
	    "%s", DESC("mta_sts defaults"));
	tap_is_str(c->c_cache.cca_file, want_file, DESC("cache.file"));
	tap_ok(c->c_cache.cca_min_ttl == 60 && c->c_cache.cca_max_ttl == 86400 && c->c_cache.cca_error_ttl == 30 &&
	    c->c_cache.cca_max_entries == 100000 && c->c_cache.cca_max_policies == 100000 &&
	    c->c_cache.cca_save_interval == 300 && c->c_cache.cca_refresh_ahead,
	    "%s", DESC("cache defaults"));
	tap_ok(c->c_log.clg_dest == CFG_LOG_SYSLOG && c->c_log.clg_facility == LOG_MAIL &&
	    c->c_log.clg_level == LOG_INFO && c->c_log.clg_format == CFG_LOG_TEXT, "%s", DESC("log defaults"));
#undef DESC
}

/* The sections added for the policy server, fully set. */
static void
test_sections(void)
{
	static const char text[] =
	    "socketmap = { listen = [ \"inet:127.0.0.1:8642\", \"unix:/run/dm.sock\" ];\n"
	    "  tlsrpt = true; mode = \"0660\"; max_connections = 50;\n"
	    "  idle_timeout_ms = 1000; io_timeout_ms = 200; };\n"
	    "mta_sts = { enabled = false; ca_file = \"/tmp/ca.pem\"; strict_testing = true;\n"
	    "  timeout_ms = 5000; connect_timeout_ms = 1000; };\n"
	    "cache = { file = \"/var/lib/dm/cache\"; min_ttl = 10; max_ttl = 3600;\n"
	    "  error_ttl = 5; max_entries = 7; max_policies = 9; save_interval = 0;\n"
	    "  refresh_ahead = false; };\n"
	    "log = { destination = \"stderr\"; facility = \"local3\"; level = \"debug\";\n"
	    "  format = \"json\"; };\n";
	struct cfg *c;
	char *err = NULL;

	c = cfg_load_string(text, NAME, &err);
	if (!tap_ok(c != NULL, "sections: full text loads")) {
		tap_diag("error: %s", err);
		free(err);
		return;
	}
	tap_is_long((long)c->c_socketmap.csm_nlisten, 2, "socketmap.listen count");
	tap_is_str(c->c_socketmap.csm_listen[1], "unix:/run/dm.sock", "socketmap.listen[1]");
	tap_ok(c->c_socketmap.csm_tlsrpt, "socketmap.tlsrpt");
	tap_is_str(c->c_socketmap.csm_mode, "0660", "socketmap.mode");
	tap_is_long(c->c_socketmap.csm_max_connections, 50, "socketmap.max_connections");
	tap_is_long(c->c_socketmap.csm_idle_timeout_ms, 1000, "socketmap.idle_timeout_ms");
	tap_is_long(c->c_socketmap.csm_io_timeout_ms, 200, "socketmap.io_timeout_ms");
	tap_ok(!c->c_mta_sts.cst_enabled && c->c_mta_sts.cst_strict_testing, "mta_sts booleans");
	tap_is_str(c->c_mta_sts.cst_ca_file, "/tmp/ca.pem", "mta_sts.ca_file");
	tap_ok(c->c_mta_sts.cst_timeout_ms == 5000 && c->c_mta_sts.cst_connect_timeout_ms == 1000,
	    "mta_sts timeouts");
	tap_is_str(c->c_cache.cca_file, "/var/lib/dm/cache", "cache.file");
	tap_ok(c->c_cache.cca_min_ttl == 10 && c->c_cache.cca_max_ttl == 3600 &&
	    c->c_cache.cca_error_ttl == 5 && c->c_cache.cca_max_entries == 7 &&
	    c->c_cache.cca_max_policies == 9 && c->c_cache.cca_save_interval == 0 &&
	    !c->c_cache.cca_refresh_ahead, "cache numbers");
	tap_ok(c->c_log.clg_dest == CFG_LOG_STDERR && c->c_log.clg_facility == LOG_LOCAL3 &&
	    c->c_log.clg_level == LOG_DEBUG && c->c_log.clg_format == CFG_LOG_JSON, "log enums");
	cfg_unref(c);
}

static void
test_defaults(void)
{
	static const char *const texts[] = {
		"",
		"# only a comment\n",
		"dns = { };\ndomains = ( );\n",
		"dns: { forward = [ ]; stubs = ( ); };\ndomains = [ ];\n",
	};
	struct cfg *c;
	char *err;
	size_t i;

	c = cfg_default();
	tap_is_str(c->c_file, NULL, "cfg_default: c_file");
	check_defaults(c, "cfg_default", "");
	cfg_unref(c);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "defaults text %zu", i);
		c = cfg_load_string(texts[i], NAME, &err);
		if (!tap_ok(c != NULL, "%s loads", what)) {
			tap_diag("error: %s", err);
			free(err);
			continue;
		}
		check_defaults(c, what, "");
		cfg_unref(c);
	}
}

/* Accepted spellings of values that need some care. */
static void
test_accepted(void)
{
	static const struct {
		const char *text;
		unsigned timeout;
		const char *name;
	} tests[] = {
		{ "dns = { timeout_ms = 100; };", 100, NULL },
		{ "dns = { timeout_ms = 60000; };", 60000, NULL },
		{ "dns = { timeout_ms = 7000L; };", 7000, NULL },
		{ "dns = { timeout_ms = 0x1F4; };", 500, NULL },
		{ "dns = { forward = ( \"10.0.0.1@65535\", \"::ffff:10.0.0.1@1\" ); };",
		    5000, NULL },
		{ "dns = { stubs = ( { zone = \"test.\"; addrs = [ \"fe80::1\" ]; } ); };",
		    5000, NULL },
		{ "domains = ( { name = \"EXAMPLE.org.\"; } );", 5000, "example.org" },
		{ "domains = ( { name = \"_dmarc.x-y.example\"; } );", 5000,
		    "_dmarc.x-y.example" },
		{ "domains = ( { name = \"*.\"; } );", 5000, "*" },
		{ "domains = ( { name = \".Example.org\"; policy = \"may\"; } );", 5000,
		    ".example.org" },
		/* no root anchor file, but an anchor of its own: a laboratory */
		{ "dns = { trust_anchor_file = \"\";\n"
		    "  trust_anchors = [ \"test. IN DS 1 13 2 AB\" ]; };", 5000, NULL },
	};
	struct cfg *c;
	char *err;
	size_t i;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		c = cfg_load_string(tests[i].text, NAME, &err);
		if (!tap_ok(c != NULL, "accepted: %s", tests[i].text)) {
			tap_diag("error: %s", err);
			free(err);
			continue;
		}
		tap_is_long(c->c_dns.cd_timeout_ms, tests[i].timeout,
		    "  timeout_ms");
		if (tests[i].name != NULL && c->c_ndomains == 1)
			tap_is_str(c->c_domains[0].cdom_name, tests[i].name,
			    "  domain name");
		cfg_unref(c);
	}
}

static const struct {
	const char *desc;
	const char *text;
	const char *want;
} error_tests[] = {
	{ "unknown top-level key",
	  "dns = { };\nfoo = 1;\n",
	  NAME ":2: unknown key \"foo\" at top level" },
	{ "trusted_networks: not an address",
	  "milter = {\n trusted_networks = [ \"127.0.0.0/8\",\n  \"localhost\" ];\n};\n",
	  NAME ":3: milter.trusted_networks \"localhost\": bad address (want an IPv4 or "
	  "IPv6 address, optionally /PREFIX, such as 192.0.2.0/24 or 2001:db8::/32)" },
	{ "trusted_networks: IPv4 prefix too long",
	  "milter = { trusted_networks = [ \"192.0.2.0/33\" ]; };\n",
	  NAME ":1: milter.trusted_networks \"192.0.2.0/33\": bad prefix length (want an "
	  "IPv4 or IPv6 address, optionally /PREFIX, such as 192.0.2.0/24 or 2001:db8::/32)" },
	{ "trusted_networks: empty prefix",
	  "milter = { trusted_networks = [ \"::1/\" ]; };\n",
	  NAME ":1: milter.trusted_networks \"::1/\": bad prefix length (want an "
	  "IPv4 or IPv6 address, optionally /PREFIX, such as 192.0.2.0/24 or 2001:db8::/32)" },
	{ "trusted_networks: host bits",
	  "\nmilter = { trusted_networks = [ \"127.0.0.1/8\" ]; };\n",
	  NAME ":2: milter.trusted_networks \"127.0.0.1/8\": bits are set after the "
	  "prefix length (write the network address, such as 127.0.0.0/8)" },
	{ "trusted_networks: IPv6 host bits",
	  "milter = { trusted_networks = [ \"2001:db8::1/64\" ]; };\n",
	  NAME ":1: milter.trusted_networks \"2001:db8::1/64\": bits are set after the "
	  "prefix length (write the network address, such as 127.0.0.0/8)" },
	{ "trusted_networks: a string, not an array",
	  "milter = {\n trusted_networks = \"127.0.0.0/8\"; };\n",
	  NAME ":2: milter.trusted_networks must be an array of strings" },
	{ "unknown key in dns",
	  "dns = {\n  timeout_ms = 5000;\n  tiemout_ms = 5000;\n};\n",
	  NAME ":3: unknown key \"tiemout_ms\" in dns" },
	{ "unknown key in a domains entry",
	  "domains = (\n  { name = \"a.example\";\n    requier = \"dane\"; }\n);\n",
	  NAME ":3: unknown key \"requier\" in domains entry \"a.example\"" },
	{ "unknown key in a stubs entry",
	  "dns = { stubs = (\n { zone = \"x.test\"; addr = [ \"::1\" ]; } ); };\n",
	  NAME ":2: unknown key \"addr\" in dns.stubs entry \"x.test\"" },
	{ "dns not a group",
	  "\ndns = [ \"1.2.3.4\" ];\n",
	  NAME ":2: dns must be a group { ... }" },
	{ "domains not a list",
	  "domains = { name = \"x\"; };\n",
	  NAME ":1: domains must be a list of groups ( { ... }, ... )" },
	{ "domains element not a group",
	  "domains = (\n \"x\" );\n",
	  NAME ":2: domains must be a list of groups ( { ... }, ... )" },
	{ "forward is a string, not an array",
	  "dns = {\n forward = \"192.0.2.1\";\n};\n",
	  NAME ":2: dns.forward must be an array of strings" },
	{ "forward holds integers",
	  "dns = {\n forward = [ 1, 2 ];\n};\n",
	  NAME ":2: dns.forward must be an array of strings" },
	{ "trust_anchor_file not a string",
	  "dns = { trust_anchor_file = true; };\n",
	  NAME ":1: dns.trust_anchor_file must be a string" },
	{ "trust_anchors holds a group",
	  "dns = { trust_anchors = ( \"x\",\n { a = 1; } ); };\n",
	  NAME ":2: dns.trust_anchors must be an array of strings" },
	{ "timeout_ms a string",
	  "dns = {\n\n timeout_ms = \"5000\";\n};\n",
	  NAME ":3: dns.timeout_ms must be an integer from 100 to 60000" },
	{ "timeout_ms a float",
	  "dns = { timeout_ms = 5000.0; };\n",
	  NAME ":1: dns.timeout_ms must be an integer from 100 to 60000" },
	{ "timeout_ms too small",
	  "dns = { timeout_ms = 99; };\n",
	  NAME ":1: dns.timeout_ms must be an integer from 100 to 60000" },
	{ "timeout_ms too large",
	  "dns = { timeout_ms = 60001; };\n",
	  NAME ":1: dns.timeout_ms must be an integer from 100 to 60000" },
	{ "timeout_ms negative",
	  "dns = { timeout_ms = -5000; };\n",
	  NAME ":1: dns.timeout_ms must be an integer from 100 to 60000" },
	{ "timeout_ms 64-bit out of range",
	  "dns = { timeout_ms = 5000000000L; };\n",
	  NAME ":1: dns.timeout_ms must be an integer from 100 to 60000" },
	{ "bad forward address",
	  "dns = {\n forward = [ \"192.0.2.1\",\n   \"not-an-ip\" ];\n};\n",
	  NAME ":3: dns.forward: bad address \"not-an-ip\" (want an IPv4 or "
	  "IPv6 address, optionally @port)" },
	{ "truncated IPv4 address",
	  "dns = { forward = [ \"192.0.2\" ]; };\n",
	  NAME ":1: dns.forward: bad address \"192.0.2\" (want an IPv4 or "
	  "IPv6 address, optionally @port)" },
	{ "host name instead of address",
	  "dns = { forward = [ \"dns.example@53\" ]; };\n",
	  NAME ":1: dns.forward: bad address \"dns.example@53\" (want an IPv4 "
	  "or IPv6 address, optionally @port)" },
	{ "port 0",
	  "dns = { forward = [ \"192.0.2.1@0\" ]; };\n",
	  NAME ":1: dns.forward: bad port in \"192.0.2.1@0\" (want 1 to 65535)" },
	{ "port 65536",
	  "dns = { forward = [ \"::1@65536\" ]; };\n",
	  NAME ":1: dns.forward: bad port in \"::1@65536\" (want 1 to 65535)" },
	{ "empty port",
	  "dns = { forward = [ \"::1@\" ]; };\n",
	  NAME ":1: dns.forward: bad port in \"::1@\" (want 1 to 65535)" },
	{ "port with junk",
	  "dns = { forward = [ \"192.0.2.1@53x\" ]; };\n",
	  NAME ":1: dns.forward: bad port in \"192.0.2.1@53x\" (want 1 to 65535)" },
	{ "signed port",
	  "dns = { forward = [ \"192.0.2.1@+53\" ]; };\n",
	  NAME ":1: dns.forward: bad port in \"192.0.2.1@+53\" (want 1 to 65535)" },
	{ "socketmap listen without port",
	  "socketmap = { listen = [ \"inet:127.0.0.1\" ]; };\n",
	  NAME ":1: socketmap.listen \"inet:127.0.0.1\" must be inet:HOST:PORT or unix:/path" },
	{ "socketmap listen with bad port",
	  "socketmap = { listen = [ \"inet:[::1]:99999\" ]; };\n",
	  NAME ":1: socketmap.listen \"inet:[::1]:99999\": the port must be 1 to 65535" },
	{ "socketmap relative unix path",
	  "socketmap = { listen = [ \"unix:sock\" ]; };\n",
	  NAME ":1: socketmap.listen \"unix:sock\": unix: needs an absolute path shorter than 108 bytes" },
	{ "socketmap mode not octal",
	  "socketmap = { mode = \"0888\"; };\n",
	  NAME ":1: socketmap.mode must be octal permissions such as \"0660\"" },
	{ "relative cache file",
	  "cache = { file = \"cache.dat\"; };\n",
	  NAME ":1: cache.file must be an absolute path (\"cache.dat\")" },
	{ "socket mode without owner access",
	  "socketmap = { mode = \"0\"; };\n",
	  NAME ":1: socketmap.mode must let the owner read and write (such as \"0660\")" },
	{ "log level unknown",
	  "log = { level = \"loud\"; };\n",
	  NAME ":1: log.level must be \"debug\", \"info\", \"notice\", \"warning\" or \"error\"" },
	{ "cache max_entries zero",
	  "cache = { max_entries = 0; };\n",
	  NAME ":1: cache.max_entries must be an integer from 1 to 10000000" },
	{ "cache max_policies zero",
	  "cache = { max_policies = 0; };\n",
	  NAME ":1: cache.max_policies must be an integer from 1 to 10000000" },
	{ "cache max_policies too large",
	  "cache = {\n  max_policies = 10000001;\n};\n",
	  NAME ":2: cache.max_policies must be an integer from 1 to 10000000" },
	{ "unknown key in mta_sts",
	  "mta_sts = {\n  ca_fil = \"x\";\n};\n",
	  NAME ":2: unknown key \"ca_fil\" in mta_sts" },
	{ "bad stub address",
	  "dns = { stubs = (\n { zone = \"x.test\"; addrs = [ \"1.2.3.4.5\" ]; } ); };\n",
	  NAME ":2: dns.stubs entry \"x.test\": addrs: bad address \"1.2.3.4.5\" "
	  "(want an IPv4 or IPv6 address, optionally @port)" },
	{ "stub without addrs",
	  "dns = {\n stubs = (\n  { zone = \"x.test\"; }\n );\n};\n",
	  NAME ":3: dns.stubs entry \"x.test\": addrs is required" },
	{ "stub with empty addrs",
	  "dns = { stubs = ( { zone = \"x.test\"; addrs = [ ]; } ); };\n",
	  NAME ":1: dns.stubs entry \"x.test\": addrs must be a non-empty "
	  "array of strings" },
	{ "stub without zone",
	  "dns = { stubs = (\n { addrs = [ \"::1\" ]; } ); };\n",
	  NAME ":2: dns.stubs entry: zone is required" },
	{ "stub with bad zone",
	  "dns = { stubs = ( { zone = \"a..test\"; addrs = [ \"::1\" ]; } ); };\n",
	  NAME ":1: dns.stubs entry \"a..test\": zone must be \".\" or a DNS name" },
	{ "domain without name",
	  "domains = (\n  { name = \"a.example\"; },\n\n  { require = \"dane\"; }\n);\n",
	  NAME ":4: domains entry: name is required" },
	{ "domain name not a string",
	  "domains = ( { name = 5; } );\n",
	  NAME ":1: domains entry: name must be a string" },
	{ "domain name with a space",
	  "domains = ( { name = \"exa mple.com\"; } );\n",
	  NAME ":1: domains entry \"exa mple.com\": name must be \"*\", a domain "
	  "name, \".parent\" or \"*.parent\"" },
	{ "domain name with an empty label",
	  "domains = ( { name = \"a..example\"; } );\n",
	  NAME ":1: domains entry \"a..example\": name must be \"*\", a domain "
	  "name, \".parent\" or \"*.parent\"" },
	{ "domain name: wildcard inside",
	  "domains = ( { name = \"a.*.example\"; } );\n",
	  NAME ":1: domains entry \"a.*.example\": name must be \"*\", a domain "
	  "name, \".parent\" or \"*.parent\"" },
	{ "domain name: root",
	  "domains = ( { name = \".\"; } );\n",
	  NAME ":1: domains entry \".\": name must be \"*\", a domain "
	  "name, \".parent\" or \"*.parent\"" },
	{ "domain name: empty",
	  "domains = ( { name = \"\"; } );\n",
	  NAME ":1: domains entry \"\": name must be \"*\", a domain "
	  "name, \".parent\" or \"*.parent\"" },
	{ "domain name: 64-character label",
	  "domains = ( { name = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\"; } );\n",
	  NAME ":1: domains entry \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\": "
	  "name must be \"*\", a domain name, \".parent\" or \"*.parent\"" },
	{ "domain name: 254 characters",
	  "domains = ( { name = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; } );\n",
	  NAME ":1: domains entry \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": "
	  "name must be \"*\", a domain name, \".parent\" or \"*.parent\"" },
	{ "log_tls not a boolean",
	  "domains = ( { name = \"x.example\";\n log_tls = \"yes\"; } );\n",
	  NAME ":2: domains entry \"x.example\": log_tls must be true or false" },
	{ "log_resolution not a boolean",
	  "domains = ( { name = \"x.example\"; log_resolution = 1; } );\n",
	  NAME ":1: domains entry \"x.example\": log_resolution must be true "
	  "or false" },
	{ "bad require",
	  "domains = (\n { name = \"x.example\";\n   require = \"yes\"; }\n);\n",
	  NAME ":3: domains entry \"x.example\": require must be \"dane\" or "
	  "\"none\"" },
	{ "require with wrong case",
	  "domains = ( { name = \"x.example\"; require = \"DANE\"; } );\n",
	  NAME ":1: domains entry \"x.example\": require must be \"dane\" or "
	  "\"none\"" },
	{ "bad policy word",
	  "domains = ( { name = \"x.example\";\n policy = \"mayb\"; } );\n",
	  NAME ":2: domains entry \"x.example\": policy must start with a "
	  "Postfix TLS level (none, may, encrypt, dane, dane-only, fingerprint, "
	  "verify, secure)" },
	{ "empty policy",
	  "domains = ( { name = \"x.example\"; policy = \"\"; } );\n",
	  NAME ":1: domains entry \"x.example\": policy must start with a "
	  "Postfix TLS level (none, may, encrypt, dane, dane-only, fingerprint, "
	  "verify, secure)" },
	{ "policy with leading space",
	  "domains = ( { name = \"x.example\"; policy = \" may\"; } );\n",
	  NAME ":1: domains entry \"x.example\": policy must start with a "
	  "Postfix TLS level (none, may, encrypt, dane, dane-only, fingerprint, "
	  "verify, secure)" },
	{ "policy with a newline",
	  "domains = ( { name = \"x.example\"; policy = \"may\\nx\"; } );\n",
	  NAME ":1: domains entry \"x.example\": policy must not contain control "
	  "characters" },
	{ "duplicate domain",
	  "domains = (\n  { name = \"x.example\"; },\n  { name = \"y.example\"; },\n"
	  "  { name = \"X.Example.\"; }\n);\n",
	  NAME ":4: duplicate domains entry \"x.example\" (first at line 2)" },
	{ "duplicate parent, two spellings",
	  "domains = (\n  { name = \".x.example\"; },\n  { name = \"*.x.example\"; }\n);\n",
	  NAME ":3: duplicate domains entry \"*.x.example\" (first at line 2)" },
	{ "duplicate star",
	  "domains = ( { name = \"*\"; },\n { name = \"*\"; } );\n",
	  NAME ":2: duplicate domains entry \"*\" (first at line 1)" },
	{ "no trust anchor at all",
	  "dns = {\n  forward = [ ];\n  trust_anchor_file = \"\";\n};\n",
	  NAME ":3: dns.trust_anchor_file is \"\" and dns.trust_anchors is empty: "
	  "DNSSEC validation needs a trust anchor" },
	{ "no trust anchor, trust_anchors emptied too",
	  "dns = {\n  trust_anchors = [ ];\n\n  trust_anchor_file = \"\";\n};\n",
	  NAME ":4: dns.trust_anchor_file is \"\" and dns.trust_anchors is empty: "
	  "DNSSEC validation needs a trust anchor" },
	{ "syntax error",
	  "dns = {\n  forward = [ ];\n  timeout_ms = ;\n};\n",
	  NAME ":3: syntax error" },
	{ "unterminated group",
	  "dns = {\n  timeout_ms = 100;\n",
	  NAME ":3: syntax error" },
	{ "duplicate key (libconfig)",
	  "dns = { timeout_ms = 100;\n timeout_ms = 200; };\n",
	  NAME ":2: duplicate setting name" },
	{ "mixed array (libconfig)",
	  "dns = { forward = [ \"::1\", 5 ]; };\n",
	  NAME ":1: mismatched element type in array" },
};

/* A fixed policy is answered to Postfix as "OK <policy>", which must fit
 * its socketmap reply limit (100000 bytes): 99997 bytes of policy at most. */
static void
test_policy_length(void)
{
	static const size_t lens[] = { 99997, 99998 };
	char *text, *pol, *err, want[256];
	struct cfg *c;
	size_t i;

	for (i = 0; i < 2; i++) {
		pol = xmalloc(lens[i] + 1);
		memcpy(pol, "secure match=", 13);
		memset(pol + 13, 'm', lens[i] - 13);
		pol[lens[i]] = '\0';
		text = xasprintf("domains = (\n  { name = \"x.example\";\n"
		    "    policy = \"%s\"; }\n);\n", pol);
		err = NULL;
		c = cfg_load_string(text, NAME, &err);
		if (i == 0) {
			if (tap_ok(c != NULL, "fixed policy of 99997 bytes: accepted"))
				tap_is_long((long)strlen(c->c_domains[0].cdom_policy), 99997,
				    "fixed policy of 99997 bytes: kept whole");
			else
				tap_diag("error: %.200s", err);
		} else {
			tap_ok(c == NULL, "fixed policy of 99998 bytes: rejected");
			snprintf(want, sizeof(want), NAME ":3: domains entry \"x.example\": "
			    "policy is 99998 bytes, more than a Postfix socketmap reply "
			    "holds (99997 after \"OK \")");
			tap_is_str(err, want, "fixed policy of 99998 bytes: message");
		}
		cfg_unref(c);
		free(err);
		free(text);
		free(pol);
	}
}

static void
test_errors(void)
{
	struct cfg *c;
	char *err;
	size_t i;

	for (i = 0; i < sizeof(error_tests) / sizeof(error_tests[0]); i++) {
		err = NULL;
		c = cfg_load_string(error_tests[i].text, NAME, &err);
		tap_ok(c == NULL, "%s: rejected", error_tests[i].desc);
		tap_is_str(err, error_tests[i].want, error_tests[i].desc);
		cfg_unref(c);
		free(err);
	}
}

/* Write text to a new temporary file; returns its malloc'ed path. */
static char *
write_temp(const char *text)
{
	char *path = strdup("/tmp/cfg_test.XXXXXX");
	int fd;

	if (path == NULL || (fd = mkstemp(path)) < 0) {
		perror("mkstemp");
		exit(1);
	}
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("write");
		exit(1);
	}
	close(fd);
	return path;
}

static void
test_files(void)
{
	const char *top = getenv("top_srcdir");
	char want[512], sample[512];
	struct cfg *c;
	char *err, *path;

	c = cfg_load("/nonexistent/danemilter.conf", &err);
	tap_ok(c == NULL, "missing file: rejected");
	tap_is_str(err, "/nonexistent/danemilter.conf: cannot read: "
	    "No such file or directory", "missing file: message");
	free(err);

	c = cfg_load("/tmp", &err);
	tap_ok(c == NULL, "directory: rejected");
	tap_is_str(err, "/tmp: cannot read: Is a directory",
	    "directory: message");
	free(err);

	path = write_temp("dns = {\n  timeout_ms = 100\n  forward = [ ;\n};\n");
	c = cfg_load(path, &err);
	tap_ok(c == NULL, "syntax error in a file: rejected");
	snprintf(want, sizeof(want), "%s:3: syntax error", path);
	tap_is_str(err, want, "syntax error in a file: message names the file");
	free(err);
	unlink(path);
	free(path);

	path = write_temp("\ndomains = ( { name = \"x\"; require = \"maybe\"; } );\n");
	c = cfg_load(path, &err);
	tap_ok(c == NULL, "bad value in a file: rejected");
	snprintf(want, sizeof(want), "%s:2: domains entry \"x\": require must be "
	    "\"dane\" or \"none\"", path);
	tap_is_str(err, want, "bad value in a file: message names the file");
	free(err);
	unlink(path);
	free(path);

	/* The key that took the last trust anchor away is in an @include. */
	{
		char *inc = write_temp("dns = {\n  trust_anchor_file = \"\";\n};\n");
		char main_text[256];

		snprintf(main_text, sizeof(main_text), "# main\n@include \"%s\"\n", inc);
		path = write_temp(main_text);
		c = cfg_load(path, &err);
		tap_ok(c == NULL, "no trust anchor, from an @include: rejected");
		snprintf(want, sizeof(want), "%s:2: dns.trust_anchor_file is \"\" and "
		    "dns.trust_anchors is empty: DNSSEC validation needs a trust "
		    "anchor", inc);
		tap_is_str(err, want, "no trust anchor, from an @include: the "
		    "included file and its line");
		cfg_unref(c);
		free(err);
		unlink(path);
		free(path);
		unlink(inc);
		free(inc);
	}

	path = write_temp(full_text);
	c = cfg_load(path, &err);
	if (tap_ok(c != NULL, "full file from disk loads")) {
		tap_is_str(c->c_file, path, "c_file is the path");
		tap_is_long((long)c->c_ndomains, 4, "full file from disk: domains");
		cfg_unref(c);
	} else
		free(err);
	unlink(path);
	free(path);

	snprintf(sample, sizeof(sample), "%s/etc/danemilter.conf",
	    top ? top : ".");
	c = cfg_load(sample, &err);
	if (tap_ok(c != NULL, "sample %s loads", sample)) {
		check_defaults(c, "sample configuration", "/var/lib/danemilter/cache");
		cfg_unref(c);
	} else {
		tap_diag("error: %s", err);
		free(err);
	}
}

static const char lookup_text[] =
	"domains = (\n"
	"  { name = \"*\"; log_tls = true; policy = \"none\"; },\n"
	"  { name = \"example.com\"; require = \"dane\"; log_resolution = true; },\n"
	"  { name = \".example.com\"; log_tls = false; policy = \"may\"; },\n"
	"  { name = \"*.b.example.com\"; policy = \"encrypt\"; require = \"none\"; },\n"
	"  { name = \"www.example.com\"; policy = \"dane-only\"; },\n"
	"  { name = \"*.wild.example\"; policy = \"verify\"; log_resolution = true; }\n"
	");\n";

static const struct {
	const char *domain;
	bool log_resolution;
	bool log_tls;
	enum cfg_require require;
	const char *policy;
} lookup_tests[] = {
	/* exact entry; unset log_tls falls back to "*" (".example.com" is strict) */
	{ "example.com", true, true, CFG_REQUIRE_DANE, "none" },
	/* ".parent" beats "*" */
	{ "a.example.com", false, false, CFG_REQUIRE_NONE, "may" },
	{ "a.a.example.com", false, false, CFG_REQUIRE_NONE, "may" },
	/* exact beats ".parent"; unset settings come from ".parent" / "*" */
	{ "www.example.com", false, false, CFG_REQUIRE_NONE, "dane-only" },
	/* longer parent beats shorter parent */
	{ "a.b.example.com", false, false, CFG_REQUIRE_NONE, "encrypt" },
	{ "x.y.b.example.com", false, false, CFG_REQUIRE_NONE, "encrypt" },
	/* "*.b.example.com" does not match b.example.com itself */
	{ "b.example.com", false, false, CFG_REQUIRE_NONE, "may" },
	/* only "*" */
	{ "example.org", false, true, CFG_REQUIRE_NONE, "none" },
	{ "xexample.com", false, true, CFG_REQUIRE_NONE, "none" },
	{ "com", false, true, CFG_REQUIRE_NONE, "none" },
	/* "*.wild.example" */
	{ "a.wild.example", true, true, CFG_REQUIRE_NONE, "verify" },
	{ "a.b.wild.example", true, true, CFG_REQUIRE_NONE, "verify" },
	{ "wild.example", false, true, CFG_REQUIRE_NONE, "none" },
	{ "awild.example", false, true, CFG_REQUIRE_NONE, "none" },
	/* tolerated: upper case and a trailing dot */
	{ "WWW.Example.COM.", false, false, CFG_REQUIRE_NONE, "dane-only" },
};

static void
check_view(const struct cfg_domain_view *v, bool lr, bool lt,
    enum cfg_require req, const char *pol, const char *domain)
{
	char desc[256];

	snprintf(desc, sizeof(desc), "lookup %s: log_resolution", domain);
	tap_is_long(v->cdv_log_resolution, lr, desc);
	snprintf(desc, sizeof(desc), "lookup %s: log_tls", domain);
	tap_is_long(v->cdv_log_tls, lt, desc);
	snprintf(desc, sizeof(desc), "lookup %s: require", domain);
	tap_is_long(v->cdv_require, req, desc);
	snprintf(desc, sizeof(desc), "lookup %s: policy", domain);
	tap_is_str(v->cdv_policy, pol, desc);
}

static void
test_lookup(void)
{
	struct cfg_domain_view v;
	struct cfg *c;
	char *err;
	size_t i;

	c = cfg_load_string(lookup_text, NAME, &err);
	if (!tap_ok(c != NULL, "lookup configuration loads")) {
		tap_diag("error: %s", err);
		free(err);
		return;
	}
	for (i = 0; i < sizeof(lookup_tests) / sizeof(lookup_tests[0]); i++) {
		memset(&v, 0xa5, sizeof(v));
		cfg_domain_lookup(c, lookup_tests[i].domain, &v);
		check_view(&v, lookup_tests[i].log_resolution,
		    lookup_tests[i].log_tls, lookup_tests[i].require,
		    lookup_tests[i].policy, lookup_tests[i].domain);
	}
	cfg_unref(c);

	/* No entries at all: the documented defaults. */
	c = cfg_default();
	memset(&v, 0xa5, sizeof(v));
	cfg_domain_lookup(c, "example.com", &v);
	check_view(&v, false, false, CFG_REQUIRE_NONE, NULL, "(no entries)");
	cfg_unref(c);

	/* An entry that sets nothing does not hide less specific ones. */
	c = cfg_load_string("domains = ( { name = \"*\"; require = \"dane\"; },\n"
	    "{ name = \"x.example\"; } );", NAME, &err);
	if (tap_ok(c != NULL, "empty exact entry loads")) {
		cfg_domain_lookup(c, "x.example", &v);
		check_view(&v, false, false, CFG_REQUIRE_DANE, NULL,
		    "x.example (empty entry)");
		cfg_unref(c);
	} else
		free(err);
}

/* milter.trusted_networks: the default, a list that replaces it, [ ]. */
static void
test_trusted_networks(void)
{
	static const struct {
		const char *text;
		size_t n;
		const char *first, *last;
		const char *desc;
	} rows[] = {
		{ "", 2, "127.0.0.0/8", "::1/128", "absent: loopback" },
		{ "milter = { socket = \"\"; };", 2, "127.0.0.0/8", "::1/128",
		    "milter group without it: loopback" },
		{ "milter = { trusted_networks = [ ]; };", 0, NULL, NULL, "[ ]: none" },
		{ "milter = { trusted_networks = ( ); };", 0, NULL, NULL, "( ): none" },
		{ "milter = { trusted_networks = [ \"192.0.2.0/24\", \"2001:db8::/32\",\n"
		  "  \"198.51.100.7\", \"::ffff:10.0.0.0/104\", \"0.0.0.0/0\" ]; };", 5,
		    "192.0.2.0/24", "0.0.0.0/0", "a list replaces the default" },
	};
	size_t i;
	char desc[160];

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *err = NULL;
		struct cfg *c = cfg_load_string(rows[i].text, NAME, &err);
		const struct cfg_milter *cm;

		snprintf(desc, sizeof(desc), "trusted_networks, %s: loads", rows[i].desc);
		if (!tap_ok(c != NULL, "%s", desc)) {
			tap_diag("error: %s", err);
			free(err);
			continue;
		}
		cm = &c->c_milter;
		snprintf(desc, sizeof(desc), "trusted_networks, %s: count", rows[i].desc);
		tap_is_long((long)cm->cm_ntrusted_networks, (long)rows[i].n, desc);
		if (rows[i].n > 0 && cm->cm_ntrusted_networks == rows[i].n) {
			snprintf(desc, sizeof(desc), "trusted_networks, %s: first", rows[i].desc);
			tap_is_str(cm->cm_trusted_networks[0], rows[i].first, desc);
			snprintf(desc, sizeof(desc), "trusted_networks, %s: last", rows[i].desc);
			tap_is_str(cm->cm_trusted_networks[rows[i].n - 1], rows[i].last, desc);
		}
		cfg_unref(c);
	}
	{
		struct cfg *c = cfg_default();

		tap_ok(c->c_milter.cm_ntrusted_networks == 2 &&
		    strcmp(c->c_milter.cm_trusted_networks[0], "127.0.0.0/8") == 0 &&
		    strcmp(c->c_milter.cm_trusted_networks[1], "::1/128") == 0,
		    "cfg_default: trusted_networks loopback");
		cfg_unref(c);
	}
}

static void
test_refs(void)
{
	struct cfg *c, *r;
	char *err;

	c = cfg_load_string(full_text, NAME, &err);
	if (!tap_ok(c != NULL, "refs: loads")) {
		free(err);
		return;
	}
	tap_is_long(c->c_refs, 1, "refs: one reference after load");
	r = cfg_ref(c);
	tap_ok(r == c, "cfg_ref returns its argument");
	cfg_ref(c);
	tap_is_long(c->c_refs, 3, "refs: three after two cfg_ref");
	cfg_unref(c);
	cfg_unref(c);
	tap_is_long(c->c_refs, 1, "refs: one after two cfg_unref");
	cfg_unref(c);		/* frees; ASan reports a leak otherwise */
	cfg_unref(NULL);
	tap_ok(1, "cfg_unref(NULL) is a no-op");
}

int
main(void)
{
	tap_watchdog(10);
	test_full();
	test_defaults();
	test_sections();
	test_accepted();
	test_errors();
	test_policy_length();
	test_files();
	test_lookup();
	test_trusted_networks();
	test_refs();
	return tap_done();
}
