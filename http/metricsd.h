/*
 * metricsd.h: the Prometheus metrics endpoint: libmicrohttpd driven by
 * the engine's ivykis loop, answering GET /metrics with metrics_render()
 * (common/metrics.h): the families the daemon registered, rendered on
 * this loop thread (the verdict cache's numbers are read from the cache
 * there, by the callbacks of policy/cache.c).
 *
 * A listener of the engine like the socketmap server: it must run on the
 * engine thread, which owns the cache and registers the families, so it
 * is not common/'s; milter/ is for libmilter code only.
 *
 * One request per connection, then "Connection: close":
 *   GET or HEAD /metrics (a query string is ignored) -> 200,
 *       Content-Type: text/plain; version=0.0.4; charset=utf-8
 *   another path -> 404; another method -> 405 (Allow: GET, HEAD);
 *   what libmicrohttpd cannot read as an HTTP/1.x request (a malformed
 *   header line) -> 400, or nothing when it cannot even find a request
 *   line in it ("BLAH"); another version than HTTP/1.x -> 505; a request
 *   head over the connection's memory (METRICSD_CONN_MEMORY: 7.8 KiB
 *   passes, over 8 KiB never; a few heads close to it libmicrohttpd
 *   0.9.75 stops reading and never answers: the deadline ends them)
 *   -> 431; all of them then closed. (libmicrohttpd 0.9.75 serves an
 *   HTTP/1.1 request without Host, as this endpoint always did.)
 * A connection not done (request read, reply sent) within
 * cmt_timeout_ms of its accept is closed; past cmt_max_connections a new
 * connection is closed at once (common/listener.h accepts and keeps the
 * limit).
 *
 * Ownership: metricsd_new() copies what it needs from the cfg.
 * Everything runs on the loop thread that called metricsd_new().
 */
#ifndef DM_METRICSD_H
#define DM_METRICSD_H

#include <sys/socket.h>

#include "config/cfg.h"

/* MHD_OPTION_CONNECTION_MEMORY_LIMIT: the request head's bound (http/httpd.h). */
#define METRICSD_CONN_MEMORY    8192

struct metricsd;

/*
 * Listen on cfg->c_metrics.cmt_listen (which must not be ""), or accept
 * on fd when fd >= 0 (a socket passed by systemd, taken over). NULL with a
 * malloc'ed *errp ("metrics: ENDPOINT: ...") when it cannot be opened.
 * The sockets are bound now (before privileges are dropped); no thread
 * is started.
 */
struct metricsd *metricsd_new(const struct cfg *cfg, int fd, char **errp);

/*
 * A server without listening sockets, with cm's bounds (its listen is
 * not looked at): connections come from metricsd_connection() only.
 * For fuzz/http_fuzz.c, which hands it one end of a socketpair per input.
 */
struct metricsd *metricsd_new_bare(const struct cfg_metrics *cm);

/*
 * Serve the connected stream socket fd (taken over: closed when done, or
 * at once when it cannot be served), from peer (AF_INET, AF_INET6 or
 * AF_UNIX).
 */
void metricsd_connection(struct metricsd *md, int fd, const struct sockaddr_storage *peer);

/* Connections open now (from libmicrohttpd's start of one to its end). */
unsigned metricsd_connections(const struct metricsd *md);

/* Close the listeners and every connection. NULL is ignored. */
void metricsd_free(struct metricsd *md);

#endif
