/*
 * socketmap.c: see socketmap.h.
 *
 * PROTOCOL (socketmap_table(5); the client is Postfix src/util/dict_sockmap.c)
 *	Each message is one netstring, "<length>:<bytes>,", no line ends.
 *	Request: "NAME KEY": NAME is QUERY, QUERYwithTLSRPT or JSON, one space,
 *	KEY 1..1000 bytes without control characters, spaces or DEL (UTF-8
 *	bytes pass: the lookup answers them, as PERM would make Postfix defer).
 *	Reply: "OK data", "NOTFOUND ", "TEMP reason" or "PERM reason", at most
 *	SOCKETMAP_REPLY_MAX bytes (Postfix refuses longer ones). Postfix keeps
 *	one connection per smtp(8) process with one request outstanding, waits
 *	up to 100 s for a reply, closes the connection after 10 s idle or 100 s
 *	of age, and reconnects once on EOF.
 *
 *	Answered here without the lookup: an unknown NAME ("PERM unknown
 *	request name"), a bad KEY ("PERM invalid key"), a reply from the lookup
 *	that is too long ("TEMP reply too long", logged as an error). A frame
 *	that is not a netstring, announces more than SOCKETMAP_QUERY_MAX bytes
 *	or lacks its comma closes the connection.
 * CONNECTION STATES
 *	IDLE	no byte of the next request yet; deadline sl_idle_timeout_ms.
 *	READING	part of a frame; deadline sl_io_timeout_ms from its first
 *		byte (a trickling client does not extend it).
 *	LOOKUP	so_lookup has the request; no deadline (the lookup bounds
 *		itself). Reading continues into the free part of the fixed input
 *		buffer, without parsing, only so that a client that leaves is
 *		noticed (EOF) and so_cancel runs; a full buffer stops reading.
 *	WRITING	the socket did not take the whole reply; reading stops;
 *		deadline sl_io_timeout_ms from the first short write.
 *	Requests already buffered (pipelined) are served one after another as
 *	each reply is written. socketmap_reply() never calls so_lookup itself:
 *	after a later reply, a request buffered behind it is taken up from an
 *	iv_task, so a lookup module can answer many waiters in a loop without
 *	being re-entered.
 * PERFORMANCE
 *	Per connection one allocation holds the state, the input buffer (one
 *	request frame plus slack), the current key and a small output buffer;
 *	a reply too large for that gets a SOCKETMAP_REPLY_MAX buffer allocated
 *	once and kept for the connection's life. Per request: one read(), the
 *	lookup, one send(). Deadlines are lazy: moving a deadline later only
 *	updates a field, and the timer re-arms itself when it fires early.
 * METRICS
 *	Every reply, the module's own PERM and TEMP ones included, counts in
 *	danemilter_socketmap_requests_total{reply} by its first word (the
 *	family is defined here, rendered by common/metrics.h once
 *	socketmap_metrics_register() has run).
 * DIAGNOSTICS
 *	Warnings (with the peer) for framing errors, time bounds, resets and
 *	accept trouble; accept and refusal warnings are rate limited
 *	(common/listener.h, which accepts and keeps the connection limit). Nothing
 *	is logged per request above debug level. Replying to a request that is
 *	not pending aborts (internal inconsistency).
 *
 * Everything runs on the loop thread that called socketmap_new();
 * socketmap_free() must not be called from inside so_lookup or so_cancel.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* SO_PEERCRED */
#endif
#include "socketmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <iv.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "common/listener.h"
#include "common/deadline.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/netstring.h"
#include "common/xmalloc.h"

#define SM_FRAME_OVERHEAD       12      /* up to 10 length digits, ':' and ',' */
#define SM_INBUF                (SOCKETMAP_QUERY_MAX + SM_FRAME_OVERHEAD)
#define SM_OUT_INLINE           4096    /* most replies are far shorter */
#define SM_OUT_BIG              (SOCKETMAP_REPLY_MAX + SM_FRAME_OVERHEAD)
#define SM_KEY_MAX              1000
#define SM_PEER_MAX             160

