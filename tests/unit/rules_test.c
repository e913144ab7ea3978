/*
 * rules_test.c: the milter's enforcement decisions (milter/rules.c), every
 * branch, table-driven: the RCPT rule (require = "dane" with each DANE
 * verdict, permanent vs temporary reply class, no verdict timed out vs
 * unavailable, bogus_tempfail on and off) and the end-of-message rule
 * (plaintext_sender tag / quarantine / reject with and without TLS, a
 * sender with usable DANE, MTA-STS enforce or neither, on_timeout continue
 * / tempfail; a submission: authenticated or from a trusted network). A
 * recipient without a usable domain fails closed. Replies are compared with the exact texts the MTA sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/rules.h"
#include "tests/tap.h"

#define D       "example.org"

/* ---------------------------------------------------------------- RCPT */

struct rcpt_row {
	const char *desc;
	bool require, bogus_tempfail;
	enum cfg_reply_class cls;
	enum rules_lookup lookup;
	enum dane_verdict dane;
	enum rules_action want;
	const char *code, *xcode, *text;        /* NULL with RULES_ACCEPT */
};

#define PERM    CFG_REPLY_PERMANENT
#define TEMP    CFG_REPLY_TEMPORARY
#define READY   RULES_READY
#define TOUT    RULES_TIMEDOUT
#define UNAV    RULES_UNAVAILABLE
/* the expectations: action, code, xcode (then the text) */
#define ACCEPT  RULES_ACCEPT, NULL, NULL, NULL
#define T450    RULES_TEMPFAIL, "450", "4.7.5"
#define R550    RULES_REJECT, "550", "5.7.5"
#define REQ(v)  "Recipient domain " D " requires DANE, but its DANE status is " v
#define BOGUS   "DNSSEC validation failed for recipient domain " D " (dane=bogus); " \
	"try again later"
#define UNKNOWN(why) "DANE status of " D " is not known yet (lookup " why "); try again later"
#define INVAL   "Cannot tell the recipient domain of this address, so its TLS " \
	"policy cannot be checked; try again later"
#define INV     RULES_INVALID

