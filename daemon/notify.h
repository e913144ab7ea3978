/*
 * notify.h: the daemon's messages to its service manager (sd_notify(3),
 * libsystemd): READY=1 once every listener is bound and the cache
 * loaded, RELOADING=1 and READY=1 around a reload, STOPPING=1 when it
 * starts stopping, and a STATUS= line with each (cache entries, the last
 * reload's outcome).
 *
 * Without $NOTIFY_SOCKET (not started by systemd as Type=notify) every
 * call does nothing. A message that cannot be sent is logged once at
 * debug level; it never stops the daemon. Owns nothing; main thread only.
 */
#ifndef DM_NOTIFY_H
#define DM_NOTIFY_H

/* "READY=1" with "STATUS=status". */
void notify_ready(const char *status);
/* "RELOADING=1" with the current CLOCK_MONOTONIC as MONOTONIC_USEC=. */
void notify_reloading(void);
/* "STOPPING=1" with "STATUS=status". */
void notify_stopping(const char *status);

#endif
