/*
 * rules.c: see rules.h. The reply texts are part of the interface: the
 * MTA passes them to the client, and the milter's log lines and tests
 * quote them.
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>

static const char RULES_PLAINTEXT[] = "plaintext message from a domain that requires TLS";
static const char RULES_INVALID_TEXT[] = "Cannot tell the recipient domain of this "
    "address, so its TLS policy cannot be checked; try again later";

static void
rules_reply(struct rules_reply *r, const char *code, const char *xcode)
{
	r->rp_code = code;
	r->rp_xcode = xcode;
}

bool
rules_rcpt_needs_verdict(bool require_dane, bool bogus_tempfail)
{
	return require_dane || bogus_tempfail;
}

enum rules_action
rules_rcpt(const struct rules_rcpt *in, struct rules_reply *reply)
{
	bool ready = in->rr_lookup == RULES_READY;
	enum dane_verdict dv = ready ? in->rr_dane : DANE_TEMPERROR;

	if (in->rr_lookup == RULES_INVALID) {
		/* fails closed: whatever the domain is, a rule may want it */
		if (!in->rr_require_dane && !in->rr_bogus_tempfail)
			return RULES_ACCEPT;
		rules_reply(reply, "450", "4.7.5");
		snprintf(reply->rp_text, sizeof(reply->rp_text), "%s", RULES_INVALID_TEXT);
	} else if (in->rr_require_dane && !ready) {
		rules_reply(reply, "450", "4.7.5");
		snprintf(reply->rp_text, sizeof(reply->rp_text), "DANE status of %s "
		    "is not known yet (lookup %s); try again later", in->rr_domain,
		    in->rr_lookup == RULES_TIMEDOUT ? "timed out" : "unavailable");
	} else if (in->rr_require_dane && dv != DANE_USABLE) {
		/* an error is never a permanent refusal */
		if (dv != DANE_BOGUS && dv != DANE_TEMPERROR &&
		    in->rr_reply_class == CFG_REPLY_PERMANENT)
			rules_reply(reply, "550", "5.7.5");
		else
			rules_reply(reply, "450", "4.7.5");
		snprintf(reply->rp_text, sizeof(reply->rp_text), "Recipient domain %s "
		    "requires DANE, but its DANE status is %s", in->rr_domain,
		    dane_verdict_name(dv));
	} else if (in->rr_bogus_tempfail && ready && dv == DANE_BOGUS) {
		rules_reply(reply, "450", "4.7.5");
		snprintf(reply->rp_text, sizeof(reply->rp_text), "DNSSEC validation "
		    "failed for recipient domain %s (dane=bogus); try again later",
		    in->rr_domain);
	} else {
		return RULES_ACCEPT;
	}
	return *reply->rp_code == '5' ? RULES_REJECT : RULES_TEMPFAIL;
}

void
rules_eom(const struct rules_eom *in, struct rules_eom_result *out)
{
	memset(out, 0, sizeof(*out));
	out->rer_action = RULES_ACCEPT;
	/* a submission (authenticated, or from a trusted network) is not a
	 * hop between MTAs: its lack of TLS violates nothing */
	if (in->re_sender_known && !in->re_tls && !in->re_authenticated &&
	    !in->re_trusted_client &&
	    (in->re_sender_dane == DANE_USABLE || in->re_sender_sts == VERDICT_STS_ENFORCE))
		out->rer_violation = "plaintext";

	if (in->re_missing && in->re_on_timeout == CFG_TIMEOUT_TEMPFAIL) {
		out->rer_action = RULES_TEMPFAIL;
		out->rer_reason = "TLS policy lookups did not finish in time";
		rules_reply(&out->rer_reply, "451", "4.4.3");
		snprintf(out->rer_reply.rp_text, sizeof(out->rer_reply.rp_text),
		    "TLS policy lookups did not finish in time; try again later");
	} else if (out->rer_violation != NULL) {
		out->rer_reason = RULES_PLAINTEXT;
		switch (in->re_plaintext) {
		case CFG_PLAINTEXT_REJECT:
			out->rer_action = RULES_REJECT;
			rules_reply(&out->rer_reply, "550", "5.7.10");
			snprintf(out->rer_reply.rp_text, sizeof(out->rer_reply.rp_text),
			    "Sender domain %s requires TLS (dane=%s, mta-sts=%s) but "
			    "this message arrived without it", in->re_sender,
			    dane_verdict_name(in->re_sender_dane),
			    verdict_sts_name(in->re_sender_sts));
			break;
		case CFG_PLAINTEXT_QUARANTINE:
			out->rer_action = RULES_QUARANTINE;
			out->rer_quarantine = "danemilter: plaintext message from a "
			    "domain that requires TLS";
			break;
		case CFG_PLAINTEXT_TAG:
		default:
			out->rer_action = RULES_TAG;
			break;
		}
	}
}

const char *
rules_action_name(enum rules_action a)
{
	switch (a) {
	case RULES_ACCEPT:
		return "accept";
	case RULES_TAG:
		return "tag";
	case RULES_QUARANTINE:
		return "quarantine";
	case RULES_REJECT:
		return "reject";
	case RULES_TEMPFAIL:
		return "tempfail";
	}
	return "accept";
}
