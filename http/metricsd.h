/*
 * metricsd.h: the Prometheus metrics endpoint: a tiny HTTP/1.0-1.1 server
 * on the engine's ivykis loop that answers GET /metrics with
 * metrics_render() (common/metrics.h) plus the verdict cache's numbers.
 *
 * Why policy/: it reads cache_stats() (policy/cache.h) at scrape time, on
 * the engine thread that owns the cache, so it cannot live in common/;
 * milter/ is for libmilter code only. It is a listener of the engine like
 * the socketmap server next to it.
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
 * Ownership: metricsd_new() keeps the cache pointer (the caller's, which
 * must outlive the server) and copies what it needs from the cfg.
 * Everything runs on the loop thread that called metricsd_new().
 */
#ifndef DM_METRICSD_H
#define DM_METRICSD_H

#include "policy/cache.h"
#include "config/cfg.h"

#define METRICSD_REQUEST_MAX    8192

struct metricsd;

/*
 * Listen on cfg->c_metrics.cmt_listen (which must not be ""). NULL with a
 * malloc'ed *errp ("metrics: ENDPOINT: ...") when it cannot be opened.
 */
struct metricsd *metricsd_new(const struct cfg *cfg, struct cache *c, char **errp);
/* Close the listeners and every connection. NULL is ignored. */
void metricsd_free(struct metricsd *md);

#endif
