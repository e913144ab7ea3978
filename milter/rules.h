/*
 * rules.h: the milter's enforcement decisions (product.md "Enforcement"),
 * as pure functions: given what the callbacks gathered (the
 * configuration's answers, whether a verdict came, the verdict's DANE and
 * MTA-STS words, whether the message came over TLS), what to do and the
 * exact reply. No libmilter, no threads, no logging, no clock: the
 * callbacks (milter/filter.c) wait for the verdicts, call these, then
 * perform the outcome (reply, headers, quarantine, log line, metrics).
 *
 *   RCPT: require = "dane", no usable DANE     450 4.7.5 / 550 5.7.5 (require_dane_reply)
 *         ... dane=bogus or temperror          450 4.7.5 (always temporary)
 *         ... no verdict (timed out, shutdown) 450 4.7.5
 *         bogus_tempfail, dane=bogus           450 4.7.5
 *         the address has no usable domain (domain=invalid, milter/addr.h)
 *         and require = "dane" may apply to it (some domains entry says
 *         so: the caller passes verdict_require_dane_anywhere) or
 *         bogus_tempfail is on                 450 4.7.5 (fails closed:
 *         an address nobody can read never gets less enforcement than
 *         the domain the MTA routes it to; always temporary, since the
 *         domain might turn out fine)
 *   end of message:
 *         a verdict missing, on_timeout = "tempfail"      451 4.4.3
 *         plaintext from a DANE-usable / MTA-STS enforce sender:
 *           plaintext_sender = "tag"         violation=plaintext
 *           plaintext_sender = "quarantine"  the same, and held by the MTA
 *           plaintext_sender = "reject"      550 5.7.10
 *         ... but a submission is no violation: the client authenticated
 *         (SMTP AUTH) or connected from milter.trusted_networks
 *
 * The caller owns every input and output; outputs hold static strings and
 * the reply text in place, nothing is allocated. Any thread.
 */
#ifndef DM_RULES_H
#define DM_RULES_H

#include <stdbool.h>

#include "config/cfg.h"
#include "policy/dane.h"
#include "policy/verdict.h"

/* What a message or a recipient comes to. */
enum rules_action {
	RULES_ACCEPT,
	RULES_TAG,              /* accepted, violation= in X-DANE-Sender */
	RULES_QUARANTINE,       /* tagged, and held by the MTA */
	RULES_REJECT,           /* 5xx */
	RULES_TEMPFAIL          /* 4xx */
};

/* Whether a domain's verdict came (by the bound the caller waited for). */
enum rules_lookup {
	RULES_READY,            /* there: the DANE verdict is meaningful */
	RULES_TIMEDOUT,         /* still pending when the bound passed */
	RULES_UNAVAILABLE,      /* there will be none (the engine is shutting down) */
	RULES_INVALID           /* nothing to look up: the address has no usable
	                           domain (milter/addr.h ADDR_INVALID) */
};

/* A refusal: SMTP code, enhanced status code and text (no CR/LF). */
struct rules_reply {
	const char *rp_code;    /* "450", "451", "550"; NULL: no reply */
	const char *rp_xcode;   /* "4.7.5", ... */
	char rp_text[512];
};

/* The RCPT rule's inputs, for one recipient domain. */
struct rules_rcpt {
	const char *rr_domain;                  /* not read with RULES_INVALID */
	/* require = "dane" for the domain: the connection's configuration
	 * (verdict_require_dane) or, once a verdict came, the one it was
	 * built under (v_require_dane); with RULES_INVALID: whether it may
	 * apply (verdict_require_dane_anywhere) */
	bool rr_require_dane;
	bool rr_bogus_tempfail;                 /* milter.bogus_tempfail */
	enum cfg_reply_class rr_reply_class;    /* milter.require_dane_reply */
	enum rules_lookup rr_lookup;
	enum dane_verdict rr_dane;              /* when rr_lookup == RULES_READY */
};

/*
 * Does the RCPT rule need the domain's verdict at all? false: accept the
 * recipient without waiting for it (rules_rcpt would accept anyway).
 */
bool rules_rcpt_needs_verdict(bool require_dane, bool bogus_tempfail);
/*
 * The RCPT rule: RULES_ACCEPT (reply untouched), or RULES_TEMPFAIL /
 * RULES_REJECT with *reply set (4xx / 5xx). Never another action.
 */
enum rules_action rules_rcpt(const struct rules_rcpt *in, struct rules_reply *reply);

/* The end-of-message rule's inputs. */
struct rules_eom {
	const char *re_sender;          /* sender domain ("" = none); read with a verdict */
	bool re_sender_known;           /* the sender domain's verdict is there */
	enum dane_verdict re_sender_dane;       /* with re_sender_known */
	enum verdict_sts re_sender_sts;         /* with re_sender_known */
	bool re_tls;                    /* the inbound hop used TLS (hdr_inbound_tls) */
	bool re_authenticated;          /* the client authenticated ({auth_authen} set) */
	bool re_trusted_client;         /* the client is in milter.trusted_networks */
	bool re_missing;                /* a verdict the message needed did not come */
	enum cfg_on_timeout re_on_timeout;      /* milter.on_timeout */
	enum cfg_plaintext re_plaintext;        /* milter.plaintext_sender */
};

struct rules_eom_result {
	enum rules_action rer_action;
	/* "plaintext" or NULL: X-DANE-Sender's violation= (set whatever the
	 * action; headers are written only with ACCEPT, TAG, QUARANTINE) */
	const char *rer_violation;
	const char *rer_reason;         /* the summary line's reason, NULL with ACCEPT */
	const char *rer_quarantine;     /* the reason handed to the MTA with QUARANTINE */
	struct rules_reply rer_reply;   /* with REJECT and TEMPFAIL (else rp_code NULL) */
};

/*
 * The end-of-message rule. With RULES_QUARANTINE the caller tries to
 * quarantine and, when the MTA does not allow it, falls back to
 * RULES_TAG (same reason).
 */
void rules_eom(const struct rules_eom *in, struct rules_eom_result *out);

/* "accept", "tag", "quarantine", "reject", "tempfail" (summary, log). */
const char *rules_action_name(enum rules_action a);

#endif
