/*
 * endpoint.c: see endpoint.h.
 *
 * PARSING
 *	endpoint_parse() takes the prefix, then, for "inet:" in the
 *	listeners' and Postfix's form, splits the rest at its last ':' (a
 *	PORT has none): HOST first, then PORT; in libmilter's form PORT
 *	comes first and HOST after '@'. The first problem in that order is
 *	the one returned, so that a caller that words each problem its own
 *	way keeps its messages. Digit ports are read with a bound (no
 *	overflow); strtol(3) ports exactly as strtol(3) reads them.
 */
#include "endpoint.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

_Static_assert(ENDPOINT_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path),
    "ENDPOINT_PATH_MAX is the size of sun_path");

/* ---- parsing ---- */

/* PORT as strtol(3) reads it at p: *end is where it stopped. */
static bool
endpoint_port_strtol(const char *p, const char **end, unsigned *port)
{
	char *e;
	long n;

	errno = 0;
	n = strtol(p, &e, 10);
	*end = e;
	if (errno != 0 || e == p || n < 1 || n > 65535)
		return false;
	*port = (unsigned)n;
	return true;
}

/* PORT as decimal digits only, all of p, at most maxdigits of them. */
static bool
endpoint_port_digits(const char *p, size_t maxdigits, unsigned *port)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; p[i] != '\0'; i++) {
		if (p[i] < '0' || p[i] > '9' || i >= maxdigits)
			return false;
		if (n <= 65535)
			n = n * 10 + (unsigned long)(p[i] - '0');
	}
	if (i == 0 || n < 1 || n > 65535)
		return false;
	*port = (unsigned)n;
	return true;
}

/* HOST[0..len) into out->ep_host; false when it does not fit. */
static bool
endpoint_host(struct endpoint *out, const char *host, size_t len, bool cut)
{
	if (len >= sizeof(out->ep_host)) {
		if (!cut)
			return false;
		len = sizeof(out->ep_host) - 1;
	}
	memcpy(out->ep_host, host, len);
	out->ep_host[len] = '\0';
	return true;
}

static enum endpoint_status
endpoint_parse_path(const char *path, unsigned flags, struct endpoint *out)
{
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(out->ep_path) ||
	    ((flags & ENDPOINT_F_ABSOLUTE) && path[0] != '/'))
		return ENDPOINT_ERR_PATH;
	out->ep_kind = ENDPOINT_UNIX;
	memcpy(out->ep_path, path, len + 1);
	return ENDPOINT_OK;
}

/* "HOST:PORT" of the listeners' and Postfix's "inet:". */
static enum endpoint_status
endpoint_parse_hostport(const char *s, enum endpoint_syntax syn, unsigned flags,
    struct endpoint *out)
{
	const char *colon = strrchr(s, ':'), *end;
	size_t hlen;

	if (colon == NULL)
		return ENDPOINT_ERR_FORM;
	hlen = (size_t)(colon - s);
	if (hlen == 0 && (flags & ENDPOINT_F_HOST))
		return ENDPOINT_ERR_HOST;
	out->ep_kind = ENDPOINT_INET;
	if (flags & ENDPOINT_F_LOOSE) {
		endpoint_host(out, s, hlen, true);
		if (!endpoint_port_strtol(colon + 1, &end, &out->ep_port) || *end != '\0')
			return ENDPOINT_ERR_PORT;
		return ENDPOINT_OK;
	}
	if (s[0] == '[') {
		/* "[" ADDR "]" with no other ']': the first ']' ends it */
		if (hlen < 2 || s[hlen - 1] != ']' || memchr(s + 1, ']', hlen - 2) != NULL)
			return ENDPOINT_ERR_HOST;
		out->ep_kind = ENDPOINT_INET6;
		s++;
		hlen -= 2;
	} else if (memchr(s, ':', hlen) != NULL) {
		return ENDPOINT_ERR_HOST;       /* an IPv6 address needs brackets */
	}
	if (!endpoint_host(out, s, hlen, false))
		return ENDPOINT_ERR_HOST;
	if (!endpoint_port_digits(colon + 1, syn == ENDPOINT_POSTFIX ? 5 : (size_t)-1,
	    &out->ep_port))
		return ENDPOINT_ERR_PORT;
	return ENDPOINT_OK;
}

/* "PORT" or "PORT@HOST" of libmilter's "inet:" and "inet6:". */
static enum endpoint_status
endpoint_parse_portathost(const char *s, unsigned flags, struct endpoint *out)
{
	const char *end;

	if (!endpoint_port_strtol(s, &end, &out->ep_port))
		return ENDPOINT_ERR_PORT;
	if (*end == '\0')
		return (flags & ENDPOINT_F_HOST) ? ENDPOINT_ERR_HOST : ENDPOINT_OK;
	if (*end != '@')
		return ENDPOINT_ERR_FORM;
	if (end[1] == '\0' ||
	    !endpoint_host(out, end + 1, strlen(end + 1), (flags & ENDPOINT_F_LOOSE) != 0))
		return ENDPOINT_ERR_HOST;
	return ENDPOINT_OK;
}