static const struct rcpt_row rcpt_rows[] = {
	/* require = "dane", permanent replies: 5xx but for errors */
	{ "require, permanent, usable", true, false, PERM, READY, DANE_USABLE, ACCEPT },
	{ "require, permanent, partial", true, false, PERM, READY, DANE_PARTIAL, R550, REQ("partial") },
	{ "require, permanent, unusable", true, false, PERM, READY, DANE_UNUSABLE, R550, REQ("unusable") },
	{ "require, permanent, none", true, false, PERM, READY, DANE_NONE, R550, REQ("none") },
	{ "require, permanent, insecure", true, false, PERM, READY, DANE_INSECURE, R550, REQ("insecure") },
	{ "require, permanent, nullmx", true, false, PERM, READY, DANE_NULLMX, R550, REQ("nullmx") },
	{ "require, permanent, bogus is temporary", true, false, PERM, READY, DANE_BOGUS, T450, REQ("bogus") },
	{ "require, permanent, temperror is temporary", true, false, PERM, READY, DANE_TEMPERROR, T450, REQ("temperror") },
	/* require = "dane", temporary replies */
	{ "require, temporary, usable", true, false, TEMP, READY, DANE_USABLE, ACCEPT },
	{ "require, temporary, partial", true, false, TEMP, READY, DANE_PARTIAL, T450, REQ("partial") },
	{ "require, temporary, unusable", true, false, TEMP, READY, DANE_UNUSABLE, T450, REQ("unusable") },
	{ "require, temporary, none", true, false, TEMP, READY, DANE_NONE, T450, REQ("none") },
	{ "require, temporary, insecure", true, false, TEMP, READY, DANE_INSECURE, T450, REQ("insecure") },
	{ "require, temporary, nullmx", true, false, TEMP, READY, DANE_NULLMX, T450, REQ("nullmx") },
	{ "require, temporary, bogus", true, false, TEMP, READY, DANE_BOGUS, T450, REQ("bogus") },
	{ "require, temporary, temperror", true, false, TEMP, READY, DANE_TEMPERROR, T450, REQ("temperror") },
	/* require = "dane", no verdict: always temporary, says why */
	{ "require, permanent, timed out", true, false, PERM, TOUT, DANE_USABLE, T450, UNKNOWN("timed out") },
	{ "require, permanent, unavailable", true, false, PERM, UNAV, DANE_USABLE, T450, UNKNOWN("unavailable") },
	{ "require, temporary, timed out", true, false, TEMP, TOUT, DANE_NONE, T450, UNKNOWN("timed out") },
	{ "require, temporary, unavailable", true, false, TEMP, UNAV, DANE_NONE, T450, UNKNOWN("unavailable") },
	{ "require + bogus_tempfail, timed out", true, true, TEMP, TOUT, DANE_BOGUS, T450, UNKNOWN("timed out") },
	/* require and bogus_tempfail: the require text wins */
	{ "require + bogus_tempfail, bogus", true, true, PERM, READY, DANE_BOGUS, T450, REQ("bogus") },
	{ "require + bogus_tempfail, usable", true, true, PERM, READY, DANE_USABLE, ACCEPT },
	{ "require + bogus_tempfail, none", true, true, PERM, READY, DANE_NONE, R550, REQ("none") },
	/* bogus_tempfail alone: only dane=bogus is refused, never for lack of a verdict */
	{ "bogus_tempfail, bogus", false, true, PERM, READY, DANE_BOGUS, T450, BOGUS },
	{ "bogus_tempfail, bogus (temporary class)", false, true, TEMP, READY, DANE_BOGUS, T450, BOGUS },
	{ "bogus_tempfail, usable", false, true, PERM, READY, DANE_USABLE, ACCEPT },
	{ "bogus_tempfail, partial", false, true, PERM, READY, DANE_PARTIAL, ACCEPT },
	{ "bogus_tempfail, unusable", false, true, PERM, READY, DANE_UNUSABLE, ACCEPT },
	{ "bogus_tempfail, none", false, true, PERM, READY, DANE_NONE, ACCEPT },
	{ "bogus_tempfail, insecure", false, true, PERM, READY, DANE_INSECURE, ACCEPT },
	{ "bogus_tempfail, nullmx", false, true, PERM, READY, DANE_NULLMX, ACCEPT },
	{ "bogus_tempfail, temperror", false, true, PERM, READY, DANE_TEMPERROR, ACCEPT },
	{ "bogus_tempfail, timed out", false, true, PERM, TOUT, DANE_BOGUS, ACCEPT },
	{ "bogus_tempfail, unavailable", false, true, PERM, UNAV, DANE_BOGUS, ACCEPT },
	/* no usable domain (domain=invalid): fails closed, always temporary,
	 * when require = "dane" may apply or bogus_tempfail is on */
	{ "invalid, require may apply, permanent", true, false, PERM, INV, DANE_USABLE, T450, INVAL },
	{ "invalid, require may apply, temporary", true, false, TEMP, INV, DANE_NONE, T450, INVAL },
	{ "invalid, bogus_tempfail", false, true, PERM, INV, DANE_USABLE, T450, INVAL },
	{ "invalid, require + bogus_tempfail", true, true, PERM, INV, DANE_BOGUS, T450, INVAL },
	{ "invalid, no rule", false, false, PERM, INV, DANE_BOGUS, ACCEPT },
	{ "invalid, no rule (temporary class)", false, false, TEMP, INV, DANE_NONE, ACCEPT },
	/* neither rule */
	{ "no rule, bogus", false, false, PERM, READY, DANE_BOGUS, ACCEPT },
	{ "no rule, none", false, false, PERM, READY, DANE_NONE, ACCEPT },
	{ "no rule, timed out", false, false, PERM, TOUT, DANE_NONE, ACCEPT },
	{ "no rule, unavailable", false, false, TEMP, UNAV, DANE_NONE, ACCEPT },
};

