/*
 * NAME
 *	mtasts 3
 * SUMMARY
 *	MTA-STS (RFC 8461) policy discovery on the engine's ivykis loop
 * SYNOPSIS
 *	#include "policy/mtasts.h"
 * DESCRIPTION
 *	One struct mtasts_ctx per engine owns a libcurl multi handle driven
 *	by ivykis: an iv_fd per socket libcurl announces (SOCKETFUNCTION,
 *	attached with curl_multi_assign) and one iv_timer (TIMERFUNCTION).
 *	Every curl_multi_socket_action() is followed by a drain of
 *	curl_multi_info_read(). The context must be freed before the
 *	resolver it was given.
 *
 *	One struct mtasts_lookup per mtasts_lookup_start() walks:
 *
 *	1. TXT _mta-sts.DOMAIN. Each record's strings are concatenated.
 *	   Records that begin with the version field ("v=STSv1" then *WSP and
 *	   ";" or the end) are the candidates; exactly one is needed and it
 *	   must parse (mtasts_policy_txt_parse), else there is no policy
 *	   (a cached one is kept). NXDOMAIN/NODATA: no policy.
 *	   SERVFAIL/timeout: the cached policy, or MTASTS_ERROR. Security does
 *	   not matter here.
 *	2. Same id as the cached policy: done, no fetch. A failed fetch less
 *	   than MTASTS_RETRY_SECONDS ago: no fetch either.
 *	3. A and AAAA of mta-sts.DOMAIN in parallel (our resolver; libcurl
 *	   gets the addresses through CURLOPT_RESOLVE and never resolves).
 *	4. GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt: PKIX and host
 *	   name checks on, TLS >= 1.2, https only, no redirects, no proxy,
 *	   a fresh connection closed afterwards, connect and total time
 *	   bounded. The write callback refuses a status other than 200, a
 *	   Content-Type other than text/plain and a body past MTASTS_BODY_MAX
 *	   as soon as the first body bytes arrive.
 *	5. mtasts_policy_parse() on the body (policy/mtasts_policy.c holds
 *	   the TXT and policy body grammars).
 *
 *	The result is handed over from an iv_task, never from inside
 *	libcurl or the resolver's callbacks, so the callback may cancel
 *	other lookups or free the context. The lookup is gone by the time
 *	the callback runs.
 *
 *	Steps 3 to 5 are one fetch for danemilter_mtasts_fetches_total and
 *	danemilter_mtasts_fetch_duration_seconds (common/metrics.h): ok when
 *	a policy parsed, error for any failure; a cancelled lookup's fetch is
 *	not counted.
 * DIAGNOSTICS
 *	With a logtag, each step logs one "TAG: mta-sts: ..." line at info.
 *	Every failure is described in mr_reason. Out of memory aborts.
 */
#include "mtasts.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "dns/rdata.h"
#include "tls/pkix.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#define MTASTS_ADDRS_MAX        16      /* policy host addresses handed to curl */
#define MTASTS_PATH             "/.well-known/mta-sts.txt"

/* A socket libcurl asked us to watch. */
struct mtasts_sock {
	struct iv_fd ms_fd;
	struct mtasts_ctx *ms_ctx;
	struct mtasts_sock *ms_prev, *ms_next;
};

struct mtasts_ctx {
	struct dns_resolver *cx_r;
	char *cx_ca_file;
	unsigned cx_connect_ms;
	unsigned cx_timeout_ms;
	uint16_t cx_port;
	CURLM *cx_multi;
	struct iv_timer cx_timer;
	struct mtasts_sock *cx_socks;
	struct mtasts_lookup *cx_lookups;
	int cx_closing;                 /* in mtasts_ctx_free: ignore libcurl */
};

struct mtasts_lookup {
	struct mtasts_ctx *ml_ctx;
	struct mtasts_lookup *ml_prev, *ml_next;
	char *ml_domain;
	char *ml_logtag;
	struct mtasts_policy *ml_cached;        /* one reference, or NULL */
	time_t ml_last_failure;
	time_t ml_now;
	mtasts_done_fn *ml_done;
	void *ml_arg;
	uint32_t ml_txt_ttl;
	char ml_id[MTASTS_ID_MAX + 1];
	char ml_failed_id[MTASTS_ID_MAX + 1];   /* the id of the last failed fetch */

	struct dns_query *ml_txt, *ml_a, *ml_aaaa;
	struct timespec ml_fetch_t0;    /* the fetch began (metrics) */
	int ml_addr_pending;
	char *ml_addrs[MTASTS_ADDRS_MAX];
	size_t ml_naddrs;
	char *ml_addr_err[2];           /* A, AAAA lookup errors */

