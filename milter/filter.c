/*
 * filter.c: see filter.h.
 *
 * Per connection (struct fconn, mfi_setpriv): the configuration it
 * started with, the client, the authserv-id, what was negotiated. Per
 * message (struct fmsg, milter/fmsg.h, MAIL FROM to end of message or
 * abort): queue id, the inbound TLS macros, the sender domain and the
 * distinct recipient domains, each with the engine lookup started as soon
 * as the domain is known, and how many copies of our own headers came in.
 *
 * Callbacks and what they do:
 *   negotiate  actions ADDHDRS|CHGHDRS (+QUARANTINE, SETSYMLIST when
 *              offered; a connection that cannot change headers gets no
 *              filter); skip HELO (unless HaveDane is on), DATA, EOH, body and unknown commands; no
 *              replies for connect, MAIL and headers; ask only for the
 *              macros used (mfi_setsymlist)
 *   connect    client name and address (and whether it is in
 *              milter.trusted_networks), authserv-id
 *   helo       the HELO name (HaveDane's records)
 *   envfrom    new message; TLS macros, {auth_authen}; the sender domain
 *              ({mail_addr}, else the argument: milter/addr.h) and its
 *              lookup
 *   envrcpt    HaveDane test addresses (milter/hdmilter.h): accepted,
 *              refused, or an ordinary recipient; each new recipient domain ({rcpt_addr}, else the
 *              argument) and its lookup; enforce require = "dane" and
 *              bogus_tempfail (bounded wait; an address without a usable
 *              domain fails closed)
 *   header     count incoming X-DANE-* copies
 *   eom        a HaveDane test message: record it and discard it; else
 *              wait (bounded, once) for what is missing; delete the copies
 *              (highest index first); insert fresh headers on top; act on a
 *              plaintext message from a DANE / MTA-STS sender (not on a
 *              submission: authenticated or from a trusted network); log
 *              the summary line
 *   abort      drop the message; close: drop the connection
 * What to enforce and the replies are decided in milter/rules.c (pure);
 * envrcpt and eom gather its inputs and perform what it returns. Every
 * libmilter call goes through milter/mfi.h; the filter's life (open, run,
 * reload, drain, stop, counters) is in milter/lifecycle.c, which owns the
 * state both share (milter/filter_private.h).
 *
 * Ownership: a struct fconn is allocated at negotiate (or at the first
 * callback of an MTA that does not negotiate) and freed at close with its
 * cfg reference; a struct fmsg at MAIL FROM, freed (with its asks) at end
 * of message, abort, the next MAIL FROM or close. Threads: libmilter's,
 * one connection's callbacks at a time.
 */
#include "filter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "common/cidr.h"
#include "common/deadline.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "milter/addr.h"
#include "milter/ask.h"
#include "milter/filter_private.h"
#include "milter/fmsg.h"
#include "milter/hdmilter.h"
#include "milter/hdr.h"
#include "milter/mfi.h"
#include "milter/rules.h"
#include "milter/summary.h"
#include "policy/dane.h"

static const char *const filter_hdr_names[3] = { HDR_INBOUND, HDR_SENDER, HDR_RECIPIENT };

struct fconn {
	struct cfg *fc_cfg;             /* a reference: the config at connect */
	unsigned long fc_actions;       /* negotiated SMFIF_* */
	unsigned long fc_steps;         /* negotiated SMFIP_* */
	char fc_name[256];
	char fc_addr[64];
	char fc_authserv[256];
	char fc_helo[256];              /* HELO / EHLO name, "" before one */
	bool fc_trusted;                /* fc_addr is in milter.trusted_networks */
	bool fc_refuse;                 /* came while draining */
	struct fmsg *fc_msg;
};

/* ------------------------------------------------------------- metrics */

/* milter_messages_total{action}: a message's fate at end of data, indexed
 * by enum rules_action. */
static const char *const filter_metric_actions[] = {
	[RULES_ACCEPT] = "accept",
	[RULES_TAG] = "tag",
	[RULES_QUARANTINE] = "quarantine",
	[RULES_REJECT] = "reject",
	[RULES_TEMPFAIL] = "tempfail"
};
_Static_assert(METRICS_NELEM(filter_metric_actions) == RULES_TEMPFAIL + 1,
    "a name per rules_action");

static struct metrics_family filter_messages_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_milter_messages_total",
	    "Messages at end of data, by the action taken."),
	METRICS_LABEL1("action", filter_metric_actions),
};