#define SM_DEF_MAX_CONNECTIONS  1000
#define SM_DEF_IDLE_MS          300000
#define SM_DEF_IO_MS            10000
#define SM_DEF_UNIX_MODE        0666

static const char sm_perm_name[] = "PERM unknown request name";
static const char sm_perm_key[] = "PERM invalid key";
static const char sm_temp_long[] = "TEMP reply too long";

static const struct {
	const char *rn_name;
	size_t rn_len;
} sm_names[] = {
	{ "QUERY", 5 },
	{ "QUERYwithTLSRPT", 15 },
	{ "JSON", 4 },
};

enum sm_state {
	SM_IDLE,
	SM_READING,
	SM_LOOKUP,
	SM_WRITING
};

struct socketmap_req {
	struct socketmap_request_view rq_view;
};

struct sm_conn {
	struct socketmap *sc_sm;
	struct sm_conn *sc_prev, *sc_next;
	struct iv_fd sc_fd;
	struct iv_timer sc_timer;       /* fires at or before sc_deadline */
	struct iv_task sc_task;         /* serves pipelined requests after a late reply */
	struct timespec sc_deadline;
	bool sc_has_deadline;
	enum sm_state sc_state;
	bool sc_reading;                /* handler_in installed */
	bool sc_write_blocked;          /* handler_out installed */
	bool sc_calling;                /* inside so_lookup */
	size_t sc_inoff, sc_inlen;      /* unparsed input: sc_in[sc_inoff..sc_inlen) */
	char *sc_out;                   /* sc_out_inline or sc_out_big */
	size_t sc_outoff, sc_outlen;
	char *sc_out_big;               /* allocated on the first long reply */
	struct socketmap_req sc_req;
	char sc_peer[SM_PEER_MAX];
	char sc_key[SM_KEY_MAX + 1];
	char sc_in[SM_INBUF];
	char sc_out_inline[SM_OUT_INLINE];
};

struct socketmap {
	struct socketmap_limits sm_lim;
	struct socketmap_ops sm_ops;
	struct listener *sm_listener;   /* accepts, keeps sl_max_connections */
	struct sm_conn *sm_conns;       /* open connections, doubly linked */
	struct socketmap_stats sm_stats; /* ss_open, ss_refused: sm_listener's */
};

static void sm_conn_readable(void *cookie);
static void sm_conn_writable(void *cookie);
static void sm_conn_process(struct sm_conn *c);

static struct sm_conn *
sm_conn_of(struct socketmap_req *req)
{
	return (struct sm_conn *)(void *)((char *)req - offsetof(struct sm_conn, sc_req));
}


/* ---- connections ---- */

static void
sm_conn_close(struct sm_conn *c)
{
	struct socketmap *sm = c->sc_sm;

	if (c->sc_calling)
		log_abort("socketmap: %s: connection closed inside its own lookup", c->sc_peer);
	if (c->sc_state == SM_LOOKUP && sm->sm_ops.so_cancel != NULL)
		sm->sm_ops.so_cancel(sm->sm_ops.so_arg, &c->sc_req, &c->sc_req.rq_view);
	iv_fd_unregister(&c->sc_fd);
	close(c->sc_fd.fd);
	if (iv_timer_registered(&c->sc_timer))
		iv_timer_unregister(&c->sc_timer);
	if (iv_task_registered(&c->sc_task))
		iv_task_unregister(&c->sc_task);
	if (c->sc_prev != NULL)
		c->sc_prev->sc_next = c->sc_next;
	else
		sm->sm_conns = c->sc_next;
	if (c->sc_next != NULL)
		c->sc_next->sc_prev = c->sc_prev;
	listener_closed(sm->sm_listener);
	free(c->sc_out_big);
	free(c);
}