	CURL *ml_easy;
	char *ml_url;
	struct curl_slist *ml_resolve;
	char ml_curlerr[CURL_ERROR_SIZE];
	char *ml_body;
	size_t ml_blen, ml_bcap;
	bool ml_checked;                /* status and type checked */
	char *ml_abort;                 /* why the write callback stopped */

	struct mtasts_result *ml_res;   /* finished: delivered by ml_task */
	struct iv_task ml_task;
};

/* ---------------------------------------------------------------- names */

const char *
mtasts_failure_name(enum mtasts_failure f)
{
	static const char *const n[] = {
		"none", "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"
	};

	return (unsigned)f < sizeof(n) / sizeof(n[0]) ? n[f] : "?";
}

/* ---------------------------------------------------------------- results */

void
mtasts_result_free(struct mtasts_result *res)
{
	if (res == NULL)
		return;
	mtasts_policy_unref(res->mr_policy);
	free(res->mr_reason);
	free(res);
}

static void mtasts_lookup_free(struct mtasts_lookup *l);

static void
mtasts_deliver(void *cookie)
{
	struct mtasts_lookup *l = cookie;
	struct mtasts_result *res = l->ml_res;
	mtasts_done_fn *done = l->ml_done;
	void *arg = l->ml_arg;

	l->ml_res = NULL;
	mtasts_lookup_free(l);
	done(arg, res);
}

/* The lookup is over: queue the result for delivery from the loop. The
 * reason is taken over. */
static void
mtasts_finish(struct mtasts_lookup *l, enum mtasts_status st, struct mtasts_policy *pol,
    char *reason)
{
	struct mtasts_result *res = xcalloc(1, sizeof(*res));

	res->mr_status = st;
	res->mr_policy = pol;
	res->mr_reason = reason;
	res->mr_txt_ttl = l->ml_txt_ttl;
	memcpy(res->mr_txt_id, l->ml_id, sizeof(res->mr_txt_id));
	l->ml_res = res;
	iv_task_register(&l->ml_task);
}

/* A policy still under its TXT id is fetched again (RFC 8461 §10.2: refresh
 * proactively) once it is this old: half its max_age, at most a day. A
 * failed refresh keeps it. */
static time_t
mtasts_refresh_age(const struct mtasts_policy *p)
{
	uint32_t half = p->mp_max_age / 2;

	return (time_t)(half < 86400 ? half : 86400);
}

static void mtasts_a_cb(void *arg, const struct dns_answer *a);
static void mtasts_aaaa_cb(void *arg, const struct dns_answer *a);

/* The fetch that began at ml_fetch_t0 ended: count it. */
static void
mtasts_fetch_count(const struct mtasts_lookup *l, enum metrics_fetch result)
{
	metrics_mtasts_fetch(result, deadline_since_us(&l->ml_fetch_t0));
}

/* Fetch the policy under l->ml_id: the policy host's addresses first. */
static void
mtasts_fetch_begin(struct mtasts_lookup *l)
{
	char host[RDATA_NAME_MAX + 16];

	clock_gettime(CLOCK_MONOTONIC, &l->ml_fetch_t0);
	snprintf(host, sizeof(host), "mta-sts.%s", l->ml_domain);
	l->ml_addr_pending = 2;
	l->ml_a = dns_query_start(l->ml_ctx->cx_r, host, DNS_TYPE_A, l->ml_logtag,
	    mtasts_a_cb, l);
	l->ml_aaaa = dns_query_start(l->ml_ctx->cx_r, host, DNS_TYPE_AAAA, l->ml_logtag,
	    mtasts_aaaa_cb, l);
}

/*
 * No usable TXT record (or none could be looked up): the cached policy,
 * else st. A cached policy old enough to be refreshed is fetched again all
 * the same (RFC 8461 §10.2: refresh regardless of the state of the TXT
 * record), unless a fetch failed in the last MTASTS_RETRY_SECONDS; a
 * failure keeps it, so a blocked TXT lookup cannot run it out.
 */
static void
mtasts_no_txt(struct mtasts_lookup *l, enum mtasts_status st, char *why)
{
	if (l->ml_cached != NULL) {
		if (l->ml_now - l->ml_cached->mp_fetched >= mtasts_refresh_age(l->ml_cached) &&
		    (l->ml_last_failure == 0 || l->ml_now < l->ml_last_failure ||
		    l->ml_now - l->ml_last_failure >= MTASTS_RETRY_SECONDS)) {
			if (l->ml_logtag)
				log_info("%s: mta-sts: %s; refreshing the cached policy (id %s) anyway",
				    l->ml_logtag, why, l->ml_cached->mp_id);
			free(why);
			memcpy(l->ml_id, l->ml_cached->mp_id, sizeof(l->ml_id));
			mtasts_fetch_begin(l);
			return;
		}
		if (l->ml_logtag)
			log_info("%s: mta-sts: %s; cached policy (id %s) kept", l->ml_logtag, why,
			    l->ml_cached->mp_id);
		mtasts_finish(l, MTASTS_POLICY, mtasts_policy_ref(l->ml_cached),
		    xasprintf("%s; cached policy (id %s) kept", why, l->ml_cached->mp_id));
		free(why);
		return;
	}
	if (l->ml_logtag)
		log_info("%s: mta-sts: %s", l->ml_logtag, why);
	mtasts_finish(l, st, NULL, why);
}

