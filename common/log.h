/*
 * log.h: danemilter's one logging API.
 *
 * Owns the process-wide log destination (syslog, stderr or stdout) and level.
 * Every module logs through these functions; nothing else writes diagnostics.
 * log_warn()/log_err() append strerror(errno); the *x variants do not.
 * fatal()/fatalx() log and exit(1); log_abort() logs and abort()s (internal
 * inconsistency). Thread-safe: each call emits one line with one write.
 */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdarg.h>
#include <syslog.h>

enum log_dest {
	LOG_DEST_STDERR,
	LOG_DEST_STDOUT,
	LOG_DEST_SYSLOG
};

#define DM_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Set destination, syslog ident/facility and the lowest priority logged
 * (LOG_DEBUG .. LOG_ERR). May be called again to switch. */
void log_init(enum log_dest dest, const char *ident, int facility, int level);
/* Lowest priority currently logged. */
int log_level(void);
/* Change only the level. */
void log_set_level(int level);

void log_msg(int prio, const char *fmt, ...) DM_PRINTF(2, 3);
void log_vmsg(int prio, const char *fmt, va_list ap) DM_PRINTF(2, 0);

#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warnx(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_errx(...)   log_msg(LOG_ERR, __VA_ARGS__)

void log_warn(const char *fmt, ...) DM_PRINTF(1, 2);
void log_err(const char *fmt, ...) DM_PRINTF(1, 2);
void fatal(const char *fmt, ...) DM_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) DM_PRINTF(1, 2) __attribute__((noreturn));
void log_abort(const char *fmt, ...) DM_PRINTF(1, 2) __attribute__((noreturn));

#endif
