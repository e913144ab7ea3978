/*
 * NAME
 *	stsfetch 3
 * SUMMARY
 *	HTTPS GET of an MTA-STS policy: libcurl's multi interface on ivykis
 * SYNOPSIS
 *	#include "policy/stsfetch.h"
 * DESCRIPTION
 *	One struct stsfetch per engine owns a libcurl multi handle driven
 *	by ivykis: an iv_fd per socket libcurl announces (SOCKETFUNCTION,
 *	attached with curl_multi_assign) and one iv_timer (TIMERFUNCTION).
 *	Every curl_multi_socket_action() is followed by a drain of
 *	curl_multi_info_read(); each finished transfer is reported through
 *	its request's callback from that drain.
 *
 *	One struct stsfetch_req per stsfetch_start() is one GET of
 *	https://HOST[:PORT]/.well-known/mta-sts.txt (RFC 8461 §3.3): PKIX
 *	and host name checks on (the CA file given to stsfetch_new, and HOST
 *	only as a DNS-ID: no fallback to the subject CN), TLS >= 1.2, https
 *	only, no redirects, no proxy, a fresh connection closed afterwards,
 *	connect and total time bounded. The addresses come from the caller
 *	through CURLOPT_RESOLVE; libcurl never resolves. The write callback
 *	refuses a status other than 200, a Content-Type other than
 *	text/plain and a body past MTASTS_BODY_MAX as soon as the first body
 *	bytes arrive; an empty body is checked when the transfer ends.
 *
 *	Certificate failures (CURLE_PEER_FAILED_VERIFICATION and the other
 *	certificate codes) are STSFETCH_WEBPKI; anything else that fails is
 *	STSFETCH_ERROR.
 * DIAGNOSTICS
 *	With a logtag, stsfetch_start() logs "TAG: mta-sts: fetching URL
 *	from ADDRS" at info. Every failure comes with a reason: the HTTP
 *	status, the Content-Type (quoted), the size limit, the time spent on
 *	a timeout, or libcurl's error text. Out of memory aborts.
 */
#include "stsfetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <iv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "policy/mtasts_policy.h"
#include "tls/pkix.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#define STSFETCH_PATH           "/.well-known/mta-sts.txt"

/* A socket libcurl asked us to watch. */
struct stsfetch_sock {
	struct iv_fd ss_fd;
	struct stsfetch *ss_fetch;
	struct stsfetch_sock *ss_prev, *ss_next;
};

struct stsfetch {
	char *sf_ca_file;
	unsigned sf_connect_ms;
	unsigned sf_timeout_ms;
	uint16_t sf_port;
	CURLM *sf_multi;
	struct iv_timer sf_timer;
	struct stsfetch_sock *sf_socks;
	struct stsfetch_req *sf_reqs;
	int sf_closing;                 /* in stsfetch_free: ignore libcurl */
};

struct stsfetch_req {
	struct stsfetch *sr_fetch;
	struct stsfetch_req *sr_prev, *sr_next;
	char *sr_host;
	stsfetch_done_fn *sr_done;
	void *sr_arg;

	CURL *sr_easy;
	char *sr_url;
	struct curl_slist *sr_resolve;
	char sr_curlerr[CURL_ERROR_SIZE];
	char *sr_body;
	size_t sr_blen, sr_bcap;
	bool sr_checked;                /* status and type checked */
	char *sr_abort;                 /* why the write callback stopped */
	time_t sr_not_after;            /* the policy host's certificate (0: none seen) */
};

int
stsfetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- loop */

/* RFC 8461 §3.3: the policy host's certificate must carry it as a DNS-ID;
 * libcurl would fall back to the subject CN. */