static void
test_rcpt(void)
{
	size_t i;

	for (i = 0; i < sizeof(rcpt_rows) / sizeof(rcpt_rows[0]); i++) {
		const struct rcpt_row *t = &rcpt_rows[i];
		struct rules_rcpt in;
		struct rules_reply reply;
		enum rules_action got;
		char desc[200];

		memset(&in, 0, sizeof(in));
		in.rr_domain = t->lookup == RULES_INVALID ? NULL : D;   /* not read then */
		in.rr_require_dane = t->require;
		in.rr_bogus_tempfail = t->bogus_tempfail;
		in.rr_reply_class = t->cls;
		in.rr_lookup = t->lookup;
		in.rr_dane = t->dane;
		memset(&reply, 0, sizeof(reply));
		got = rules_rcpt(&in, &reply);
		snprintf(desc, sizeof(desc), "rcpt: %s: action", t->desc);
		tap_is_str(rules_action_name(got), rules_action_name(t->want), desc);
		if (t->want == RULES_ACCEPT) {
			snprintf(desc, sizeof(desc), "rcpt: %s: no reply", t->desc);
			tap_is_str(reply.rp_code, NULL, desc);
			continue;
		}
		snprintf(desc, sizeof(desc), "rcpt: %s: code", t->desc);
		tap_is_str(reply.rp_code, t->code, desc);
		snprintf(desc, sizeof(desc), "rcpt: %s: xcode", t->desc);
		tap_is_str(reply.rp_xcode, t->xcode, desc);
		snprintf(desc, sizeof(desc), "rcpt: %s: text", t->desc);
		tap_is_str(reply.rp_text, t->text, desc);
	}
}

static void
test_rcpt_needs(void)
{
	static const struct { bool require, bogus, want; const char *desc; } rows[] = {
		{ false, false, false, "neither rule: no wait" },
		{ true, false, true, "require = dane: wait" },
		{ false, true, true, "bogus_tempfail: wait" },
		{ true, true, true, "both: wait" },
	};
	size_t i;
	char desc[200];

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(desc, sizeof(desc), "rcpt needs a verdict: %s", rows[i].desc);
		tap_is_long(rules_rcpt_needs_verdict(rows[i].require, rows[i].bogus),
		    rows[i].want, desc);
	}
}

/*
 * The input for an address without a usable domain: may require = "dane"
 * apply to it (policy/verdict.c verdict_require_dane_anywhere)?
 */
static void
test_require_anywhere(void)
{
	static const struct { const char *conf; bool want; const char *desc; } rows[] = {
		{ "", false, "no domains entries" },
		{ "domains = ( { name = \"*\"; require = \"dane\"; } );", true, "\"*\" requires dane" },
		{ "domains = ( { name = \"*\"; log_tls = true; },\n"
		  "  { name = \"example.com\"; require = \"dane\"; } );", true,
		  "one domain requires dane" },
		{ "domains = ( { name = \".example.com\"; require = \"dane\"; },\n"
		  "  { name = \"a.example.com\"; require = \"none\"; } );", true,
		  "subdomains require dane, one of them not" },
		{ "domains = ( { name = \"*\"; require = \"none\"; },\n"
		  "  { name = \"x.example\"; policy = \"dane-only\"; } );", false,
		  "require none and a fixed policy only" },
	};
	size_t i;
	char desc[200];

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *err = NULL;
		struct cfg *cfg = cfg_load_string(rows[i].conf, "test.conf", &err);

		snprintf(desc, sizeof(desc), "require = dane may apply anywhere: %s", rows[i].desc);
		if (cfg == NULL) {
			tap_ok(0, "%s: %s", desc, err);
			free(err);
			continue;
		}
		tap_is_long(verdict_require_dane_anywhere(cfg), rows[i].want, desc);
		cfg_unref(cfg);
	}
}

/* A host name of 253 bytes: the whole reply text still fits. */
static void
test_rcpt_long_domain(void)
{
	char domain[254], want[512];
	struct rules_rcpt in;
	struct rules_reply reply;
	size_t i;

	for (i = 0; i < 253; i++)
		domain[i] = (i % 64 == 63) ? '.' : 'a';
	domain[253] = '\0';
	memset(&in, 0, sizeof(in));
	in.rr_domain = domain;
	in.rr_require_dane = true;
	in.rr_reply_class = CFG_REPLY_TEMPORARY;
	in.rr_lookup = RULES_TIMEDOUT;
	rules_rcpt(&in, &reply);
	snprintf(want, sizeof(want), "DANE status of %s is not known yet (lookup "
	    "timed out); try again later", domain);
	tap_is_str(reply.rp_text, want, "rcpt: a 253-byte domain is not truncated");
}