/* The fetch failed: keep the cached policy if there is one. */
static void
mtasts_fetch_failed(struct mtasts_lookup *l, enum mtasts_failure f, char *why)
{
	struct mtasts_result *res;

	mtasts_fetch_count(l, METRICS_FETCH_ERROR);
	if (l->ml_logtag)
		log_info("%s: mta-sts: fetch failed: %s (%s)%s", l->ml_logtag, why,
		    mtasts_failure_name(f), l->ml_cached ? "; cached policy kept" : "");
	if (l->ml_cached != NULL) {
		mtasts_finish(l, MTASTS_POLICY, mtasts_policy_ref(l->ml_cached),
		    xasprintf("%s (cached policy id %s kept)", why, l->ml_cached->mp_id));
		free(why);
	} else
		mtasts_finish(l, MTASTS_ERROR, NULL, why);
	res = l->ml_res;
	res->mr_fetch_failed = true;
	res->mr_failure = f;
}

/* ---------------------------------------------------------------- HTTPS */

/* RFC 8461 §3.3: the policy host's certificate must carry it as a DNS-ID;
 * libcurl would fall back to the subject CN. */
static CURLcode
mtasts_ssl_ctx(CURL *e, void *ssl_ctx, void *arg)
{
	struct mtasts_lookup *l = arg;
	char host[RDATA_NAME_MAX + 16];

	(void)e;
	snprintf(host, sizeof(host), "mta-sts.%s", l->ml_domain);
	return tls_pkix_dns_id_only(ssl_ctx, host) == 0 ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

static void mtasts_drain(struct mtasts_ctx *c);

static void
mtasts_action(struct mtasts_ctx *c, curl_socket_t s, int ev)
{
	int running;

	(void)curl_multi_socket_action(c->cx_multi, s, ev, &running);
	mtasts_drain(c);
}

static void
mtasts_sock_in(void *cookie)
{
	struct mtasts_sock *ms = cookie;

	/* ms may be freed inside: take what we need first. */
	mtasts_action(ms->ms_ctx, ms->ms_fd.fd, CURL_CSELECT_IN);
}

static void
mtasts_sock_out(void *cookie)
{
	struct mtasts_sock *ms = cookie;

	mtasts_action(ms->ms_ctx, ms->ms_fd.fd, CURL_CSELECT_OUT);
}

static void
mtasts_sock_free(struct mtasts_ctx *c, struct mtasts_sock *ms)
{
	if (iv_fd_registered(&ms->ms_fd))
		iv_fd_unregister(&ms->ms_fd);
	if (ms->ms_prev)
		ms->ms_prev->ms_next = ms->ms_next;
	else
		c->cx_socks = ms->ms_next;
	if (ms->ms_next)
		ms->ms_next->ms_prev = ms->ms_prev;
	free(ms);
}

/* CURLMOPT_SOCKETFUNCTION. libcurl announces REMOVE before it closes. */
static int
mtasts_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct mtasts_ctx *c = userp;
	struct mtasts_sock *ms = socketp;

	(void)e;
	if (c->cx_closing)
		return 0;
	if (what == CURL_POLL_REMOVE) {
		if (ms != NULL)
			mtasts_sock_free(c, ms);
		return 0;
	}
	if (ms == NULL) {
		ms = xcalloc(1, sizeof(*ms));
		ms->ms_ctx = c;
		IV_FD_INIT(&ms->ms_fd);
		ms->ms_fd.fd = s;
		ms->ms_fd.cookie = ms;
		iv_fd_register(&ms->ms_fd);
		ms->ms_next = c->cx_socks;
		if (c->cx_socks)
			c->cx_socks->ms_prev = ms;
		c->cx_socks = ms;
		if (curl_multi_assign(c->cx_multi, s, ms) != CURLM_OK)
			log_abort("mtasts: curl_multi_assign failed");
	}
	/* Level-triggered: never leave a handler on that curl did not ask for. */
	iv_fd_set_handler_in(&ms->ms_fd, (what & CURL_POLL_IN) ? mtasts_sock_in : NULL);
	iv_fd_set_handler_out(&ms->ms_fd, (what & CURL_POLL_OUT) ? mtasts_sock_out : NULL);
	return 0;
}

