/*
 * probecache.h: the results of single TLS probes (tls/probe.h), kept so
 * that the same probe is not repeated, and the bound on how many probes
 * run at once. policy/probeset.c plans which probes a domain needs; this
 * module runs them.
 *
 * An entry is keyed by a string its caller composes from everything that
 * decides a probe's outcome (policy/probeset.c: host, address, port, mode,
 * TLSA base domain, CA file, next hop, TLSA RRset): one key, one probe. An
 * entry is done (a result, until it expires), running (a probe on the
 * wire, with its waiters) or queued (waiting for a free probe). A result
 * is kept ttl_pass (probe.ttl) after a pass and ttl_fail (probe.fail_ttl)
 * after a failure or error, counted from the end of the probe: within
 * that time the same key is never probed again (the per-host rate limit).
 * Asking for a key whose probe is queued or running joins it instead of
 * starting another. At most max_parallel (probe.max_parallel) probes run
 * at once; the rest wait in line, first asked first started. Past 20000
 * entries, finished and expired ones are dropped when a new one is made.
 * Every probe run is counted in the probes_total metric, defined here
 * (a cache hit is not a probe).
 *
 * With the fleet's shared cache (probecache_set_shared, policy/shared.h)
 * a key this cache holds no result for is first asked of the fleet
 * (bounded by cache.shared_timeout_ms; joins wait for that answer as for
 * a probe): a result another member published is kept as if probed here
 * (until the sooner of its end and ttl_pass / ttl_fail from now) and no
 * probe runs; otherwise the probe runs, and its result is published for
 * ttl_pass / ttl_fail (policy/cachefile.h "PROBE RESULTS"). A value that
 * does not parse is a miss, logged and counted (rejected_total).
 *
 * Ownership: the cache belongs to its creator, who frees it with
 * probecache_free() once every run using it has cancelled its waits.
 * probecache_join() copies the request; a result handed out is borrowed
 * (probecache_lookup: until the next call into the cache; a callback:
 * during the call). A wait is freed by the cache after its callback or by
 * probecache_wait_cancel().
 *
 * Thread: one ivykis loop (the engine thread, or the command's); probes
 * run on it and callbacks come from it.
 */
#ifndef DM_PROBECACHE_H
#define DM_PROBECACHE_H

#include <stddef.h>
#include <time.h>

#include "tls/probe.h"

struct probecache;
struct probecache_wait;
struct shared;

/*
 * A waited-for probe ended: r is borrowed (valid during the call; its
 * ps_chain is "": the cache keeps no chain text, only the DER
 * certificates of ps_peer, for the monitor's certificate checks). arg and slot are the values
 * given to probecache_join() (slot: which of the caller's waits this is,
 * e.g. an index into an array that may move).
 */
typedef void probecache_done_fn(void *arg, size_t slot, const struct probe_result *r);

/* An empty cache; 8 probes at once until probecache_set_max_parallel(). */
struct probecache *probecache_new(void);
/* Cancel the probes in flight (no callbacks), free every entry and wait
 * left, and the cache. pc may be NULL. */
void probecache_free(struct probecache *pc);

/* Share results with the fleet through s (the caller's; it outlives pc;
 * NULL: not shared). */
void probecache_set_shared(struct probecache *pc, struct shared *s);

/* At most max probes at once from the next probecache_run() on. */
void probecache_set_max_parallel(struct probecache *pc, unsigned max);

/*
 * The result of a finished probe for key that expires after now, or NULL
 * (no such result; nothing is started). Borrowed: valid until the next
 * call into the cache.
 */
const struct probe_result *probecache_lookup(struct probecache *pc, const char *key, time_t now);

/*
 * Wait for a new result for key: join its probe when one is queued or
 * running (req, ttl_pass and ttl_fail are then unused), otherwise queue a
 * probe of req (copied), whose result will be kept ttl_pass or ttl_fail
 * seconds. Call probecache_lookup() first: a result still valid is not
 * used here. now decides which entries are expired when the cache is
 * full. Nothing starts until probecache_run(); done(arg, slot, r) runs
 * once, when the probe ends. Returns the handle for
 * probecache_wait_cancel() (valid until done runs).
 */
struct probecache_wait *probecache_join(struct probecache *pc, const char *key,
    const struct probe_req *req, unsigned ttl_pass, unsigned ttl_fail, time_t now,
    probecache_done_fn *done, void *arg, size_t slot);

/*
 * Start queued probes while fewer than max_parallel run. A probe that
 * cannot start (req->pr_addr not an IP address) ends at once with
 * PROBE_ERROR "not an IP address": its waiters are called from inside
 * this call.
 */
void probecache_run(struct probecache *pc);

/* The wait's callback will not run; w is freed. The probe goes on. */
void probecache_wait_cancel(struct probecache_wait *w);

/*
 * Put danemilter_probes_total{result,reason} in the render list of
 * common/metrics.h (a second call changes nothing); probes of every
 * cache are counted, whether registered or not.
 */
void probecache_metrics_register(void);

#endif