/* ----------------------------------------------------- end of message */

struct eom_row {
	const char *desc;
	bool known;
	enum dane_verdict dane;
	enum verdict_sts sts;
	bool tls, missing;
	enum cfg_on_timeout on_timeout;
	enum cfg_plaintext plaintext;
	enum rules_action want;
	const char *violation, *reason, *code, *xcode, *text, *quarantine;
	bool auth, trusted;     /* a submission */
};

#define TAG     CFG_PLAINTEXT_TAG
#define QUAR    CFG_PLAINTEXT_QUARANTINE
#define REJ     CFG_PLAINTEXT_REJECT
#define CONT    CFG_TIMEOUT_CONTINUE
#define TFAIL   CFG_TIMEOUT_TEMPFAIL
#define ENF     VERDICT_STS_ENFORCE
#define ABS     VERDICT_STS_ABSENT
#define PTWHY   "plaintext message from a domain that requires TLS"
#define LATE    "TLS policy lookups did not finish in time"
/* the expectations: action, violation, reason, code, xcode, text, quarantine
 * reason; then whether the client authenticated / is trusted (not with these:
 * the *_SUB forms say) */
#define NOSUB           false, false
#define E_ACCEPT_SUB(a, t)      RULES_ACCEPT, NULL, NULL, NULL, NULL, NULL, NULL, a, t
#define E_ACCEPT        E_ACCEPT_SUB(false, false)
#define E_TAG           RULES_TAG, "plaintext", PTWHY, NULL, NULL, NULL, NULL, NOSUB
#define E_QUAR          RULES_QUARANTINE, "plaintext", PTWHY, NULL, NULL, NULL, \
	"danemilter: " PTWHY, NOSUB
#define E_REJ(d, s)     RULES_REJECT, "plaintext", PTWHY, "550", "5.7.10", \
	"Sender domain " D " requires TLS (dane=" d ", mta-sts=" s ") but this " \
	"message arrived without it", NULL, NOSUB
#define E_LATE_SUB(viol, a, t)  RULES_TEMPFAIL, viol, LATE, "451", "4.4.3", \
	LATE "; try again later", NULL, a, t
#define E_LATE(viol)    E_LATE_SUB(viol, false, false)

/* { desc, sender verdict known, its dane, its mta-sts, tls, missing,
 *   on_timeout, plaintext_sender, expectations } */
