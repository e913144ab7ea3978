/*
 * ctl.c: `danemilter ctl [-c FILE] [-s SOCKET] COMMAND`: one request to the
 * running daemon's control socket (control/ctlproto.h), its answer on
 * stdout.
 *
 *   query DOMAIN | dump [--json] | purge DOMAIN | purge --all | reload | stats
 *
 * SOCKET is "unix:/path" or "inet:HOST:PORT" (common/endpoint.h); without
 * -s, control.socket of the configuration file (-c FILE, else the
 * default file). The request is sent as one line; the reply's first line
 * "ok" gives exit 0 and the rest on stdout, "error: MESSAGE" gives
 * "danemilter ctl: MESSAGE" on stderr and exit 1. Connecting and the
 * whole exchange are bounded (CTL_TIMEOUT_MS, more than the server's own
 * bound, so a query's resolution is waited for).
 * Exit codes: 0 ok; 1 the daemon answered an error; EX_USAGE bad
 * arguments; EX_CONFIG the configuration; EX_UNAVAILABLE no daemon there
 * or no answer in time; EX_PROTOCOL a reply that is not one.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/deadline.h"
#include "common/endpoint.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"

#define CTL_TIMEOUT_MS          65000
#define CTL_REPLY_MAX           (64u << 20)     /* a dump of a big cache fits */
#define CTL_LINE_MAX            512             /* CTLPROTO_REQUEST_MAX */

static void
ctl_usage(void)
{
	fprintf(stderr, "usage: danemilter ctl [-c FILE] [-s SOCKET] query DOMAIN | dump [--json] |\n"
	    "           purge DOMAIN | purge --all | reload | stats\n");
}

/* The request line from the command words; NULL after the usage. */
static char *
ctl_request(int argc, char **argv)
{
	const char *cmd;

	if (argc < 1)
		return NULL;
	cmd = argv[0];
	if ((strcmp(cmd, "query") == 0 || strcmp(cmd, "purge") == 0) && argc == 2)
		return xasprintf("%s %s\n", cmd, argv[1]);
	if (strcmp(cmd, "dump") == 0 && argc == 1)
		return xstrdup("dump\n");
	if (strcmp(cmd, "dump") == 0 && argc == 2 && strcmp(argv[1], "--json") == 0)
		return xstrdup("dump json\n");
	if ((strcmp(cmd, "reload") == 0 || strcmp(cmd, "stats") == 0) && argc == 1)
		return xasprintf("%s\n", cmd);
	return NULL;
}

/* Milliseconds left until end (0 when passed). */
static int
ctl_left(const struct timespec *end)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* Wait until fd is ready for events, bounded by end: 0, or -1 (errno). */
static int
ctl_wait(int fd, short events, const struct timespec *end)
{
	struct pollfd p = { fd, events, 0 };
	int n;

	do {
		n = poll(&p, 1, ctl_left(end));
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = ETIMEDOUT;
	return n > 0 ? 0 : -1;
}

/* A connected, non-blocking socket to spec, or -1 with a message. */
static int
ctl_connect(const char *spec, const struct timespec *end)
{
	struct endpoint ep;
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int fd = -1, err = 0, rc;
	socklen_t elen = sizeof(err);

	if (endpoint_parse(spec, ENDPOINT_LISTEN, ENDPOINT_F_HOST, &ep) != ENDPOINT_OK) {
		fprintf(stderr, "danemilter ctl: %s: want unix:/path or inet:HOST:PORT\n", spec);
		return -1;
	}
	if (ep.ep_kind == ENDPOINT_UNIX) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, ep.ep_path, strlen(ep.ep_path));
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			fprintf(stderr, "danemilter ctl: %s: connect: %s\n", spec, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", ep.ep_port);
	if ((rc = getaddrinfo(ep.ep_host, port, &hints, &res)) != 0) {
		fprintf(stderr, "danemilter ctl: %s: %s\n", spec, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && ctl_wait(fd, POLLOUT, end) == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0))
			break;
		if (err != 0)
			errno = err;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fprintf(stderr, "danemilter ctl: %s: connect: %s\n", spec, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* Send req, read the whole reply into sb: 0, or -1 with a message. */
static int
ctl_exchange(int fd, const char *spec, const char *req, struct sbuf *sb,
    const struct timespec *end)
{
	size_t off = 0, len = strlen(req);
	char buf[16384];
	ssize_t n;

	while (off < len) {
		n = send(fd, req + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (ctl_wait(fd, POLLOUT, end) != 0)
				goto fail;
			continue;
		}
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (ctl_wait(fd, POLLIN, end) != 0)
				goto fail;
			continue;
		}
		if (n < 0)
			goto fail;
		if (n == 0)
			return 0;
		if (sb->sb_len + (size_t)n > CTL_REPLY_MAX) {
			fprintf(stderr, "danemilter ctl: %s: reply over %u bytes\n", spec,
			    CTL_REPLY_MAX);
			return -1;
		}
		sbuf_appendn(sb, buf, (size_t)n);
	}
fail:
	fprintf(stderr, "danemilter ctl: %s: %s\n", spec,
	    errno == ETIMEDOUT ? "no answer in time" : strerror(errno));
	return -1;
}

int
ctl_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = NULL, *spec = NULL, *body;
	struct sbuf sb = SBUF_INIT;
	struct timespec end;
	struct cfg *cfg = NULL;
	char *req;
	int c, fd, rc;

	optind = 1;
	/* "+": stop at the command, so that "purge --all" is its argument */
	while ((c = getopt_long(argc, argv, "+c:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 's': spec = optarg; break;
		case 'h': ctl_usage(); return 0;
		default: ctl_usage(); return EX_USAGE;
		}
	}
	if ((req = ctl_request(argc - optind, argv + optind)) == NULL || strlen(req) > CTL_LINE_MAX) {
		if (req != NULL)
			fprintf(stderr, "danemilter ctl: the request is longer than %d bytes\n",
			    CTL_LINE_MAX);
		else
			ctl_usage();
		free(req);
		return EX_USAGE;
	}
	if (spec == NULL) {
		if ((cfg = cli_load_config(cfgpath)) == NULL) {
			free(req);
			return EX_CONFIG;
		}
		spec = cfg->c_control.cc_socket;
		if (*spec == '\0') {
			fprintf(stderr, "danemilter ctl: %s: control.socket is \"\" (no control "
			    "socket); give one with -s\n", cfg->c_file ? cfg->c_file : "(defaults)");
			cfg_unref(cfg);
			free(req);
			return EX_CONFIG;
		}
	}
	deadline_in(&end, CLOCK_MONOTONIC, CTL_TIMEOUT_MS);
	rc = EX_UNAVAILABLE;
	if ((fd = ctl_connect(spec, &end)) >= 0) {
		if (ctl_exchange(fd, spec, req, &sb, &end) == 0) {
			body = sbuf_str(&sb);
			if (strncmp(body, "ok\n", 3) == 0) {
				fwrite(body + 3, 1, sb.sb_len - 3, stdout);
				rc = 0;
			} else if (strncmp(body, "error: ", 7) == 0) {
				fprintf(stderr, "danemilter ctl: %s", body + 7);
				rc = 1;
			} else {
				fprintf(stderr, "danemilter ctl: %s: not a control socket reply\n",
				    spec);
				rc = EX_PROTOCOL;
			}
		}
		close(fd);
	}
	sbuf_free(&sb);
	if (cfg != NULL)
		cfg_unref(cfg);
	free(req);
	return rc;
}
