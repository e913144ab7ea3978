/*
 * deadline.h: "now + N ms" and "how long since", the one place where
 * struct timespec arithmetic is done.
 *
 * Every wait in danemilter has a bound; these helpers compute it. They
 * work on any clock's struct timespec (CLOCK_MONOTONIC for waits between
 * threads, ivykis' iv_now for timers, CLOCK_REALTIME where a pthread
 * condition variable wants it). Pure functions over the caller's structs;
 * nothing is allocated, nothing is kept.
 */
#ifndef DM_DEADLINE_H
#define DM_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* *ts += ms, normalized (tv_nsec stays in [0, 1e9)). */
void deadline_add_ms(struct timespec *ts, unsigned ms);
/* *ts = the clock's now + ms (clock: CLOCK_MONOTONIC, CLOCK_REALTIME). */
void deadline_in(struct timespec *ts, clockid_t clock, unsigned ms);
/* True when *a is earlier than *b (the same clock). */
bool deadline_before(const struct timespec *a, const struct timespec *b);
/* True when CLOCK_MONOTONIC has reached *deadline. */
bool deadline_passed(const struct timespec *deadline);
/* Microseconds from *start (CLOCK_MONOTONIC) to now; 0 if negative. */
uint64_t deadline_since_us(const struct timespec *start);
/* Milliseconds of CLOCK_MONOTONIC (for coarse bounds in loops). */
int64_t deadline_now_ms(void);

#endif