static const struct eom_row eom_rows[] = {
	/* a sender with usable DANE, without TLS: each plaintext_sender */
	{ "dane usable, plaintext, tag", true, DANE_USABLE, ABS, false, false, CONT, TAG, E_TAG },
	{ "dane usable, plaintext, quarantine", true, DANE_USABLE, ABS, false, false, CONT, QUAR, E_QUAR },
	{ "dane usable, plaintext, reject", true, DANE_USABLE, ABS, false, false, CONT, REJ,
	    E_REJ("usable", "absent") },
	/* ... with TLS: nothing to enforce */
	{ "dane usable, TLS, tag", true, DANE_USABLE, ABS, true, false, CONT, TAG, E_ACCEPT },
	{ "dane usable, TLS, quarantine", true, DANE_USABLE, ABS, true, false, CONT, QUAR, E_ACCEPT },
	{ "dane usable, TLS, reject", true, DANE_USABLE, ABS, true, false, CONT, REJ, E_ACCEPT },
	/* a sender with MTA-STS enforce (and no DANE) */
	{ "mta-sts enforce, plaintext, tag", true, DANE_INSECURE, ENF, false, false, CONT, TAG, E_TAG },
	{ "mta-sts enforce, plaintext, quarantine", true, DANE_INSECURE, ENF, false, false, CONT, QUAR,
	    E_QUAR },
	{ "mta-sts enforce, plaintext, reject", true, DANE_INSECURE, ENF, false, false, CONT, REJ,
	    E_REJ("insecure", "enforce") },
	{ "mta-sts enforce, TLS, tag", true, DANE_NONE, ENF, true, false, CONT, TAG, E_ACCEPT },
	{ "mta-sts enforce, TLS, quarantine", true, DANE_NONE, ENF, true, false, CONT, QUAR, E_ACCEPT },
	{ "mta-sts enforce, TLS, reject", true, DANE_INSECURE, ENF, true, false, CONT, REJ, E_ACCEPT },
	{ "dane usable + mta-sts enforce, plaintext, reject", true, DANE_USABLE, ENF, false, false, CONT,
	    REJ, E_REJ("usable", "enforce") },
	/* a sender with neither: plaintext is fine */
	{ "dane partial, mta-sts testing, plaintext, reject", true, DANE_PARTIAL, VERDICT_STS_TESTING,
	    false, false, CONT, REJ, E_ACCEPT },
	{ "dane none, mta-sts none, plaintext, reject", true, DANE_NONE, VERDICT_STS_NONE,
	    false, false, CONT, REJ, E_ACCEPT },
	{ "dane insecure, mta-sts absent, plaintext, quarantine", true, DANE_INSECURE, ABS,
	    false, false, CONT, QUAR, E_ACCEPT },
	{ "dane unusable, mta-sts error, plaintext, tag", true, DANE_UNUSABLE, VERDICT_STS_ERROR,
	    false, false, CONT, TAG, E_ACCEPT },
	{ "dane bogus, mta-sts absent, plaintext, reject", true, DANE_BOGUS, ABS,
	    false, false, CONT, REJ, E_ACCEPT },
	/* no sender verdict (null sender, or not there): nothing known to enforce */
	{ "no sender verdict, plaintext, reject", false, DANE_USABLE, ENF, false, false, CONT, REJ,
	    E_ACCEPT },
	{ "no sender verdict, missing, continue, reject", false, DANE_USABLE, ENF, false, true, CONT, REJ,
	    E_ACCEPT },
	/* on_timeout */
	{ "missing, tempfail", false, DANE_NONE, ABS, true, true, TFAIL, TAG, E_LATE(NULL) },
	{ "missing, tempfail, plaintext", false, DANE_NONE, ABS, false, true, TFAIL, REJ, E_LATE(NULL) },
	{ "missing, continue", false, DANE_NONE, ABS, true, true, CONT, TAG, E_ACCEPT },
	{ "nothing missing, tempfail", true, DANE_NONE, ABS, true, false, TFAIL, TAG, E_ACCEPT },
	{ "nothing missing, tempfail, plaintext dane sender, reject", true, DANE_USABLE, ABS,
	    false, false, TFAIL, REJ, E_REJ("usable", "absent") },
	/* a recipient verdict missing while the sender's is there */
	{ "rcpt missing, tempfail wins over reject", true, DANE_USABLE, ABS, false, true, TFAIL, REJ,
	    E_LATE("plaintext") },
	{ "rcpt missing, tempfail wins over quarantine", true, DANE_USABLE, ENF, false, true, TFAIL, QUAR,
	    E_LATE("plaintext") },
	{ "rcpt missing, continue, plaintext, tag", true, DANE_USABLE, ABS, false, true, CONT, TAG, E_TAG },
	{ "rcpt missing, continue, plaintext, reject", true, DANE_NONE, ENF, false, true, CONT, REJ,
	    E_REJ("none", "enforce") },
	{ "rcpt missing, tempfail, TLS", true, DANE_USABLE, ENF, true, true, TFAIL, REJ, E_LATE(NULL) },
	/* submission: authenticated, or from a trusted network: plaintext is
	 * no violation, whatever plaintext_sender says */
	{ "authenticated, dane usable, plaintext, tag", true, DANE_USABLE, ABS, false, false, CONT, TAG,
	    E_ACCEPT_SUB(true, false) },
	{ "authenticated, dane usable, plaintext, quarantine", true, DANE_USABLE, ABS, false, false, CONT,
	    QUAR, E_ACCEPT_SUB(true, false) },
	{ "authenticated, mta-sts enforce, plaintext, reject", true, DANE_INSECURE, ENF, false, false, CONT,
	    REJ, E_ACCEPT_SUB(true, false) },
	{ "trusted client, dane usable, plaintext, tag", true, DANE_USABLE, ABS, false, false, CONT, TAG,
	    E_ACCEPT_SUB(false, true) },
	{ "trusted client, dane usable + mta-sts enforce, plaintext, reject", true, DANE_USABLE, ENF,
	    false, false, CONT, REJ, E_ACCEPT_SUB(false, true) },
	{ "trusted client, mta-sts enforce, plaintext, quarantine", true, DANE_NONE, ENF, false, false, CONT,
	    QUAR, E_ACCEPT_SUB(false, true) },
	{ "authenticated and trusted, dane usable, plaintext, reject", true, DANE_USABLE, ABS, false, false,
	    CONT, REJ, E_ACCEPT_SUB(true, true) },
	{ "authenticated, dane usable, TLS, reject", true, DANE_USABLE, ABS, true, false, CONT, REJ,
	    E_ACCEPT_SUB(true, false) },
	/* ... the timeout rule is not about transport: it still applies */
	{ "authenticated, missing, tempfail, plaintext dane sender", true, DANE_USABLE, ABS, false, true,
	    TFAIL, REJ, E_LATE_SUB(NULL, true, false) },
	{ "trusted client, missing, tempfail", false, DANE_NONE, ABS, false, true, TFAIL, TAG,
	    E_LATE_SUB(NULL, false, true) },
	/* neither: as before */
	{ "not authenticated, untrusted, dane usable, plaintext, tag", true, DANE_USABLE, ABS, false, false,
	    CONT, TAG, E_TAG },
};

