/*
 * NAME
 *	metricsd - the /metrics endpoint on libmicrohttpd, on the engine's loop
 * SYNOPSIS
 *	#include "http/metricsd.h"
 * DESCRIPTION
 *	Why on the loop: the text is rendered from state the ivykis loop
 *	thread owns (the metrics registry's callbacks read the verdict
 *	cache, the policy store, the generation), so libmicrohttpd runs on
 *	that thread and the access handler renders in place: no thread, no
 *	hand-off, no lock. libmicrohttpd is started without its own thread
 *	(MHD_USE_EPOLL, external polling): its epoll descriptor
 *	(MHD_DAEMON_INFO_EPOLL_FD) is an iv_fd whose readiness runs MHD_run(),
 *	and an iv_timer follows MHD_get_timeout() (0 when it has data
 *	buffered, so it is run again at once). A suspend/resume hand-off to
 *	the loop would need a thread, an iv_event and a queue for the same
 *	result.
 *
 *	Why our own accept: common/listener.c accepts (inet, inet6, unix,
 *	the socket systemd passes) and keeps max_connections: a connection
 *	over the limit is closed at once and the refusals are logged, as
 *	for the socketmap server; libmicrohttpd at its limit would instead
 *	leave new ones waiting in the kernel's backlog. Each accepted socket
 *	goes to libmicrohttpd with MHD_add_connection() (the daemon has no
 *	listening socket, MHD_USE_NO_LISTEN_SOCKET), and its
 *	MHD_CONNECTION_NOTIFY_CLOSED gives the slot back (listener_closed).
 *
 *	The bounds: the request head by the connection's memory
 *	(METRICSD_CONN_MEMORY: libmicrohttpd answers 431 and closes);
 *	cmt_timeout_ms as a deadline from accept, not an idle time: a
 *	connection still open then is shut down (shutdown(2) on its socket,
 *	so that libmicrohttpd sees it end and closes it itself). libmicrohttpd's
 *	own idle timeout (the bound in whole seconds, plus one so that ours
 *	always comes first) stays as a second bound.
 *
 *	A reply always carries "Connection: close": one request per
 *	connection. A request body (a POST) is read and dropped before the
 *	405, within the deadline.
 * DIAGNOSTICS
 *	"metrics: PEER: not done within N ms (reading the request | writing
 *	the reply), closing" at info level; a connection closed before a
 *	request reached the handler (the client left, or libmicrohttpd
 *	refused what it sent) at debug level. libmicrohttpd's own messages (a
 *	request it answered 400 or 431 itself, I/O errors) at info level as
 *	"metrics: libmicrohttpd: ..." (http/httpd.h). Accept trouble and
 *	refusals over the connection limit as warnings, at most one per 10
 *	seconds each (common/listener.h). Nothing is logged per successful
 *	scrape above debug level.
 */
#include "http/metricsd.h"

#include <errno.h>
#include <iv.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/listener.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "http/httpd.h"

#define MD_UNIX_MODE            0666
#define MD_PATH                 "/metrics"
#define MD_TEXT                 "text/plain; charset=utf-8"
#define MD_EXPOSITION           "text/plain; version=0.0.4; charset=utf-8"
#define MD_TIMER_MAX_MS         60000   /* MHD_get_timeout() is looked at again by then */
#define MD_BUSY_RUNS            256     /* runs at once on "timeout 0" with no new event, */
#define MD_BUSY_DELAY_MS        20      /* ... then one per this many ms */

enum md_state {
	MD_READING,
	MD_WRITING
};

/* One connection, from MHD_CONNECTION_NOTIFY_STARTED to _CLOSED. */
struct md_conn {
	struct metricsd *mc_md;
	struct md_conn *mc_prev, *mc_next;
	struct MHD_Connection *mc_conn;
	struct iv_timer mc_timer;       /* the connection's one deadline */
	enum md_state mc_state;
	bool mc_timed_out;
	char mc_peer[HTTPD_PEER_MAX];
};

struct metricsd {
	unsigned md_timeout_ms;
	struct listener *md_listener;   /* NULL for metricsd_new_bare() */
	struct MHD_Daemon *md_mhd;
	struct iv_fd md_epoll;          /* libmicrohttpd's epoll descriptor */
	struct iv_timer md_timer;       /* MHD_get_timeout() */
	struct md_conn *md_conns;
	unsigned md_busy;               /* runs in a row on "timeout 0" since the last event */
	bool md_started;                /* NOTIFY_STARTED seen for the connection being added */
};

/* The per-request marker in *con_cls: the headers were seen. */
static char md_request_marker;

/* ---- driving libmicrohttpd from the loop ---- */

