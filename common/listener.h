/*
 * listener.h: a server's listening sockets on the ivykis loop.
 *
 * Shared by the daemon's servers (the socketmap policy server, the metrics
 * endpoint). A struct listener holds the sockets of one server, opened from
 * endpoint strings with endpoint_listen() (common/endpoint.h), accepts on
 * them and hands each new connection (non-blocking, close-on-exec) to the
 * server's callback. It keeps the server's connection limit: a connection
 * accepted while lim connections are open first asks the server to make
 * room (listener_set_room: e.g. close its longest idle connection); when
 * it cannot, the new one is closed at once and counted as refused. The
 * server reports each connection it closes with listener_closed(). When accept() fails for another reason than a client
 * that left (lack of descriptors or memory), accepting pauses on every
 * socket for LISTENER_PAUSE_MS instead of spinning on the level-triggered
 * socket.
 *
 * DIAGNOSTICS
 *	"WHAT: ENDPOINT: accept, pausing for 100 ms: <strerror>" and
 *	"WHAT: ENDPOINT: N connections open, refused M" and "WHAT: ENDPOINT:
 *	N connections open, closed M idle ones to make room" as warnings, each
 *	at most once per LISTENER_WARN_INTERVAL seconds (M counts the refusals,
 *	or the connections closed for room, since the last such warning). Errors of listener_open() come from
 *	endpoint_listen(): "WHAT: ENDPOINT: ...".
 *
 * Ownership: the listener copies what and the endpoint strings; it owns
 * its sockets (and the unix socket files it created) until listener_free().
 * An accepted fd belongs to the callback from the moment it is called.
 * Everything runs on the loop thread that called listener_new().
 */
#ifndef DM_LISTENER_H
#define DM_LISTENER_H

#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>

#define LISTENER_PAUSE_MS       100     /* accepting paused after an accept error */
#define LISTENER_WARN_INTERVAL  10      /* seconds between repeated warnings */

struct listener;

/*
 * A new connection fd on endpoint (the string as given to listener_open());
 * peer->ss_family is AF_INET, AF_INET6 or AF_UNIX. It counts as open until
 * listener_closed().
 */
typedef void listener_accept_fn(void *arg, int fd, const struct sockaddr_storage *peer,
    const char *endpoint);

/*
 * A listener without sockets yet, for the server what ("socketmap",
 * "metrics": the first word of its messages), allowing max_conns open
 * connections, calling on_accept(arg, ...) for each new one.
 */
struct listener *listener_new(const char *what, unsigned max_conns,
    listener_accept_fn *on_accept, void *arg);

/*
 * Listen on endpoint too (unix sockets get unix_mode). The number of
 * sockets added (>= 1), or -1 with a malloc'ed *errp naming what and
 * endpoint (nothing added then).
 */
int listener_open(struct listener *l, const char *endpoint, unsigned unix_mode,
    char **errp);

/*
 * Accept on fd too: a listening stream socket opened by somebody else
 * (systemd's socket activation), named endpoint in messages. It is made
 * non-blocking and close-on-exec; listener_free() closes it but never
 * removes a socket file. 1, or -1 with a malloc'ed *errp ("WHAT:
 * ENDPOINT: ...") when fd is not a listening stream socket (fd is then
 * left open).
 */
int listener_adopt(struct listener *l, const char *endpoint, int fd, char **errp);

/*
 * Called when a connection arrives while max_conns are open: close one of
 * the server's connections (reporting it with listener_closed()) to make
 * room, and return true; false refuses the new connection instead.
 */
typedef bool listener_room_fn(void *arg);

/* Set (or clear, with NULL) l's room function; it gets the accept arg. */
void listener_set_room(struct listener *l, listener_room_fn *fn);

/* A connection handed to the callback is closed. */
void listener_closed(struct listener *l);
/* Connections open now; connections refused over the limit in all. */
unsigned listener_open_conns(const struct listener *l);
unsigned long listener_refused(const struct listener *l);

/* Close every socket (removing unix socket files created here) and free l.
 * Connections already handed out are the server's. NULL is ignored. */
void listener_free(struct listener *l);

/* *ts = iv_now + ms: a deadline for an iv_timer. */
void listener_after_ms(struct timespec *ts, unsigned ms);

#endif
