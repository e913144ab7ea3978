/*
 * monitorsched.h: the daemon's scheduled monitor: the checks of
 * `danemilter monitor` (policy/monitor.h) over the configuration's
 * monitor.domains, round after round on the engine's loop, each change of
 * a check's state logged and every state exported as a metric.
 *
 * A round runs the domains one after the other (one monitor run at a
 * time: its DNS, HTTPS and probes are bounded by dns.timeout_ms,
 * mta_sts.timeout_ms and probe.timeout_ms, and nothing waits on the loop,
 * so the socketmap and the milter are served meanwhile); the next round
 * starts monitor.interval_s after the end of the last one. The first
 * round starts at monitorsched_start(). Each round reads the
 * configuration and engine in force (policy/generation.h) when it starts:
 * a reload changes the domains, their cert_files, expiry_warn_days and
 * the interval from the next round on.
 *
 * Log: one line per change of a check's state (the first round counts as
 * one): "monitor: DOMAIN: CHECK STATE: detail", at warning for fail and
 * error, notice otherwise.
 *
 * Metrics (monitorsched_metrics_register()):
 *   danemilter_monitor_check{domain,check}: 1 pass, 0.5 warn, 0 fail,
 *     -1 error (could not be checked), after a domain's first run;
 *   danemilter_monitor_last_run_timestamp_seconds{domain}: when its last
 *     run ended (Unix time).
 * Domains taken out of the configuration leave both at the next round.
 *
 * Ownership: the scheduler belongs to the daemon, which frees it with
 * monitorsched_free() (a run in flight is cancelled; the metrics are
 * unregistered) before the generation. Loop thread only.
 */
#ifndef DM_MONITORSCHED_H
#define DM_MONITORSCHED_H

#include "policy/generation.h"

struct monitorsched;

/* A scheduler for g's monitor configuration; nothing runs before
 * monitorsched_start(). g outlives it. */
struct monitorsched *monitorsched_new(struct generation *g);
/* Arm the first round (at once). */
void monitorsched_start(struct monitorsched *ms);
void monitorsched_free(struct monitorsched *ms);

/* Put the two families above in the render list of common/metrics.h,
 * bound to ms (a later call binds them to another scheduler); they show
 * only once a domain has been run. */
void monitorsched_metrics_register(struct monitorsched *ms);

#endif