/*
 * Arm md_timer from MHD_get_timeout(). "0" means that a connection has
 * work without waiting for its socket; libmicrohttpd 0.9.75 also says so,
 * run after run, for a connection it cannot move on (a request head that
 * leaves no room in the connection's memory for the reply's head: found
 * by fuzz/http_fuzz.c), which would spin the engine's loop until the
 * connection's deadline. So after MD_BUSY_RUNS such runs in a row without
 * an event on its descriptor, it is run every MD_BUSY_DELAY_MS only.
 */
static void
md_arm(struct metricsd *md)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (iv_timer_registered(&md->md_timer))
		iv_timer_unregister(&md->md_timer);
	if (MHD_get_timeout(md->md_mhd, &ms) != MHD_YES)
		return;
	if (ms != 0)
		md->md_busy = 0;
	else if (++md->md_busy > MD_BUSY_RUNS)
		ms = MD_BUSY_DELAY_MS;
	iv_validate_now();
	listener_after_ms(&md->md_timer.expires, ms > MD_TIMER_MAX_MS ? MD_TIMER_MAX_MS :
	    (unsigned)ms);
	iv_timer_register(&md->md_timer);
}

/* Let libmicrohttpd do what it can now, then arm the timer. */
static void
md_run(struct metricsd *md)
{
	(void)MHD_run(md->md_mhd);
	md_arm(md);
}

static void
md_epoll_ready(void *cookie)
{
	struct metricsd *md = cookie;

	md->md_busy = 0;
	md_run(md);
}

static void
md_timer_expired(void *cookie)
{
	md_run(cookie);
}

/* ---- connections ---- */

static void
md_conn_timeout(void *cookie)
{
	struct md_conn *c = cookie;
	struct metricsd *md = c->mc_md;
	const union MHD_ConnectionInfo *ci;

	log_info("metrics: %s: not done within %u ms (%s), closing", c->mc_peer,
	    md->md_timeout_ms, c->mc_state == MD_READING ? "reading the request" :
	    "writing the reply");
	c->mc_timed_out = true;
	ci = MHD_get_connection_info(c->mc_conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		(void)shutdown(ci->connect_fd, SHUT_RDWR);
	md_run(md);                     /* it sees the end and closes: c is gone */
}

/* MHD_OPTION_NOTIFY_CONNECTION */
static void
md_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct metricsd *md = cls;
	struct md_conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		c = xcalloc(1, sizeof(*c));
		c->mc_md = md;
		c->mc_conn = conn;
		c->mc_state = MD_READING;
		httpd_client(conn, true, c->mc_peer, sizeof(c->mc_peer));
		c->mc_next = md->md_conns;
		if (md->md_conns != NULL)
			md->md_conns->mc_prev = c;
		md->md_conns = c;
		IV_TIMER_INIT(&c->mc_timer);
		c->mc_timer.cookie = c;
		c->mc_timer.handler = md_conn_timeout;
		iv_validate_now();
		listener_after_ms(&c->mc_timer.expires, md->md_timeout_ms);
		iv_timer_register(&c->mc_timer);
		*socket_context = c;
		md->md_started = true;
		return;
	}
	if ((c = *socket_context) == NULL)
		return;
	*socket_context = NULL;
	if (c->mc_state == MD_READING && !c->mc_timed_out)
		log_debug("metrics: %s: closed before a request was answered here", c->mc_peer);
	if (iv_timer_registered(&c->mc_timer))
		iv_timer_unregister(&c->mc_timer);
	if (c->mc_prev != NULL)
		c->mc_prev->mc_next = c->mc_next;
	else
		md->md_conns = c->mc_next;
	if (c->mc_next != NULL)
		c->mc_next->mc_prev = c->mc_prev;
	if (md->md_listener != NULL)
		listener_closed(md->md_listener);
	free(c);
}

/* Queue the reply: body[0..len) copied (libmicrohttpd leaves it out for HEAD). */
static enum MHD_Result
md_reply(struct MHD_Connection *conn, unsigned status, const char *type, const char *body,
    size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* MHD_AccessHandlerCallback: called for the head, for each piece of a
 * body, and once more at its end, where the reply is made. */
static enum MHD_Result
md_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	const union MHD_ConnectionInfo *ci;
	struct md_conn *c;
	bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	const char *peer = "?";
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		*con_cls = &md_request_marker;
		return MHD_YES;         /* the head; a body (if any) comes next */
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;  /* dropped */
		return MHD_YES;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci != NULL && (c = ci->socket_context) != NULL) {
		c->mc_state = MD_WRITING;
		peer = c->mc_peer;
	}
	if (!get && !head) {
		static const char body[] = "405 Method Not Allowed\n";

		return md_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, MD_TEXT, body, sizeof(body) - 1);
	}
	if (strcmp(url, MD_PATH) != 0) {
		static const char body[] = "404 Not Found\n";

		return md_reply(conn, MHD_HTTP_NOT_FOUND, MD_TEXT, body, sizeof(body) - 1);
	}
	{
		struct sbuf text = SBUF_INIT;

		metrics_render(&text, PACKAGE_VERSION);
		ret = md_reply(conn, MHD_HTTP_OK, MD_EXPOSITION, sbuf_str(&text), text.sb_len);
		log_debug("metrics: %s: %s " MD_PATH ": 200, %zu bytes", peer, method, text.sb_len);
		sbuf_free(&text);
	}
	return ret;
}

