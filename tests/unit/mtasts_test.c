/*
 * mtasts_test.c: the MTA-STS parsers (the _mta-sts TXT record, the policy
 * body), MX pattern matching, the name tables, and the lookup machinery
 * that needs no network (delivery from the loop, cancel, context free
 * with lookups in flight). The HTTPS fetch is tested against the test
 * world by the integration tests.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <iv.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "dns/dns.h"
#include "policy/mtasts.h"
#include "tests/tap.h"

#define ID32 "0123456789abcdefghijABCDEFGHIJ01"

static void
test_txt(void)
{
	static const struct {
		const char *txt;
		int ok;
		const char *id;
	} t[] = {
		{ "v=STSv1; id=20160831085700Z;", 1, "20160831085700Z" },
		{ "v=STSv1; id=abc", 1, "abc" },                /* trailing ; optional */
		{ "v=STSv1;id=abc;", 1, "abc" },
		{ "v=STSv1 ; id=abc ; ", 1, "abc" },            /* *WSP ";" *WSP */
		{ "v=STSv1;\tid=abc\t;\t", 1, "abc" },
		{ "v=STSv1; id=" ID32, 1, ID32 },
		{ "v=STSv1; id=" ID32 "x", 0, "" },              /* 33 characters */
		{ "v=STSv1; id=abc-def", 0, "" },
		{ "v=STSv1; id=abc.def", 0, "" },
		{ "v=STSv1; id=", 0, "" },
		{ "v=STSv1; id=abc ", 0, "" },                  /* WSP without ";" */
		{ "v=STSv1;", 0, "" },                          /* no id */
		{ "v=STSv1", 0, "" },
		{ "v=STSv1; foo=bar", 0, "" },
		{ "v=STSv1; ID=abc", 0, "" },                   /* case-sensitive %s"id=" */
		{ "id=abc; v=STSv1", 0, "" },                   /* version not first */
		{ " v=STSv1; id=abc", 0, "" },
		{ "V=STSv1; id=abc", 0, "" },
		{ "v=STSv2; id=abc", 0, "" },
		{ "v=STSv1x; id=abc", 0, "" },
		{ "v=STSv1; id=abc; ext=val", 1, "abc" },       /* extensions ignored */
		{ "v=STSv1; e_1.a-b=x:y<z>~; id=abc", 1, "abc" },
		{ "v=STSv1; id=abc; v=STSv2", 1, "abc" },
		{ "v=STSv1; id=abc; abcdefghijabcdefghijabcdefghij12=1", 1, "abc" },   /* 32 */
		{ "v=STSv1; id=abc; abcdefghijabcdefghijabcdefghij123=1", 0, "" },     /* 33 */
		{ "v=STSv1; id=abc; _ext=x", 0, "" },
		{ "v=STSv1; id=abc; ext=", 0, "" },
		{ "v=STSv1; id=abc; ext=a b", 0, "" },
		{ "v=STSv1; id=abc; ext=a=b", 0, "" },
		{ "v=STSv1; id=abc; ext", 0, "" },
		{ "v=STSv1; id=abc; x=\xc3\xa9", 0, "" },        /* US-ASCII only */
		{ "v=STSv1; id=abc;; ", 0, "" },
		{ "v=STSv1; id=first; id=second", 1, "first" }, /* first wins */
		{ "v=STSv1; id=first; id=not-an-id", 1, "first" },
		{ "", 0, "" },
	};
	char id[MTASTS_ID_MAX + 1], desc[160];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int got;

		memset(id, 'X', sizeof(id));
		got = mtasts_policy_txt_parse(t[i].txt, id);
		snprintf(desc, sizeof(desc), "TXT \"%s\": %s", t[i].txt, t[i].ok ? "valid" : "invalid");
		tap_is_long(got, t[i].ok, desc);
		snprintf(desc, sizeof(desc), "TXT \"%s\": id", t[i].txt);
		tap_is_str(id, t[i].id, desc);
	}
}

#define P_HEAD "version: STSv1\nmode: enforce\n"