static void
mtasts_timer_fired(void *cookie)
{
	mtasts_action(cookie, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, 0 means "as soon as possible". */
static int
mtasts_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct mtasts_ctx *c = userp;

	(void)m;
	if (c->cx_closing)
		return 0;
	if (iv_timer_registered(&c->cx_timer))
		iv_timer_unregister(&c->cx_timer);
	if (timeout_ms < 0)
		return 0;
	iv_invalidate_now();
	c->cx_timer.expires = iv_now;
	deadline_add_ms(&c->cx_timer.expires, (unsigned)timeout_ms);
	iv_timer_register(&c->cx_timer);
	return 0;
}

/* text/plain, any case, parameters allowed (RFC 8461 §3.2). */
static bool
mtasts_ctype_ok(const char *ct)
{
	size_t n;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	return n == 10 && strncasecmp(ct, "text/plain", 10) == 0;
}

/* Status and Content-Type: NULL when fine, else the reason. */
static char *
mtasts_check_response(struct mtasts_lookup *l)
{
	long code = 0;
	char *ct = NULL;
	struct sbuf sb = SBUF_INIT;

	l->ml_checked = true;
	(void)curl_easy_getinfo(l->ml_easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return xasprintf("HTTP status %ld", code);
	(void)curl_easy_getinfo(l->ml_easy, CURLINFO_CONTENT_TYPE, &ct);
	if (ct == NULL)
		return xstrdup("no Content-Type");
	if (mtasts_ctype_ok(ct))
		return NULL;
	sbuf_append(&sb, "Content-Type ");
	mtasts_policy_quote(&sb, ct, strlen(ct));
	return sbuf_steal(&sb);
}

/* CURLOPT_WRITEFUNCTION: refuse the body of a wrong answer at once, and
 * stop past MTASTS_BODY_MAX (CURLOPT_MAXFILESIZE does not stop chunked
 * bodies). Returning less than given makes libcurl fail the transfer. */
static size_t
mtasts_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct mtasts_lookup *l = userp;
	size_t n = size * nmemb;

	if (l->ml_abort != NULL)
		return 0;
	if (!l->ml_checked && (l->ml_abort = mtasts_check_response(l)) != NULL)
		return 0;
	if (n > MTASTS_BODY_MAX - l->ml_blen) {
		l->ml_abort = xasprintf("body larger than %d bytes", MTASTS_BODY_MAX);
		return 0;
	}
	if (l->ml_blen + n > l->ml_bcap) {
		size_t cap = l->ml_bcap ? l->ml_bcap : 4096;

		while (cap < l->ml_blen + n)
			cap *= 2;
		if (cap > MTASTS_BODY_MAX)
			cap = MTASTS_BODY_MAX;
		l->ml_body = xreallocarray(l->ml_body, cap, 1);
		l->ml_bcap = cap;
	}
	memcpy(l->ml_body + l->ml_blen, data, n);
	l->ml_blen += n;
	return n;
}

static bool
mtasts_curl_webpki(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:    /* = CURLE_SSL_CACERT */
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return true;
	default:
		return false;
	}
}

static char *
mtasts_curl_reason(struct mtasts_lookup *l, CURLcode rc)
{
	curl_off_t total = 0, connect = 0;

	if (rc == CURLE_OPERATION_TIMEDOUT) {
		(void)curl_easy_getinfo(l->ml_easy, CURLINFO_TOTAL_TIME_T, &total);
		(void)curl_easy_getinfo(l->ml_easy, CURLINFO_APPCONNECT_TIME_T, &connect);
		return xasprintf("timeout after %ld ms%s", (long)(total / 1000),
		    connect == 0 ? " (TLS connection not established)" : "");
	}
	if (rc == CURLE_FILESIZE_EXCEEDED)
		return xasprintf("body larger than %d bytes", MTASTS_BODY_MAX);
	if (l->ml_curlerr[0] != '\0')
		return xstrdup(l->ml_curlerr);
	return xstrdup(curl_easy_strerror(rc));
}

static void
mtasts_log_policy(struct mtasts_lookup *l, const struct mtasts_policy *p)
{
	struct sbuf sb = SBUF_INIT;
	size_t i;

	for (i = 0; i < p->mp_nmx; i++) {
		if (i > 0)
			sbuf_appendc(&sb, ',');
		sbuf_append(&sb, p->mp_mx[i]);
	}
	log_info("%s: mta-sts: fetched policy mode=%s max_age=%u mx=%s (id %s)", l->ml_logtag,
	    mtasts_policy_mode_name(p->mp_mode), p->mp_max_age, p->mp_nmx ? sbuf_str(&sb) : "-",
	    p->mp_id);
	sbuf_free(&sb);
}

