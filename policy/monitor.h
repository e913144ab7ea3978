/*
 * monitor.h: one monitor run over one of the operator's own domains, on
 * the engine's ivykis loop: the facts monitorcheck.h judges, gathered
 * fresh (no verdict cache, no cached MTA-STS policy, a probe cache of the
 * run's own), then judged.
 *
 * A run starts, in parallel, the DANE lookup (engine_dane), the MTA-STS
 * lookup (engine_mtasts, nothing cached: the policy is fetched now) and
 * the TXT lookup at _smtp._tls.DOMAIN; with both the DANE and the MTA-STS
 * result it builds the verdict (verdict_build) and probes every MX
 * address under it (probeset_start: the probe of `danemilter check`);
 * then it reads the next certificate files and calls monitorcheck_run().
 * Every step is bounded (dns.timeout_ms, mta_sts.timeout_ms,
 * probe.timeout_ms); nothing blocks but the reading of the certificate
 * files (local files of at most CERT_FILE_MAX bytes).
 *
 * Ownership: monitor_start() copies the request. The result handed to
 * the callback is borrowed (valid during the call). The run frees itself
 * after its callback; monitor_cancel() abandons it (no callback). It
 * holds a reference on its engine until then. Loop thread only.
 */
#ifndef DM_MONITOR_H
#define DM_MONITOR_H

#include <stddef.h>
#include <time.h>

#include "policy/engine.h"
#include "policy/monitorcheck.h"

struct monitor_req {
	const char *mq_domain;                  /* an engine_domain_key() */
	const char *const *mq_cert_files;       /* the next certificates (tlsa-rollover) */
	size_t mq_ncert_files;
	unsigned mq_warn_days;                  /* cert-expiry: warn this many days ahead */
};

struct monitor;

/* r is borrowed; domain is the request's. */
typedef void monitor_done_fn(void *arg, const char *domain, const struct monitorcheck_result *r);

/* Start a run; done runs once, from the loop, never from inside this call. */
struct monitor *monitor_start(struct engine *en, const struct monitor_req *req, time_t now,
    monitor_done_fn *done, void *arg);
/* The callback never runs; m NULL: nothing. */
void monitor_cancel(struct monitor *m);

#endif
