/*
 * gate.c: see gate.h. A mutex-protected FIFO plus one iv_event; the event
 * handler drains the whole queue because posting a pending event is a no-op.
 */
#include "gate.h"

#include <errno.h>
#include <iv.h>
#include <iv_event.h>
#include <stdlib.h>
#include <time.h>

#include "deadline.h"
#include "log.h"
#include "xmalloc.h"

/* Waits run on CLOCK_MONOTONIC: a clock step must not stretch a bound. */
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static pthread_condattr_t gate_condattr;

static void
gate_once_init(void)
{
	pthread_condattr_init(&gate_condattr);
	pthread_condattr_setclock(&gate_condattr, CLOCK_MONOTONIC);
}

struct gate {
	pthread_mutex_t g_lock;
	struct gate_job *g_head;
	struct gate_job *g_tail;
	bool g_closed;
	struct iv_event g_event;
};

static void
gate_event(void *cookie)
{
	struct gate *g = cookie;
	struct gate_job *job;

	for (;;) {
		pthread_mutex_lock(&g->g_lock);
		job = g->g_head;
		if (job != NULL) {
			g->g_head = job->gj_next;
			if (g->g_head == NULL)
				g->g_tail = NULL;
			job->gj_next = NULL;
		}
		pthread_mutex_unlock(&g->g_lock);
		if (job == NULL)
			break;
		job->gj_run(job);
	}
}

static void
gate_job_free(struct gate_job *job)
{
	pthread_mutex_destroy(&job->gj_lock);
	pthread_cond_destroy(&job->gj_cond);
	job->gj_free(job);
}

struct gate *
gate_new(void)
{
	struct gate *g = xcalloc(1, sizeof(*g));

	pthread_mutex_init(&g->g_lock, NULL);
	IV_EVENT_INIT(&g->g_event);
	g->g_event.cookie = g;
	g->g_event.handler = gate_event;
	if (iv_event_register(&g->g_event) != 0)
		log_abort("gate: iv_event_register failed");
	return g;
}

void
gate_close(struct gate *g)
{
	struct gate_job *job, *next;

	pthread_mutex_lock(&g->g_lock);
	if (g->g_closed) {
		pthread_mutex_unlock(&g->g_lock);
		return;
	}
	g->g_closed = true;
	job = g->g_head;
	g->g_head = g->g_tail = NULL;
	/* under g_lock: no submitter can be posting the event meanwhile */
	iv_event_unregister(&g->g_event);
	pthread_mutex_unlock(&g->g_lock);
	for (; job != NULL; job = next) {
		next = job->gj_next;
		job->gj_next = NULL;
		/* never run: done without a result, so its waiter stops now */
		gate_job_done(job);
	}
}

void
gate_destroy(struct gate *g)
{
	gate_close(g);
	pthread_mutex_destroy(&g->g_lock);
	free(g);
}

void
gate_job_init(struct gate_job *job, gate_run_fn *run, gate_free_fn *free_fn)
{
	job->gj_run = run;
	job->gj_free = free_fn;
	job->gj_refs = 1;
	job->gj_done = false;
	job->gj_next = NULL;
	pthread_mutex_init(&job->gj_lock, NULL);
	pthread_once(&gate_once, gate_once_init);
	pthread_cond_init(&job->gj_cond, &gate_condattr);
}

enum gate_status
gate_submit(struct gate *g, struct gate_job *job)
{
	bool was_empty;

	pthread_mutex_lock(&g->g_lock);
	if (g->g_closed) {
		pthread_mutex_unlock(&g->g_lock);
		return GATE_CLOSED;
	}
	gate_job_get(job);
	was_empty = g->g_head == NULL;
	if (g->g_tail)
		g->g_tail->gj_next = job;
	else
		g->g_head = job;
	g->g_tail = job;
	/* posted under g_lock, so gate_close() cannot unregister it meanwhile */
	if (was_empty)
		iv_event_post(&g->g_event);
	pthread_mutex_unlock(&g->g_lock);
	return GATE_DONE;
}

enum gate_status
gate_wait(struct gate_job *job, unsigned timeout_ms)
{
	struct timespec deadline;

	deadline_in(&deadline, CLOCK_MONOTONIC, timeout_ms);
	return gate_wait_until(job, &deadline);
}

enum gate_status
gate_wait_until(struct gate_job *job, const struct timespec *deadline)
{
	enum gate_status st = GATE_DONE;

	pthread_mutex_lock(&job->gj_lock);
	while (!job->gj_done) {
		if (pthread_cond_timedwait(&job->gj_cond, &job->gj_lock, deadline) == ETIMEDOUT) {
			st = job->gj_done ? GATE_DONE : GATE_TIMEOUT;
			break;
		}
	}
	pthread_mutex_unlock(&job->gj_lock);
	return st;
}

bool
gate_job_is_done(struct gate_job *job)
{
	bool done;

	pthread_mutex_lock(&job->gj_lock);
	done = job->gj_done;
	pthread_mutex_unlock(&job->gj_lock);
	return done;
}

void
gate_job_done(struct gate_job *job)
{
	int left;

	/* Drop the engine's reference before the waiter can run, so that when
	 * gate_wait() returns GATE_DONE the waiter's put is the last one. A
	 * waiter that gave up earlier and puts now waits for this lock in
	 * gate_job_put(), so the job is never freed under our feet. */
	pthread_mutex_lock(&job->gj_lock);
	if (job->gj_done)
		log_abort("gate: job completed twice");
	job->gj_done = true;
	left = __atomic_sub_fetch(&job->gj_refs, 1, __ATOMIC_ACQ_REL);
	if (left > 0)
		pthread_cond_broadcast(&job->gj_cond);
	pthread_mutex_unlock(&job->gj_lock);
	if (left == 0)                  /* the waiter gave up and is gone */
		gate_job_free(job);
}

void
gate_job_get(struct gate_job *job)
{
	__atomic_add_fetch(&job->gj_refs, 1, __ATOMIC_RELAXED);
}

void
gate_job_put(struct gate_job *job)
{
	int left;

	/* Under the job's lock: gate_job_done() may be inside it right now. */
	pthread_mutex_lock(&job->gj_lock);
	left = __atomic_sub_fetch(&job->gj_refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&job->gj_lock);
	if (left == 0)
		gate_job_free(job);
}