static void
test_policy(void)
{
	static const struct {
		const char *desc;
		const char *body;
		const char *err;        /* NULL: valid */
		enum mtasts_mode mode;
		uint32_t max_age;
		const char *mx;         /* comma-joined */
	} t[] = {
		{ "LF lines", "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
		    "mx: backupmx.example.com\nmax_age: 604800\n", NULL, MTASTS_MODE_ENFORCE, 604800,
		    "mail.example.com,*.example.net,backupmx.example.com" },
		{ "CRLF lines", "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 86400\r\n",
		    NULL, MTASTS_MODE_TESTING, 86400, "mail.example.com" },
		{ "no final terminator", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1",
		    NULL, MTASTS_MODE_ENFORCE, 1, "a.example" },
		{ "order free, no space after colon, tabs", "max_age:\t60\t\nmx:a.example \nmode:enforce\nversion:STSv1",
		    NULL, MTASTS_MODE_ENFORCE, 60, "a.example" },
		{ "blank lines skipped", "\nversion: STSv1\n\nmode: none\r\n  \nmax_age: 5\n\n",
		    NULL, MTASTS_MODE_NONE, 5, "" },
		{ "missing version", "mode: enforce\nmx: a.example\nmax_age: 1\n", "no version line", 0, 0, NULL },
		{ "missing mode", "version: STSv1\nmx: a.example\nmax_age: 1\n", "no mode line", 0, 0, NULL },
		{ "missing max_age", P_HEAD "mx: a.example\n", "no max_age line", 0, 0, NULL },
		{ "empty body", "", "no version line", 0, 0, NULL },
		{ "version key is case-sensitive", "Version: STSv1\nmode: none\nmax_age: 1\n",
		    "no version line", 0, 0, NULL },
		{ "unsupported version", "version: STSv2\n", "line 1: unsupported version \"STSv2\"", 0, 0, NULL },
		{ "bad mode", "version: STSv1\nmode: enforcing\n", "line 2: bad mode \"enforcing\"", 0, 0, NULL },
		{ "mode is case-sensitive", "version: STSv1\nmode: Enforce\n", "line 2: bad mode \"Enforce\"", 0, 0, NULL },
		{ "max_age 0", P_HEAD "mx: a.example\nmax_age: 0\n", NULL, MTASTS_MODE_ENFORCE, 0, "a.example" },
		{ "max_age 10 digits capped", P_HEAD "mx: a.example\nmax_age: 9999999999\n", NULL,
		    MTASTS_MODE_ENFORCE, MTASTS_MAX_AGE_MAX, "a.example" },
		{ "max_age just above the cap", P_HEAD "mx: a.example\nmax_age: 31557601\n", NULL,
		    MTASTS_MODE_ENFORCE, MTASTS_MAX_AGE_MAX, "a.example" },
		{ "max_age at the cap", P_HEAD "mx: a.example\nmax_age: 31557600\n", NULL,
		    MTASTS_MODE_ENFORCE, 31557600, "a.example" },
		{ "max_age 11 digits", P_HEAD "max_age: 00000086400\n",
		    "line 3: max_age longer than 10 digits: \"00000086400\"", 0, 0, NULL },
		{ "max_age negative", P_HEAD "max_age: -1\n", "line 3: max_age not a number: \"-1\"", 0, 0, NULL },
		{ "max_age with a unit", P_HEAD "max_age: 1d\n", "line 3: max_age not a number: \"1d\"", 0, 0, NULL },
		{ "empty value", P_HEAD "max_age:\n", "line 3: empty value: \"max_age:\"", 0, 0, NULL },
		{ "mx required in enforce", P_HEAD "max_age: 1\n", "no mx line (mode enforce)", 0, 0, NULL },
		{ "mx required in testing", "version: STSv1\nmode: testing\nmax_age: 1\n",
		    "no mx line (mode testing)", 0, 0, NULL },
		{ "mx optional in none", "version: STSv1\nmode: none\nmax_age: 1\n", NULL, MTASTS_MODE_NONE, 1, "" },
		{ "mx lower-cased, wildcard", P_HEAD "mx: *.Example.NET\nmx: MX1.xn--bcher-kva.example\nmax_age: 1\n",
		    NULL, MTASTS_MODE_ENFORCE, 1, "*.example.net,mx1.xn--bcher-kva.example" },
		{ "mx single label", P_HEAD "mx: localhost\nmax_age: 1\n", NULL, MTASTS_MODE_ENFORCE, 1, "localhost" },
		{ "mx bare wildcard", P_HEAD "mx: *\n", "line 3: bad mx pattern \"*\"", 0, 0, NULL },
		{ "mx wildcard only", P_HEAD "mx: *.\n", "line 3: bad mx pattern \"*.\"", 0, 0, NULL },
		{ "mx double wildcard", P_HEAD "mx: *.*.example.com\n", "line 3: bad mx pattern \"*.*.example.com\"", 0, 0, NULL },
		{ "mx inner wildcard", P_HEAD "mx: mx.*.example.com\n", "line 3: bad mx pattern \"mx.*.example.com\"", 0, 0, NULL },
		{ "mx partial wildcard", P_HEAD "mx: mx*.example.com\n", "line 3: bad mx pattern \"mx*.example.com\"", 0, 0, NULL },
		{ "mx empty label", P_HEAD "mx: a..example\n", "line 3: bad mx pattern \"a..example\"", 0, 0, NULL },
		{ "mx trailing dot", P_HEAD "mx: a.example.\n", "line 3: bad mx pattern \"a.example.\"", 0, 0, NULL },
		{ "mx leading hyphen", P_HEAD "mx: -a.example\n", "line 3: bad mx pattern \"-a.example\"", 0, 0, NULL },
		{ "mx trailing hyphen", P_HEAD "mx: a-.example\n", "line 3: bad mx pattern \"a-.example\"", 0, 0, NULL },
		{ "mx underscore", P_HEAD "mx: a_b.example\n", "line 3: bad mx pattern \"a_b.example\"", 0, 0, NULL },
		{ "mx with a space", P_HEAD "mx: a.example b.example\n",
		    "line 3: bad mx pattern \"a.example b.example\"", 0, 0, NULL },
		{ "mx label of 64", P_HEAD "mx: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\n",
		    "line 3: bad mx pattern \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"...", 0, 0, NULL },
		{ "mx U-label", P_HEAD "mx: b\xc3\xbc" "cher.example\n", "line 3: bad mx pattern \"b\\xc3\\xbccher.example\"",
		    0, 0, NULL },
		{ "repeated keys: first wins", "version: STSv1\nmode: testing\nmode: enforce\nversion: STSv9\n"
		    "max_age: 100\nmax_age: 200\nmode: bogus\nmx: a.example\n", NULL, MTASTS_MODE_TESTING, 100, "a.example" },
		{ "unknown keys ignored", P_HEAD "foo_bar: baz qux\nx.y-z: 1\next: caf\xc3\xa9\nmx: a.example\nmax_age: 1\n",
		    NULL, MTASTS_MODE_ENFORCE, 1, "a.example" },
		{ "key with a space before the colon", "mode : enforce\n", "line 1: not \"key: value\": \"mode : enforce\"", 0, 0, NULL },
		{ "line without colon", "version: STSv1\ngarbage\n", "line 2: not \"key: value\": \"garbage\"", 0, 0, NULL },
		{ "key starting with _", "_x: 1\n", "line 1: not \"key: value\": \"_x: 1\"", 0, 0, NULL },
		{ "key of 33 characters", "abcdefghijabcdefghijabcdefghij123: 1\n",
		    "line 1: not \"key: value\": \"abcdefghijabcdefghijabcdefghij123: 1\"", 0, 0, NULL },
		{ "HTML", "<html>\n", "line 1: not \"key: value\": \"<html>\"", 0, 0, NULL },
		{ "lone CR inside a value", P_HEAD "mx: a.example\rb\n",
		    "line 3: control character in the value: \"mx: a.example\\x0db\"", 0, 0, NULL },
		{ "CR CR LF", P_HEAD "mx: a.example\r\r\n",
		    "line 3: control character in the value: \"mx: a.example\\x0d\"", 0, 0, NULL },
		{ "tab inside an extension value", P_HEAD "ext: a\tb\n",
		    "line 3: control character in the value: \"ext: a\\x09b\"", 0, 0, NULL },
	};
	char *err, desc[200];
	size_t i, j;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mtasts_policy *p = mtasts_policy_parse(t[i].body, strlen(t[i].body), &err);

		snprintf(desc, sizeof(desc), "policy %s: error", t[i].desc);
		tap_is_str(err, t[i].err, desc);
		snprintf(desc, sizeof(desc), "policy %s: %s", t[i].desc, t[i].err ? "rejected" : "parsed");
		if (!tap_ok((p == NULL) == (t[i].err != NULL), "%s", desc) || p == NULL) {
			free(err);
			mtasts_policy_unref(p);
			continue;
		}
		{
			struct sbuf sb = SBUF_INIT;

			for (j = 0; j < p->mp_nmx; j++)
				sbuf_printf(&sb, "%s%s", j ? "," : "", p->mp_mx[j]);
			snprintf(desc, sizeof(desc), "policy %s: mx", t[i].desc);
			tap_is_str(sbuf_str(&sb), t[i].mx, desc);
			sbuf_free(&sb);
		}
		snprintf(desc, sizeof(desc), "policy %s: mode", t[i].desc);
		tap_is_str(mtasts_policy_mode_name(p->mp_mode), mtasts_policy_mode_name(t[i].mode), desc);
		snprintf(desc, sizeof(desc), "policy %s: max_age", t[i].desc);
		tap_is_long(p->mp_max_age, t[i].max_age, desc);
		snprintf(desc, sizeof(desc), "policy %s: text kept as fetched", t[i].desc);
		tap_is_str(p->mp_text, t[i].body, desc);
		tap_is_long(p->mp_refs, 1, "a new policy has one reference");
		mtasts_policy_unref(p);
	}
}