/* CURLMSG_DONE for this lookup's transfer. */
static void
mtasts_fetch_done(struct mtasts_lookup *l, CURLcode rc)
{
	struct mtasts_ctx *c = l->ml_ctx;
	struct mtasts_policy *p;
	enum mtasts_failure f = MTASTS_FAIL_FETCH;
	char *why = NULL, *err = NULL;
	long code = 0;

	(void)curl_easy_getinfo(l->ml_easy, CURLINFO_RESPONSE_CODE, &code);
	if (l->ml_abort != NULL) {
		why = l->ml_abort;
		l->ml_abort = NULL;
	} else if (rc == CURLE_FILESIZE_EXCEEDED && code != 200) {
		why = xasprintf("HTTP status %ld", code);
	} else if (rc != CURLE_OK) {
		why = mtasts_curl_reason(l, rc);
		if (mtasts_curl_webpki(rc))
			f = MTASTS_FAIL_WEBPKI;
	} else if (!l->ml_checked) {
		why = mtasts_check_response(l); /* empty body: no write callback */
	}
	curl_multi_remove_handle(c->cx_multi, l->ml_easy);
	curl_easy_cleanup(l->ml_easy);
	l->ml_easy = NULL;
	if (why != NULL) {
		mtasts_fetch_failed(l, f, why);
		return;
	}
	if ((p = mtasts_policy_parse(l->ml_body ? l->ml_body : "", l->ml_blen, &err)) == NULL) {
		why = xasprintf("policy invalid: %s", err);
		free(err);
		mtasts_fetch_failed(l, MTASTS_FAIL_INVALID, why);
		return;
	}
	memcpy(p->mp_id, l->ml_id, sizeof(p->mp_id));
	p->mp_fetched = l->ml_now;
	mtasts_fetch_count(l, METRICS_FETCH_OK);
	if (l->ml_logtag)
		mtasts_log_policy(l, p);
	mtasts_finish(l, MTASTS_POLICY, p,
	    xasprintf("policy fetched (id %s): mode %s, max_age %u, %zu mx pattern%s",
	    p->mp_id, mtasts_policy_mode_name(p->mp_mode), p->mp_max_age, p->mp_nmx,
	    p->mp_nmx == 1 ? "" : "s"));
	l->ml_res->mr_fetched = true;
}

static void
mtasts_drain(struct mtasts_ctx *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->cx_multi, &left)) != NULL) {
		struct mtasts_lookup *l;
		CURL *e = msg->easy_handle;
		CURLcode rc = msg->data.result;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		l = (struct mtasts_lookup *)(void *)priv;
		if (l == NULL || l->ml_easy != e)
			log_abort("mtasts: transfer done for an unknown lookup");
		mtasts_fetch_done(l, rc);       /* msg is invalid after this */
	}
}

static void
mtasts_fetch_start(struct mtasts_lookup *l)
{
	struct mtasts_ctx *c = l->ml_ctx;
	struct sbuf sb = SBUF_INIT;
	char host[RDATA_NAME_MAX + 16], *entry;
	size_t i;
	CURL *e;

	snprintf(host, sizeof(host), "mta-sts.%s", l->ml_domain);
	if (c->cx_port == 443)
		l->ml_url = xasprintf("https://%s%s", host, MTASTS_PATH);
	else
		l->ml_url = xasprintf("https://%s:%u%s", host, c->cx_port, MTASTS_PATH);
	/* Drop what an earlier fetch left in the multi's DNS cache, then
	 * give our addresses (IPv6 in brackets). */
	l->ml_resolve = curl_slist_append(NULL, (entry = xasprintf("-%s:%u", host, c->cx_port)));
	free(entry);
	sbuf_printf(&sb, "+%s:%u:", host, c->cx_port);     /* "+": may expire from curl's cache */
	for (i = 0; i < l->ml_naddrs; i++)
		sbuf_printf(&sb, strchr(l->ml_addrs[i], ':') ? "%s[%s]" : "%s%s", i ? "," : "",
		    l->ml_addrs[i]);
	l->ml_resolve = curl_slist_append(l->ml_resolve, sbuf_str(&sb));
	sbuf_free(&sb);
	if (l->ml_resolve == NULL || l->ml_resolve->next == NULL)
		log_abort("mtasts: out of memory");

	if (l->ml_logtag) {
		for (i = 0; i < l->ml_naddrs; i++)
			sbuf_printf(&sb, "%s%s", i ? "," : "", l->ml_addrs[i]);
		log_info("%s: mta-sts: fetching %s from %s", l->ml_logtag, l->ml_url, sbuf_str(&sb));
		sbuf_free(&sb);
	}

	if ((e = curl_easy_init()) == NULL) {
		mtasts_fetch_failed(l, MTASTS_FAIL_FETCH, xstrdup("curl_easy_init failed"));
		return;
	}
	l->ml_easy = e;
	if (curl_easy_setopt(e, CURLOPT_URL, l->ml_url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, l) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, l->ml_curlerr) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_RESOLVE, l->ml_resolve) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, mtasts_ssl_ctx) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, l) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->cx_connect_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->cx_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    (c->cx_ca_file != NULL &&
	    curl_easy_setopt(e, CURLOPT_CAINFO, c->cx_ca_file) != CURLE_OK) ||
	    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAXFILESIZE, (long)MTASTS_BODY_MAX) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mtasts_write_cb) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, l) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "danemilter/" PACKAGE_VERSION) != CURLE_OK) {
		curl_easy_cleanup(e);
		l->ml_easy = NULL;
		mtasts_fetch_failed(l, MTASTS_FAIL_FETCH, xstrdup("libcurl refused an option"));
		return;
	}
	if (curl_multi_add_handle(c->cx_multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		l->ml_easy = NULL;
		mtasts_fetch_failed(l, MTASTS_FAIL_FETCH, xstrdup("curl_multi_add_handle failed"));
	}
	/* libcurl starts it from the timer callback it has just been given. */
}