/* ---- public ---- */

void
metricsd_connection(struct metricsd *md, int fd, const struct sockaddr_storage *peer)
{
	socklen_t len = peer->ss_family == AF_INET ? (socklen_t)sizeof(struct sockaddr_in) :
	    peer->ss_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6) :
	    (socklen_t)sizeof(struct sockaddr_un);

	md->md_started = false;
	md->md_busy = 0;
	/* The socket is libmicrohttpd's now, served or closed. */
	if (MHD_add_connection(md->md_mhd, fd, (const struct sockaddr *)peer, len) != MHD_YES) {
		log_info("metrics: cannot serve a new connection: %s", strerror(errno));
		/* Without NOTIFY_STARTED no NOTIFY_CLOSED gives the slot back. */
		if (!md->md_started && md->md_listener != NULL)
			listener_closed(md->md_listener);
	}
	md_run(md);
}

/* listener_accept_fn: a new connection. */
static void
md_accepted(void *arg, int fd, const struct sockaddr_storage *ss, const char *endpoint)
{
	(void)endpoint;
	metricsd_connection(arg, fd, ss);
}

struct metricsd *
metricsd_new_bare(const struct cfg_metrics *cm)
{
	struct metricsd *md = xcalloc(1, sizeof(*md));
	const union MHD_DaemonInfo *di;

	md->md_timeout_ms = cm->cmt_timeout_ms;
	md->md_mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, md_access, md,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_log, (void *)(uintptr_t)"metrics",
	    MHD_OPTION_CONNECTION_LIMIT, cm->cmt_max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, httpd_timeout_s(cm->cmt_timeout_ms) + 1,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICSD_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_CONNECTION, md_notify, md,
	    MHD_OPTION_END);
	if (md->md_mhd == NULL)
		log_abort("metrics: libmicrohttpd cannot start (epoll, no listening socket)");
	di = MHD_get_daemon_info(md->md_mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || di->epoll_fd < 0)
		log_abort("metrics: libmicrohttpd has no epoll descriptor");
	IV_FD_INIT(&md->md_epoll);
	md->md_epoll.fd = di->epoll_fd;
	md->md_epoll.cookie = md;
	md->md_epoll.handler_in = md_epoll_ready;
	iv_fd_register(&md->md_epoll);
	IV_TIMER_INIT(&md->md_timer);
	md->md_timer.cookie = md;
	md->md_timer.handler = md_timer_expired;
	return md;
}

struct metricsd *
metricsd_new(const struct cfg *cfg, int fd, char **errp)
{
	const struct cfg_metrics *cm = &cfg->c_metrics;
	struct metricsd *md;
	char name[64];
	int rc;

	*errp = NULL;
	if (fd < 0 && *cm->cmt_listen == '\0')
		log_abort("metricsd_new: no endpoint");
	md = metricsd_new_bare(cm);
	md->md_listener = listener_new("metrics", cm->cmt_max_connections, md_accepted, md);
	if (fd >= 0) {
		snprintf(name, sizeof(name), "systemd:fd%d", fd);
		if ((rc = listener_adopt(md->md_listener, name, fd, errp)) < 0)
			close(fd);
	} else {
		rc = listener_open(md->md_listener, cm->cmt_listen, MD_UNIX_MODE, errp);
	}
	if (rc < 0) {
		metricsd_free(md);
		return NULL;
	}
	return md;
}

unsigned
metricsd_connections(const struct metricsd *md)
{
	const struct md_conn *c;
	unsigned n = 0;

	for (c = md->md_conns; c != NULL; c = c->mc_next)
		n++;
	return n;
}

void
metricsd_free(struct metricsd *md)
{
	if (md == NULL)
		return;
	/* The epoll descriptor is libmicrohttpd's: out of the loop before it closes it. */
	iv_fd_unregister(&md->md_epoll);
	if (iv_timer_registered(&md->md_timer))
		iv_timer_unregister(&md->md_timer);
	/* Closes every connection (NOTIFY_CLOSED frees each md_conn). */
	MHD_stop_daemon(md->md_mhd);
	if (md->md_conns != NULL)
		log_abort("metricsd_free: libmicrohttpd left a connection open");
	listener_free(md->md_listener);
	free(md);
}
