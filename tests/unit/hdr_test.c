/*
 * hdr_test.c: the X-DANE-* header values and the summary line, from
 * verdicts built the way the engine builds them (verdict_build): exact
 * text per verdict class, the sanitizer against injection, the
 * client-cert mapping of both MTAs' macros, and the JSON summary parsed
 * back by field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "milter/hdr.h"
#include "milter/summary.h"
#include "config/cfg.h"
#include "policy/verdict.h"
#include "tests/tap.h"

static struct verdict *
mkverdict(const struct cfg *cfg, const char *domain, enum dane_verdict dv,
    enum dane_policy dp)
{
	struct dane_result *dr = xcalloc(1, sizeof(*dr));

	dr->dr_domain = xstrdup(domain);
	dr->dr_verdict = dv;
	dr->dr_policy = dp;
	dr->dr_reason = xstrdup("test");
	return verdict_build(cfg, NULL, dr, NULL, 0);
}

static void
test_token(void)
{
	static const struct { const char *in, *want, *desc; } rows[] = {
		{ "TLSv1.3", "TLSv1.3", "plain token unchanged" },
		{ "", "none", "empty -> none" },
		{ "a b", "a%20b", "space escaped" },
		{ "x; dane=usable", "x%3B%20dane=usable", "; cannot add a key" },
		{ "v\r\nX-Evil: 1", "v%0D%0AX-Evil:%201", "CR LF cannot add a header" },
		{ "100%", "100%25", "% escaped (decodable)" },
		{ "(c)\"q\"'<>\\", "%28c%29%22q%22%27%3C%3E%5C", "comment and quote characters" },
		{ "caf\xc3\xa9", "caf%C3%A9", "8-bit bytes escaped" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sbuf sb = SBUF_INIT;

		hdr_token(&sb, rows[i].in);
		tap_is_str(sbuf_str(&sb), rows[i].want, rows[i].desc);
		sbuf_free(&sb);
	}
	{
		char big[1000];
		struct sbuf sb = SBUF_INIT;

		memset(big, ';', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		hdr_token(&sb, big);
		tap_ok(sb.sb_len <= 202, "a long hostile value is capped (%zu bytes)", sb.sb_len);
		sbuf_free(&sb);
	}
}

static void
inbound_is(const struct hdr_inbound *in, const char *want, const char *desc)
{
	struct sbuf sb = SBUF_INIT;

	hdr_inbound_value(&sb, "mx.example.net", in);
	tap_is_str(sbuf_str(&sb), want, desc);
	sbuf_free(&sb);
}

static void
test_inbound(void)
{
	struct hdr_inbound in;

	memset(&in, 0, sizeof(in));
	in.hi_client_name = "mail.sender.org";
	in.hi_client_addr = "192.0.2.1";
	inbound_is(&in, "mx.example.net; tls=none; client=mail.sender.org; addr=192.0.2.1",
	    "plaintext");
	in.hi_tls_version = "";
	inbound_is(&in, "mx.example.net; tls=none; client=mail.sender.org; addr=192.0.2.1",
	    "empty {tls_version} is plaintext");

	in.hi_tls_version = "TLSv1.3";
	in.hi_cipher = "TLS_AES_256_GCM_SHA384";
	in.hi_bits = "256";
	inbound_is(&in, "mx.example.net; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; "
	    "client-cert=none; client=mail.sender.org; addr=192.0.2.1", "TLS, no client certificate");

	in.hi_cert_subject = "client.example";
	in.hi_cert_issuer = "Example CA";
	inbound_is(&in, "mx.example.net; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; "
	    "client-cert=verified; cert-subject=client.example; cert-issuer=Example%20CA; "
	    "client=mail.sender.org; addr=192.0.2.1", "Postfix: trusted client certificate (CN)");

	in.hi_cert_subject = "/C=NL/O=Example Org/CN=client.example";
	in.hi_verify = "OK";
	inbound_is(&in, "mx.example.net; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; "
	    "client-cert=verified; cert-subject=/C=NL/O=Example%20Org/CN=client.example; "
	    "cert-issuer=Example%20CA; client=mail.sender.org; addr=192.0.2.1",
	    "Sendmail: {verify} OK, full DN escaped");

	in.hi_verify = "FAIL";
	in.hi_client_name = "[192.0.2.1]";
	inbound_is(&in, "mx.example.net; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; "
	    "client-cert=fail; client=unknown; addr=192.0.2.1",
	    "Sendmail: {verify} FAIL, unresolved client [addr] -> unknown");

	in.hi_verify = "NO";
	in.hi_client_name = "unknown";
	inbound_is(&in, "mx.example.net; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; "
	    "client-cert=none; client=unknown; addr=192.0.2.1", "Sendmail: {verify} NO");

	in.hi_verify = "DANE_FAIL";
	in.hi_cipher = "X; dane=usable\r\nX-Evil: 1";
	inbound_is(&in, "mx.example.net; tls=TLSv1.3; cipher=X%3B%20dane=usable%0D%0AX-Evil:%201; "
	    "bits=256; client-cert=dane_fail; client=unknown; addr=192.0.2.1",
	    "other {verify} words lower-cased; a hostile macro stays one token");
}

/* The longest inbound header folds; no line passes 998 bytes. */
static void
test_fold(void)
{
	char authserv[256], big[400];
	struct hdr_inbound in;
	struct sbuf sb = SBUF_INIT;
	const char *p, *q;
	size_t longest = 0;

	memset(authserv, 'a', sizeof(authserv) - 1);
	authserv[sizeof(authserv) - 1] = '\0';
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&in, 0, sizeof(in));
	in.hi_tls_version = "TLSv1.3";
	in.hi_cipher = big;
	in.hi_bits = "256";
	in.hi_verify = "OK";
	in.hi_cert_subject = big;
	in.hi_cert_issuer = big;
	in.hi_client_name = big;
	in.hi_client_addr = "2001:db8::1";
	hdr_inbound_value(&sb, authserv, &in);
	for (p = sbuf_str(&sb); p != NULL; p = q ? q + 1 : NULL) {
		size_t len;

		q = strchr(p, '\n');
		len = q ? (size_t)(q - p) : strlen(p);
		if (len > longest)
			longest = len;
	}
	tap_ok(strstr(sbuf_str(&sb), ";\n\t") != NULL, "a long X-DANE-Inbound is folded at a key");
	tap_ok(longest + strlen(HDR_INBOUND) + 2 <= 998, "no line longer than 998 bytes (longest %zu)",
	    longest + strlen(HDR_INBOUND) + 2);
	tap_ok(strstr(sbuf_str(&sb), "\n\n") == NULL && strchr(sbuf_str(&sb), '\r') == NULL,
	    "folding adds no empty line and no CR");
	sbuf_free(&sb);
}