/* milter_rcpt_refused_total{code} */
enum filter_rcpt_class {
	FILTER_RCPT_4XX,
	FILTER_RCPT_5XX
};
static const char *const filter_metric_rcpt[] = {
	[FILTER_RCPT_4XX] = "4xx",
	[FILTER_RCPT_5XX] = "5xx"
};

static struct metrics_family filter_rcpt_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_milter_rcpt_refused_total",
	    "Recipients refused at RCPT TO, by reply class."),
	METRICS_LABEL1("code", filter_metric_rcpt),
};

void
filter_metrics_register(void)
{
	metrics_register(&filter_messages_metric);
	metrics_register(&filter_rcpt_metric);
}

/* ------------------------------------------------------------- helpers */

void
filter_copy(char *dst, size_t len, const char *src)
{
	size_t n;

	if (src == NULL) {
		*dst = '\0';
		return;
	}
	n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Copy macro name into buf ("" when the MTA did not send it). */
static bool
filter_macro(SMFICTX *ctx, const char *name, char *buf, size_t len)
{
	const char *v = mfi_getsymval(ctx, name);

	filter_copy(buf, len, v);
	return v != NULL;
}

static void
filter_qid(SMFICTX *ctx, struct fmsg *m)
{
	char qid[sizeof(m->fm_qid)];
	struct sbuf sb = SBUF_INIT;

	if (!filter_macro(ctx, "i", qid, sizeof(qid)) || *qid == '\0')
		return;
	hdr_token(&sb, qid);            /* it goes into log lines */
	filter_copy(m->fm_qid, sizeof(m->fm_qid), sbuf_str(&sb));
	sbuf_free(&sb);
}

/* sb's text made log-safe in place (hdr_token); returns it. */
static const char *
filter_safe(struct sbuf *sb)
{
	struct sbuf t = SBUF_INIT;

	hdr_token(&t, sbuf_str(sb));
	sbuf_reset(sb);
	sbuf_append(sb, sbuf_str(&t));
	sbuf_free(&t);
	return sbuf_str(sb);
}

static const char *
filter_qid_or(const struct fmsg *m)
{
	return m != NULL && m->fm_qid[0] != '\0' ? m->fm_qid : "NOQUEUE";
}

/*
 * The domain of the MAIL or RCPT address (milter/addr.h) into buf: from
 * the MTA's macro ({mail_addr}, {rcpt_addr}: the address as the MTA
 * parsed, rewrote and routes it) when it sent one, else from the
 * command's argument.
 */
static enum addr_status
filter_addr_domain(SMFICTX *ctx, const char *macro, char **argv, char *buf, size_t len)
{
	const char *addr = mfi_getsymval(ctx, macro);

	if (addr == NULL)
		addr = argv != NULL ? argv[0] : NULL;
	return addr_domain(addr, buf, len);
}

static void
filter_elapsed(const struct timespec *t0, unsigned *ms)
{
	*ms = (unsigned)(deadline_since_us(t0) / 1000);
}

/* ------------------------------------------------- connection lifetime */

static struct fconn *
fconn_new(void)
{
	struct fconn *fc = xcalloc(1, sizeof(*fc));

	fc->fc_cfg = filter_cfg_get();
	/* without negotiation (protocol < 6): what libmilter allows by default */
	fc->fc_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
	__atomic_add_fetch(&filter_shared.fs_conns, 1, __ATOMIC_RELAXED);
	return fc;
}

static void
fconn_free(struct fconn *fc)
{
	if (fc == NULL)
		return;
	fmsg_free(fc->fc_msg);
	if (fc->fc_cfg)
		cfg_unref(fc->fc_cfg);
	free(fc);
	__atomic_sub_fetch(&filter_shared.fs_conns, 1, __ATOMIC_RELAXED);
}

static struct fconn *
filter_conn(SMFICTX *ctx)
{
	struct fconn *fc = mfi_getpriv(ctx);

	if (fc == NULL) {               /* no negotiate callback (old MTA) */
		fc = fconn_new();
		mfi_setpriv(ctx, fc);
	}
	return fc;
}

static sfsistat
filter_noreply(const struct fconn *fc, unsigned long step)
{
	return (fc->fc_steps & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* ----------------------------------------------------------- callbacks */

static sfsistat
filter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0, unsigned long *pf1,
    unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long need = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
	/* HELO only for HaveDane's records: libmilter clears the MAIL
	 * macros at a HELO, and an MTA may send HELO late (miltertest does) */
	const unsigned long skip = SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_NOEOH | SMFIP_NOBODY |
	    (__atomic_load_n(&filter_shared.fs_havedane, __ATOMIC_ACQUIRE) == NULL ?
	    SMFIP_NOHELO : 0);
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
	    SMFIP_NR_HDR;
	struct fconn *fc;

	(void)f2;
	(void)f3;
	if ((f0 & need) != need) {
		log_warnx("milter: the MTA does not let filters change headers "
		    "(actions 0x%lx): no filtering on this connection", f0);
		return SMFIS_REJECT;
	}
	fc = fconn_new();
	fc->fc_actions = f0 & (need | SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
	fc->fc_steps = f1 & (skip | noreply);
	mfi_setpriv(ctx, fc);
	*pf0 = fc->fc_actions;
	*pf1 = fc->fc_steps;
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		mfi_setsymlist(ctx, SMFIM_CONNECT, "j {client_addr} {client_name}");
		mfi_setsymlist(ctx, SMFIM_ENVFROM, "i {mail_addr} {auth_authen} "
		    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "
		    "{verify}");
		mfi_setsymlist(ctx, SMFIM_ENVRCPT, "i {rcpt_addr}");
		mfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

bool
filter_token_ok(const char *s)
{
	const unsigned char *p;

	if (*s == '\0')
		return false;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr(";\"'()\\%<>", *p) != NULL)
			return false;
	return true;
}

/* While draining: a new message or recipient gets a temporary failure. */
static sfsistat
filter_refuse_draining(SMFICTX *ctx)
{
	mfi_setreply(ctx, "451", "4.3.2", "danemilter is restarting; try again later");
	return SMFIS_TEMPFAIL;
}

/*
 * Is the client address (printable, or Postfix's {client_addr}, which
 * writes IPv6 ones "IPv6:...") in cfg's milter.trusted_networks?
 */
static bool
filter_trusted(const struct cfg *cfg, const char *addr)
{
	struct cidr a, net;
	size_t i;

	if (cfg == NULL)
		return false;
	if (strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	if (!cidr_addr_parse(addr, &a))
		return false;
	for (i = 0; i < cfg->c_milter.cm_ntrusted_networks; i++)
		if (cidr_parse(cfg->c_milter.cm_trusted_networks[i], &net) == CIDR_OK &&
		    cidr_match(&net, &a))
			return true;
	return false;
}

static sfsistat
filter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct fconn *fc = filter_conn(ctx);
	const struct sockaddr *sa = (const struct sockaddr *)hostaddr;
	char j[256];

	filter_copy(fc->fc_name, sizeof(fc->fc_name), hostname);
	fc->fc_addr[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    fc->fc_addr, sizeof(fc->fc_addr));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    fc->fc_addr, sizeof(fc->fc_addr));
	if (fc->fc_addr[0] == '\0' &&
	    !filter_macro(ctx, "{client_addr}", fc->fc_addr, sizeof(fc->fc_addr)))
		filter_copy(fc->fc_addr, sizeof(fc->fc_addr), "unknown");
	fc->fc_trusted = filter_trusted(fc->fc_cfg, fc->fc_addr);

	if (fc->fc_cfg != NULL && *fc->fc_cfg->c_milter.cm_authserv_id != '\0')
		filter_copy(fc->fc_authserv, sizeof(fc->fc_authserv),
		    fc->fc_cfg->c_milter.cm_authserv_id);
	else if (filter_macro(ctx, "j", j, sizeof(j)) && filter_token_ok(j))
		filter_copy(fc->fc_authserv, sizeof(fc->fc_authserv), j);
	else
		filter_copy(fc->fc_authserv, sizeof(fc->fc_authserv), filter_shared.fs_hostname);
	if (__atomic_load_n(&filter_shared.fs_draining, __ATOMIC_ACQUIRE)) {
		fc->fc_refuse = true;   /* NR_CONN: refused at MAIL FROM instead */
		if (!(fc->fc_steps & SMFIP_NR_CONN))
			return SMFIS_TEMPFAIL;
	}
	return filter_noreply(fc, SMFIP_NR_CONN);
}

/* The HELO / EHLO name, for HaveDane's records (the last one counts). */
static sfsistat
filter_helo(SMFICTX *ctx, char *helohost)
{
	struct fconn *fc = filter_conn(ctx);

	filter_copy(fc->fc_helo, sizeof(fc->fc_helo), helohost);
	return filter_noreply(fc, SMFIP_NR_HELO);
}

static sfsistat
filter_envfrom(SMFICTX *ctx, char **argv)
{
	struct fconn *fc = filter_conn(ctx);
	const char *auth;
	struct fmsg *m;

	fmsg_free(fc->fc_msg);
	fc->fc_msg = NULL;
	if (fc->fc_refuse || __atomic_load_n(&filter_shared.fs_draining, __ATOMIC_ACQUIRE)) {
		/* shutting down: no new message (an error is a tempfail); with
		 * no reply allowed at MAIL the refusal comes at RCPT */
		fc->fc_refuse = true;
		if (fc->fc_steps & SMFIP_NR_MAIL)
			return SMFIS_NOREPLY;
		return filter_refuse_draining(ctx);
	}
	m = fc->fc_msg = fmsg_new();
	filter_qid(ctx, m);
	filter_macro(ctx, "{tls_version}", m->fm_tls_version, sizeof(m->fm_tls_version));
	filter_macro(ctx, "{cipher}", m->fm_cipher, sizeof(m->fm_cipher));
	filter_macro(ctx, "{cipher_bits}", m->fm_bits, sizeof(m->fm_bits));
	filter_macro(ctx, "{cert_subject}", m->fm_cert_subject, sizeof(m->fm_cert_subject));
	filter_macro(ctx, "{cert_issuer}", m->fm_cert_issuer, sizeof(m->fm_cert_issuer));
	m->fm_has_verify = filter_macro(ctx, "{verify}", m->fm_verify, sizeof(m->fm_verify));
	auth = mfi_getsymval(ctx, "{auth_authen}");
	m->fm_authenticated = auth != NULL && *auth != '\0';
	switch (filter_addr_domain(ctx, "{mail_addr}", argv, m->fm_sender,
	    sizeof(m->fm_sender))) {
	case ADDR_DOMAIN:
		m->fm_sender_ask = ask_start(filter_shared.fs_gate, m->fm_sender);
		break;
	case ADDR_INVALID:
		m->fm_sender_invalid = true;    /* domain=invalid, no policy */
		m->fm_sender[0] = '\0';
		break;
	case ADDR_NULL:
		m->fm_sender[0] = '\0';         /* domain=none */
		break;
	}
	m->fm_sender_status = ASK_PENDING;
	return filter_noreply(fc, SMFIP_NR_MAIL);
}

/* Why an ask has no verdict, as the headers say it: the address had no
 * usable domain (invalid), or the ask is still pending or failed. */
static enum hdr_missing
filter_missing(bool invalid, enum ask_status st)
{
	if (invalid)
		return HDR_INVALID;
	return st == ASK_PENDING ? HDR_TIMEOUT : HDR_UNAVAILABLE;
}

/* What the rules call a lookup: v is r's verdict, or NULL. */
static enum rules_lookup
filter_lookup(const struct verdict *v, enum ask_status st)
{
	if (v != NULL)
		return RULES_READY;
	return st == ASK_PENDING ? RULES_TIMEDOUT : RULES_UNAVAILABLE;
}

/*
 * The RCPT-time rules (milter/rules.h) for r's domain: 0 to accept, or an
 * SMFIS_* refusal with its reply set. rcpt (the RCPT argument, or NULL)
 * is for the log line.
 */
static sfsistat
filter_rcpt_rules(SMFICTX *ctx, struct fconn *fc, struct fmsg *m,
    struct frcpt *r, const char *rcpt)
{
	const struct cfg_milter *cm = &fc->fc_cfg->c_milter;
	const struct verdict *v;
	struct rules_rcpt in;
	struct rules_reply reply;
	struct timespec deadline;
	enum ask_status ast;
	struct sbuf who = SBUF_INIT;
	size_t n;
	sfsistat st;

	memset(&in, 0, sizeof(in));
	in.rr_domain = r->fr_domain;
	in.rr_bogus_tempfail = cm->cm_bogus_tempfail;
	in.rr_reply_class = cm->cm_require_dane_reply;
	if (*r->fr_domain == '\0') {
		/* No usable domain: the rules fail closed when require =
		 * "dane" may apply to wherever the MTA routes it. */
		in.rr_lookup = RULES_INVALID;
		in.rr_require_dane = verdict_require_dane_anywhere(fc->fc_cfg);
	} else {
		/* The connection's configuration says whether to wait; a
		 * verdict that comes says what it was built under (one rule:
		 * policy/verdict). */
		in.rr_require_dane = verdict_require_dane(fc->fc_cfg, r->fr_domain);
		if (!rules_rcpt_needs_verdict(in.rr_require_dane, in.rr_bogus_tempfail))
			return SMFIS_CONTINUE;
		deadline_in(&deadline, CLOCK_MONOTONIC, cm->cm_timeout_ms);
		/* DANE first: a slow MTA-STS lookup does not hold the rules */
		v = fmsg_rcpt_policy_verdict(r, filter_shared.fs_gate, &deadline, &ast);
		in.rr_lookup = filter_lookup(v, ast);
		if (v != NULL) {
			in.rr_dane = v->v_dane->dr_verdict;
			in.rr_require_dane = in.rr_require_dane || v->v_require_dane;
		}
	}
	switch (rules_rcpt(&in, &reply)) {
	case RULES_ACCEPT:
		return SMFIS_CONTINUE;
	case RULES_REJECT:
		st = SMFIS_REJECT;
		break;
	default:
		st = SMFIS_TEMPFAIL;
		break;
	}
	if (mfi_setreply(ctx, reply.rp_code, reply.rp_xcode, reply.rp_text) != MI_SUCCESS)
		st = SMFIS_TEMPFAIL;    /* never accept what the rule refuses */
	metrics_inc(&filter_rcpt_metric,
	    st == SMFIS_REJECT ? FILTER_RCPT_5XX : FILTER_RCPT_4XX, 0);
	/* the whole argument (a quoted local part may hold '>') */
	if (rcpt == NULL)
		rcpt = "";
	if (*rcpt == '<')
		rcpt++;
	n = strlen(rcpt);
	if (n > 0 && rcpt[n - 1] == '>')
		n--;
	sbuf_appendn(&who, rcpt, n);
	log_info("%s: milter: RCPT <%s> refused: %s %s %s", filter_qid_or(m),
	    filter_safe(&who), reply.rp_code, reply.rp_xcode, reply.rp_text);
	sbuf_free(&who);
	r->fr_refusal = rules_action_name(st == SMFIS_REJECT ? RULES_REJECT : RULES_TEMPFAIL);
	return st;
}

/*
 * HaveDane (milter/hdmilter.h): SMFIS_CONTINUE for a recipient that is
 * not a test address, and for one that is and is accepted (then counted
 * in m->fm_hd); else the refusal, its reply set.
 */
static sfsistat
filter_havedane_rcpt(SMFICTX *ctx, struct fmsg *m, char **argv)
{
	struct havedane *hd = __atomic_load_n(&filter_shared.fs_havedane, __ATOMIC_ACQUIRE);
	const char *addr = mfi_getsymval(ctx, "{rcpt_addr}"), *code, *xcode, *text;
	struct sbuf who = SBUF_INIT;
	sfsistat st;
	size_t n;

	if (hd == NULL)
		return SMFIS_CONTINUE;
	if (addr == NULL || *addr == '\0')
		addr = argv != NULL ? argv[0] : NULL;
	switch (hdmilter_rcpt(hd, &m->fm_hd, addr, time(NULL), &code, &xcode, &text)) {
	case HDMILTER_OTHER:
	case HDMILTER_ACCEPT:
		return SMFIS_CONTINUE;
	case HDMILTER_REFUSE:
		break;
	}
	st = *code == '5' ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	if (mfi_setreply(ctx, code, xcode, text) != MI_SUCCESS)
		st = SMFIS_TEMPFAIL;
	metrics_inc(&filter_rcpt_metric, st == SMFIS_REJECT ? FILTER_RCPT_5XX : FILTER_RCPT_4XX, 0);
	if (addr == NULL)
		addr = "";
	if (*addr == '<')
		addr++;
	n = strlen(addr);
	if (n > 0 && addr[n - 1] == '>')
		n--;
	sbuf_appendn(&who, addr, n);
	log_info("%s: milter: RCPT <%s> refused: %s %s %s", filter_qid_or(m),
	    filter_safe(&who), code, xcode, text);
	sbuf_free(&who);
	return st;
}

static sfsistat
filter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct fconn *fc = filter_conn(ctx);
	struct fmsg *m = fc->fc_msg;
	char domain[256];
	struct frcpt *r;
	sfsistat st;

	if (fc->fc_refuse) {
		return filter_refuse_draining(ctx);
	}
	if (m == NULL || fc->fc_cfg == NULL)
		return SMFIS_CONTINUE;
	filter_qid(ctx, m);
	if ((st = filter_havedane_rcpt(ctx, m, argv)) != SMFIS_CONTINUE || m->fm_hd.hm_n > 0)
		return st;
	/* no usable domain (a null path included): the entry "",
	 * domain=invalid */
	if (filter_addr_domain(ctx, "{rcpt_addr}", argv, domain, sizeof(domain)) != ADDR_DOMAIN)
		domain[0] = '\0';
	r = fmsg_rcpt(m, filter_shared.fs_gate, domain,
	    fc->fc_cfg->c_probe.cpr_enabled);
	st = filter_rcpt_rules(ctx, fc, m, r, argv != NULL ? argv[0] : NULL);
	if (st != SMFIS_CONTINUE) {
		r->fr_refused++;
		return st;
	}
	r->fr_accepted++;
	m->fm_hd.hm_others++;
	return SMFIS_CONTINUE;
}

static sfsistat
filter_header(SMFICTX *ctx, char *name, char *value)
{
	struct fconn *fc = filter_conn(ctx);
	int i;

	(void)value;
	if (fc->fc_msg != NULL && name != NULL)
		for (i = 0; i < 3; i++)
			if (strcasecmp(name, filter_hdr_names[i]) == 0)
				fc->fc_msg->fm_ours[i]++;
	return filter_noreply(fc, SMFIP_NR_HDR);
}

/* Delete every incoming copy of our headers, highest index first. */
static void
filter_strip(SMFICTX *ctx, const struct fmsg *m)
{
	unsigned n;
	int i;

	for (i = 0; i < 3; i++)
		for (n = m->fm_ours[i]; n >= 1; n--)
			if (mfi_chgheader(ctx, filter_hdr_names[i], (int)n, NULL) != MI_SUCCESS)
				log_warnx("%s: milter: cannot delete %s #%u", filter_qid_or(m),
				    filter_hdr_names[i], n);
}

static void
filter_insert(SMFICTX *ctx, const struct fmsg *m, const char *name, struct sbuf *sb)
{
	if (mfi_insheader(ctx, 0, name, sbuf_str(sb)) != MI_SUCCESS)
		log_warnx("%s: milter: cannot add %s", filter_qid_or(m), name);
	sbuf_reset(sb);
}

static void
filter_log_summary(const struct fconn *fc, const struct summary *s)
{
	struct sbuf sb = SBUF_INIT;

	if (fc->fc_cfg->c_log.clg_format == CFG_LOG_JSON)
		summary_json(&sb, s);
	else
		summary_text(&sb, s);
	log_info("%s", sbuf_str(&sb));
	sbuf_free(&sb);
}

/*
 * Delete the incoming copies of our headers, then insert fresh ones at the
 * top in reverse (Inbound, Sender, Recipient... from the top): the first
 * `shown` recipient domains of s, each with its probe result when it is
 * there by the deadline.
 */
static void
filter_headers(SMFICTX *ctx, const struct fconn *fc, struct fmsg *m,
    const struct summary *s, size_t shown, const struct timespec *deadline,
    const char *violation)
{
	const struct cfg_milter *cm = &fc->fc_cfg->c_milter;
	struct sbuf sb = SBUF_INIT;
	unsigned more = 0;
	size_t i;

	filter_strip(ctx, m);
	if (shown > cm->cm_max_recipient_headers) {
		more = (unsigned)(shown - cm->cm_max_recipient_headers);
		shown = cm->cm_max_recipient_headers;
	}
	for (i = shown; i-- > 0;) {
		const struct summary_rcpt *sr = &s->s_rcpts[i];
		const char *probe = NULL, *why = NULL;
		struct frcpt *r = fmsg_find(m, sr->sr_domain);

		if (r != NULL && r->fr_probe != NULL &&
		    ask_wait(r->fr_probe, deadline) == ASK_READY) {
			enum probeset_verdict pv = ask_probe_verdict(r->fr_probe);

			probe = pv == PROBESET_TEMP ? "skipped" : probeset_verdict_name(pv);
			why = probe_reason_name(ask_probe_reason(r->fr_probe));
		}
		hdr_recipient_value(&sb, fc->fc_authserv, sr->sr_domain,
		    sr->sr_verdict, sr->sr_missing, probe, why,
		    i + 1 == shown ? more : 0);
		filter_insert(ctx, m, HDR_RECIPIENT, &sb);
	}
	hdr_sender_value(&sb, fc->fc_authserv, s->s_sender, s->s_sender_verdict,
	    s->s_sender_missing, violation);
	filter_insert(ctx, m, HDR_SENDER, &sb);
	hdr_inbound_value(&sb, fc->fc_authserv, s->s_in);
	filter_insert(ctx, m, HDR_INBOUND, &sb);
	sbuf_free(&sb);
}

/* A message for HaveDane test addresses: recorded, then discarded. */
static sfsistat
filter_havedane_eom(struct fconn *fc, struct fmsg *m)
{
	struct havedane *hd = __atomic_load_n(&filter_shared.fs_havedane, __ATOMIC_ACQUIRE);
	struct hdmilter_session s;

	memset(&s, 0, sizeof(s));
	s.hs_client = fc->fc_name;
	s.hs_addr = fc->fc_addr;
	s.hs_helo = fc->fc_helo;
	s.hs_tls = m->fm_tls_version;
	s.hs_cipher = m->fm_cipher;
	s.hs_bits = m->fm_bits;
	s.hs_cert_subject = m->fm_cert_subject;
	s.hs_cert_issuer = m->fm_cert_issuer;
	s.hs_mail_domain = m->fm_sender;
	s.hs_qid = filter_qid_or(m);
	if (hd != NULL)
		hdmilter_record(hd, &m->fm_hd, &s, time(NULL));
	log_info("%s: milter: discard: a HaveDane test message (%zu test address%s)",
	    filter_qid_or(m), m->fm_hd.hm_n, m->fm_hd.hm_n == 1 ? "" : "es");
	fmsg_free(m);
	fc->fc_msg = NULL;
	return SMFIS_DISCARD;
}

static sfsistat
filter_eom(SMFICTX *ctx)
{
	struct fconn *fc = filter_conn(ctx);
	struct fmsg *m = fc->fc_msg;
	const struct cfg_milter *cm;
	struct hdr_inbound in;
	struct summary s;
	struct summary_rcpt *sr = NULL;
	struct timespec t0, deadline;
	enum ask_status ast;
	const struct verdict *sv = NULL;
	struct rules_eom re;
	struct rules_eom_result rr;
	size_t i, n = 0, shown;
	bool missing = false;
	sfsistat ret = SMFIS_CONTINUE;

	if (m == NULL || fc->fc_cfg == NULL)
		return SMFIS_CONTINUE;
	cm = &fc->fc_cfg->c_milter;
	filter_qid(ctx, m);
	if (m->fm_hd.hm_n > 0)
		return filter_havedane_eom(fc, m);

	/* One bound for everything still missing. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	deadline_in(&deadline, CLOCK_MONOTONIC, cm->cm_timeout_ms);
	if (m->fm_sender_ask != NULL) {
		if (m->fm_sender_status == ASK_PENDING)
			m->fm_sender_status = ask_wait(m->fm_sender_ask, &deadline);
		if (m->fm_sender_status == ASK_READY)
			sv = ask_verdict(m->fm_sender_ask);
		else
			missing = true;
	}
	sr = xcalloc(m->fm_nrcpts ? m->fm_nrcpts : 1, sizeof(*sr));
	for (i = 0; i < m->fm_nrcpts; i++) {
		struct frcpt *r = &m->fm_rcpts[i];

		if (r->fr_accepted == 0)
			continue;
		sr[n].sr_domain = r->fr_domain;
		sr[n].sr_verdict = fmsg_rcpt_verdict(r, &deadline);
		sr[n].sr_missing = filter_missing(*r->fr_domain == '\0', r->fr_status);
		sr[n].sr_action = "accept";
		sr[n].sr_count = r->fr_accepted;
		if (sr[n].sr_verdict == NULL && *r->fr_domain != '\0')
			missing = true;         /* (an invalid domain has none to miss) */
		n++;
	}
	/* Recipient domains refused at RCPT, for the log only. */
	shown = n;
	for (i = 0; i < m->fm_nrcpts; i++) {
		struct frcpt *r = &m->fm_rcpts[i];

		if (r->fr_accepted != 0 || r->fr_refused == 0)
			continue;
		sr[n].sr_domain = r->fr_domain;
		sr[n].sr_verdict = fmsg_rcpt_known(r, &ast);
		sr[n].sr_missing = filter_missing(*r->fr_domain == '\0', ast);
		sr[n].sr_action = r->fr_refusal;
		sr[n].sr_count = r->fr_refused;
		n++;
	}

	memset(&in, 0, sizeof(in));
	in.hi_tls_version = m->fm_tls_version;
	in.hi_cipher = m->fm_cipher;
	in.hi_bits = m->fm_bits;
	in.hi_cert_subject = m->fm_cert_subject;
	in.hi_cert_issuer = m->fm_cert_issuer;
	in.hi_verify = m->fm_has_verify ? m->fm_verify : NULL;
	in.hi_client_name = fc->fc_name;
	in.hi_client_addr = fc->fc_addr;

	memset(&s, 0, sizeof(s));
	s.s_qid = m->fm_qid[0] ? m->fm_qid : NULL;
	s.s_in = &in;
	s.s_sender = m->fm_sender[0] || m->fm_sender_invalid ? m->fm_sender : NULL;
	s.s_sender_verdict = sv;
	s.s_sender_missing = filter_missing(m->fm_sender_invalid, m->fm_sender_status);
	s.s_rcpts = sr;
	s.s_nrcpts = n;
	filter_elapsed(&t0, &s.s_wait_ms);

	/* The end-of-message rule (milter/rules.h), then what it says. */
	memset(&re, 0, sizeof(re));
	re.re_sender = m->fm_sender;
	re.re_sender_known = sv != NULL;
	if (sv != NULL) {
		re.re_sender_dane = sv->v_dane->dr_verdict;
		re.re_sender_sts = sv->v_sts;
	}
	re.re_tls = hdr_inbound_tls(&in);
	re.re_authenticated = m->fm_authenticated;
	re.re_trusted_client = fc->fc_trusted;
	re.re_missing = missing;
	re.re_on_timeout = cm->cm_on_timeout;
	re.re_plaintext = cm->cm_plaintext_sender;
	rules_eom(&re, &rr);

	if (rr.rer_action == RULES_TEMPFAIL || rr.rer_action == RULES_REJECT) {
		ret = rr.rer_action == RULES_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
		if (mfi_setreply(ctx, rr.rer_reply.rp_code, rr.rer_reply.rp_xcode,
		    rr.rer_reply.rp_text) != MI_SUCCESS && ret == SMFIS_REJECT)
			log_warnx("%s: milter: cannot set the reply", filter_qid_or(m));
	} else {
		filter_headers(ctx, fc, m, &s, shown, &deadline, rr.rer_violation);
		if (rr.rer_action == RULES_QUARANTINE &&
		    (!(fc->fc_actions & SMFIF_QUARANTINE) ||
		    mfi_quarantine(ctx, rr.rer_quarantine) != MI_SUCCESS)) {
			log_warnx("%s: milter: cannot quarantine (not allowed "
			    "by the MTA): tagged only", filter_qid_or(m));
			rr.rer_action = RULES_TAG;
		}
	}
	s.s_action = rules_action_name(rr.rer_action);
	s.s_reason = rr.rer_reason;
	if (rr.rer_action != RULES_ACCEPT)
		log_info("%s: milter: %s: %s (sender %s)", filter_qid_or(m), s.s_action,
		    s.s_reason, m->fm_sender[0] ? m->fm_sender :
		    m->fm_sender_invalid ? "invalid" : "none");
	filter_log_summary(fc, &s);
	metrics_inc(&filter_messages_metric, rr.rer_action, 0);
	free(sr);
	fmsg_free(m);
	fc->fc_msg = NULL;
	return ret;
}

static sfsistat
filter_abort(SMFICTX *ctx)
{
	struct fconn *fc = mfi_getpriv(ctx);

	if (fc != NULL) {
		fmsg_free(fc->fc_msg);
		fc->fc_msg = NULL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
filter_close(SMFICTX *ctx)
{
	struct fconn *fc = mfi_getpriv(ctx);

	mfi_setpriv(ctx, NULL);
	fconn_free(fc);
	return SMFIS_CONTINUE;
}

const struct smfiDesc filter_desc = {
	.xxfi_name = "danemilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST,
	.xxfi_connect = filter_connect,
	.xxfi_helo = filter_helo,
	.xxfi_envfrom = filter_envfrom,
	.xxfi_envrcpt = filter_envrcpt,
	.xxfi_header = filter_header,
	.xxfi_eom = filter_eom,
	.xxfi_abort = filter_abort,
	.xxfi_close = filter_close,
	.xxfi_negotiate = filter_negotiate,
};