static CURLcode
stsfetch_ssl_ctx(CURL *e, void *ssl_ctx, void *arg)
{
	struct stsfetch_req *r = arg;

	(void)e;
	return pkix_dns_id_only(ssl_ctx, r->sr_host) == 0 &&
	    pkix_record_expiry(ssl_ctx, &r->sr_not_after) == 0 ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

static void stsfetch_drain(struct stsfetch *f);

static void
stsfetch_action(struct stsfetch *f, curl_socket_t s, int ev)
{
	int running;

	(void)curl_multi_socket_action(f->sf_multi, s, ev, &running);
	stsfetch_drain(f);
}

static void
stsfetch_sock_in(void *cookie)
{
	struct stsfetch_sock *ss = cookie;

	/* ss may be freed inside: take what we need first. */
	stsfetch_action(ss->ss_fetch, ss->ss_fd.fd, CURL_CSELECT_IN);
}

static void
stsfetch_sock_out(void *cookie)
{
	struct stsfetch_sock *ss = cookie;

	stsfetch_action(ss->ss_fetch, ss->ss_fd.fd, CURL_CSELECT_OUT);
}

static void
stsfetch_sock_free(struct stsfetch *f, struct stsfetch_sock *ss)
{
	if (iv_fd_registered(&ss->ss_fd))
		iv_fd_unregister(&ss->ss_fd);
	if (ss->ss_prev)
		ss->ss_prev->ss_next = ss->ss_next;
	else
		f->sf_socks = ss->ss_next;
	if (ss->ss_next)
		ss->ss_next->ss_prev = ss->ss_prev;
	free(ss);
}

/* CURLMOPT_SOCKETFUNCTION. libcurl announces REMOVE before it closes. */
static int
stsfetch_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct stsfetch *f = userp;
	struct stsfetch_sock *ss = socketp;

	(void)e;
	if (f->sf_closing)
		return 0;
	if (what == CURL_POLL_REMOVE) {
		if (ss != NULL)
			stsfetch_sock_free(f, ss);
		return 0;
	}
	if (ss == NULL) {
		ss = xcalloc(1, sizeof(*ss));
		ss->ss_fetch = f;
		IV_FD_INIT(&ss->ss_fd);
		ss->ss_fd.fd = s;
		ss->ss_fd.cookie = ss;
		iv_fd_register(&ss->ss_fd);
		ss->ss_next = f->sf_socks;
		if (f->sf_socks)
			f->sf_socks->ss_prev = ss;
		f->sf_socks = ss;
		if (curl_multi_assign(f->sf_multi, s, ss) != CURLM_OK)
			log_abort("stsfetch: curl_multi_assign failed");
	}
	/* Level-triggered: never leave a handler on that curl did not ask for. */
	iv_fd_set_handler_in(&ss->ss_fd, (what & CURL_POLL_IN) ? stsfetch_sock_in : NULL);
	iv_fd_set_handler_out(&ss->ss_fd, (what & CURL_POLL_OUT) ? stsfetch_sock_out : NULL);
	return 0;
}