/* Longest line of sb's text. */
static size_t
hdr_test_longest(const struct sbuf *sb)
{
	const char *p, *q;
	size_t longest = 0, len;

	for (p = sbuf_str(sb); p != NULL; p = q ? q + 1 : NULL) {
		q = strchr(p, '\n');
		len = q ? (size_t)(q - p) : strlen(p);
		if (len > longest)
			longest = len;
	}
	return longest;
}

/*
 * A fold leaves its ';' on the line it ends: a first line filled to
 * exactly HDR_LINE_MAX by "; key=value" pairs became HDR_LINE_MAX + 1
 * bytes (fuzz/corpus/hdr/found-line-max.bin, found by fuzz/hdr_fuzz.c).
 */
static void
test_fold_bound(void)
{
	char authserv[256], tls[300], cipher[121], bits[91];
	struct hdr_inbound in;
	struct sbuf sb = SBUF_INIT;

	memset(authserv, 'a', sizeof(authserv) - 1);
	authserv[sizeof(authserv) - 1] = '\0';
	memset(tls, 'T', sizeof(tls) - 1);
	tls[sizeof(tls) - 1] = '\0';
	memset(cipher, '%', sizeof(cipher) - 1);
	cipher[sizeof(cipher) - 1] = '\0';
	memset(bits, ';', sizeof(bits) - 1);
	bits[sizeof(bits) - 1] = '\0';
	memset(&in, 0, sizeof(in));
	in.hi_tls_version = tls;
	in.hi_cipher = cipher;
	in.hi_bits = bits;
	in.hi_verify = "\xce\xc9" "6";
	in.hi_client_name = "mail.sender.org";
	in.hi_client_addr = "R3";
	hdr_inbound_value(&sb, authserv, &in);
	tap_ok(strstr(sbuf_str(&sb), ";\n\t") != NULL, "a first line filled to the bound is folded");
	tap_ok(hdr_test_longest(&sb) <= HDR_LINE_MAX, "no line longer than HDR_LINE_MAX (%d; got %zu)",
	    HDR_LINE_MAX, hdr_test_longest(&sb));
	sbuf_free(&sb);
}

