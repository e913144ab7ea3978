/*
 * socketmap.h: the Postfix socketmap server (socketmap_table(5)) on the
 * engine's ivykis loop.
 *
 * Listens on inet: ("inet:HOST:PORT", HOST an address, [IPv6] or a name)
 * and unix: endpoints (opened by common/endpoint.h), keeps many persistent client
 * connections, reads one netstring request "NAME KEY" at a time per
 * connection (query <= SOCKETMAP_QUERY_MAX bytes) and hands it to the
 * lookup function; the answer comes back, now or later, through
 * socketmap_reply(), and is written as one netstring (<= SOCKETMAP_REPLY_MAX).
 * A connection reads its next request only after the previous reply is
 * written, so each client costs bounded memory. Malformed frames close the
 * connection; an unknown request name or a key with bad bytes is answered
 * "PERM ..." by this module itself. Idle, half-sent and unread connections
 * are dropped after their time bounds. At the connection limit a new client
 * closes the connection idle the longest; with none idle it is refused.
 *
 * Ownership: struct socketmap_req is the module's; it stays valid until
 * socketmap_reply() or until the module calls cancel (the client went
 * away) — after cancel the lookup must not reply.
 */
#ifndef DM_SOCKETMAP_H
#define DM_SOCKETMAP_H

#include <stddef.h>

#define SOCKETMAP_QUERY_MAX     10000
#define SOCKETMAP_REPLY_MAX     100000

struct socketmap;
struct socketmap_req;

struct socketmap_request_view {
	const char *rv_name;    /* "QUERY", "QUERYwithTLSRPT" or "JSON" (only these reach the lookup) */
	const char *rv_key;     /* as sent: no controls, spaces or DEL (UTF-8 may occur), 1..1000 bytes */
	void *rv_token;         /* lookup's own field, for cancel (starts NULL) */
};

struct socketmap_ops {
	/* Answer req->view with socketmap_reply(), now or later. */
	void (*so_lookup)(void *arg, struct socketmap_req *req, struct socketmap_request_view *view);
	/* The client went away before the reply: forget req. */
	void (*so_cancel)(void *arg, struct socketmap_req *req, struct socketmap_request_view *view);
	void *so_arg;
};

struct socketmap_limits {
	unsigned sl_max_connections;    /* default 1000 */
	unsigned sl_idle_timeout_ms;    /* no request started: default 300000 */
	unsigned sl_io_timeout_ms;      /* half a request, or an unread reply: default 10000 */
	unsigned sl_unix_mode;          /* unix: socket permissions, default 0666 */
};

/*
 * Listen on each endpoint: "inet:HOST:PORT" (IPv4 or [IPv6]) or
 * "unix:/path" (an existing socket file is replaced). NULL with a
 * malloc'ed *errp naming the endpoint when one cannot be opened.
 */
struct socketmap *socketmap_new(const char *const *listen, size_t nlisten,
    const struct socketmap_limits *lim, const struct socketmap_ops *ops, char **errp);
/*
 * The same on listening sockets opened by somebody else (systemd's socket
 * activation, common/listener.h listener_adopt): the server owns them from
 * now on (closed by socketmap_free, even when NULL is returned).
 */
struct socketmap *socketmap_new_fds(const int *fds, size_t nfds,
    const struct socketmap_limits *lim, const struct socketmap_ops *ops, char **errp);
/* Close listeners and connections (cancel called for pending requests). */
void socketmap_free(struct socketmap *sm);

/* The whole reply payload: "OK data", "NOTFOUND ", "TEMP reason", "PERM reason". */
void socketmap_reply(struct socketmap_req *req, const char *reply, size_t len);

/* Counters for metrics and tests. */
struct socketmap_stats {
	unsigned long ss_connections;   /* accepted in all */
	unsigned ss_open;               /* open now */
	unsigned long ss_requests;
	unsigned long ss_dropped;       /* closed for a framing error or a time bound */
	unsigned long ss_refused;       /* over the connection limit */
	unsigned long ss_room;          /* idle ones closed for a new client at the limit */
};
void socketmap_stats(const struct socketmap *sm, struct socketmap_stats *out);

/*
 * Put danemilter_socketmap_requests_total{reply} in the render list of
 * common/metrics.h (a second call changes nothing); the replies of every
 * server are counted, registered or not.
 */
void socketmap_metrics_register(void);

#endif