/* ---------------------------------------------------------------- DNS */

static char *
mtasts_answer_error(const struct dns_answer *a)
{
	return xasprintf("%s %s: %s%s%s", dns_type_name(a->da_qtype), a->da_qname,
	    dns_status_name(a->da_status), a->da_why ? ": " : "", a->da_why ? a->da_why : "");
}

static void
mtasts_addrs_done(struct mtasts_lookup *l)
{
	if (l->ml_naddrs > 0) {
		mtasts_fetch_start(l);
		return;
	}
	if (l->ml_addr_err[0] || l->ml_addr_err[1])
		mtasts_fetch_failed(l, MTASTS_FAIL_FETCH, xasprintf("no address for mta-sts.%s: %s%s%s",
		    l->ml_domain, l->ml_addr_err[0] ? l->ml_addr_err[0] : "",
		    l->ml_addr_err[0] && l->ml_addr_err[1] ? "; " : "",
		    l->ml_addr_err[1] ? l->ml_addr_err[1] : ""));
	else
		mtasts_fetch_failed(l, MTASTS_FAIL_FETCH,
		    xasprintf("no A or AAAA record for mta-sts.%s", l->ml_domain));
}

static void
mtasts_addr_cb(struct mtasts_lookup *l, int fam, const struct dns_answer *a)
{
	size_t i;

	if (a->da_status == DNS_ERROR || a->da_status == DNS_TIMEOUT)
		l->ml_addr_err[fam] = mtasts_answer_error(a);
	else if (a->da_status == DNS_RECORDS)
		for (i = 0; i < a->da_nrr && l->ml_naddrs < MTASTS_ADDRS_MAX; i++) {
			char text[64];

			if (rdata_addr(a->da_qtype, a->da_rr[i].dr_data, a->da_rr[i].dr_len,
			    text, sizeof(text)) == RDATA_OK)
				l->ml_addrs[l->ml_naddrs++] = xstrdup(text);
		}
	if (--l->ml_addr_pending == 0)
		mtasts_addrs_done(l);
}

static void
mtasts_a_cb(void *arg, const struct dns_answer *a)
{
	struct mtasts_lookup *l = arg;

	l->ml_a = NULL;
	mtasts_addr_cb(l, 0, a);
}

static void
mtasts_aaaa_cb(void *arg, const struct dns_answer *a)
{
	struct mtasts_lookup *l = arg;

	l->ml_aaaa = NULL;
	mtasts_addr_cb(l, 1, a);
}