static void
test_domains(void)
{
	static const struct {
		const char *domain;
		enum dane_verdict dv;
		enum dane_policy dp;
		const char *sender, *rcpt;
	} rows[] = {
		{ "usable.example", DANE_USABLE, DANE_POLICY_DANE_ONLY,
		  "id; domain=usable.example; policy=dane-only; dane=usable; mta-sts=absent",
		  "id; domain=usable.example; policy=dane-only; source=dane; dane=usable; mta-sts=absent" },
		{ "partial.example", DANE_PARTIAL, DANE_POLICY_DANE,
		  "id; domain=partial.example; policy=dane; dane=partial; mta-sts=absent",
		  "id; domain=partial.example; policy=dane; source=dane; dane=partial; mta-sts=absent" },
		{ "none.example", DANE_NONE, DANE_POLICY_NONE,
		  "id; domain=none.example; policy=none; dane=none; mta-sts=absent",
		  "id; domain=none.example; policy=none; source=none; dane=none; mta-sts=absent" },
		{ "bogus.example", DANE_BOGUS, DANE_POLICY_TEMP,
		  "id; domain=bogus.example; policy=temperror; dane=bogus; mta-sts=absent",
		  "id; domain=bogus.example; policy=temperror; source=dane; dane=bogus; mta-sts=absent" },
		{ "required.example", DANE_NONE, DANE_POLICY_NONE,
		  "id; domain=required.example; policy=dane-only; dane=none; mta-sts=absent",
		  "id; domain=required.example; policy=dane-only; source=config; dane=none; mta-sts=absent" },
		{ "fixed.example", DANE_INSECURE, DANE_POLICY_NONE,
		  "id; domain=fixed.example; policy=encrypt; dane=insecure; mta-sts=absent",
		  "id; domain=fixed.example; policy=encrypt; source=config; dane=insecure; mta-sts=absent" },
	};
	char *err = NULL;
	struct cfg *cfg = cfg_load_string(
	    "domains = ( { name = \"required.example\"; require = \"dane\"; },\n"
	    "  { name = \"fixed.example\"; policy = \"encrypt protocols=>=TLSv1.2\"; } );\n",
	    "test.conf", &err);
	size_t i;

	if (!tap_ok(cfg != NULL, "test configuration loads"))
		printf("# %s\n", err);
	for (i = 0; cfg && i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct verdict *v = mkverdict(cfg, rows[i].domain, rows[i].dv, rows[i].dp);
		struct sbuf sb = SBUF_INIT;

		hdr_sender_value(&sb, "id", rows[i].domain, v, HDR_TIMEOUT, NULL);
		tap_is_str(sbuf_str(&sb), rows[i].sender, rows[i].domain);
		sbuf_reset(&sb);
		hdr_recipient_value(&sb, "id", rows[i].domain, v, HDR_TIMEOUT, NULL, NULL, 0);
		tap_is_str(sbuf_str(&sb), rows[i].rcpt, rows[i].domain);
		sbuf_free(&sb);
		verdict_unref(v);
	}
	{
		struct sbuf sb = SBUF_INIT;

		hdr_sender_value(&sb, "id", NULL, NULL, HDR_TIMEOUT, NULL);
		tap_is_str(sbuf_str(&sb), "id; domain=none", "null sender");
		sbuf_reset(&sb);
		hdr_sender_value(&sb, "id", "slow.example", NULL, HDR_TIMEOUT, "plaintext");
		tap_is_str(sbuf_str(&sb), "id; domain=slow.example; policy=temperror; reason=timeout; "
		    "violation=plaintext", "sender not ready in time");
		sbuf_reset(&sb);
		hdr_recipient_value(&sb, "id", "slow.example", NULL, HDR_UNAVAILABLE, NULL, NULL, 3);
		tap_is_str(sbuf_str(&sb), "id; domain=slow.example; policy=temperror; "
		    "reason=unavailable; more=3", "recipient with no engine, more=3");
		sbuf_reset(&sb);
		hdr_recipient_value(&sb, "id", "p.example", NULL, HDR_TIMEOUT, "fail",
		    "certificate-not-trusted", 0);
		tap_is_str(sbuf_str(&sb), "id; domain=p.example; policy=temperror; "
		    "reason=timeout; probe=fail; probe-reason=certificate-not-trusted",
		    "probe result and its RFC 8460 reason");
		sbuf_reset(&sb);
		hdr_recipient_value(&sb, "id", "p.example", NULL, HDR_TIMEOUT, "pass", "", 0);
		tap_is_str(sbuf_str(&sb), "id; domain=p.example; policy=temperror; "
		    "reason=timeout; probe=pass", "probe pass: no reason key");
		sbuf_reset(&sb);
		hdr_sender_value(&sb, "id", "", NULL, HDR_INVALID, NULL);
		tap_is_str(sbuf_str(&sb), "id; domain=invalid", "sender without a usable domain");
		sbuf_reset(&sb);
		hdr_recipient_value(&sb, "id", "", NULL, HDR_INVALID, NULL, NULL, 0);
		tap_is_str(sbuf_str(&sb), "id; domain=invalid", "recipient without a usable domain");
		sbuf_reset(&sb);
		hdr_recipient_value(&sb, "id", "", NULL, HDR_INVALID, NULL, NULL, 2);
		tap_is_str(sbuf_str(&sb), "id; domain=invalid; more=2",
		    "recipient without a usable domain, last shown: more=2");
		sbuf_free(&sb);
	}
	if (cfg)
		cfg_unref(cfg);
}