static void
test_policy_limits(void)
{
	static const char nul[] = P_HEAD "mx: a.example\nmax_age: 1\0\n";
	struct sbuf sb = SBUF_INIT;
	struct mtasts_policy *p;
	char *err;
	int i;

	p = mtasts_policy_parse(nul, sizeof(nul) - 1, &err);
	tap_is_str(err, "line 4: NUL byte", "NUL byte rejected");
	tap_ok(p == NULL, "NUL byte: no policy");
	free(err);

	sbuf_append(&sb, P_HEAD "max_age: 1\n");
	for (i = 0; i < 1024; i++)
		sbuf_printf(&sb, "mx: mx%d.example\n", i);
	p = mtasts_policy_parse(sbuf_str(&sb), sb.sb_len, &err);
	tap_is_str(err, NULL, "1024 mx lines accepted");
	tap_is_long(p ? (long)p->mp_nmx : -1, 1024, "1024 mx lines kept");
	mtasts_policy_unref(p);
	sbuf_append(&sb, "mx: one-too-many.example\n");
	p = mtasts_policy_parse(sbuf_str(&sb), sb.sb_len, &err);
	tap_is_str(err, "line 1028: more than 1024 mx lines", "1025th mx line rejected");
	tap_ok(p == NULL, "too many mx: no policy");
	free(err);

	sbuf_reset(&sb);
	sbuf_append(&sb, P_HEAD "mx: a.example\nmax_age: 1\n");
	while (sb.sb_len <= MTASTS_BODY_MAX)
		sbuf_append(&sb, "x-padding: 0123456789012345678901234567890123456789\n");
	p = mtasts_policy_parse(sbuf_str(&sb), sb.sb_len, &err);
	tap_is_str(err, "policy larger than 65536 bytes", "body over the size limit rejected");
	tap_ok(p == NULL, "oversize: no policy");
	free(err);
	sbuf_free(&sb);

	p = mtasts_policy_parse(P_HEAD "mx: a.example\nmax_age: 1\n", strlen(P_HEAD) + 25, &err);
	tap_ok(p != NULL, "reference counting: parsed");
	if (p != NULL) {
		tap_ok(mtasts_policy_ref(p) == p, "ref returns the policy");
		tap_is_long(p->mp_refs, 2, "two references");
		mtasts_policy_unref(p);
		tap_is_long(p->mp_refs, 1, "one reference left");
		mtasts_policy_unref(p);
	}
	mtasts_policy_unref(NULL);
	tap_ok(1, "unref(NULL) is a no-op");
}

