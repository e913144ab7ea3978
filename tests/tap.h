/*
 * tap.h: tiny TAP producer for danemilter's C tests (header-only).
 *
 * tap_plan_later(); ...checks...; return tap_done();
 * Each check prints "ok N - desc" or "not ok N - desc" plus "# got X, want Y".
 * tap_watchdog(seconds) arms alarm() so a hung test fails instead of hanging.
 */
#ifndef DM_TAP_H
#define DM_TAP_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_n, tap_failed;

static void
tap_alarm(int sig)
{
	(void)sig;
	static const char m[] = "Bail out! watchdog: test took too long\n";
	if (write(STDOUT_FILENO, m, sizeof(m) - 1) < 0) { /* nothing to do */ }
	_exit(1);
}

static inline void
tap_watchdog(unsigned seconds)
{
	signal(SIGALRM, tap_alarm);
	alarm(seconds);
}

static inline int __attribute__((format(printf, 2, 3)))
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline int
tap_is_str(const char *got, const char *want, const char *desc)
{
	int same = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	if (!tap_ok(same, "%s", desc))
		printf("# got \"%s\", want \"%s\"\n", got ? got : "(null)", want ? want : "(null)");
	return same;
}

static inline int
tap_is_long(long got, long want, const char *desc)
{
	if (!tap_ok(got == want, "%s", desc))
		printf("# got %ld, want %ld\n", got, want);
	return got == want;
}

static inline void __attribute__((format(printf, 1, 2)))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
