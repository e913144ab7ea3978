/*
 * metricsd.c: see metricsd.h.
 *
 * CONNECTION STATES
 *	READING		the request head is read into a fixed buffer of
 *			METRICSD_REQUEST_MAX bytes until the empty line ("\r\n\r\n"
 *			or "\n\n"); a full buffer without it closes the connection.
 *			The head, its request line and the status are parsed by
 *			http/httpreq.h.
 *	WRITING		the whole reply is built in memory and sent; reading stops.
 *	DRAINING	the reply is sent and our side shut down (FIN): whatever the
 *			client still sends is read and dropped until it closes, so
 *			that closing never resets a reply it has not read yet.
 *	One deadline (cmt_timeout_ms from accept) bounds all three states.
 * DIAGNOSTICS
 *	Time bounds, oversized or malformed requests and I/O errors are logged
 *	at info level with the peer; accept trouble and refusals over the
 *	connection limit as warnings, at most one per 10 seconds each
 *	(common/listener.h, which accepts and keeps the limit).
 *	Nothing is logged per successful scrape above debug level.
 */
#include "metricsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <iv.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/listener.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "http/httpreq.h"

#define MD_UNIX_MODE            0666
#define MD_PEER_MAX             64

enum md_state {
	MD_READING,
	MD_WRITING,
	MD_DRAINING
};

struct md_conn {
	struct metricsd *mc_md;
	struct md_conn *mc_prev, *mc_next;
	struct iv_fd mc_fd;
	struct iv_timer mc_timer;       /* the connection's one deadline */
	enum md_state mc_state;
	size_t mc_inlen;
	size_t mc_scanned;              /* mc_in[0..mc_scanned) holds no end of the head */
	struct sbuf mc_out;             /* the whole reply */
	size_t mc_outoff;
	char mc_peer[MD_PEER_MAX];
	char mc_in[METRICSD_REQUEST_MAX];
};

struct metricsd {
	unsigned md_timeout_ms;
	struct listener *md_listener;   /* accepts, keeps cmt_max_connections */
	struct md_conn *md_conns;
};

static void md_conn_readable(void *cookie);
static void md_conn_writable(void *cookie);

/* ---- connections ---- */

static void
md_conn_close(struct md_conn *c)
{
	struct metricsd *md = c->mc_md;

	iv_fd_unregister(&c->mc_fd);
	close(c->mc_fd.fd);
	if (iv_timer_registered(&c->mc_timer))
		iv_timer_unregister(&c->mc_timer);
	if (c->mc_prev != NULL)
		c->mc_prev->mc_next = c->mc_next;
	else
		md->md_conns = c->mc_next;
	if (c->mc_next != NULL)
		c->mc_next->mc_prev = c->mc_prev;
	listener_closed(md->md_listener);
	sbuf_free(&c->mc_out);
	free(c);
}

static void
md_conn_timeout(void *cookie)
{
	struct md_conn *c = cookie;

	log_info("metrics: %s: not done within %u ms (%s), closing", c->mc_peer,
	    c->mc_md->md_timeout_ms, c->mc_state == MD_READING ? "reading the request" :
	    c->mc_state == MD_WRITING ? "writing the reply" : "waiting for the client to close");
	md_conn_close(c);
}

/* The reply with its head; body NULL for none (HEAD). */
static void
md_conn_reply(struct md_conn *c, const char *status, const char *type, const char *extra,
    const char *body, size_t blen, bool head_only)
{
	sbuf_printf(&c->mc_out, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "%sConnection: close\r\n\r\n", status, type, blen, extra);
	if (!head_only)
		sbuf_appendn(&c->mc_out, body, blen);
}

static void
md_conn_error(struct md_conn *c, const char *status, const char *extra, bool head_only)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	md_conn_reply(c, status, "text/plain; charset=utf-8", extra, body, (size_t)n, head_only);
}