static void
mtasts_txt_cb(void *arg, const struct dns_answer *a)
{
	struct mtasts_lookup *l = arg;
	char id[MTASTS_ID_MAX + 1];
	size_t i, ncand = 0, nvalid = 0;

	l->ml_txt = NULL;
	if (a->da_status == DNS_ERROR || a->da_status == DNS_TIMEOUT) {
		char *err = mtasts_answer_error(a);

		mtasts_no_txt(l, MTASTS_ERROR, xasprintf("TXT lookup failed: %s", err));
		free(err);
		return;
	}
	l->ml_txt_ttl = a->da_ttl;
	if (a->da_status != DNS_RECORDS) {
		mtasts_no_txt(l, MTASTS_ABSENT, xasprintf("no TXT record at _mta-sts.%s (%s)",
		    l->ml_domain, dns_status_name(a->da_status)));
		return;
	}
	for (i = 0; i < a->da_nrr; i++) {
		char *txt = xmalloc(a->da_rr[i].dr_len + 1);
		int trunc;

		if (rdata_txt(a->da_rr[i].dr_data, a->da_rr[i].dr_len, txt,
		    a->da_rr[i].dr_len + 1, &trunc) == RDATA_OK && !trunc &&
		    mtasts_policy_txt_candidate(txt)) {
			ncand++;
			if (mtasts_policy_txt_parse(txt, id)) {
				nvalid++;
				memcpy(l->ml_id, id, sizeof(id));
			}
		}
		free(txt);
	}
	if (ncand != 1) {
		mtasts_no_txt(l, MTASTS_ABSENT, xasprintf("%zu v=STSv1 TXT records at _mta-sts.%s",
		    ncand, l->ml_domain));
		return;
	}
	if (nvalid != 1) {
		mtasts_no_txt(l, MTASTS_ABSENT, xasprintf("invalid v=STSv1 TXT record at _mta-sts.%s",
		    l->ml_domain));
		return;
	}
	if (l->ml_logtag)
		log_info("%s: mta-sts: TXT _mta-sts.%s id=%s", l->ml_logtag, l->ml_domain, l->ml_id);
	if (l->ml_cached != NULL && strcmp(l->ml_cached->mp_id, l->ml_id) == 0 &&
	    l->ml_now - l->ml_cached->mp_fetched < mtasts_refresh_age(l->ml_cached)) {
		if (l->ml_logtag)
			log_info("%s: mta-sts: id unchanged, cached policy kept", l->ml_logtag);
		mtasts_finish(l, MTASTS_POLICY, mtasts_policy_ref(l->ml_cached),
		    xasprintf("id %s unchanged: cached policy", l->ml_id));
		return;
	}
	if (l->ml_last_failure != 0 && strcmp(l->ml_failed_id, l->ml_id) == 0 &&
	    l->ml_now >= l->ml_last_failure && l->ml_now - l->ml_last_failure < MTASTS_RETRY_SECONDS) {
		char *why = xasprintf("id %s: last fetch failed %lld s ago, next try in %lld s", l->ml_id,
		    (long long)(l->ml_now - l->ml_last_failure),
		    (long long)(MTASTS_RETRY_SECONDS - (l->ml_now - l->ml_last_failure)));

		mtasts_no_txt(l, MTASTS_ERROR, why);
		return;
	}
	mtasts_fetch_begin(l);
}

/* ---------------------------------------------------------------- lookups */


struct mtasts_lookup *
mtasts_lookup_start(struct mtasts_ctx *c, const char *domain,
    const struct mtasts_cached *cached, time_t now, const char *logtag,
    mtasts_done_fn *done, void *arg)
{
	struct mtasts_lookup *l = xcalloc(1, sizeof(*l));
	char qname[RDATA_NAME_MAX + 16];
	size_t i;

	l->ml_ctx = c;
	l->ml_domain = xstrdup(domain);
	for (i = 0; l->ml_domain[i]; i++)
		l->ml_domain[i] = (char)tolower((unsigned char)l->ml_domain[i]);
	l->ml_logtag = logtag ? xstrdup(logtag) : NULL;
	if (cached != NULL) {
		l->ml_cached = cached->mc_policy ? mtasts_policy_ref(cached->mc_policy) : NULL;
		l->ml_last_failure = cached->mc_last_failure;
		snprintf(l->ml_failed_id, sizeof(l->ml_failed_id), "%s",
		    cached->mc_failed_id ? cached->mc_failed_id : "");
	}
	l->ml_now = now;
	l->ml_done = done;
	l->ml_arg = arg;
	IV_TASK_INIT(&l->ml_task);
	l->ml_task.cookie = l;
	l->ml_task.handler = mtasts_deliver;
	l->ml_next = c->cx_lookups;
	if (c->cx_lookups)
		c->cx_lookups->ml_prev = l;
	c->cx_lookups = l;

	/* "mta-sts." + domain must still be a name. */
	if (!rdata_name_is_hostname(l->ml_domain) || strlen(l->ml_domain) > 253 - 9) {
		struct sbuf sb = SBUF_INIT;

		sbuf_append(&sb, "not a domain name: ");
		mtasts_policy_quote(&sb, domain, strlen(domain));
		if (l->ml_logtag)
			log_info("%s: mta-sts: %s", l->ml_logtag, sbuf_str(&sb));
		mtasts_finish(l, MTASTS_ABSENT, NULL, sbuf_steal(&sb));
		return l;
	}
	snprintf(qname, sizeof(qname), "_mta-sts.%s", l->ml_domain);
	l->ml_txt = dns_query_start(c->cx_r, qname, DNS_TYPE_TXT, l->ml_logtag, mtasts_txt_cb, l);
	return l;
}