static void
test_mx_match(void)
{
	static const struct {
		const char *pattern, *host;
		bool want;
	} t[] = {
		{ "mail.example.com", "mail.example.com", true },
		{ "mail.example.com", "MAIL.Example.com", true },
		{ "mail.example.com", "mail.example.co", false },
		{ "mail.example.com", "mail.example.com.evil", false },
		{ "mail.example.com", "x.mail.example.com", false },
		{ "*.example.com", "mail.example.com", true },
		{ "*.example.com", "MAIL.EXAMPLE.COM", true },
		{ "*.example.com", "example.com", false },
		{ "*.example.com", "foo.bar.example.com", false },
		{ "*.example.com", ".example.com", false },
		{ "*.example.com", "xexample.com", false },
		{ "*.example.com", "mail.example.net", false },
		{ "*.com", "example.com", true },
		{ "example.com", "mail.example.com", false },
		{ "*.", "a.", false },
		{ "*", "a", false },
		{ "", "", false },
		{ "", "a", false },
		{ "a", "", false },
	};
	char desc[160];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(desc, sizeof(desc), "mx pattern \"%s\" vs host \"%s\"", t[i].pattern, t[i].host);
		tap_is_long(mtasts_policy_mx_match(t[i].pattern, t[i].host), t[i].want, desc);
	}
}

