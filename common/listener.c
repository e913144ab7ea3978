/*
 * listener.c: see listener.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* accept4 */
#endif
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <iv.h>
#include <string.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "deadline.h"
#include "endpoint.h"
#include "log.h"
#include "xmalloc.h"

struct listener_sock {
	struct listener *ls_l;
	struct listener_sock *ls_next;
	struct iv_fd ls_fd;
	char *ls_name;                  /* the endpoint as given */
	struct endpoint_fd ls_ep;       /* the socket, and the unix socket file we created */
};

struct listener {
	char *l_what;
	unsigned l_max_conns;
	listener_accept_fn *l_accept;
	void *l_arg;
	struct listener_sock *l_socks;
	unsigned l_open;
	unsigned long l_refused;
	struct iv_timer l_pause;        /* accepting paused until it fires */
	time_t l_warned_accept;         /* iv_now seconds of the last warning, -1: never */
	time_t l_warned_refuse;
	unsigned long l_refused_quiet;  /* refusals not yet reported */
	listener_room_fn *l_room;       /* makes room at the limit, or NULL */
	time_t l_warned_room;
	unsigned long l_room_quiet;     /* connections closed for room, not yet reported */
};

static void listener_accept(void *cookie);

void
listener_after_ms(struct timespec *ts, unsigned ms)
{
	*ts = iv_now;
	deadline_add_ms(ts, ms);
}

/* True when a warning last given at *last may be repeated now. */
static bool
listener_warn_due(time_t *last)
{
	time_t now = iv_now.tv_sec;

	if (*last != (time_t)-1 && now - *last < LISTENER_WARN_INTERVAL)
		return false;
	*last = now;
	return true;
}

static void
listener_resume(void *cookie)
{
	struct listener *l = cookie;
	struct listener_sock *ls;

	for (ls = l->l_socks; ls != NULL; ls = ls->ls_next)
		iv_fd_set_handler_in(&ls->ls_fd, listener_accept);
}

/* accept() failed for lack of descriptors or memory: stop accepting for a
 * moment instead of spinning on the level-triggered sockets. */
static void
listener_pause(struct listener *l, const struct listener_sock *failed)
{
	struct listener_sock *ls;

	if (listener_warn_due(&l->l_warned_accept))
		log_warn("%s: %s: accept, pausing for %d ms", l->l_what, failed->ls_name,
		    LISTENER_PAUSE_MS);
	if (iv_timer_registered(&l->l_pause))
		return;
	for (ls = l->l_socks; ls != NULL; ls = ls->ls_next)
		iv_fd_set_handler_in(&ls->ls_fd, NULL);
	iv_validate_now();
	listener_after_ms(&l->l_pause.expires, LISTENER_PAUSE_MS);
	iv_timer_register(&l->l_pause);
}

static void
listener_accept(void *cookie)
{
	struct listener_sock *ls = cookie;
	struct listener *l = ls->ls_l;
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd;

	for (;;) {
		slen = sizeof(ss);
		fd = accept4(ls->ls_fd.fd, (struct sockaddr *)&ss, &slen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			default:
				listener_pause(l, ls);
				return;
			}
		}
		if (l->l_open >= l->l_max_conns && l->l_room != NULL &&
		    l->l_room(l->l_arg) && l->l_open < l->l_max_conns) {
			l->l_room_quiet++;
			if (listener_warn_due(&l->l_warned_room)) {
				log_warnx("%s: %s: %u connections open, closed %lu idle ones "
				    "to make room", l->l_what, ls->ls_name, l->l_open + 1,
				    l->l_room_quiet);
				l->l_room_quiet = 0;
			}
		}
		if (l->l_open >= l->l_max_conns) {
			close(fd);
			l->l_refused++;
			l->l_refused_quiet++;
			if (listener_warn_due(&l->l_warned_refuse)) {
				log_warnx("%s: %s: %u connections open, refused %lu", l->l_what,
				    ls->ls_name, l->l_open, l->l_refused_quiet);
				l->l_refused_quiet = 0;
			}
			continue;
		}
		if (slen < sizeof(ss.ss_family))
			ss.ss_family = AF_UNIX;
		l->l_open++;
		l->l_accept(l->l_arg, fd, &ss, ls->ls_name);
	}
}

