/*
 * deadline.c: see deadline.h.
 */
#include "deadline.h"

void
deadline_add_ms(struct timespec *ts, unsigned ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void
deadline_in(struct timespec *ts, clockid_t clock, unsigned ms)
{
	clock_gettime(clock, ts);
	deadline_add_ms(ts, ms);
}

bool
deadline_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

bool
deadline_passed(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return !deadline_before(&now, deadline);
}

/* Microseconds from *from to *to; 0 when to is before from. */
static uint64_t
deadline_diff_us(const struct timespec *from, const struct timespec *to)
{
	long long us;

	us = (long long)(to->tv_sec - from->tv_sec) * 1000000LL +
	    (to->tv_nsec - from->tv_nsec) / 1000L;
	return us < 0 ? 0 : (uint64_t)us;
}

uint64_t
deadline_since_us(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return deadline_diff_us(start, &now);
}

int64_t
deadline_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000L;
}
