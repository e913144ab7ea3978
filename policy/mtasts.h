/*
 * mtasts.h: MTA-STS (RFC 8461) lookups for one policy domain, on the
 * engine's ivykis loop: the _mta-sts TXT record through our resolver, the
 * rules about the cached policy, its id and the retry wait, the policy
 * host's addresses, the HTTPS fetch (policy/stsfetch.h: libcurl, the fetch
 * rules) and the parse (policy/mtasts_policy.h: the policy object and the
 * strict parsers), and the result with the RFC 8460 failure type.
 *
 * Caching across lookups is the caller's: it hands in what it has cached
 * (a policy and the time of the last failed fetch) and gets back what to
 * cache next. A failed refresh never drops a valid cached policy: the
 * result then carries the cached policy with mr_fetch_failed set.
 *
 * Ownership: an mtasts_policy is immutable once built and reference
 * counted (mtasts_policy_ref/unref); results hold one reference, and a
 * lookup its own on the cached policy it was given. The callback's result
 * belongs to the callee (mtasts_result_free). The context owns its
 * lookups and its fetcher, never the resolver.
 */
#ifndef DM_MTASTS_H
#define DM_MTASTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns/dns.h"
#include "policy/mtasts_policy.h"

#define MTASTS_RETRY_SECONDS    300     /* after a failed fetch (RFC 8461 §3.3) */

enum mtasts_status {
	MTASTS_ABSENT,          /* no valid _mta-sts TXT and no cached policy: no MTA-STS */
	MTASTS_POLICY,          /* mr_policy applies (fresh, unchanged id, or kept from the cache) */
	MTASTS_ERROR            /* TXT found, fetch or parse failed, nothing cached */
};

/* RFC 8460 result types for what went wrong (TLSRPT policy_failure). */
enum mtasts_failure {
	MTASTS_FAIL_NONE,
	MTASTS_FAIL_FETCH,      /* sts-policy-fetch-error: connect, timeout, status, size, type */
	MTASTS_FAIL_INVALID,    /* sts-policy-invalid: the body does not parse */
	MTASTS_FAIL_WEBPKI      /* sts-webpki-invalid: the HTTPS certificate */
};

struct mtasts_result {
	enum mtasts_status mr_status;
	struct mtasts_policy *mr_policy;        /* with MTASTS_POLICY; one reference */
	bool mr_fetched;                /* mr_policy was fetched just now */
	bool mr_fetch_failed;           /* a fetch was tried and failed (mr_failure says how) */
	enum mtasts_failure mr_failure;
	char *mr_reason;                /* always set: what happened, for logs and JSON */
	uint32_t mr_txt_ttl;            /* TTL of the TXT answer (0 when none) */
	char mr_txt_id[MTASTS_ID_MAX + 1];      /* the id the TXT record showed ("" when none) */
	time_t mr_cert_not_after;       /* mr_fetched: when the policy host's certificate
	                                   expires (UTC seconds); else 0 */
};

/* What the caller has cached for the domain. */
struct mtasts_cached {
	struct mtasts_policy *mc_policy;        /* NULL when none; still valid (not past max_age) */
	time_t mc_last_failure;                 /* wall clock of the last failed fetch, or 0 */
	const char *mc_failed_id;               /* the TXT id that fetch was for (NULL: unknown) */
};

struct mtasts_options {
	const char *mo_ca_file;         /* PKIX trust for the policy host; NULL = system default */
	unsigned mo_connect_timeout_ms; /* default 10000 */
	unsigned mo_timeout_ms;         /* whole fetch, default 30000 (RFC suggests <= 60 s) */
	uint16_t mo_port;               /* 443; tests may use another */
};

struct mtasts_ctx;              /* the resolver and the fetcher; one per engine */
struct mtasts_lookup;

/*
 * Create on the loop thread (after iv_init and stsfetch_global_init); o
 * NULL: every default. Returns the context, or NULL with a malloc'ed *errp
 * (the CA file cannot be read, libcurl refuses its multi handle) for the
 * caller to free. r must outlive the context.
 */
struct mtasts_ctx *mtasts_ctx_new(struct dns_resolver *r, const struct mtasts_options *o, char **errp);
void mtasts_ctx_free(struct mtasts_ctx *c);     /* abandons lookups without calling back */

typedef void mtasts_done_fn(void *arg, struct mtasts_result *res);

/*
 * Resolve MTA-STS for domain (a host name, lower case, no trailing dot):
 * TXT at _mta-sts.DOMAIN; exactly one valid v=STSv1 record, else ABSENT
 * (or the cached policy if one is given). Same id as the cached policy:
 * the cached policy, no fetch. New id, or no cache: fetch, unless a fetch
 * for this same id failed less than MTASTS_RETRY_SECONDS ago (RFC 8461
 * §3.3: the wait is per id, so a fixed policy under a new id is fetched).
 * A TXT lookup error is not "absent": with a cached policy that policy
 * applies; without one the result is MTASTS_ERROR with a reason.
 * logtag != NULL logs each step.
 * Returns the lookup's handle, never NULL (valid until the callback runs
 * or mtasts_lookup_cancel()). The callback runs once, from the loop, never
 * from inside mtasts_lookup_start(); the result it gets is the callee's.
 */
struct mtasts_lookup *mtasts_lookup_start(struct mtasts_ctx *c, const char *domain,
    const struct mtasts_cached *cached, time_t now, const char *logtag,
    mtasts_done_fn *done, void *arg);
/* The callback never runs; l NULL: nothing. */
void mtasts_lookup_cancel(struct mtasts_lookup *l);
/* Frees the result and drops its policy reference; NULL: nothing. */
void mtasts_result_free(struct mtasts_result *res);

/* "none", "sts-policy-fetch-error", "sts-policy-invalid",
 * "sts-webpki-invalid"; "?" for a value out of range. */
const char *mtasts_failure_name(enum mtasts_failure f);

/*
 * Put the MTA-STS fetch metric families in the render list of
 * common/metrics.h (a second call changes nothing):
 * danemilter_mtasts_fetch_duration_seconds and
 * danemilter_mtasts_fetches_total{result}, counted for every fetch of
 * every context, whether registered or not.
 */
void mtasts_metrics_register(void);

#endif
