/*
 * summary.h: the one log line per message (product.md "Logs"): queue id,
 * client, inbound TLS, the sender domain's verdict, each recipient
 * domain's policy and action, and the message's action. Text for syslog
 * or one JSON object (log.format = "json").
 *
 * The caller owns every input and the struct sbuf; both functions append
 * one line (no newline) to it. Network-supplied text is sanitized
 * (hdr_token) in text lines; the JSON object is built with jansson and
 * its text is escaped there, invalid UTF-8 bytes shown as U+FFFD
 * (common/jsonout.h).
 */
#ifndef DM_SUMMARY_H
#define DM_SUMMARY_H

#include <stddef.h>

#include "common/sbuf.h"
#include "milter/hdr.h"
#include "policy/verdict.h"

struct summary_rcpt {
	const char *sr_domain;
	const struct verdict *sr_verdict;       /* NULL: not ready (sr_missing says why;
	                                           HDR_INVALID: no usable domain) */
	enum hdr_missing sr_missing;
	const char *sr_action;                  /* "accept", "reject", "tempfail" */
	unsigned sr_count;                      /* recipients at this domain */
};

struct summary {
	const char *s_qid;                      /* NULL: "NOQUEUE" */
	const struct hdr_inbound *s_in;
	const char *s_sender;                   /* NULL: null sender; with no verdict and
	                                           HDR_INVALID: no usable domain */
	const struct verdict *s_sender_verdict; /* NULL: not ready */
	enum hdr_missing s_sender_missing;
	const struct summary_rcpt *s_rcpts;
	size_t s_nrcpts;
	const char *s_action;           /* "accept", "tag", "quarantine", "reject", "tempfail" */
	const char *s_reason;           /* NULL or why the action */
	unsigned s_wait_ms;             /* time spent waiting for verdicts at end of message */
};

void summary_text(struct sbuf *sb, const struct summary *s);
void summary_json(struct sbuf *sb, const struct summary *s);

#endif
