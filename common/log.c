/*
 * log.c: see log.h.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum log_dest log_dest_cur = LOG_DEST_STDERR;
static int log_level_cur = LOG_INFO;

void
log_init(enum log_dest dest, const char *ident, int facility, int level)
{
	if (log_dest_cur == LOG_DEST_SYSLOG && dest != LOG_DEST_SYSLOG)
		closelog();
	log_dest_cur = dest;
	log_level_cur = level;
	if (dest == LOG_DEST_SYSLOG)
		openlog(ident ? ident : "danemilter", LOG_PID | LOG_NDELAY, facility);
}

int
log_level(void)
{
	return log_level_cur;
}

void
log_set_level(int level)
{
	log_level_cur = level;
}

/* Format one line, append the optional errno text, write it in one call. */
static void DM_PRINTF(3, 0)
log_emit(int prio, const char *errtext, const char *fmt, va_list ap)
{
	char line[8192];
	int n;

	if (prio > log_level_cur)
		return;
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	if (errtext)
		n += snprintf(line + n, sizeof(line) - 2 - (size_t)n, ": %s", errtext);
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	if (log_dest_cur == LOG_DEST_SYSLOG) {
		syslog(prio, "%s", line);
		return;
	}
	line[n++] = '\n';
	line[n] = '\0';
	if (write(log_dest_cur == LOG_DEST_STDOUT ? STDOUT_FILENO : STDERR_FILENO,
	    line, (size_t)n) < 0) {
		/* nowhere left to report this */
	}
}

void
log_vmsg(int prio, const char *fmt, va_list ap)
{
	log_emit(prio, NULL, fmt, ap);
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(prio, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	log_emit(LOG_WARNING, e, fmt, ap);
	va_end(ap);
}

void
log_err(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	log_emit(LOG_ERR, e, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	log_emit(LOG_CRIT, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_abort(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	abort();
}
