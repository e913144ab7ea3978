/*
 * gate_test.c: the call gate under concurrency: immediate and delayed jobs,
 * waiters that time out before a late result, many submitting threads,
 * shutdown with queued jobs.
 */
#include <iv.h>
#include <iv_event.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/gate.h"
#include "common/xmalloc.h"
#include "tests/tap.h"

struct tjob {
	struct gate_job tj_job;         /* first: container_of by cast */
	unsigned tj_delay_ms;
	int tj_in, tj_out;
	struct iv_timer tj_timer;
};

static int freed;                       /* jobs freed, atomically */
static struct gate *gate;
static pthread_t engine;
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int ready;
static struct iv_event quit_ev;

static void
tjob_free(struct gate_job *j)
{
	__atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED);
	free(j);
}

static void
tjob_finish(void *cookie)
{
	struct tjob *t = cookie;

	t->tj_out = t->tj_in * 2;
	gate_job_done(&t->tj_job);
}

static void
tjob_run(struct gate_job *j)
{
	struct tjob *t = (struct tjob *)j;

	if (t->tj_delay_ms == 0) {
		tjob_finish(t);
		return;
	}
	IV_TIMER_INIT(&t->tj_timer);
	iv_validate_now();
	t->tj_timer.expires = iv_now;
	t->tj_timer.expires.tv_nsec += (long)t->tj_delay_ms * 1000000L;
	while (t->tj_timer.expires.tv_nsec >= 1000000000L) {
		t->tj_timer.expires.tv_sec++;
		t->tj_timer.expires.tv_nsec -= 1000000000L;
	}
	t->tj_timer.cookie = t;
	t->tj_timer.handler = tjob_finish;
	iv_timer_register(&t->tj_timer);
}

static void
quit_handler(void *cookie)
{
	(void)cookie;
	iv_event_unregister(&quit_ev);
	iv_quit();
}

static void *
engine_main(void *arg)
{
	(void)arg;
	iv_init();
	gate = gate_new();
	IV_EVENT_INIT(&quit_ev);
	quit_ev.handler = quit_handler;
	iv_event_register(&quit_ev);
	pthread_mutex_lock(&ready_lock);
	ready = 1;
	pthread_cond_signal(&ready_cond);
	pthread_mutex_unlock(&ready_lock);
	iv_main();
	gate_destroy(gate);
	iv_deinit();
	return NULL;
}

static struct tjob *
tjob_new(int in, unsigned delay_ms)
{
	struct tjob *t = xcalloc(1, sizeof(*t));

	gate_job_init(&t->tj_job, tjob_run, tjob_free);
	t->tj_in = in;
	t->tj_delay_ms = delay_ms;
	return t;
}

#define NTHREADS 8
#define PER_THREAD 500

static void *
submitter(void *arg)
{
	long bad = 0;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		struct tjob *t = tjob_new(i, 0);

		if (gate_submit(gate, &t->tj_job) != GATE_DONE ||
		    gate_wait(&t->tj_job, 5000) != GATE_DONE || t->tj_out != 2 * i)
			bad++;
		gate_job_put(&t->tj_job);
	}
	return (void *)bad;
}

int
main(void)
{
	struct tjob *t;
	pthread_t th[NTHREADS];
	long bad = 0;
	int i, before;

	tap_watchdog(20);
	pthread_create(&engine, NULL, engine_main, NULL);
	pthread_mutex_lock(&ready_lock);
	while (!ready)
		pthread_cond_wait(&ready_cond, &ready_lock);
	pthread_mutex_unlock(&ready_lock);

	t = tjob_new(21, 0);
	tap_is_long(gate_submit(gate, &t->tj_job), GATE_DONE, "submit accepted");
	tap_is_long(gate_wait(&t->tj_job, 2000), GATE_DONE, "immediate job completes");
	tap_is_long(t->tj_out, 42, "immediate job result");
	gate_job_put(&t->tj_job);
	tap_is_long(__atomic_load_n(&freed, __ATOMIC_RELAXED), 1, "job freed after last put");

	t = tjob_new(5, 50);
	gate_submit(gate, &t->tj_job);
	tap_is_long(gate_wait(&t->tj_job, 2000), GATE_DONE, "delayed job completes within bound");
	tap_is_long(t->tj_out, 10, "delayed job result");
	gate_job_put(&t->tj_job);

	/* The waiter gives up first; the late result must be safe. */
	before = __atomic_load_n(&freed, __ATOMIC_RELAXED);
	t = tjob_new(7, 300);
	gate_submit(gate, &t->tj_job);
	tap_is_long(gate_wait(&t->tj_job, 20), GATE_TIMEOUT, "waiter times out before a slow job");
	gate_job_put(&t->tj_job);       /* waiter gone; engine still holds it */
	tap_is_long(__atomic_load_n(&freed, __ATOMIC_RELAXED), before, "slow job not freed while engine holds it");
	usleep(500 * 1000);
	tap_is_long(__atomic_load_n(&freed, __ATOMIC_RELAXED), before + 1, "late result frees the job exactly once");

	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, submitter, NULL);
	for (i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (long)r;
	}
	tap_is_long(bad, 0, "8 threads x 500 jobs: all completed with the right result");

	iv_event_post(&quit_ev);
	pthread_join(engine, NULL);
	tap_is_long(__atomic_load_n(&freed, __ATOMIC_RELAXED), 3 + NTHREADS * PER_THREAD,
	    "every job freed exactly once after shutdown");
	return tap_done();
}
