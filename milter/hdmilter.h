/*
 * hdmilter.h: the milter's part of HaveDane (policy/havedane.h): which
 * recipients are test addresses, the RCPT reply for them, and the record
 * of a message that arrived for them. No libmilter calls: milter/filter.c
 * gathers the inputs and performs the replies.
 *
 * A message with test addresses has no other recipients (a mix gets
 * 452 4.5.3 for the later recipients: the sending MTA sends them again in
 * a transaction of their own) and at most HDMILTER_MAX test addresses; it
 * is recorded at end of data and then discarded.
 *
 * Pure apart from hdmilter_record() (adds to the store, logs); any thread.
 */
#ifndef DM_HDMILTER_H
#define DM_HDMILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "policy/havedane.h"

#define HDMILTER_MAX    8

/* The test addresses of one message. */
struct hdmilter_msg {
	char hm_token[HDMILTER_MAX][HDTOKEN_LEN + 1];
	enum hdtoken_kind hm_kind[HDMILTER_MAX];
	size_t hm_n;
	unsigned hm_others;             /* other recipients accepted */
};

enum hdmilter_rcpt {
	HDMILTER_OTHER,         /* not a test address: the usual rules (the caller
	                           counts it in hm_others when it accepts it) */
	HDMILTER_ACCEPT,        /* a test address with a valid token: added to hm */
	HDMILTER_REFUSE         /* refused: *code, *xcode, *text say how */
};

/*
 * Decide on rcpt (the RCPT argument or {rcpt_addr}) of message hm at
 * time now. HDMILTER_REFUSE: 550 5.1.1 for a malformed, forged or expired
 * token ("no such HaveDane test"); 452 4.5.3 for a test address in a
 * message with other recipients (or another after them), or one more than
 * HDMILTER_MAX. Also HDMILTER_REFUSE 452 for an ordinary recipient after
 * test addresses. The strings are static.
 */
enum hdmilter_rcpt hdmilter_rcpt(const struct havedane *hd, struct hdmilter_msg *hm,
    const char *rcpt, time_t now, const char **code, const char **xcode, const char **text);

/* What the MTA said of the session and message (strings may be ""). */
struct hdmilter_session {
	const char *hs_client, *hs_addr, *hs_helo;
	const char *hs_tls, *hs_cipher, *hs_bits, *hs_cert_subject, *hs_cert_issuer;
	const char *hs_mail_domain;
	const char *hs_qid;             /* for the log */
};

/* Record each test address of hm (one log line each). Returns how many
 * records are new. */
size_t hdmilter_record(struct havedane *hd, const struct hdmilter_msg *hm,
    const struct hdmilter_session *s, time_t now);

#endif