enum endpoint_status
endpoint_parse(const char *spec, enum endpoint_syntax syn, unsigned flags,
    struct endpoint *out)
{
	enum endpoint_status st;
	int saved = errno;

	memset(out, 0, sizeof(*out));
	if (strncmp(spec, "unix:", 5) == 0)
		st = endpoint_parse_path(spec + 5, flags, out);
	else if (syn != ENDPOINT_LISTEN && strncmp(spec, "local:", 6) == 0)
		st = endpoint_parse_path(spec + 6, flags, out);
	else if (syn != ENDPOINT_MILTER && strncmp(spec, "inet:", 5) == 0)
		st = endpoint_parse_hostport(spec + 5, syn, flags, out);
	else if (syn == ENDPOINT_MILTER && strncmp(spec, "inet:", 5) == 0) {
		out->ep_kind = ENDPOINT_INET;
		st = endpoint_parse_portathost(spec + 5, flags, out);
	} else if (syn == ENDPOINT_MILTER && strncmp(spec, "inet6:", 6) == 0) {
		out->ep_kind = ENDPOINT_INET6;
		st = endpoint_parse_portathost(spec + 6, flags, out);
	} else
		st = ENDPOINT_ERR_SCHEME;
	errno = saved;
	return st;
}

const char *
endpoint_status_text(enum endpoint_status st)
{
	switch (st) {
	case ENDPOINT_OK:
		return "ok";
	case ENDPOINT_ERR_SCHEME:
		return "unknown type";
	case ENDPOINT_ERR_FORM:
		return "malformed";
	case ENDPOINT_ERR_HOST:
		return "bad host";
	case ENDPOINT_ERR_PORT:
		return "bad port";
	case ENDPOINT_ERR_PATH:
		return "bad path";
	}
	return "?";
}

/* ---- listening ---- */

static void
endpoint_add(struct endpoint_fd **fds, size_t *nfds, int fd, const char *path)
{
	struct endpoint_fd *ef;
	struct stat st;

	*fds = xreallocarray(*fds, *nfds + 1, sizeof(**fds));
	ef = &(*fds)[(*nfds)++];
	memset(ef, 0, sizeof(*ef));
	ef->ef_fd = fd;
	if (path != NULL && stat(path, &st) == 0) {
		ef->ef_path = xstrdup(path);
		ef->ef_dev = st.st_dev;
		ef->ef_ino = st.st_ino;
	}
}

