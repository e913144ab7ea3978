/*
 * endpoint.c: see endpoint.h.
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

static int
endpoint_inet(const char *what, const char *ep, struct endpoint_fd **fds, size_t *nfds,
    char **errp)
{
	const char *spec = ep + 5, *colon, *host_end, *step = "", *first_step = "";
	struct addrinfo hints, *res = NULL, *ai, *prev;
	char host[256], port[6];
	size_t hlen;
	int fd, err, nbound = 0, first_errno = 0;
	unsigned long pnum;
	char *end;
	bool bracketed = false;

	if (spec[0] == '[') {
		host_end = strchr(spec, ']');
		if (host_end == NULL || host_end[1] != ':')
			goto syntax;
		spec++;
		colon = host_end + 1;
		bracketed = true;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL)
			goto syntax;
		host_end = colon;
		if (memchr(spec, ':', (size_t)(host_end - spec)) != NULL)
			goto syntax;    /* an IPv6 address needs brackets */
	}
	hlen = (size_t)(host_end - spec);
	if (hlen >= sizeof(host))
		goto syntax;
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	errno = 0;
	pnum = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    pnum == 0 || pnum > 65535)
		goto syntax;
	snprintf(port, sizeof(port), "%lu", pnum);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = bracketed ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | (bracketed ? AI_NUMERICHOST : 0);
	err = getaddrinfo(hlen == 0 || strcmp(host, "*") == 0 ? NULL : host, port,
	    &hints, &res);
	if (err != 0) {
		*errp = xasprintf("%s: %s: cannot resolve \"%s\": %s", what, ep, host,
		    gai_strerror(err));
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
syntax:
	*errp = xasprintf("%s: %s: want inet:HOST:PORT (IPv6 as [ADDR], port 1-65535)",
	    what, ep);
	return -1;
}

static int
endpoint_unix(const char *what, const char *ep, unsigned mode, struct endpoint_fd **fds,
    size_t *nfds, char **errp)
{
	const char *path = ep + 5, *step = "";
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_umask;
	int fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		*errp = xasprintf("%s: %s: want unix:/path (at most %zu bytes)", what, ep,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
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
	*errp = NULL;
	if (strncmp(ep, "inet:", 5) == 0)
		return endpoint_inet(what, ep, fds, nfds, errp);
	if (strncmp(ep, "unix:", 5) == 0)
		return endpoint_unix(what, ep, unix_mode & 07777, fds, nfds, errp);
	*errp = xasprintf("%s: %s: want inet:HOST:PORT or unix:/path", what, ep);
	return -1;
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