/* Close c for a protocol violation or a time bound. */
static void
sm_conn_drop(struct sm_conn *c)
{
	c->sc_sm->sm_stats.ss_dropped++;
	sm_conn_close(c);
}

/* Set the deadline ms from now. The timer moves only when it would fire
 * too late; firing too early just re-arms it (sm_conn_timeout). */
static void
sm_conn_deadline(struct sm_conn *c, unsigned ms)
{
	struct timespec t;

	listener_after_ms(&t, ms);
	c->sc_deadline = t;
	c->sc_has_deadline = true;
	if (iv_timer_registered(&c->sc_timer)) {
		if (!deadline_before(&t, &c->sc_timer.expires))
			return;
		iv_timer_unregister(&c->sc_timer);
	}
	c->sc_timer.expires = t;
	iv_timer_register(&c->sc_timer);
}

static void
sm_conn_timeout(void *cookie)
{
	struct sm_conn *c = cookie;
	const struct socketmap_limits *lim = &c->sc_sm->sm_lim;

	if (!c->sc_has_deadline)
		return;
	if (deadline_before(&iv_now, &c->sc_deadline)) {
		c->sc_timer.expires = c->sc_deadline;
		iv_timer_register(&c->sc_timer);
		return;
	}
	switch (c->sc_state) {
	case SM_IDLE:
		log_debug("socketmap: %s: idle for %u ms, closing", c->sc_peer,
		    lim->sl_idle_timeout_ms);
		break;
	case SM_READING:
		log_warnx("socketmap: %s: request incomplete after %u ms, closing",
		    c->sc_peer, lim->sl_io_timeout_ms);
		break;
	case SM_WRITING:
		log_warnx("socketmap: %s: reply not read within %u ms, closing",
		    c->sc_peer, lim->sl_io_timeout_ms);
		break;
	case SM_LOOKUP:
		log_abort("socketmap: %s: deadline while a lookup is pending", c->sc_peer);
	}
	sm_conn_drop(c);
}

static void
sm_conn_reading(struct sm_conn *c, bool on)
{
	if (c->sc_reading == on)
		return;
	iv_fd_set_handler_in(&c->sc_fd, on ? sm_conn_readable : NULL);
	c->sc_reading = on;
}

/* ---- metrics ---- */

/* socketmap_requests_total{reply}: by the reply's first word. */
enum socketmap_metric_reply {
	SOCKETMAP_M_OK,
	SOCKETMAP_M_NOTFOUND,
	SOCKETMAP_M_TEMP,
	SOCKETMAP_M_PERM
};
static const char *const socketmap_metric_replies[] = {
	[SOCKETMAP_M_OK] = "OK",
	[SOCKETMAP_M_NOTFOUND] = "NOTFOUND",
	[SOCKETMAP_M_TEMP] = "TEMP",
	[SOCKETMAP_M_PERM] = "PERM"
};

static struct metrics_family socketmap_requests_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_socketmap_requests_total",
	    "Socketmap (Postfix TLS policy) requests answered, by reply."),
	METRICS_LABEL1("reply", socketmap_metric_replies),
};

void
socketmap_metrics_register(void)
{
	metrics_register(&socketmap_requests_metric);
}

/* Frame reply as the connection's pending output (and count it). */
static void
sm_conn_set_reply(struct sm_conn *c, const char *reply, size_t len)
{
	size_t room = len + SM_FRAME_OVERHEAD;

	switch (len > 0 ? reply[0] : 'T') {
	case 'O': metrics_inc(&socketmap_requests_metric, SOCKETMAP_M_OK, 0); break;
	case 'N': metrics_inc(&socketmap_requests_metric, SOCKETMAP_M_NOTFOUND, 0); break;
	case 'P': metrics_inc(&socketmap_requests_metric, SOCKETMAP_M_PERM, 0); break;
	default: metrics_inc(&socketmap_requests_metric, SOCKETMAP_M_TEMP, 0); break;
	}

	if (room <= sizeof(c->sc_out_inline)) {
		c->sc_out = c->sc_out_inline;
	} else {
		if (c->sc_out_big == NULL)
			c->sc_out_big = xmalloc(SM_OUT_BIG);
		c->sc_out = c->sc_out_big;
	}
	c->sc_outlen = netstring_format(c->sc_out, room, reply, len);
	c->sc_outoff = 0;
	c->sc_state = SM_WRITING;
}