static void
test_names(void)
{
	tap_is_str(mtasts_policy_mode_name(MTASTS_MODE_ENFORCE), "enforce", "mode name enforce");
	tap_is_str(mtasts_policy_mode_name(MTASTS_MODE_TESTING), "testing", "mode name testing");
	tap_is_str(mtasts_policy_mode_name(MTASTS_MODE_NONE), "none", "mode name none");
	tap_is_str(mtasts_policy_mode_name((enum mtasts_mode)7), "?", "mode name out of range");
	tap_is_str(mtasts_failure_name(MTASTS_FAIL_NONE), "none", "failure name none");
	tap_is_str(mtasts_failure_name(MTASTS_FAIL_FETCH), "sts-policy-fetch-error", "failure name fetch");
	tap_is_str(mtasts_failure_name(MTASTS_FAIL_INVALID), "sts-policy-invalid", "failure name invalid");
	tap_is_str(mtasts_failure_name(MTASTS_FAIL_WEBPKI), "sts-webpki-invalid", "failure name webpki");
	tap_is_str(mtasts_failure_name((enum mtasts_failure)9), "?", "failure name out of range");
}

/* ---- lookups that need no answer from the network ---- */

static int done_calls;
static struct mtasts_result *done_res;
static struct iv_timer quit_timer;

static void
test_done(void *arg, struct mtasts_result *res)
{
	(void)arg;
	done_calls++;
	mtasts_result_free(done_res);
	done_res = res;
}

static void
quit_fired(void *cookie)
{
	(void)cookie;
	iv_quit();
}

/* Run the loop for ms milliseconds. */
static void
run_loop(unsigned ms)
{
	IV_TIMER_INIT(&quit_timer);
	iv_validate_now();
	quit_timer.expires = iv_now;
	quit_timer.expires.tv_nsec += (long)ms * 1000000L;
	while (quit_timer.expires.tv_nsec >= 1000000000L) {
		quit_timer.expires.tv_sec++;
		quit_timer.expires.tv_nsec -= 1000000000L;
	}
	quit_timer.handler = quit_fired;
	iv_timer_register(&quit_timer);
	iv_main();
	if (iv_timer_registered(&quit_timer))
		iv_timer_unregister(&quit_timer);
}