static void
mtasts_lookup_free(struct mtasts_lookup *l)
{
	struct mtasts_ctx *c = l->ml_ctx;
	size_t i;

	if (l->ml_prev)
		l->ml_prev->ml_next = l->ml_next;
	else
		c->cx_lookups = l->ml_next;
	if (l->ml_next)
		l->ml_next->ml_prev = l->ml_prev;
	if (l->ml_txt)
		dns_query_cancel(l->ml_txt);
	if (l->ml_a)
		dns_query_cancel(l->ml_a);
	if (l->ml_aaaa)
		dns_query_cancel(l->ml_aaaa);
	if (l->ml_easy) {
		curl_multi_remove_handle(c->cx_multi, l->ml_easy);
		curl_easy_cleanup(l->ml_easy);
	}
	if (iv_task_registered(&l->ml_task))
		iv_task_unregister(&l->ml_task);
	mtasts_result_free(l->ml_res);
	mtasts_policy_unref(l->ml_cached);
	for (i = 0; i < l->ml_naddrs; i++)
		free(l->ml_addrs[i]);
	free(l->ml_addr_err[0]);
	free(l->ml_addr_err[1]);
	curl_slist_free_all(l->ml_resolve);
	free(l->ml_url);
	free(l->ml_body);
	free(l->ml_abort);
	free(l->ml_domain);
	free(l->ml_logtag);
	free(l);
}

void
mtasts_lookup_cancel(struct mtasts_lookup *l)
{
	if (l != NULL)
		mtasts_lookup_free(l);
}

/* ---------------------------------------------------------------- context */

struct mtasts_ctx *
mtasts_ctx_new(struct dns_resolver *r, const struct mtasts_options *o, char **errp)
{
	struct mtasts_ctx *c;
	FILE *f;

	*errp = NULL;
	if (o != NULL && o->mo_ca_file != NULL && *o->mo_ca_file != '\0') {
		if ((f = fopen(o->mo_ca_file, "r")) == NULL) {
			*errp = xasprintf("MTA-STS CA file %s: %s", o->mo_ca_file, strerror(errno));
			return NULL;
		}
		fclose(f);
	}
	c = xcalloc(1, sizeof(*c));
	c->cx_r = r;
	if (o != NULL && o->mo_ca_file != NULL && *o->mo_ca_file != '\0')
		c->cx_ca_file = xstrdup(o->mo_ca_file);
	c->cx_connect_ms = o != NULL && o->mo_connect_timeout_ms ? o->mo_connect_timeout_ms : 10000;
	c->cx_timeout_ms = o != NULL && o->mo_timeout_ms ? o->mo_timeout_ms : 30000;
	c->cx_port = o != NULL && o->mo_port ? o->mo_port : 443;
	if ((c->cx_multi = curl_multi_init()) == NULL) {
		*errp = xstrdup("curl_multi_init failed (was curl_global_init called?)");
		free(c->cx_ca_file);
		free(c);
		return NULL;
	}
	IV_TIMER_INIT(&c->cx_timer);
	c->cx_timer.cookie = c;
	c->cx_timer.handler = mtasts_timer_fired;
	if (curl_multi_setopt(c->cx_multi, CURLMOPT_SOCKETFUNCTION, mtasts_sock_cb) != CURLM_OK ||
	    curl_multi_setopt(c->cx_multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
	    curl_multi_setopt(c->cx_multi, CURLMOPT_TIMERFUNCTION, mtasts_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(c->cx_multi, CURLMOPT_TIMERDATA, c) != CURLM_OK) {
		*errp = xstrdup("libcurl refused the multi handle's callbacks");
		curl_multi_cleanup(c->cx_multi);
		free(c->cx_ca_file);
		free(c);
		return NULL;
	}
	return c;
}

void
mtasts_ctx_free(struct mtasts_ctx *c)
{
	if (c == NULL)
		return;
	while (c->cx_lookups != NULL)
		mtasts_lookup_free(c->cx_lookups);
	/*
	 * Sockets libcurl still holds (none with FORBID_REUSE, but be sure)
	 * leave the loop while still open; libcurl is not listened to after
	 * that, whatever it announces while it cleans up.
	 */
	while (c->cx_socks != NULL) {
		(void)curl_multi_assign(c->cx_multi, c->cx_socks->ms_fd.fd, NULL);
		mtasts_sock_free(c, c->cx_socks);
	}
	c->cx_closing = 1;
	curl_multi_cleanup(c->cx_multi);
	if (iv_timer_registered(&c->cx_timer))
		iv_timer_unregister(&c->cx_timer);
	free(c->cx_ca_file);
	free(c);
}
