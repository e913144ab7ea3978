/*
 * fmsg.h: one message being filtered, from MAIL FROM to its end or abort
 * (OpenDMARC's per-message context): the inbound TLS macros as the MTA
 * gave them, whether the client authenticated, the sender domain and the distinct recipient domains, each
 * with the engine lookups (milter/ask.h) started as soon as the domain is
 * known and what came of them, and how many copies of our own headers
 * came in. The callbacks (milter/filter.c) fill and read the fields.
 *
 * Ownership: fmsg_new() allocates a message; fmsg_free() frees it with
 * every ask it holds, so the verdicts borrowed through them (ask_verdict)
 * end there too. fmsg_count() is how many are alive (the daemon drains by
 * it). Threads: a message belongs to its connection, whose callbacks
 * libmilter runs one at a time; fmsg_count() on any thread.
 */
#ifndef DM_FMSG_H
#define DM_FMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/gate.h"
#include "milter/ask.h"
#include "milter/hdmilter.h"
#include "policy/verdict.h"

/* One recipient domain of the message. */
struct frcpt {
	char fr_domain[256];            /* "": the recipients whose address has no
	                                   usable domain (domain=invalid): no ask */
	struct ask *fr_ask;             /* NULL with fr_domain "" */
	enum ask_status fr_status;      /* as last seen */
	struct ask *fr_probe;           /* probe.enabled: the MX probe, or NULL */
	struct ask *fr_policy;          /* the RCPT rules' DANE-first ask, or NULL */
	enum ask_status fr_policy_status;
	unsigned fr_accepted;           /* recipients accepted at this domain */
	unsigned fr_refused;
	const char *fr_refusal;         /* "reject" / "tempfail" when refused */
};

struct fmsg {
	char fm_qid[64];
	char fm_tls_version[32];
	char fm_cipher[128];
	char fm_bits[16];
	char fm_cert_subject[256];
	char fm_cert_issuer[256];
	char fm_verify[32];
	bool fm_has_verify;
	bool fm_authenticated;          /* {auth_authen} not empty at MAIL FROM */
	char fm_sender[256];            /* "" = null sender, or no usable domain */
	bool fm_sender_invalid;         /* the sender address has no usable domain
	                                   (domain=invalid; milter/addr.h) */
	struct ask *fm_sender_ask;
	enum ask_status fm_sender_status;
	struct frcpt *fm_rcpts;
	size_t fm_nrcpts, fm_rcpts_cap;
	unsigned fm_ours[3];            /* incoming copies of each header name */
	struct hdmilter_msg fm_hd;      /* HaveDane test addresses, other recipients */
};

/* A new, empty message (counted). Never NULL. */
struct fmsg *fmsg_new(void);
/* Free m (NULL: nothing) and its asks. */
void fmsg_free(struct fmsg *m);
/* Messages alive. */
int fmsg_count(void);

/* domain's entry in m, or NULL. */
struct frcpt *fmsg_find(struct fmsg *m, const char *domain);
/* domain's entry in m; a new one when it is not there yet, its verdict
 * (and with probe, its MX probe) asked for through g; for domain "" (no
 * usable domain) nothing is asked. Never NULL. */
struct frcpt *fmsg_rcpt(struct fmsg *m, struct gate *g, const char *domain, bool probe);
/* r's verdict, waiting until the CLOCK_MONOTONIC deadline when it is
 * still pending; NULL when it did not come (r->fr_status says why) or
 * there is none to ask for (fr_domain ""). Borrowed until fmsg_free(). */
const struct verdict *fmsg_rcpt_verdict(struct frcpt *r, const struct timespec *deadline);
/* What is known of r's verdict now, without waiting: the whole verdict,
 * else the DANE-first one the RCPT rules judged by, else NULL (*stp says
 * why, as for fmsg_rcpt_policy_verdict). Borrowed until fmsg_free(). */
const struct verdict *fmsg_rcpt_known(struct frcpt *r, enum ask_status *stp);
/* The verdict the RCPT rules judge r's domain by (its DANE state decides
 * them): r's whole verdict when it is already there, else the DANE-first
 * one (ask_policy_start, asked through g once per entry), waiting until
 * the deadline. NULL when none came: *stp says why (ASK_PENDING: the
 * bound passed; ASK_FAILED: none to ask for, or shutting down). Borrowed
 * until fmsg_free(). */
const struct verdict *fmsg_rcpt_policy_verdict(struct frcpt *r, struct gate *g,
    const struct timespec *deadline, enum ask_status *stp);

#endif