static void
test_summary(void)
{
	struct cfg *cfg = cfg_default();
	struct verdict *sv = mkverdict(cfg, "sender.example", DANE_USABLE, DANE_POLICY_DANE_ONLY);
	struct verdict *rv = mkverdict(cfg, "rcpt.example", DANE_NONE, DANE_POLICY_NONE);
	struct summary_rcpt r[2];
	struct hdr_inbound in;
	struct summary s;
	struct sbuf sb = SBUF_INIT;

	memset(&in, 0, sizeof(in));
	in.hi_client_name = "evil name";
	in.hi_client_addr = "192.0.2.7";
	memset(r, 0, sizeof(r));
	r[0].sr_domain = "rcpt.example";
	r[0].sr_verdict = rv;
	r[0].sr_action = "accept";
	r[0].sr_count = 2;
	r[1].sr_domain = "slow.example";
	r[1].sr_missing = HDR_TIMEOUT;
	r[1].sr_action = "accept";
	r[1].sr_count = 1;
	memset(&s, 0, sizeof(s));
	s.s_qid = "4ABC123";
	s.s_in = &in;
	s.s_sender = "sender.example";
	s.s_sender_verdict = sv;
	s.s_rcpts = r;
	s.s_nrcpts = 2;
	s.s_action = "tag";
	s.s_reason = "plaintext message from a domain that requires TLS";
	s.s_wait_ms = 12;
	summary_text(&sb, &s);
	tap_is_str(sbuf_str(&sb), "4ABC123: summary: client=evil%20name[192.0.2.7], tls=none, "
	    "sender=sender.example (policy=dane-only dane=usable mta-sts=absent), "
	    "rcpt=rcpt.example (policy=none source=none dane=none mta-sts=absent action=accept), "
	    "rcpt=slow.example (policy=temperror reason=timeout action=accept), action=tag, "
	    "reason=plaintext%20message%20from%20a%20domain%20that%20requires%20TLS, wait=12ms",
	    "summary text line");
	sbuf_reset(&sb);
	summary_json(&sb, &s);
	tap_is_str(sbuf_str(&sb), "{\"event\":\"summary\",\"queue_id\":\"4ABC123\","
	    "\"client_name\":\"evil name\",\"client_addr\":\"192.0.2.7\",\"tls\":null,"
	    "\"sender\":{\"domain\":\"sender.example\",\"policy\":\"dane-only\",\"source\":\"dane\","
	    "\"dane\":\"usable\",\"mta_sts\":\"absent\"},\"recipients\":[{\"domain\":\"rcpt.example\","
	    "\"policy\":\"none\",\"source\":\"none\",\"dane\":\"none\",\"mta_sts\":\"absent\","
	    "\"action\":\"accept\",\"count\":2},{\"domain\":\"slow.example\",\"policy\":\"temperror\","
	    "\"reason\":\"timeout\",\"action\":\"accept\",\"count\":1}],\"action\":\"tag\","
	    "\"reason\":\"plaintext message from a domain that requires TLS\",\"wait_ms\":12}",
	    "summary JSON object");

	/* addresses without a usable domain: sender=invalid, rcpt=invalid */
	r[1].sr_domain = "";
	r[1].sr_missing = HDR_INVALID;
	r[1].sr_action = "tempfail";
	s.s_sender = "";
	s.s_sender_verdict = NULL;
	s.s_sender_missing = HDR_INVALID;
	s.s_action = "accept";
	s.s_reason = NULL;
	sbuf_reset(&sb);
	summary_text(&sb, &s);
	tap_is_str(sbuf_str(&sb), "4ABC123: summary: client=evil%20name[192.0.2.7], tls=none, "
	    "sender=invalid, "
	    "rcpt=rcpt.example (policy=none source=none dane=none mta-sts=absent action=accept), "
	    "rcpt=invalid (action=tempfail), action=accept, wait=12ms",
	    "summary text line: sender and recipient without a usable domain");
	sbuf_reset(&sb);
	summary_json(&sb, &s);
	tap_is_str(sbuf_str(&sb), "{\"event\":\"summary\",\"queue_id\":\"4ABC123\","
	    "\"client_name\":\"evil name\",\"client_addr\":\"192.0.2.7\",\"tls\":null,"
	    "\"sender\":{\"domain\":\"invalid\"},\"recipients\":[{\"domain\":\"rcpt.example\","
	    "\"policy\":\"none\",\"source\":\"none\",\"dane\":\"none\",\"mta_sts\":\"absent\","
	    "\"action\":\"accept\",\"count\":2},{\"domain\":\"invalid\","
	    "\"action\":\"tempfail\",\"count\":1}],\"action\":\"accept\","
	    "\"reason\":null,\"wait_ms\":12}",
	    "summary JSON object: sender and recipient without a usable domain");

	/* What the client and the MTA say need not be UTF-8 or printable:
	 * escaped, invalid bytes as U+FFFD, the line still whole. */
	in.hi_client_name = "mx\xff.example";
	in.hi_tls_version = "TLSv1.3";
	in.hi_cipher = "AES\x01\xc3\x28";
	in.hi_bits = "256";
	s.s_nrcpts = 0;
	s.s_reason = "quote \" and \\ and caf\xc3\xa9";
	sbuf_reset(&sb);
	summary_json(&sb, &s);
	tap_is_str(sbuf_str(&sb), "{\"event\":\"summary\",\"queue_id\":\"4ABC123\","
	    "\"client_name\":\"mx\xef\xbf\xbd.example\",\"client_addr\":\"192.0.2.7\","
	    "\"tls\":{\"version\":\"TLSv1.3\",\"cipher\":\"AES\\u0001\xef\xbf\xbd(\","
	    "\"bits\":\"256\",\"client_cert\":\"none\"},"
	    "\"sender\":{\"domain\":\"invalid\"},\"recipients\":[],\"action\":\"accept\","
	    "\"reason\":\"quote \\\" and \\\\ and caf\xc3\xa9\",\"wait_ms\":12}",
	    "summary JSON object: control byte escaped, invalid UTF-8 as U+FFFD, UTF-8 kept");
	sbuf_free(&sb);
	verdict_unref(sv);
	verdict_unref(rv);
	cfg_unref(cfg);
}