static void
stsfetch_timer_fired(void *cookie)
{
	stsfetch_action(cookie, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, 0 means "as soon as possible". */
static int
stsfetch_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct stsfetch *f = userp;

	(void)m;
	if (f->sf_closing)
		return 0;
	if (iv_timer_registered(&f->sf_timer))
		iv_timer_unregister(&f->sf_timer);
	if (timeout_ms < 0)
		return 0;
	iv_invalidate_now();
	f->sf_timer.expires = iv_now;
	deadline_add_ms(&f->sf_timer.expires, (unsigned)timeout_ms);
	iv_timer_register(&f->sf_timer);
	return 0;
}

/* ---------------------------------------------------------------- rules */

/* text/plain, any case, parameters allowed (RFC 8461 §3.2). */
static bool
stsfetch_ctype_ok(const char *ct)
{
	size_t n;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	return n == 10 && strncasecmp(ct, "text/plain", 10) == 0;
}

/* Status and Content-Type: NULL when fine, else the reason. */
static char *
stsfetch_check_response(struct stsfetch_req *r)
{
	long code = 0;
	char *ct = NULL;
	struct sbuf sb = SBUF_INIT;

	r->sr_checked = true;
	(void)curl_easy_getinfo(r->sr_easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return xasprintf("HTTP status %ld", code);
	(void)curl_easy_getinfo(r->sr_easy, CURLINFO_CONTENT_TYPE, &ct);
	if (ct == NULL)
		return xstrdup("no Content-Type");
	if (stsfetch_ctype_ok(ct))
		return NULL;
	sbuf_append(&sb, "Content-Type ");
	mtasts_policy_quote(&sb, ct, strlen(ct));
	return sbuf_steal(&sb);
}

/* CURLOPT_WRITEFUNCTION: refuse the body of a wrong answer at once, and
 * stop past MTASTS_BODY_MAX (CURLOPT_MAXFILESIZE does not stop chunked
 * bodies). Returning less than given makes libcurl fail the transfer. */
static size_t
stsfetch_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct stsfetch_req *r = userp;
	size_t n = size * nmemb;

	if (r->sr_abort != NULL)
		return 0;
	if (!r->sr_checked && (r->sr_abort = stsfetch_check_response(r)) != NULL)
		return 0;
	if (n > MTASTS_BODY_MAX - r->sr_blen) {
		r->sr_abort = xasprintf("body larger than %d bytes", MTASTS_BODY_MAX);
		return 0;
	}
	if (r->sr_blen + n > r->sr_bcap) {
		size_t cap = r->sr_bcap ? r->sr_bcap : 4096;

		while (cap < r->sr_blen + n)
			cap *= 2;
		if (cap > MTASTS_BODY_MAX)
			cap = MTASTS_BODY_MAX;
		r->sr_body = xreallocarray(r->sr_body, cap, 1);
		r->sr_bcap = cap;
	}
	memcpy(r->sr_body + r->sr_blen, data, n);
	r->sr_blen += n;
	return n;
}

static bool
stsfetch_curl_webpki(CURLcode rc)
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
stsfetch_curl_reason(struct stsfetch_req *r, CURLcode rc)
{
	curl_off_t total = 0, connect = 0;

	if (rc == CURLE_OPERATION_TIMEDOUT) {
		(void)curl_easy_getinfo(r->sr_easy, CURLINFO_TOTAL_TIME_T, &total);
		(void)curl_easy_getinfo(r->sr_easy, CURLINFO_APPCONNECT_TIME_T, &connect);
		return xasprintf("timeout after %ld ms%s", (long)(total / 1000),
		    connect == 0 ? " (TLS connection not established)" : "");
	}
	if (rc == CURLE_FILESIZE_EXCEEDED)
		return xasprintf("body larger than %d bytes", MTASTS_BODY_MAX);
	if (r->sr_curlerr[0] != '\0')
		return xstrdup(r->sr_curlerr);
	return xstrdup(curl_easy_strerror(rc));
}

/* ---------------------------------------------------------------- requests */

/* Out of the list and out of the multi handle; then freed. */
static void
stsfetch_req_free(struct stsfetch_req *r)
{
	struct stsfetch *f = r->sr_fetch;

	if (r->sr_prev)
		r->sr_prev->sr_next = r->sr_next;
	else
		f->sf_reqs = r->sr_next;
	if (r->sr_next)
		r->sr_next->sr_prev = r->sr_prev;
	if (r->sr_easy) {
		curl_multi_remove_handle(f->sf_multi, r->sr_easy);
		curl_easy_cleanup(r->sr_easy);
	}
	curl_slist_free_all(r->sr_resolve);
	free(r->sr_url);
	free(r->sr_body);
	free(r->sr_abort);
	free(r->sr_host);
	free(r);
}

/* CURLMSG_DONE for this request's transfer: the callback, then free. */
static void
stsfetch_done(struct stsfetch_req *r, CURLcode rc)
{
	struct stsfetch *f = r->sr_fetch;
	enum stsfetch_status st = STSFETCH_ERROR;
	char *why = NULL;
	long code = 0;

	(void)curl_easy_getinfo(r->sr_easy, CURLINFO_RESPONSE_CODE, &code);
	if (r->sr_abort != NULL) {
		why = r->sr_abort;
		r->sr_abort = NULL;
	} else if (rc == CURLE_FILESIZE_EXCEEDED && code != 200) {
		why = xasprintf("HTTP status %ld", code);
	} else if (rc != CURLE_OK) {
		why = stsfetch_curl_reason(r, rc);
		if (stsfetch_curl_webpki(rc))
			st = STSFETCH_WEBPKI;
	} else if (!r->sr_checked) {
		why = stsfetch_check_response(r); /* empty body: no write callback */
	}
	curl_multi_remove_handle(f->sf_multi, r->sr_easy);
	curl_easy_cleanup(r->sr_easy);
	r->sr_easy = NULL;
	if (why != NULL)
		r->sr_done(r->sr_arg, st, NULL, 0, why, r->sr_not_after);
	else
		r->sr_done(r->sr_arg, STSFETCH_OK, r->sr_body ? r->sr_body : "", r->sr_blen, NULL,
		    r->sr_not_after);
	stsfetch_req_free(r);
}

static void
stsfetch_drain(struct stsfetch *f)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(f->sf_multi, &left)) != NULL) {
		struct stsfetch_req *r;
		CURL *e = msg->easy_handle;
		CURLcode rc = msg->data.result;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		r = (struct stsfetch_req *)(void *)priv;
		if (r == NULL || r->sr_easy != e)
			log_abort("stsfetch: transfer done for an unknown request");
		stsfetch_done(r, rc);   /* msg is invalid after this */
	}
}

