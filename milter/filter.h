/*
 * filter.h: the libmilter filter: per-connection and per-message state,
 * macros, the X-DANE-* headers, enforcement and the summary line.
 *
 * libmilter is a process-wide singleton, so the filter is too. The daemon
 * (engine thread) sets it up and binds its socket with filter_open(), runs
 * it on a thread of its own with filter_run() (smfi_main; SIGHUP, SIGTERM
 * and SIGINT are blocked there and in every thread libmilter creates, so
 * the engine thread gets them) and stops it with filter_stop(). There is
 * no reload call: a new connection takes the configuration of the
 * generation in force (policy/generation.h) and keeps it until it closes. libmilter's worker threads ask
 * the engine for verdicts through the gate (milter/ask.h) and wait for
 * them with bounds only.
 *
 * Each connection holds its own reference on its cfg; the generation and
 * the gate belong to the daemon, which may close the gate (late asks then
 * fail) and must free neither while filter_connections() > 0.
 *
 * Implemented by milter/lifecycle.c (the functions below) and
 * milter/filter.c (libmilter's callbacks, and the milter's metric
 * families: filter_metrics_register()).
 */
#ifndef DM_FILTER_H
#define DM_FILTER_H

#include <stdbool.h>

#include "common/gate.h"
#include "config/cfg.h"
#include "policy/generation.h"
#include "policy/havedane.h"

/*
 * Engine thread, once, before filter_run(): register with libmilter and
 * bind the milter.socket of gen's configuration (a unix socket is given
 * milter.mode and owned by uid/gid when they are not -1: the caller
 * resolves milter.owner and milter.group), or, when fd >= 0, accept on fd instead
 * (a listening socket passed by systemd, taken over). 0, or -1 with a
 * malloc'ed *errp.
 */
int filter_open(struct generation *gen, struct gate *g, int uid, int gid, int fd,
    char **errp);
/*
 * Start smfi_main() on its own thread. When it returns (after
 * filter_stop(), or because libmilter stopped by itself), ended(arg) is
 * called from that thread. 0, or -1 with *errp.
 */
int filter_run(void (*ended)(void *), void *arg, char **errp);
/*
 * Any thread: begin shutting down. Messages in progress go on; a new
 * connection or a new MAIL FROM gets a temporary failure (451 4.3.2).
 * libmilter stops serving every connection at smfi_stop(), so the daemon
 * drains first and calls filter_stop() last.
 */
void filter_drain(void);
/* Engine thread: stop accepting connections (smfi_stop, on a thread of
 * its own: it can wait seconds for libmilter's listener). */
void filter_stop(void);
/* Engine thread, while stopping: wake libmilter's listener so that it
 * sees the stop now rather than at the end of its poll. */
void filter_poke(void);
/* Wait (bounded) for the smfi_main thread to end, poking it; true when it did. */
bool filter_join(unsigned timeout_ms);
/* Open milter connections / messages between MAIL FROM and their end. */
int filter_connections(void);
int filter_messages(void);
/* Engine thread, at exit, before the daemon frees the generation: a
 * connection that opens from now on gets no configuration (and is left
 * alone); open ones keep theirs. */
void filter_forget_generation(void);
/*
 * Any thread: recipients at hd's test addresses are HaveDane's (milter/
 * hdmilter.h) from now on; NULL: none are. hd stays the caller's: it must
 * live until filter_join() (or set NULL and no message open).
 */
void filter_set_havedane(struct havedane *hd);
/* Forget the generation, free the socket spec (only when
 * filter_connections() == 0). */
void filter_free(void);

/*
 * Put danemilter_milter_messages_total{action} and
 * danemilter_milter_rcpt_refused_total{code} in the render list of
 * common/metrics.h (a second call changes nothing). They are counted on
 * libmilter's threads, registered or not; registering needs no
 * filter_open(), so a daemon without milter shows them at zero. Call it
 * on the thread that renders (the engine's).
 */
void filter_metrics_register(void);

#endif