/* Answer the complete request head in mc_in (http/httpreq.h): build the reply. */
static void
md_conn_request(struct md_conn *c)
{
	struct httpreq r;
	int status;

	if ((status = httpreq_parse(c->mc_in, c->mc_inlen, &r)) == 0)
		status = httpreq_route(&r, "/metrics");
	switch (status) {
	case 405:
		md_conn_error(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", false);
		return;
	case 404:
		md_conn_error(c, "404 Not Found", "", r.hr_head);
		return;
	case 200: {
		struct sbuf body = SBUF_INIT;

		metrics_render(&body, PACKAGE_VERSION);
		md_conn_reply(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", "",
		    sbuf_str(&body), body.sb_len, r.hr_head);
		log_debug("metrics: %s: %s /metrics: 200, %zu bytes", c->mc_peer,
		    r.hr_head ? "HEAD" : "GET", body.sb_len);
		sbuf_free(&body);
		return;
	}
	default:
		log_info("metrics: %s: malformed request line, answering 400", c->mc_peer);
		md_conn_error(c, "400 Bad Request", "", false);
		return;
	}
}

/* Reply sent: our side done; read until the client closes. */
static void
md_conn_drain(struct md_conn *c)
{
	c->mc_state = MD_DRAINING;
	(void)shutdown(c->mc_fd.fd, SHUT_WR);
	iv_fd_set_handler_out(&c->mc_fd, NULL);
	iv_fd_set_handler_in(&c->mc_fd, md_conn_readable);
}

/* Send what is left of the reply. */
static void
md_conn_flush(struct md_conn *c)
{
	ssize_t n;

	while (c->mc_outoff < c->mc_out.sb_len) {
		n = send(c->mc_fd.fd, c->mc_out.sb_buf + c->mc_outoff,
		    c->mc_out.sb_len - c->mc_outoff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				iv_fd_set_handler_out(&c->mc_fd, md_conn_writable);
				return;
			}
			log_info("metrics: %s: write: %s", c->mc_peer, strerror(errno));
			md_conn_close(c);
			return;
		}
		c->mc_outoff += (size_t)n;
	}
	md_conn_drain(c);
}

static void
md_conn_writable(void *cookie)
{
	md_conn_flush(cookie);
}

static void
md_conn_readable(void *cookie)
{
	struct md_conn *c = cookie;
	char discard[512];
	ssize_t n;

	if (c->mc_state == MD_DRAINING) {
		n = read(c->mc_fd.fd, discard, sizeof(discard));
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0)
			md_conn_close(c);
		return;
	}
	n = read(c->mc_fd.fd, c->mc_in + c->mc_inlen, sizeof(c->mc_in) - c->mc_inlen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		log_info("metrics: %s: read: %s", c->mc_peer, strerror(errno));
		md_conn_close(c);
		return;
	}
	if (n == 0) {
		if (c->mc_inlen > 0)
			log_info("metrics: %s: client closed the connection inside a request",
			    c->mc_peer);
		md_conn_close(c);
		return;
	}
	c->mc_inlen += (size_t)n;
	switch (httpreq_head(c->mc_in, c->mc_inlen, sizeof(c->mc_in), &c->mc_scanned)) {
	case HTTPREQ_MORE:
		return;
	case HTTPREQ_TOO_LARGE:
		log_info("metrics: %s: request head over %d bytes, closing", c->mc_peer,
		    METRICSD_REQUEST_MAX);
		md_conn_close(c);
		return;
	case HTTPREQ_COMPLETE:
		break;
	}
	c->mc_state = MD_WRITING;
	iv_fd_set_handler_in(&c->mc_fd, NULL);
	md_conn_request(c);
	md_conn_flush(c);
}

static void
md_peer_name(struct md_conn *c, const struct sockaddr_storage *ss)
{
	char addr[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(c->mc_peer, sizeof(c->mc_peer), "%s:%u", addr, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(c->mc_peer, sizeof(c->mc_peer), "[%s]:%u", addr, ntohs(sin6->sin6_port));
	} else {
		snprintf(c->mc_peer, sizeof(c->mc_peer), "unix");
	}
}

/* listener_accept_fn: a new connection. */
static void
md_conn_new(void *arg, int fd, const struct sockaddr_storage *ss, const char *endpoint)
{
	struct metricsd *md = arg;
	struct md_conn *c = xcalloc(1, sizeof(*c));

	(void)endpoint;

	c->mc_md = md;
	c->mc_next = md->md_conns;
	if (md->md_conns != NULL)
		md->md_conns->mc_prev = c;
	md->md_conns = c;
	c->mc_state = MD_READING;
	md_peer_name(c, ss);
	IV_FD_INIT(&c->mc_fd);
	c->mc_fd.fd = fd;
	c->mc_fd.cookie = c;
	c->mc_fd.handler_in = md_conn_readable;
	iv_fd_register(&c->mc_fd);
	IV_TIMER_INIT(&c->mc_timer);
	c->mc_timer.cookie = c;
	c->mc_timer.handler = md_conn_timeout;
	iv_validate_now();
	listener_after_ms(&c->mc_timer.expires, md->md_timeout_ms);
	iv_timer_register(&c->mc_timer);
}

/* ---- public ---- */

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
	md = xcalloc(1, sizeof(*md));
	md->md_timeout_ms = cm->cmt_timeout_ms;
	md->md_listener = listener_new("metrics", cm->cmt_max_connections, md_conn_new, md);
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

void
metricsd_free(struct metricsd *md)
{
	if (md == NULL)
		return;
	while (md->md_conns != NULL)
		md_conn_close(md->md_conns);
	listener_free(md->md_listener);
	free(md);
}