/*
 * Send what is left of the reply. True when all of it is written (state
 * IDLE); false when the socket is full (state WRITING, waiting for
 * handler_out) or the connection is gone.
 */
static bool
sm_conn_flush(struct sm_conn *c)
{
	ssize_t n;

	n = send(c->sc_fd.fd, c->sc_out + c->sc_outoff, c->sc_outlen - c->sc_outoff,
	    MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			log_warn("socketmap: %s: write", c->sc_peer);
			sm_conn_close(c);
			return false;
		}
		n = 0;
	}
	c->sc_outoff += (size_t)n;
	if (c->sc_outoff == c->sc_outlen) {
		c->sc_state = SM_IDLE;
		if (c->sc_write_blocked) {
			iv_fd_set_handler_out(&c->sc_fd, NULL);
			c->sc_write_blocked = false;
		}
		return true;
	}
	if (!c->sc_write_blocked) {
		sm_conn_reading(c, false);
		iv_fd_set_handler_out(&c->sc_fd, sm_conn_writable);
		c->sc_write_blocked = true;
		sm_conn_deadline(c, c->sc_sm->sm_lim.sl_io_timeout_ms);
	}
	return false;
}

static void
sm_conn_writable(void *cookie)
{
	struct sm_conn *c = cookie;

	if (sm_conn_flush(c))
		sm_conn_process(c);
}

static bool
sm_key_ok(const char *key, size_t len)
{
	size_t i;

	if (len == 0 || len > SM_KEY_MAX)
		return false;
	/* Control characters, spaces and DEL make no sense in a key; bytes
	 * >= 0x80 (an SMTPUTF8 domain) go to the lookup, which answers them:
	 * PERM would make Postfix defer the mail as a table problem. */
	for (i = 0; i < len; i++)
		if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] == 0x7f)
			return false;
	return true;
}

/* Answer the request p[0..plen) or hand it to the lookup: afterwards the
 * state is WRITING (reply ready) or LOOKUP (reply to come). */
static void
sm_conn_request(struct sm_conn *c, const char *p, size_t plen)
{
	struct socketmap *sm = c->sc_sm;
	struct socketmap_request_view *view = &c->sc_req.rq_view;
	const char *sp, *key, *name = NULL;
	size_t nlen, klen, i;

	sm->sm_stats.ss_requests++;
	sp = memchr(p, ' ', plen);
	nlen = sp != NULL ? (size_t)(sp - p) : plen;
	for (i = 0; i < sizeof(sm_names) / sizeof(sm_names[0]); i++) {
		if (nlen == sm_names[i].rn_len && memcmp(p, sm_names[i].rn_name, nlen) == 0) {
			name = sm_names[i].rn_name;
			break;
		}
	}
	if (name == NULL) {
		sm_conn_set_reply(c, sm_perm_name, sizeof(sm_perm_name) - 1);
		return;
	}
	key = sp != NULL ? sp + 1 : p + plen;
	klen = plen - (size_t)(key - p);
	if (!sm_key_ok(key, klen)) {
		sm_conn_set_reply(c, sm_perm_key, sizeof(sm_perm_key) - 1);
		return;
	}
	memcpy(c->sc_key, key, klen);
	c->sc_key[klen] = '\0';
	view->rv_name = name;
	view->rv_key = c->sc_key;
	view->rv_token = NULL;
	c->sc_state = SM_LOOKUP;
	c->sc_calling = true;
	sm->sm_ops.so_lookup(sm->sm_ops.so_arg, &c->sc_req, view);
	c->sc_calling = false;
}

