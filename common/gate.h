/*
 * gate.h: the cross-thread call gate into the engine's ivykis thread.
 *
 * The engine thread owns a struct gate (gate_new/gate_destroy run there).
 * Any other thread fills a struct gate_job and hands it over with
 * gate_submit(); the engine thread runs job->gj_run(job) from its loop, and
 * the work (which may take many loop iterations, e.g. DNS) ends with one
 * gate_job_done(job) on the engine thread. The submitter waits with its own
 * bound in gate_wait().
 *
 * Jobs are reference-counted. gate_job_init() gives the submitter one
 * reference; gate_submit() takes one more for the engine, dropped by
 * gate_job_done() (or by gate_destroy() for a job never run). The
 * submitter drops its own with gate_job_put() after waiting, whether the
 * wait succeeded or timed out, so a result that arrives after the waiter
 * gave up is safe. The last put calls job->gj_free(job), which frees the
 * job's container and payload.
 */
#ifndef DM_GATE_H
#define DM_GATE_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct gate;
struct gate_job;

typedef void gate_run_fn(struct gate_job *job);
typedef void gate_free_fn(struct gate_job *job);

struct gate_job {
	gate_run_fn *gj_run;            /* engine thread: start the work */
	gate_free_fn *gj_free;          /* any thread: free the container */
	/* private */
	int gj_refs;
	bool gj_done;
	pthread_mutex_t gj_lock;
	pthread_cond_t gj_cond;
	struct gate_job *gj_next;
};

enum gate_status {
	GATE_DONE,      /* gate_job_done() was called: the result may be read */
	GATE_TIMEOUT,   /* the bound passed first: do not read the result */
	GATE_CLOSED     /* the gate is shut down: the job will never run */
};

/* Engine thread, after iv_init(): create the gate and register its event. */
struct gate *gate_new(void);
/* Engine thread: stop accepting jobs; the jobs never run are completed
 * without running (their waiters return GATE_DONE at once and find no
 * result); the struct stays valid, so late submitters on other threads get
 * GATE_CLOSED. Idempotent. */
void gate_close(struct gate *g);
/* Engine thread: gate_close, then free (no other thread may use g any more). */
void gate_destroy(struct gate *g);

/* Any thread: prepare a job (one reference, not done). */
void gate_job_init(struct gate_job *job, gate_run_fn *run, gate_free_fn *free_fn);
/* Any thread: queue the job for the engine. GATE_CLOSED if shut down
 * (then no engine reference was taken), else GATE_DONE meaning "queued". */
enum gate_status gate_submit(struct gate *g, struct gate_job *job);
/* Any thread but the engine's: wait up to timeout_ms for gate_job_done. */
enum gate_status gate_wait(struct gate_job *job, unsigned timeout_ms);
/* The same with an absolute CLOCK_MONOTONIC deadline. */
enum gate_status gate_wait_until(struct gate_job *job, const struct timespec *deadline);
/* Any thread: true once gate_job_done() has run. */
bool gate_job_is_done(struct gate_job *job);
/* Engine thread: the job's work is finished; wakes the waiter, drops the
 * engine's reference. */
void gate_job_done(struct gate_job *job);
/* Any thread: take / drop a reference. */
void gate_job_get(struct gate_job *job);
void gate_job_put(struct gate_job *job);

#endif
