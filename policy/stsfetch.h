/*
 * stsfetch.h: the HTTPS GET of an MTA-STS policy (RFC 8461 §3.3) with
 * libcurl's multi interface on the engine's ivykis loop. stsfetch.c is
 * the only file outside tests/, bench/ and fuzz/ that includes libcurl's
 * header (curl/curl.h); this header does not.
 *
 * One struct stsfetch per engine owns the libcurl multi handle, an iv_fd
 * per socket libcurl announces and one iv_timer. stsfetch_start() begins
 * one GET of https://HOST[:PORT]/.well-known/mta-sts.txt under the fetch
 * rules: addresses handed in by the caller (libcurl never resolves), PKIX
 * with the configured CA file and HOST as a DNS-ID, TLS >= 1.2, https
 * only, no redirects, no proxy, a fresh connection closed afterwards,
 * status 200 only, Content-Type text/plain, at most MTASTS_BODY_MAX bytes,
 * connect and total time bounded. It knows nothing of TXT records, caches
 * or what the body says.
 *
 * Ownership: the module owns every struct stsfetch_req; the caller's
 * handle is valid until the callback runs or stsfetch_cancel(). The body
 * given to the callback is the module's and valid during the callback
 * only; the reason is malloc'ed and belongs to the callee (free it).
 * All calls come from the loop thread that created the struct stsfetch.
 */
#ifndef DM_STSFETCH_H
#define DM_STSFETCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum stsfetch_status {
	STSFETCH_OK,            /* 200, text/plain, at most MTASTS_BODY_MAX bytes */
	STSFETCH_ERROR,         /* connect, timeout, TLS, status, type, size */
	STSFETCH_WEBPKI         /* the policy host's certificate did not verify */
};

struct stsfetch;                /* the multi handle on the loop; one per engine */
struct stsfetch_req;            /* one GET */

/*
 * The GET is over: st with reason NULL and body (NUL-terminated; "" when
 * empty) of len bytes for STSFETCH_OK; otherwise body NULL, len 0 and a
 * reason for logs and results. cert_not_after: when the policy host's
 * certificate expires (UTC seconds; 0 when no certificate was seen). Runs once, from the loop, while libcurl's
 * completions are read: the request is gone (do not cancel it) and the
 * callback must not free the struct stsfetch.
 */
typedef void stsfetch_done_fn(void *arg, enum stsfetch_status st, const char *body, size_t len,
    char *reason, time_t cert_not_after);

/* libcurl's global state: once, before any thread (main). 0 on success,
 * -1 when libcurl cannot initialize. */
int stsfetch_global_init(void);

/*
 * On the loop thread, after iv_init() and stsfetch_global_init(). ca_file
 * NULL: libcurl's built-in trust; else it must be readable now. Both
 * timeouts in milliseconds; port the policy hosts' HTTPS port. Returns
 * the fetcher, or NULL with a malloc'ed *errp (the CA file cannot be
 * read, libcurl refuses the multi handle) for the caller to free.
 */
struct stsfetch *stsfetch_new(const char *ca_file, unsigned connect_timeout_ms,
    unsigned timeout_ms, uint16_t port, char **errp);

/* Abandons the GETs in flight without calling back; NULL: nothing. */
void stsfetch_free(struct stsfetch *f);

/*
 * GET the policy from host (lower case, no trailing dot) at the naddrs
 * addresses in addrs (IPv4 or IPv6 text, at least one); logtag != NULL
 * logs "TAG: mta-sts: fetching URL from ADDRS" at info. Returns the
 * request, whose callback runs later from the loop (never from inside
 * stsfetch_start); or NULL with a malloc'ed *errp when libcurl refuses to
 * start it (the callback never runs; the caller frees *errp).
 */
struct stsfetch_req *stsfetch_start(struct stsfetch *f, const char *host,
    char *const *addrs, size_t naddrs, const char *logtag,
    stsfetch_done_fn *done, void *arg, char **errp);

/* Stops the GET; its callback never runs. NULL: nothing. */
void stsfetch_cancel(struct stsfetch_req *r);

#endif