/*
 * Serve the requests buffered on c until one waits for its lookup, a
 * reply waits for the socket, no whole frame is left, or c is closed.
 * Called in state IDLE or READING.
 */
static void
sm_conn_process(struct sm_conn *c)
{
	const struct socketmap_limits *lim = &c->sc_sm->sm_lim;
	enum netstring_status st;
	const char *p;
	size_t plen, used;

	for (;;) {
		st = netstring_parse(c->sc_in + c->sc_inoff, c->sc_inlen - c->sc_inoff,
		    SOCKETMAP_QUERY_MAX, &p, &plen, &used);
		if (st == NETSTRING_INCOMPLETE)
			break;
		if (st != NETSTRING_OK) {
			log_warnx("socketmap: %s: bad request frame (%s), closing",
			    c->sc_peer, netstring_status_text(st));
			sm_conn_drop(c);
			return;
		}
		c->sc_inoff += used;
		if (c->sc_inoff == c->sc_inlen)
			c->sc_inoff = c->sc_inlen = 0;
		sm_conn_request(c, p, plen);
		if (c->sc_state == SM_LOOKUP) {
			c->sc_has_deadline = false;
			sm_conn_reading(c, c->sc_inlen < sizeof(c->sc_in));
			return;
		}
		if (!sm_conn_flush(c))
			return;
	}
	if (c->sc_inoff == c->sc_inlen) {
		c->sc_state = SM_IDLE;
		sm_conn_deadline(c, lim->sl_idle_timeout_ms);
	} else if (c->sc_state != SM_READING) {
		c->sc_state = SM_READING;
		sm_conn_deadline(c, lim->sl_io_timeout_ms);
	}
	sm_conn_reading(c, true);
}

static void
sm_conn_task(void *cookie)
{
	sm_conn_process(cookie);
}

static void
sm_conn_readable(void *cookie)
{
	struct sm_conn *c = cookie;
	size_t room;
	ssize_t n;

	if (c->sc_inoff > 0) {
		memmove(c->sc_in, c->sc_in + c->sc_inoff, c->sc_inlen - c->sc_inoff);
		c->sc_inlen -= c->sc_inoff;
		c->sc_inoff = 0;
	}
	room = sizeof(c->sc_in) - c->sc_inlen;
	if (room == 0)
		log_abort("socketmap: %s: reading with a full input buffer", c->sc_peer);
	n = read(c->sc_fd.fd, c->sc_in + c->sc_inlen, room);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		log_warn("socketmap: %s: read", c->sc_peer);
		sm_conn_close(c);
		return;
	}
	if (n == 0) {
		if (c->sc_state == SM_LOOKUP)
			log_warnx("socketmap: %s: client closed the connection before the reply",
			    c->sc_peer);
		else if (c->sc_inlen > 0)
			log_warnx("socketmap: %s: client closed the connection inside a request",
			    c->sc_peer);
		sm_conn_close(c);
		return;
	}
	c->sc_inlen += (size_t)n;
	if (c->sc_state == SM_LOOKUP) {
		if (c->sc_inlen == sizeof(c->sc_in))
			sm_conn_reading(c, false);
		return;
	}
	sm_conn_process(c);
}