/* Bind one address; -1 with errno and *step naming the step that failed. */
static int
endpoint_bind(const struct sockaddr *sa, socklen_t salen, const char **step)
{
	int fd, one = 1, saved;

	*step = "socket";
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	*step = "setsockopt";
	if (sa->sa_family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	*step = "bind";
	if (bind(fd, sa, salen) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* listen() on a bound socket; on failure it is closed (errno kept). */
static int
endpoint_listen_now(int fd, const char **step)
{
	int saved;

	*step = "listen";
	if (listen(fd, SOMAXCONN) == 0)
		return 0;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Listen on every address of e (ENDPOINT_INET or ENDPOINT_INET6). */
static int
endpoint_inet(const char *what, const char *ep, const struct endpoint *e,
    struct endpoint_fd **fds, size_t *nfds, char **errp)
{
	const char *step = "", *first_step = "";
	struct addrinfo hints, *res = NULL, *ai, *prev;
	bool v6 = e->ep_kind == ENDPOINT_INET6;      /* "[ADDR]": numeric only */
	char port[6];
	int fd, err, nbound = 0, first_errno = 0;

	snprintf(port, sizeof(port), "%u", e->ep_port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | (v6 ? AI_NUMERICHOST : 0);
	err = getaddrinfo(e->ep_host[0] == '\0' || strcmp(e->ep_host, "*") == 0 ?
	    NULL : e->ep_host, port, &hints, &res);
	if (err != 0) {
		*errp = xasprintf("%s: %s: cannot resolve \"%s\": %s", what, ep,
		    e->ep_host, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		for (prev = res; prev != ai; prev = prev->ai_next)
			if (prev->ai_addrlen == ai->ai_addrlen &&
			    memcmp(prev->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
		if (prev != ai)
			continue;       /* the same address listed twice */
		fd = endpoint_bind(ai->ai_addr, ai->ai_addrlen, &step);
		if (fd >= 0 && endpoint_listen_now(fd, &step) == 0) {
			endpoint_add(fds, nfds, fd, NULL);
			nbound++;
			continue;
		}
		if (first_errno == 0) {
			first_errno = errno;
			first_step = step;
		} else {
			log_warn("%s: %s: %s one of its addresses", what, ep, step);
		}
	}
	freeaddrinfo(res);
	if (nbound == 0) {
		*errp = xasprintf("%s: %s: %s: %s", what, ep, first_step,
		    strerror(first_errno ? first_errno : EADDRNOTAVAIL));
		return -1;
	}
	if (first_errno != 0)
		log_warnx("%s: %s: %s one of its addresses: %s", what, ep, first_step,
		    strerror(first_errno));
	return nbound;
}

/* Listen on the unix socket path (checked by endpoint_parse()). */
static int
endpoint_unix(const char *what, const char *ep, const char *path, unsigned mode,
    struct endpoint_fd **fds, size_t *nfds, char **errp)
{
	const char *step = "";
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_umask;
	int fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*errp = xasprintf("%s: %s: exists and is not a socket", what, ep);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			*errp = xasprintf("%s: %s: another server is listening there", what, ep);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(path) < 0 && errno != ENOENT) {
			*errp = xasprintf("%s: %s: unlink stale socket: %s", what, ep,
			    strerror(errno));
			return -1;
		}
	}
	/* Born owner-only, then given the configured mode: never briefly
	 * open to whatever the process umask allows. */
	old_umask = umask(0177);
	fd = endpoint_bind((struct sockaddr *)&sun, sizeof(sun), &step);
	umask(old_umask);
	if (fd < 0) {
		*errp = xasprintf("%s: %s: %s: %s", what, ep, step, strerror(errno));
		return -1;
	}
	if (chmod(path, (mode_t)mode) < 0) {
		*errp = xasprintf("%s: %s: chmod %04o: %s", what, ep, mode, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (endpoint_listen_now(fd, &step) < 0) {
		*errp = xasprintf("%s: %s: %s: %s", what, ep, step, strerror(errno));
		unlink(path);
		return -1;
	}
	endpoint_add(fds, nfds, fd, path);
	return 1;
}

int
endpoint_listen(const char *what, const char *ep, unsigned unix_mode,
    struct endpoint_fd **fds, size_t *nfds, char **errp)
{
	struct endpoint e;

	*errp = NULL;
	switch (endpoint_parse(ep, ENDPOINT_LISTEN, 0, &e)) {
	case ENDPOINT_OK:
		break;
	case ENDPOINT_ERR_SCHEME:
		*errp = xasprintf("%s: %s: want inet:HOST:PORT or unix:/path", what, ep);
		return -1;
	case ENDPOINT_ERR_PATH:
		*errp = xasprintf("%s: %s: want unix:/path (at most %d bytes)", what, ep,
		    ENDPOINT_PATH_MAX - 1);
		return -1;
	case ENDPOINT_ERR_FORM:
	case ENDPOINT_ERR_HOST:
	case ENDPOINT_ERR_PORT:
		*errp = xasprintf("%s: %s: want inet:HOST:PORT (IPv6 as [ADDR], port "
		    "1-65535)", what, ep);
		return -1;
	}
	if (e.ep_kind == ENDPOINT_UNIX)
		return endpoint_unix(what, ep, e.ep_path, unix_mode & 07777, fds, nfds, errp);
	return endpoint_inet(what, ep, &e, fds, nfds, errp);
}

void
endpoint_close(struct endpoint_fd *ef)
{
	struct stat st;

	if (ef->ef_fd >= 0)
		close(ef->ef_fd);
	ef->ef_fd = -1;
	if (ef->ef_path != NULL && lstat(ef->ef_path, &st) == 0 &&
	    st.st_dev == ef->ef_dev && st.st_ino == ef->ef_ino)
		unlink(ef->ef_path);
	free(ef->ef_path);
	ef->ef_path = NULL;
}

enum endpoint_status
endpoint_parse_redis(const char *spec, struct endpoint *out, unsigned *db)
{
	char buf[ENDPOINT_HOST_MAX + 16], *slash, *end;
	unsigned long n;
	int saved = errno;

	*db = 0;
	if (strncmp(spec, "unix:", 5) == 0)
		return endpoint_parse(spec, ENDPOINT_LISTEN, ENDPOINT_F_ABSOLUTE, out);
	if (strncmp(spec, "redis://", 8) != 0)
		return ENDPOINT_ERR_SCHEME;
	if (snprintf(buf, sizeof(buf), "inet:%s", spec + 8) >= (int)sizeof(buf))
		return ENDPOINT_ERR_HOST;
	slash = strrchr(buf, '/');
	if (slash != NULL && (strchr(slash, ']') == NULL)) {
		*slash = '\0';
		errno = 0;
		n = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0 || n > 1000000) {
			errno = saved;
			return ENDPOINT_ERR_FORM;
		}
		*db = (unsigned)n;
	}
	errno = saved;
	return endpoint_parse(buf, ENDPOINT_LISTEN, ENDPOINT_F_HOST, out);
}
