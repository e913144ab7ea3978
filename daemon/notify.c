/*
 * notify.c: see notify.h.
 */
#include "notify.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "common/log.h"

static void
notify_send(const char *what, const char *status)
{
	static bool warned;
	int rc;

	if (status != NULL)
		rc = sd_notifyf(0, "%s\nSTATUS=%s", what, status);
	else
		rc = sd_notify(0, what);
	if (rc < 0 && !warned) {
		warned = true;
		log_debug("sd_notify %s: %s", what, strerror(-rc));
	}
}

void
notify_ready(const char *status)
{
	notify_send("READY=1", status);
}

void
notify_reloading(void)
{
	struct timespec ts;
	char msg[64];
	unsigned long long usec;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	usec = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
	(void)snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
	notify_send(msg, NULL);
}

void
notify_stopping(const char *status)
{
	notify_send("STOPPING=1", status);
}