static void
sm_peer_name(struct sm_conn *c, const char *endpoint, const struct sockaddr_storage *ss)
{
	char addr[INET6_ADDRSTRLEN];

	switch (ss->ss_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(c->sc_peer, sizeof(c->sc_peer), "%s:%u", addr, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(c->sc_peer, sizeof(c->sc_peer), "[%s]:%u", addr, ntohs(sin6->sin6_port));
		break;
	}
	default: {
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (getsockopt(c->sc_fd.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
			snprintf(c->sc_peer, sizeof(c->sc_peer), "%.120s pid %ld",
			    endpoint, (long)cred.pid);
		else
			snprintf(c->sc_peer, sizeof(c->sc_peer), "%.120s", endpoint);
		break;
	}
	}
}

/*
 * listener_room_fn: max_connections are open and a client is waiting: close
 * the connection idle the longest (the earliest idle deadline), so that
 * idle connections, which cost nothing to reopen (Postfix's socketmap
 * client reconnects when it finds its connection closed), never lock a
 * new client out until socketmap.idle_timeout_ms. False when no
 * connection is idle (every one has a request in progress).
 */
static bool
sm_make_room(void *arg)
{
	struct socketmap *sm = arg;
	struct sm_conn *c, *oldest = NULL;

	for (c = sm->sm_conns; c != NULL; c = c->sc_next)
		if (c->sc_state == SM_IDLE && c->sc_inoff == c->sc_inlen && !c->sc_calling &&
		    !iv_task_registered(&c->sc_task) &&
		    (oldest == NULL || deadline_before(&c->sc_deadline, &oldest->sc_deadline)))
			oldest = c;
	if (oldest == NULL)
		return false;
	log_debug("socketmap: %s: closing the longest idle connection for a new client",
	    oldest->sc_peer);
	sm->sm_stats.ss_room++;
	sm_conn_close(oldest);
	return true;
}

/* listener_accept_fn: a new connection. */
static void
sm_conn_new(void *arg, int fd, const struct sockaddr_storage *ss, const char *endpoint)
{
	struct socketmap *sm = arg;
	struct sm_conn *c = xmalloc(sizeof(*c));
	int one = 1;

	c->sc_sm = sm;
	c->sc_prev = NULL;
	c->sc_next = sm->sm_conns;
	if (sm->sm_conns != NULL)
		sm->sm_conns->sc_prev = c;
	sm->sm_conns = c;
	c->sc_has_deadline = false;
	c->sc_state = SM_IDLE;
	c->sc_reading = true;
	c->sc_write_blocked = false;
	c->sc_calling = false;
	c->sc_inoff = c->sc_inlen = 0;
	c->sc_out = c->sc_out_inline;
	c->sc_outoff = c->sc_outlen = 0;
	c->sc_out_big = NULL;
	c->sc_req.rq_view.rv_name = NULL;
	c->sc_req.rq_view.rv_key = NULL;
	c->sc_req.rq_view.rv_token = NULL;
	c->sc_key[0] = '\0';
	IV_FD_INIT(&c->sc_fd);
	c->sc_fd.fd = fd;
	c->sc_fd.cookie = c;
	c->sc_fd.handler_in = sm_conn_readable;
	sm_peer_name(c, endpoint, ss);
	if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	iv_fd_register(&c->sc_fd);
	IV_TIMER_INIT(&c->sc_timer);
	c->sc_timer.cookie = c;
	c->sc_timer.handler = sm_conn_timeout;
	IV_TASK_INIT(&c->sc_task);
	c->sc_task.cookie = c;
	c->sc_task.handler = sm_conn_task;
	sm->sm_stats.ss_connections++;
	sm_conn_deadline(c, sm->sm_lim.sl_idle_timeout_ms);
}

/* ---- public ---- */

/* A server without sockets yet. */
static struct socketmap *
socketmap_alloc(const struct socketmap_limits *lim, const struct socketmap_ops *ops)
{
	struct socketmap *sm;

	if (ops == NULL || ops->so_lookup == NULL)
		log_abort("socketmap_new: no lookup function");
	sm = xcalloc(1, sizeof(*sm));
	sm->sm_lim.sl_max_connections = lim && lim->sl_max_connections ?
	    lim->sl_max_connections : SM_DEF_MAX_CONNECTIONS;
	sm->sm_lim.sl_idle_timeout_ms = lim && lim->sl_idle_timeout_ms ?
	    lim->sl_idle_timeout_ms : SM_DEF_IDLE_MS;
	sm->sm_lim.sl_io_timeout_ms = lim && lim->sl_io_timeout_ms ?
	    lim->sl_io_timeout_ms : SM_DEF_IO_MS;
	sm->sm_lim.sl_unix_mode = lim && lim->sl_unix_mode ?
	    lim->sl_unix_mode & 07777 : SM_DEF_UNIX_MODE;
	sm->sm_ops = *ops;
	sm->sm_listener = listener_new("socketmap", sm->sm_lim.sl_max_connections,
	    sm_conn_new, sm);
	listener_set_room(sm->sm_listener, sm_make_room);
	return sm;
}

struct socketmap *
socketmap_new(const char *const *listen_on, size_t nlisten,
    const struct socketmap_limits *lim, const struct socketmap_ops *ops, char **errp)
{
	struct socketmap *sm;
	size_t i;

	*errp = NULL;
	if (nlisten == 0) {
		*errp = xstrdup("socketmap: no endpoint to listen on");
		return NULL;
	}
	sm = socketmap_alloc(lim, ops);
	for (i = 0; i < nlisten; i++) {
		if (listener_open(sm->sm_listener, listen_on[i], sm->sm_lim.sl_unix_mode,
		    errp) < 0) {
			socketmap_free(sm);
			return NULL;
		}
	}
	return sm;
}

struct socketmap *
socketmap_new_fds(const int *fds, size_t nfds, const struct socketmap_limits *lim,
    const struct socketmap_ops *ops, char **errp)
{
	struct socketmap *sm;
	char name[64];
	size_t i;

	*errp = NULL;
	if (nfds == 0) {
		*errp = xstrdup("socketmap: no socket to accept on");
		return NULL;
	}
	sm = socketmap_alloc(lim, ops);
	for (i = 0; i < nfds; i++) {
		snprintf(name, sizeof(name), "systemd:fd%d", fds[i]);
		if (listener_adopt(sm->sm_listener, name, fds[i], errp) < 0) {
			for (; i < nfds; i++)
				close(fds[i]);
			socketmap_free(sm);
			return NULL;
		}
	}
	return sm;
}

void
socketmap_free(struct socketmap *sm)
{
	if (sm == NULL)
		return;
	while (sm->sm_conns != NULL)
		sm_conn_close(sm->sm_conns);
	listener_free(sm->sm_listener);
	free(sm);
}

void
socketmap_reply(struct socketmap_req *req, const char *reply, size_t len)
{
	struct sm_conn *c = sm_conn_of(req);

	if (c->sc_state != SM_LOOKUP)
		log_abort("socketmap_reply: %s: no request pending", c->sc_peer);
	if (len > SOCKETMAP_REPLY_MAX) {
		log_errx("socketmap: %s: reply of %zu bytes to \"%s %s\" exceeds %d bytes, "
		    "answering TEMP", c->sc_peer, len, req->rq_view.rv_name, c->sc_key,
		    SOCKETMAP_REPLY_MAX);
		reply = sm_temp_long;
		len = sizeof(sm_temp_long) - 1;
	}
	sm_conn_set_reply(c, reply, len);
	if (c->sc_calling)
		return;         /* sm_conn_process() sends it when so_lookup returns */
	if (!sm_conn_flush(c))
		return;
	if (c->sc_inoff == c->sc_inlen) {
		sm_conn_process(c);     /* nothing buffered: only re-arms reading */
	} else {
		sm_conn_reading(c, false);
		iv_task_register(&c->sc_task);
	}
}

void
socketmap_stats(const struct socketmap *sm, struct socketmap_stats *out)
{
	*out = sm->sm_stats;
	out->ss_open = listener_open_conns(sm->sm_listener);
	out->ss_refused = listener_refused(sm->sm_listener);
}