struct listener *
listener_new(const char *what, unsigned max_conns, listener_accept_fn *on_accept, void *arg)
{
	struct listener *l = xcalloc(1, sizeof(*l));

	l->l_what = xstrdup(what);
	l->l_max_conns = max_conns;
	l->l_accept = on_accept;
	l->l_arg = arg;
	l->l_warned_accept = l->l_warned_refuse = l->l_warned_room = (time_t)-1;
	IV_TIMER_INIT(&l->l_pause);
	l->l_pause.cookie = l;
	l->l_pause.handler = listener_resume;
	return l;
}

static void
listener_add(struct listener *l, const char *endpoint, const struct endpoint_fd *ef)
{
	struct listener_sock *ls = xcalloc(1, sizeof(*ls));

	ls->ls_l = l;
	ls->ls_name = xstrdup(endpoint);
	ls->ls_ep = *ef;
	IV_FD_INIT(&ls->ls_fd);
	ls->ls_fd.fd = ef->ef_fd;
	ls->ls_fd.cookie = ls;
	ls->ls_fd.handler_in = iv_timer_registered(&l->l_pause) ? NULL : listener_accept;
	iv_fd_register(&ls->ls_fd);
	ls->ls_next = l->l_socks;
	l->l_socks = ls;
}

void
listener_set_room(struct listener *l, listener_room_fn *fn)
{
	l->l_room = fn;
}

int
listener_open(struct listener *l, const char *endpoint, unsigned unix_mode, char **errp)
{
	struct endpoint_fd *fds = NULL;
	size_t nfds = 0, i;
	int n;

	n = endpoint_listen(l->l_what, endpoint, unix_mode, &fds, &nfds, errp);
	for (i = 0; i < nfds; i++)
		listener_add(l, endpoint, &fds[i]);
	free(fds);
	return n;
}

int
listener_adopt(struct listener *l, const char *endpoint, int fd, char **errp)
{
	struct endpoint_fd ef;
	int val = 0, fl;
	socklen_t len = sizeof(val);

	*errp = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &val, &len) != 0 || val != SOCK_STREAM) {
		*errp = xasprintf("%s: %s: the passed descriptor %d is not a stream socket",
		    l->l_what, endpoint, fd);
		return -1;
	}
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) != 0 || val == 0) {
		*errp = xasprintf("%s: %s: the passed socket %d is not listening",
		    l->l_what, endpoint, fd);
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		*errp = xasprintf("%s: %s: fcntl: %s", l->l_what, endpoint, strerror(errno));
		return -1;
	}
	memset(&ef, 0, sizeof(ef));
	ef.ef_fd = fd;                  /* ef_path NULL: the file is systemd's */
	listener_add(l, endpoint, &ef);
	return 1;
}

void
listener_closed(struct listener *l)
{
	if (l->l_open == 0)
		log_abort("%s: a connection closed that was never open", l->l_what);
	l->l_open--;
}

unsigned
listener_open_conns(const struct listener *l)
{
	return l->l_open;
}

unsigned long
listener_refused(const struct listener *l)
{
	return l->l_refused;
}

void
listener_free(struct listener *l)
{
	struct listener_sock *ls, *next;

	if (l == NULL)
		return;
	for (ls = l->l_socks; ls != NULL; ls = next) {
		next = ls->ls_next;
		iv_fd_unregister(&ls->ls_fd);
		endpoint_close(&ls->ls_ep);
		free(ls->ls_name);
		free(ls);
	}
	if (iv_timer_registered(&l->l_pause))
		iv_timer_unregister(&l->l_pause);
	free(l->l_what);
	free(l);
}
