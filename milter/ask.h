/*
 * ask.h: a milter thread asks the engine thread for a domain's verdict.
 *
 * ask_start() hands the question to the engine through the call gate
 * (common/gate.h) and returns at once: the engine thread looks the domain
 * up in the verdict cache (joining or starting a resolution) while the
 * SMTP transaction goes on. ask_wait() later waits for the answer with an
 * absolute bound; a milter thread never waits on DNS any other way.
 *
 * Ownership: the caller owns the struct ask and releases it with
 * ask_free() (whether it was answered or not); the engine keeps its own
 * reference until the lookup ends, so an answer that comes after the
 * caller gave up is dropped safely. The verdict is a reference held by the
 * ask: borrow it with ask_verdict() until ask_free().
 *
 * The engine side (ask_engine_init, ask_engine_shutdown) runs on the
 * engine's ivykis thread only.
 */
#ifndef DM_ASK_H
#define DM_ASK_H

#include <time.h>

#include "common/gate.h"
#include "policy/cache.h"
#include "policy/generation.h"
#include "policy/probeset.h"
#include "policy/verdict.h"

struct ask;

enum ask_status {
	ASK_READY,      /* the verdict is there: ask_verdict() */
	ASK_PENDING,    /* not yet (the bound passed first) */
	ASK_FAILED      /* the engine is shutting down: there will be none */
};

/* Engine thread: the cache the answers come from (before any ask_start),
 * and the generation whose engine runs probes and the probe cache for
 * ask_probe_start (NULLs: no probes). g and pc are the caller's. */
void ask_engine_init(struct cache *c, struct generation *g, struct probecache *pc);
/* Engine thread, at shutdown: every lookup still in flight ends now with
 * ASK_FAILED (its cache waiter is cancelled). */
void ask_engine_shutdown(void);

/* Any thread but the engine's: start asking for domain (a host name, lower
 * case, no trailing dot, < 256 bytes). Never blocks, never NULL. */
struct ask *ask_start(struct gate *g, const char *domain);
/* The same for the TLS probe of domain's MX hosts (policy/probeset.h),
 * started once its verdict is known; answered from the probe cache when
 * it can be. */
struct ask *ask_probe_start(struct gate *g, const char *domain);
/* The same for the verdict as the Postfix policy needs it (the milter's
 * RCPT rules): answered as soon as DANE decides the policy, while the
 * MTA-STS lookup may still run (policy/cache.h: cache_get_policy), so a
 * slow policy host never runs the milter's bound out. */
struct ask *ask_policy_start(struct gate *g, const char *domain);
/* Wait until the answer is there or the CLOCK_MONOTONIC deadline passes
 * (common/deadline.h makes one). */
enum ask_status ask_wait(struct ask *a, const struct timespec *deadline);
/* The status now, without waiting. */
enum ask_status ask_poll(struct ask *a);
/* The verdict when ask_wait/ask_poll said ASK_READY, else NULL. Borrowed. */
const struct verdict *ask_verdict(const struct ask *a);
const char *ask_domain(const struct ask *a);
/* A probe ask that said ASK_READY: the domain's probe verdict and the
 * first failure's RFC 8460 result type (PROBE_R_NONE unless FAIL). */
enum probeset_verdict ask_probe_verdict(const struct ask *a);
enum probe_reason ask_probe_reason(const struct ask *a);
void ask_free(struct ask *a);

#endif
