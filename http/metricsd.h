/*
 * metricsd.h: the Prometheus metrics endpoint: a tiny HTTP/1.0-1.1 server
 * on the engine's ivykis loop that answers GET /metrics with
 * metrics_render() (common/metrics.h): the families the daemon registered,
 * rendered on this loop thread (the verdict cache's numbers are read from
 * the cache there, by the callbacks of policy/cache.c).
 *
 * A listener of the engine like the socketmap server: it must run on the
 * engine thread, which owns the cache and registers the families, so it
 * is not common/'s; milter/ is for libmilter code only.
 *
 * One request per connection, then "Connection: close":
 *   GET or HEAD /metrics (a query string is ignored) -> 200,
 *       Content-Type: text/plain; version=0.0.4; charset=utf-8
 *   another path -> 404; another method -> 405 (Allow: GET, HEAD);
 *   a request line that is not "METHOD /target HTTP/1.x" -> 400.
 * Request headers are read up to the empty line and ignored. A request
 * head larger than METRICSD_REQUEST_MAX bytes, or a connection not done
 * (request read, reply sent, client gone) within cmt_timeout_ms, is
 * closed without more ado; past cmt_max_connections a new connection is
 * closed at once.
 *
 * Ownership: metricsd_new() copies what it needs from the cfg.
 * Everything runs on the loop thread that called metricsd_new().
 */
#ifndef DM_METRICSD_H
#define DM_METRICSD_H

#include "config/cfg.h"

#define METRICSD_REQUEST_MAX    8192

struct metricsd;

/*
 * Listen on cfg->c_metrics.cmt_listen (which must not be ""), or accept
 * on fd when fd >= 0 (a socket passed by systemd, taken over). NULL with a
 * malloc'ed *errp ("metrics: ENDPOINT: ...") when it cannot be opened.
 */
struct metricsd *metricsd_new(const struct cfg *cfg, int fd, char **errp);
/* Close the listeners and every connection. NULL is ignored. */
void metricsd_free(struct metricsd *md);

#endif