struct stsfetch_req *
stsfetch_start(struct stsfetch *f, const char *host, char *const *addrs, size_t naddrs,
    const char *logtag, stsfetch_done_fn *done, void *arg, char **errp)
{
	struct stsfetch_req *r = xcalloc(1, sizeof(*r));
	struct sbuf sb = SBUF_INIT;
	char *entry;
	size_t i;
	CURL *e;

	*errp = NULL;
	r->sr_fetch = f;
	r->sr_host = xstrdup(host);
	r->sr_done = done;
	r->sr_arg = arg;
	r->sr_next = f->sf_reqs;
	if (f->sf_reqs)
		f->sf_reqs->sr_prev = r;
	f->sf_reqs = r;

	if (f->sf_port == 443)
		r->sr_url = xasprintf("https://%s%s", host, STSFETCH_PATH);
	else
		r->sr_url = xasprintf("https://%s:%u%s", host, f->sf_port, STSFETCH_PATH);
	/* Drop what an earlier fetch left in the multi's DNS cache, then
	 * give our addresses (IPv6 in brackets). */
	r->sr_resolve = curl_slist_append(NULL, (entry = xasprintf("-%s:%u", host, f->sf_port)));
	free(entry);
	sbuf_printf(&sb, "+%s:%u:", host, f->sf_port);     /* "+": may expire from curl's cache */
	for (i = 0; i < naddrs; i++)
		sbuf_printf(&sb, strchr(addrs[i], ':') ? "%s[%s]" : "%s%s", i ? "," : "", addrs[i]);
	r->sr_resolve = curl_slist_append(r->sr_resolve, sbuf_str(&sb));
	sbuf_free(&sb);
	if (r->sr_resolve == NULL || r->sr_resolve->next == NULL)
		log_abort("stsfetch: out of memory");

	if (logtag) {
		for (i = 0; i < naddrs; i++)
			sbuf_printf(&sb, "%s%s", i ? "," : "", addrs[i]);
		log_info("%s: mta-sts: fetching %s from %s", logtag, r->sr_url, sbuf_str(&sb));
		sbuf_free(&sb);
	}

	if ((e = curl_easy_init()) == NULL) {
		*errp = xstrdup("curl_easy_init failed");
		stsfetch_req_free(r);
		return NULL;
	}
	r->sr_easy = e;
	if (curl_easy_setopt(e, CURLOPT_URL, r->sr_url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->sr_curlerr) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_RESOLVE, r->sr_resolve) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, stsfetch_ssl_ctx) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, r) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)f->sf_connect_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)f->sf_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    (f->sf_ca_file != NULL &&
	    curl_easy_setopt(e, CURLOPT_CAINFO, f->sf_ca_file) != CURLE_OK) ||
	    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAXFILESIZE, (long)MTASTS_BODY_MAX) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, stsfetch_write_cb) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "danemilter/" PACKAGE_VERSION) != CURLE_OK) {
		curl_easy_cleanup(e);
		r->sr_easy = NULL;
		*errp = xstrdup("libcurl refused an option");
		stsfetch_req_free(r);
		return NULL;
	}
	if (curl_multi_add_handle(f->sf_multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		r->sr_easy = NULL;
		*errp = xstrdup("curl_multi_add_handle failed");
		stsfetch_req_free(r);
		return NULL;
	}
	/* libcurl starts it from the timer callback it has just been given. */
	return r;
}