static void
test_lookups(void)
{
	/* A forwarder that never answers (an open UDP socket nobody reads):
	 * queries stay pending. */
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	char fwdaddr[32];
	const char *fwd[1] = { fwdaddr };
	struct dns_options dopt = { .do_forward = fwd, .do_nforward = 1, .do_timeout_ms = 3000 };
	struct mtasts_options mopt = { .mo_port = 8443 };
	struct dns_resolver *r;
	struct mtasts_ctx *c;
	struct mtasts_lookup *l;
	struct mtasts_policy *p;
	struct mtasts_cached cached = { 0 };
	char *err = NULL;
	int sink;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((sink = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(sink, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(sink, (struct sockaddr *)&sin, &slen) < 0) {
		tap_ok(0, "UDP sink for lookup tests");
		return;
	}
	snprintf(fwdaddr, sizeof(fwdaddr), "127.0.0.1@%u", ntohs(sin.sin_port));
	r = dns_resolver_new(&dopt, &err);
	if (!tap_ok(r != NULL, "resolver for lookup tests") || r == NULL) {
		tap_diag("%s", err ? err : "?");
		free(err);
		return;
	}
	mopt.mo_ca_file = "/nonexistent/ca.pem";
	c = mtasts_ctx_new(r, &mopt, &err);
	tap_ok(c == NULL, "unreadable CA file refused at setup");
	tap_is_str(err, "MTA-STS CA file /nonexistent/ca.pem: No such file or directory", "CA file error");
	free(err);
	mopt.mo_ca_file = NULL;
	c = mtasts_ctx_new(r, &mopt, &err);
	tap_ok(c != NULL && err == NULL, "context created");

	l = mtasts_lookup_start(c, "[192.0.2.1]", NULL, 1000, NULL, test_done, NULL);
	tap_ok(l != NULL, "lookup handle for an address literal");
	tap_is_long(done_calls, 0, "no callback from inside mtasts_lookup_start");
	run_loop(50);
	tap_is_long(done_calls, 1, "one callback from the loop");
	tap_is_long(done_res ? (long)done_res->mr_status : -1, MTASTS_ABSENT, "address literal: absent");
	tap_is_str(done_res ? done_res->mr_reason : NULL, "not a domain name: \"[192.0.2.1]\"", "reason");

	p = mtasts_policy_parse("version: STSv1\nmode: testing\nmx: a.example\nmax_age: 9\n", 54, &err);
	tap_ok(p != NULL, "cached policy parsed");
	free(err);
	cached.mc_policy = p;
	cached.mc_last_failure = 0;
	l = mtasts_lookup_start(c, "bad..name", &cached, 1000, NULL, test_done, NULL);
	mtasts_lookup_cancel(l);
	run_loop(50);
	tap_is_long(done_calls, 1, "cancelled before delivery: no callback");

	l = mtasts_lookup_start(c, "example.org", &cached, 1000, NULL, test_done, NULL);
	run_loop(50);
	tap_is_long(done_calls, 1, "TXT pending: no callback yet");
	mtasts_lookup_cancel(l);
	run_loop(50);
	tap_is_long(done_calls, 1, "cancelled with DNS pending: no callback");

	(void)mtasts_lookup_start(c, "example.org", &cached, 1000, NULL, test_done, NULL);
	(void)mtasts_lookup_start(c, "[x]", NULL, 1000, NULL, test_done, NULL);
	mtasts_policy_unref(p);         /* the lookups hold their own reference */
	mtasts_ctx_free(c);
	run_loop(50);
	tap_is_long(done_calls, 1, "context freed with lookups pending: no callback");

	mtasts_result_free(done_res);
	done_res = NULL;
	dns_resolver_free(r);
	close(sink);
}

int
main(void)
{
	tap_watchdog(30);
	log_init(LOG_DEST_STDERR, "mtasts_test", LOG_MAIL, LOG_WARNING);
	test_txt();
	test_policy();
	test_policy_limits();
	test_mx_match();
	test_names();
	iv_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_lookups();
	curl_global_cleanup();
	iv_deinit();
	return tap_done();
}
