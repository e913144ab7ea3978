/*
 * verdict_test.c: the socketmap replies verdict_build() precomputes, at
 * the size limits (TAP).
 *
 * An MTA-STS policy of many long mx patterns gives a "secure match=..."
 * list of every pattern, whole, with " servername=hostname" after it;
 * every reply stays within Postfix's socketmap reply limit (100000 bytes,
 * dict_sockmap.c); a QUERYwithTLSRPT reply that would pass it is the
 * plain policy; a policy that cannot fit at all is TEMP with a log line,
 * never a policy with patterns left out. The log lines are read back from
 * stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "config/cfg.h"
#include "policy/mtasts_policy.h"
#include "policy/verdict.h"
#include "tests/tap.h"

/* Postfix's own limit (src/util/dict_sockmap.c, socketmap_table(5)). */
#define POSTFIX_REPLY_MAX 100000

#define DOMAIN "big.example"

/* ---- stderr capture (verdict_build logs there in tests) ---- */

static int cap_saved = -1;
static char cap_path[] = "/tmp/verdict_test.XXXXXX";

static void
cap_start(void)
{
	int fd = mkstemp(cap_path);

	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	fflush(stderr);
	cap_saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* What was logged since cap_start(); malloc'ed. */
static char *
cap_end(void)
{
	struct sbuf sb = SBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *f;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	if ((f = fopen(cap_path, "r")) != NULL) {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			sbuf_appendn(&sb, buf, n);
		fclose(f);
	}
	unlink(cap_path);
	strcpy(cap_path + strlen(cap_path) - 6, "XXXXXX");
	return sbuf_steal(&sb);
}

/* ---- building blocks ---- */

/* A DANE result that leaves the policy to MTA-STS (an unsigned domain). */
static struct dane_result *
insecure(void)
{
	struct dane_result *dr = xcalloc(1, sizeof(*dr));

	dr->dr_domain = xstrdup(DOMAIN);
	dr->dr_verdict = DANE_INSECURE;
	dr->dr_policy = DANE_POLICY_NONE;
	dr->dr_reason = xstrdup("the MX RRset is insecure");
	return dr;
}

/* Pattern i of a policy: width bytes, "*." on even i, labels of 60. */
static char *
pattern(size_t i, size_t width)
{
	struct sbuf sb = SBUF_INIT;
	char tail[32];
	size_t tl;

	tl = (size_t)snprintf(tail, sizeof(tail), "n%zu.example", i);
	if (i % 2 == 0)
		sbuf_append(&sb, "*.");
	while (sb.sb_len + tl < width) {
		size_t lab = width - tl - sb.sb_len - 1;

		if (lab > 60)
			lab = 60;
		if (lab == 0) {         /* no room for a label and its dot */
			sbuf_appendc(&sb, 'y');
			continue;
		}
		while (lab-- > 0)
			sbuf_appendc(&sb, 'a' + (char)(i % 26));
		sbuf_appendc(&sb, '.');
	}
	sbuf_append(&sb, tail);
	return sbuf_steal(&sb);
}

/* An enforce policy of n mx patterns of width bytes, through the parser
 * (extra: more lines after the mx ones, or NULL). */
static struct mtasts_policy *
parsed_policy(size_t n, size_t width, const char *extra)
{
	struct sbuf sb = SBUF_INIT;
	struct mtasts_policy *p;
	char *err = NULL;
	size_t i;

	sbuf_append(&sb, "version: STSv1\nmode: enforce\nmax_age: 86400\n");
	for (i = 0; i < n; i++) {
		char *pat = pattern(i, width);

		sbuf_printf(&sb, "mx: %s\n", pat);
		free(pat);
	}
	if (extra != NULL)
		sbuf_append(&sb, extra);
	p = mtasts_policy_parse(sbuf_str(&sb), sb.sb_len, &err);
	if (p == NULL) {
		tap_diag("policy of %zu bytes does not parse: %s", sb.sb_len, err);
		exit(1);
	}
	snprintf(p->mp_id, sizeof(p->mp_id), "big1");
	sbuf_free(&sb);
	return p;
}

/* The same, built by hand: more than a 64 KiB policy body can hold. */
static struct mtasts_policy *
handmade_policy(size_t n, size_t width)
{
	struct mtasts_policy *p = xcalloc(1, sizeof(*p));
	size_t i;

	p->mp_mode = MTASTS_MODE_ENFORCE;
	p->mp_max_age = 86400;
	p->mp_mx = xcalloc(n, sizeof(*p->mp_mx));
	for (i = 0; i < n; i++)
		p->mp_mx[i] = pattern(i, width);
	p->mp_nmx = n;
	p->mp_text = xstrdup("version: STSv1\nmode: enforce\n");
	snprintf(p->mp_id, sizeof(p->mp_id), "huge1");
	p->mp_refs = 1;
	return p;
}

/* The Postfix policy with every pattern of p, as RFC 8461 + product.md
 * want it: "*.x" as ".x", ':' between, servername=hostname. */
static char *
want_policy(const struct mtasts_policy *p)
{
	struct sbuf sb = SBUF_INIT;
	size_t i;

	sbuf_append(&sb, "secure match=");
	for (i = 0; i < p->mp_nmx; i++) {
		const char *pat = p->mp_mx[i];

		if (i > 0)
			sbuf_appendc(&sb, ':');
		sbuf_append(&sb, strncmp(pat, "*.", 2) == 0 ? pat + 1 : pat);
	}
	sbuf_append(&sb, " servername=hostname");
	return sbuf_steal(&sb);
}

static struct verdict *
build(const struct cfg *cfg, struct mtasts_policy *p, char **logged)
{
	struct mtasts_result sts;
	struct verdict *v;

	memset(&sts, 0, sizeof(sts));
	sts.mr_status = MTASTS_POLICY;
	sts.mr_policy = p;
	sts.mr_reason = (char *)"policy applies";
	cap_start();
	v = verdict_build(cfg, NULL, insecure(), &sts, 0);
	*logged = cap_end();
	return v;
}

/* Long strings: say where they differ instead of printing them whole. */
static int
is_big_str(const char *got, size_t got_len, const char *want, const char *desc)
{
	size_t wl = strlen(want), i;

	for (i = 0; i < got_len && i < wl && got[i] == want[i]; i++)
		;
	if (tap_ok(got_len == wl && i == wl && strlen(got) == got_len, "%s", desc))
		return 1;
	tap_diag("got %zu bytes, want %zu; first difference at byte %zu:", got_len, wl, i);
	tap_diag("  got  ...%.60s", got + (i > 20 ? i - 20 : 0));
	tap_diag("  want ...%.60s", want + (i > 20 ? i - 20 : 0));
	return 0;
}

/* ---- the tests ---- */

/* 230 patterns of 250 bytes: about 58000 bytes of match list from a
 * policy body under 64 KiB; the TLSRPT variant would be ~117000 bytes. */
static void
test_many_long_patterns(const struct cfg *cfg)
{
	struct mtasts_policy *p = parsed_policy(230, 250, NULL);
	char *want = want_policy(p), *want_reply, *logged;
	struct verdict *v = build(cfg, p, &logged);

	tap_ok(strlen(want) > 50000, "the match list is long (%zu bytes)", strlen(want));
	tap_is_long(v->v_kind, VERDICT_OK, "many long patterns: OK");
	tap_is_str(v->v_level, "secure", "many long patterns: level secure");
	want_reply = xasprintf("OK %s", want);
	is_big_str(v->v_reply, v->v_reply_len, want_reply,
	    "many long patterns: every pattern whole, servername=hostname after them");
	is_big_str(v->v_policy, strlen(v->v_policy), want,
	    "many long patterns: v_policy is the same text");
	tap_ok(v->v_reply_len <= POSTFIX_REPLY_MAX, "plain reply within Postfix's limit "
	    "(%zu bytes)", v->v_reply_len);

	/* QUERYwithTLSRPT: with the attributes it would pass the limit. */
	tap_ok(v->v_reply_tlsrpt_len <= POSTFIX_REPLY_MAX,
	    "TLSRPT reply within Postfix's limit (%zu bytes)", v->v_reply_tlsrpt_len);
	is_big_str(v->v_reply_tlsrpt, v->v_reply_tlsrpt_len, want_reply,
	    "TLSRPT reply too big with the attributes: the plain policy");
	tap_ok(strstr(logged, DOMAIN) != NULL && strstr(logged, "TLSRPT") != NULL &&
	    strstr(logged, "100000") != NULL,
	    "a log line names the domain, TLSRPT and the limit");
	if (strstr(logged, "TLSRPT") == NULL)
		tap_diag("logged: %s", logged);
	free(logged);
	free(want_reply);
	free(want);
	verdict_unref(v);
	mtasts_policy_unref(p);
}

/* A small policy keeps its TLSRPT attributes, exactly. */
static void
test_small_tlsrpt(const struct cfg *cfg)
{
	struct mtasts_policy *p;
	struct verdict *v;
	char *err = NULL, *logged;
	static const char body[] = "version: STSv1\nmode: enforce\n"
	    "mx: mx.big.example\nmx: *.backup.example\nmax_age: 86400\n";

	p = mtasts_policy_parse(body, sizeof(body) - 1, &err);
	snprintf(p->mp_id, sizeof(p->mp_id), "small1");
	v = build(cfg, p, &logged);
	tap_is_str(v->v_reply, "OK secure match=mx.big.example:.backup.example "
	    "servername=hostname", "small policy: plain reply");
	tap_is_str(v->v_reply_tlsrpt, "OK secure match=mx.big.example:.backup.example "
	    "servername=hostname policy_type=sts policy_domain=big.example "
	    "mx_host_pattern=mx.big.example mx_host_pattern=*.backup.example "
	    "{ policy_string = version: STSv1 } { policy_string = mode: enforce } "
	    "{ policy_string = mx: mx.big.example } { policy_string = mx: *.backup.example } "
	    "{ policy_string = max_age: 86400 }", "small policy: TLSRPT attributes");
	tap_is_long((long)v->v_reply_tlsrpt_len, (long)strlen(v->v_reply_tlsrpt),
	    "small policy: TLSRPT length");
	tap_is_str(logged, "", "small policy: nothing logged");
	free(logged);
	verdict_unref(v);
	mtasts_policy_unref(p);
}

/* Thousands of extension lines: the TLSRPT attributes stay (policy_string
 * lines while they fit), each policy_string whole, the reply in bounds. */
static void
test_many_policy_strings(const struct cfg *cfg)
{
	struct sbuf extra = SBUF_INIT;
	struct mtasts_policy *p;
	struct verdict *v;
	char *logged, *head;
	int i;

	for (i = 1; i <= 5000; i++)
		sbuf_printf(&extra, "ext%d: v\n", i);
	p = parsed_policy(1, 20, sbuf_str(&extra));
	v = build(cfg, p, &logged);
	head = xasprintf("%s policy_type=sts policy_domain=" DOMAIN
	    " mx_host_pattern=%s { policy_string = version: STSv1 }", v->v_reply, p->mp_mx[0]);
	tap_ok(strncmp(v->v_reply_tlsrpt, head, strlen(head)) == 0,
	    "many extension lines: still the TLSRPT attributes");
	tap_ok(v->v_reply_tlsrpt_len <= POSTFIX_REPLY_MAX,
	    "many extension lines: within Postfix's limit (%zu bytes)", v->v_reply_tlsrpt_len);
	tap_ok(v->v_reply_tlsrpt_len > 90000,
	    "many extension lines: the room is used (%zu bytes)", v->v_reply_tlsrpt_len);
	tap_ok(v->v_reply_tlsrpt_len >= 2 &&
	    strcmp(v->v_reply_tlsrpt + v->v_reply_tlsrpt_len - 2, " }") == 0,
	    "many extension lines: ends with a whole policy_string");
	free(head);
	free(logged);
	sbuf_free(&extra);
	verdict_unref(v);
	mtasts_policy_unref(p);
}

/* More patterns than any reply holds (only a hand-made policy can): TEMP,
 * logged, never a list with patterns left out. */
static void
test_too_long_for_a_reply(const struct cfg *cfg)
{
	struct mtasts_policy *p = handmade_policy(450, 250);
	struct verdict *v;
	char *logged;

	v = build(cfg, p, &logged);
	tap_is_long(v->v_kind, VERDICT_TEMP, "match list over the limit: TEMP");
	tap_is_str(v->v_level, "temperror", "match list over the limit: level temperror");
	tap_ok(strncmp(v->v_reply, "TEMP ", 5) == 0 && strstr(v->v_reply, "100000") != NULL,
	    "match list over the limit: the TEMP reason names the limit");
	if (strncmp(v->v_reply, "TEMP ", 5) != 0)
		tap_diag("reply starts %.80s", v->v_reply);
	tap_ok(v->v_reply_len <= POSTFIX_REPLY_MAX && v->v_reply_tlsrpt_len <= POSTFIX_REPLY_MAX,
	    "match list over the limit: both replies within Postfix's limit");
	tap_ok(strncmp(v->v_reply_tlsrpt, "TEMP ", 5) == 0,
	    "match list over the limit: QUERYwithTLSRPT gets the TEMP too");
	tap_ok(strstr(logged, DOMAIN) != NULL && strstr(logged, "huge1") != NULL &&
	    strstr(logged, "TEMP") != NULL,
	    "match list over the limit: a log line with the domain, the policy id, TEMP");
	if (strstr(logged, "TEMP") == NULL)
		tap_diag("logged: %s", logged);
	free(logged);
	verdict_unref(v);
	mtasts_policy_unref(p);
}

/* DANE at a host of an unsigned MX RRset (RFC 7672 2.2.1): policy dane
 * without MTA-STS, and the MTA-STS policy in enforce mode wins over it
 * (its mx patterns pin the MX names DNSSEC does not protect here). */
static void
test_insecure_mx_dane(const struct cfg *cfg)
{
	static const char body[] = "version: STSv1\nmode: enforce\n"
	    "mx: mx.big.example\nmax_age: 86400\n";
	struct mtasts_result sts;
	struct mtasts_policy *p;
	struct dane_result *dr;
	struct verdict *v;
	char *err = NULL;
	int round;

	p = mtasts_policy_parse(body, sizeof(body) - 1, &err);
	snprintf(p->mp_id, sizeof(p->mp_id), "ins1");
	for (round = 0; round < 2; round++) {
		dr = insecure();
		dr->dr_policy = DANE_POLICY_DANE;       /* a host with usable TLSA */
		memset(&sts, 0, sizeof(sts));
		sts.mr_status = round == 0 ? MTASTS_ABSENT : MTASTS_POLICY;
		sts.mr_policy = round == 0 ? NULL : p;
		sts.mr_reason = (char *)"test";
		v = verdict_build(cfg, NULL, dr, &sts, 0);
		if (round == 0) {
			tap_is_str(v->v_reply, "OK dane", "insecure MX, a host with usable TLSA, "
			    "no MTA-STS: OK dane (never dane-only)");
			tap_is_str(verdict_source_name(v->v_source), "dane", "... source dane");
		} else {
			tap_is_str(v->v_reply, "OK secure match=mx.big.example servername=hostname",
			    "insecure MX, a host with usable TLSA, MTA-STS enforce: the MTA-STS policy");
			tap_is_str(verdict_source_name(v->v_source), "mta-sts", "... source mta-sts");
		}
		verdict_unref(v);
	}
	mtasts_policy_unref(p);
}

int
main(void)
{
	struct cfg *cfg = cfg_default();

	tap_watchdog(20);
	test_many_long_patterns(cfg);
	test_small_tlsrpt(cfg);
	test_many_policy_strings(cfg);
	test_too_long_for_a_reply(cfg);
	test_insecure_mx_dane(cfg);
	cfg_unref(cfg);
	return tap_done();
}