void
stsfetch_cancel(struct stsfetch_req *r)
{
	if (r != NULL)
		stsfetch_req_free(r);
}

/* ---------------------------------------------------------------- context */

struct stsfetch *
stsfetch_new(const char *ca_file, unsigned connect_timeout_ms, unsigned timeout_ms,
    uint16_t port, char **errp)
{
	struct stsfetch *f;
	FILE *fp;

	*errp = NULL;
	if (ca_file != NULL) {
		if ((fp = fopen(ca_file, "r")) == NULL) {
			*errp = xasprintf("MTA-STS CA file %s: %s", ca_file, strerror(errno));
			return NULL;
		}
		fclose(fp);
	}
	f = xcalloc(1, sizeof(*f));
	if (ca_file != NULL)
		f->sf_ca_file = xstrdup(ca_file);
	f->sf_connect_ms = connect_timeout_ms;
	f->sf_timeout_ms = timeout_ms;
	f->sf_port = port;
	if ((f->sf_multi = curl_multi_init()) == NULL) {
		*errp = xstrdup("curl_multi_init failed (was curl_global_init called?)");
		free(f->sf_ca_file);
		free(f);
		return NULL;
	}
	IV_TIMER_INIT(&f->sf_timer);
	f->sf_timer.cookie = f;
	f->sf_timer.handler = stsfetch_timer_fired;
	if (curl_multi_setopt(f->sf_multi, CURLMOPT_SOCKETFUNCTION, stsfetch_sock_cb) != CURLM_OK ||
	    curl_multi_setopt(f->sf_multi, CURLMOPT_SOCKETDATA, f) != CURLM_OK ||
	    curl_multi_setopt(f->sf_multi, CURLMOPT_TIMERFUNCTION, stsfetch_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(f->sf_multi, CURLMOPT_TIMERDATA, f) != CURLM_OK) {
		*errp = xstrdup("libcurl refused the multi handle's callbacks");
		curl_multi_cleanup(f->sf_multi);
		free(f->sf_ca_file);
		free(f);
		return NULL;
	}
	return f;
}

void
stsfetch_free(struct stsfetch *f)
{
	if (f == NULL)
		return;
	while (f->sf_reqs != NULL)
		stsfetch_req_free(f->sf_reqs);
	/*
	 * Sockets libcurl still holds (none with FORBID_REUSE, but be sure)
	 * leave the loop while still open; libcurl is not listened to after
	 * that, whatever it announces while it cleans up.
	 */
	while (f->sf_socks != NULL) {
		(void)curl_multi_assign(f->sf_multi, f->sf_socks->ss_fd.fd, NULL);
		stsfetch_sock_free(f, f->sf_socks);
	}
	f->sf_closing = 1;
	curl_multi_cleanup(f->sf_multi);
	if (iv_timer_registered(&f->sf_timer))
		iv_timer_unregister(&f->sf_timer);
	free(f->sf_ca_file);
	free(f);
}