/* dane=insecure whose unsigned MX names a host with usable TLSA:
 * mx-tlsa=usable after dane=, in both headers; not without such a host. */
static void
test_insecure_mx(void)
{
	struct cfg *cfg = cfg_default();
	struct dane_result *dr = xcalloc(1, sizeof(*dr));
	struct verdict *v, *plain;
	struct sbuf sb = SBUF_INIT;

	dr->dr_domain = xstrdup("hosted.example");
	dr->dr_verdict = DANE_INSECURE;
	dr->dr_policy = DANE_POLICY_DANE;
	dr->dr_reason = xstrdup("test");
	dr->dr_hosts = xcalloc(2, sizeof(*dr->dr_hosts));
	dr->dr_nhosts = 2;
	dr->dr_hosts[0].dh_name = xstrdup("mx1.provider.example");
	dr->dr_hosts[0].dh_state = DANE_HOST_INSECURE;
	dr->dr_hosts[1].dh_name = xstrdup("mx2.provider.example");
	dr->dr_hosts[1].dh_state = DANE_HOST_USABLE;
	v = verdict_build(cfg, NULL, dr, NULL, 0);
	hdr_recipient_value(&sb, "mx.test", "hosted.example", v, HDR_TIMEOUT, NULL, NULL, 0);
	tap_is_str(sbuf_str(&sb), "mx.test; domain=hosted.example; policy=dane; source=dane; "
	    "dane=insecure; mx-tlsa=usable; mta-sts=absent",
	    "insecure MX with a usable host: policy dane, mx-tlsa=usable");
	sbuf_free(&sb);
	hdr_sender_value(&sb, "mx.test", "hosted.example", v, HDR_TIMEOUT, NULL);
	tap_is_str(sbuf_str(&sb), "mx.test; domain=hosted.example; policy=dane; dane=insecure; "
	    "mx-tlsa=usable; mta-sts=absent", "... and in X-DANE-Sender");
	sbuf_free(&sb);
	plain = mkverdict(cfg, "unsigned.example", DANE_INSECURE, DANE_POLICY_NONE);
	hdr_recipient_value(&sb, "mx.test", "unsigned.example", plain, HDR_TIMEOUT, NULL, NULL, 0);
	tap_is_str(sbuf_str(&sb), "mx.test; domain=unsigned.example; policy=none; source=none; "
	    "dane=insecure; mta-sts=absent", "insecure without such a host: no mx-tlsa");
	sbuf_free(&sb);
	verdict_unref(v);
	verdict_unref(plain);
	cfg_unref(cfg);
}

int
main(void)
{
	tap_watchdog(20);
	test_token();
	test_inbound();
	test_fold();
	test_fold_bound();
	test_domains();
	test_summary();
	test_insecure_mx();
	return tap_done();
}
