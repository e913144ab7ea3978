/*
 * ctld.h: the control socket (`danemilter ctl`): a small line server on
 * the engine's ivykis loop that answers the requests of
 * control/ctlproto.h from the running daemon's verdict cache.
 *
 *   query DOMAIN   the verdict the cache holds, or resolves now through
 *                  it (cache_get: the reply Postfix gets, its age and TTL)
 *   dump [json]    every verdict the cache would answer now, sorted
 *   purge ...      cache_purge / cache_purge_all (verdicts only)
 *   reload         the daemon's reload callback, its outcome as the reply
 *   stats          the cache's and the policy store's counters, the
 *                  generation, then the daemon's own lines
 *
 * One request per connection: the request line is read (at most
 * CTLPROTO_REQUEST_MAX bytes), answered, and the connection closed. A
 * connection not done within CTLD_TIMEOUT_MS (a query waits for its
 * resolution) is closed; past CTLD_MAX_CONNECTIONS a new one is closed at
 * once (common/listener.h). Every request is logged at info level.
 *
 * Ownership: the cache and the generation are the caller's and outlive
 * the server; ctld_new() copies the endpoint. The server owns its
 * listener (and the unix socket file it created) and its connections
 * until ctld_free(). Everything runs on the loop thread of ctld_new().
 */
#ifndef DM_CTLD_H
#define DM_CTLD_H

#include "common/sbuf.h"
#include "policy/cache.h"
#include "policy/generation.h"

#define CTLD_TIMEOUT_MS         60000
#define CTLD_MAX_CONNECTIONS    16

struct ctld;

struct ctld_ops {
	/* Reload the configuration now: 0 with a malloc'ed *msg saying
	 * what was loaded, or -1 with a malloc'ed *msg saying why not
	 * (FILE:LINE: ...; the running configuration stays). */
	int (*co_reload)(void *arg, char **msg);
	/* Append the daemon's own "name value" lines to sb. */
	void (*co_stats)(void *arg, struct sbuf *sb);
	void *co_arg;
};

/*
 * Listen on endpoint ("unix:/path", born with unix_mode; or
 * "inet:HOST:PORT"), or on fd when fd >= 0 (a socket passed by systemd,
 * taken over: closed by ctld_free, or at once on failure; endpoint then
 * only names it in messages). NULL with a malloc'ed *errp
 * ("control: ENDPOINT: ...") when it cannot listen.
 */
struct ctld *ctld_new(const char *endpoint, unsigned unix_mode, int fd, struct cache *c,
    struct generation *g, const struct ctld_ops *ops, char **errp);
/* Close the listener and every connection (pending queries dropped).
 * NULL is ignored. */
void ctld_free(struct ctld *cd);

#endif