static void
test_eom(void)
{
	size_t i;

	for (i = 0; i < sizeof(eom_rows) / sizeof(eom_rows[0]); i++) {
		const struct eom_row *t = &eom_rows[i];
		struct rules_eom in;
		struct rules_eom_result out;
		char desc[200];

		memset(&in, 0, sizeof(in));
		in.re_sender = D;
		in.re_sender_known = t->known;
		in.re_sender_dane = t->dane;
		in.re_sender_sts = t->sts;
		in.re_tls = t->tls;
		in.re_authenticated = t->auth;
		in.re_trusted_client = t->trusted;
		in.re_missing = t->missing;
		in.re_on_timeout = t->on_timeout;
		in.re_plaintext = t->plaintext;
		memset(&out, 0x5a, sizeof(out));        /* every field must be set */
		rules_eom(&in, &out);
		snprintf(desc, sizeof(desc), "eom: %s: action", t->desc);
		tap_is_str(rules_action_name(out.rer_action), rules_action_name(t->want), desc);
		snprintf(desc, sizeof(desc), "eom: %s: violation", t->desc);
		tap_is_str(out.rer_violation, t->violation, desc);
		snprintf(desc, sizeof(desc), "eom: %s: reason", t->desc);
		tap_is_str(out.rer_reason, t->reason, desc);
		snprintf(desc, sizeof(desc), "eom: %s: quarantine reason", t->desc);
		tap_is_str(out.rer_quarantine, t->quarantine, desc);
		snprintf(desc, sizeof(desc), "eom: %s: code", t->desc);
		tap_is_str(out.rer_reply.rp_code, t->code, desc);
		if (t->code == NULL)
			continue;
		snprintf(desc, sizeof(desc), "eom: %s: xcode", t->desc);
		tap_is_str(out.rer_reply.rp_xcode, t->xcode, desc);
		snprintf(desc, sizeof(desc), "eom: %s: text", t->desc);
		tap_is_str(out.rer_reply.rp_text, t->text, desc);
	}
}

static void
test_action_names(void)
{
	static const struct { enum rules_action a; const char *want; } rows[] = {
		{ RULES_ACCEPT, "accept" },
		{ RULES_TAG, "tag" },
		{ RULES_QUARANTINE, "quarantine" },
		{ RULES_REJECT, "reject" },
		{ RULES_TEMPFAIL, "tempfail" },
	};
	size_t i;
	char desc[100];

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(desc, sizeof(desc), "action name %d", (int)rows[i].a);
		tap_is_str(rules_action_name(rows[i].a), rows[i].want, desc);
	}
}

int
main(void)
{
	tap_watchdog(10);
	test_action_names();
	test_rcpt_needs();
	test_rcpt();
	test_rcpt_long_domain();
	test_require_anywhere();
	test_eom();
	return tap_done();
}
