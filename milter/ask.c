/*
 * ask.c: see ask.h. An ask is a gate job: the milter thread fills in the
 * domain and submits it; on the engine thread ask_run() asks the cache,
 * and the cache's callback (or a hit) records the verdict and completes
 * the job. Lookups in flight are listed (engine thread only) so that a
 * shutdown can end them instead of leaving their waiters' references.
 */
#include "ask.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"

struct ask {
	struct gate_job a_job;          /* first: the gate's handle */
	char a_domain[256];
	/* Written on the engine thread before gate_job_done(), read by the
	 * asker after its wait (the job's mutex orders the two). */
	struct verdict *a_verdict;
	bool a_closed;                  /* the gate refused it: asker's thread only */
	bool a_probe;                   /* a probe ask */
	bool a_policy;                  /* the policy alone: DANE first */
	enum probeset_verdict a_pv;     /* probe asks: written before done */
	enum probe_reason a_pr;
	/* engine thread only */
	struct cache_wait *a_wait;
	struct probeset *a_ps;
	struct ask *a_prev, *a_next;    /* in flight */
	bool a_listed;
};

static struct cache *ask_cache;         /* engine thread */
static struct generation *ask_g;        /* engine thread: the engine in force (probes) */
static struct probecache *ask_pc;       /* engine thread */
static struct ask *ask_inflight;        /* engine thread */
static bool ask_down;                   /* engine thread */

/* ---------------------------------------------------------- engine side */

void
ask_engine_init(struct cache *c, struct generation *g, struct probecache *pc)
{
	ask_cache = c;
	ask_g = g;
	ask_pc = pc;
	ask_down = false;
}

static void
ask_unlist(struct ask *a)
{
	if (!a->a_listed)
		return;
	if (a->a_prev)
		a->a_prev->a_next = a->a_next;
	else
		ask_inflight = a->a_next;
	if (a->a_next)
		a->a_next->a_prev = a->a_prev;
	a->a_prev = a->a_next = NULL;
	a->a_listed = false;
}

/* The lookup is over: v (borrowed) or NULL for "no answer". */
static void
ask_finish(struct ask *a, struct verdict *v)
{
	ask_unlist(a);
	a->a_verdict = v ? verdict_ref(v) : NULL;
	gate_job_done(&a->a_job);
}

static void
ask_list(struct ask *a)
{
	if (a->a_listed)
		return;
	a->a_next = ask_inflight;
	if (ask_inflight)
		ask_inflight->a_prev = a;
	ask_inflight = a;
	a->a_listed = true;
}

static void
ask_probe_done(void *arg, const struct probeset_result *r)
{
	struct ask *a = arg;
	struct verdict *v = a->a_verdict;

	a->a_ps = NULL;
	a->a_pv = r->pr_verdict;
	a->a_pr = r->pr_reason;
	a->a_verdict = NULL;            /* ask_finish takes its own reference */
	ask_finish(a, v);
	verdict_unref(v);
}

static void
ask_cache_done(void *arg, struct verdict *v)
{
	struct ask *a = arg;

	a->a_wait = NULL;
	if (!a->a_probe || ask_g == NULL || ask_pc == NULL) {
		ask_finish(a, v);
		return;
	}
	/* the verdict is known: now the probe (the verdict is held meanwhile) */
	a->a_verdict = verdict_ref(v);
	a->a_ps = probeset_start(generation_engine(ask_g), ask_pc, v, time(NULL), ask_probe_done, a);
}

static void
ask_run(struct gate_job *job)
{
	struct ask *a = (struct ask *)job;
	struct verdict *v;

	if (ask_cache == NULL || ask_down) {
		ask_finish(a, NULL);
		return;
	}
	ask_list(a);
	if (a->a_policy)
		v = cache_get_policy(ask_cache, a->a_domain, time(NULL), ask_cache_done, a,
		    &a->a_wait);
	else
		v = cache_get(ask_cache, a->a_domain, time(NULL), ask_cache_done, a, &a->a_wait);
	if (v != NULL)
		ask_cache_done(a, v);
}

void
ask_engine_shutdown(void)
{
	struct ask *a;

	ask_down = true;
	while ((a = ask_inflight) != NULL) {
		if (a->a_wait != NULL)
			cache_cancel(a->a_wait);
		a->a_wait = NULL;
		if (a->a_ps != NULL)
			probeset_cancel(a->a_ps);
		a->a_ps = NULL;
		verdict_unref(a->a_verdict);
		a->a_verdict = NULL;
		ask_finish(a, NULL);
	}
	ask_cache = NULL;
	ask_pc = NULL;
	ask_g = NULL;
}

/* ----------------------------------------------------------- asker side */

static void
ask_job_free(struct gate_job *job)
{
	struct ask *a = (struct ask *)job;

	verdict_unref(a->a_verdict);
	free(a);
}

static struct ask *
ask_new(struct gate *g, const char *domain, bool probe, bool policy)
{
	struct ask *a = xcalloc(1, sizeof(*a));

	a->a_probe = probe;
	a->a_policy = policy;
	a->a_pv = PROBESET_SKIPPED;     /* until a probe says otherwise */
	if (strlen(domain) >= sizeof(a->a_domain))
		log_abort("ask_start: domain too long");
	strcpy(a->a_domain, domain);
	gate_job_init(&a->a_job, ask_run, ask_job_free);
	if (g == NULL || gate_submit(g, &a->a_job) == GATE_CLOSED)
		a->a_closed = true;
	return a;
}

struct ask *
ask_start(struct gate *g, const char *domain)
{
	return ask_new(g, domain, false, false);
}

struct ask *
ask_probe_start(struct gate *g, const char *domain)
{
	return ask_new(g, domain, true, false);
}

struct ask *
ask_policy_start(struct gate *g, const char *domain)
{
	return ask_new(g, domain, false, true);
}

enum probeset_verdict
ask_probe_verdict(const struct ask *a)
{
	return a->a_pv;
}

enum probe_reason
ask_probe_reason(const struct ask *a)
{
	return a->a_pr;
}

static enum ask_status
ask_status_done(const struct ask *a)
{
	return a->a_verdict != NULL ? ASK_READY : ASK_FAILED;
}

enum ask_status
ask_wait(struct ask *a, const struct timespec *deadline)
{
	if (a->a_closed)
		return ASK_FAILED;
	if (gate_wait_until(&a->a_job, deadline) != GATE_DONE)
		return ASK_PENDING;
	return ask_status_done(a);
}

enum ask_status
ask_poll(struct ask *a)
{
	if (a->a_closed)
		return ASK_FAILED;
	if (!gate_job_is_done(&a->a_job))
		return ASK_PENDING;
	return ask_status_done(a);
}

const struct verdict *
ask_verdict(const struct ask *a)
{
	return a->a_closed ? NULL : a->a_verdict;
}

const char *
ask_domain(const struct ask *a)
{
	return a->a_domain;
}

void
ask_free(struct ask *a)
{
	if (a != NULL)
		gate_job_put(&a->a_job);
}
