/*
 * NAME
 *	bench/socketmap - socketmap load generator: queries/s and latency
 * SUMMARY
 *	bench/socketmap -h HOST -p PORT [-c CONNS] [-d SECONDS] [-w SECONDS]
 *	    [-t MS] [-n NAME] KEY...
 * DESCRIPTION
 *	Opens CONNS persistent TCP connections to a socketmap server
 *	(socketmap_table(5)) and keeps each busy the way Postfix's client
 *	uses one: send one netstring request "NAME KEY", wait for the whole
 *	reply netstring, send the next. Connection i starts at KEY number
 *	i mod the number of keys and then takes the keys round-robin. One
 *	thread drives every connection from one epoll loop.
 *
 *	The first -w seconds (default 0.5) are warm-up and are not counted;
 *	then for -d seconds (default 3) every reply that completes is counted
 *	and its latency (request written to reply complete, CLOCK_MONOTONIC)
 *	kept. Requests still outstanding at the end are dropped, not counted.
 *	One line is printed:
 *
 *	    conns=N requests=R qps=Q p50=Xus p99=Yus errors=E
 *
 *	R counts replies in the measured window, Q = R / the window, p50 and
 *	p99 are nearest-rank percentiles of their latencies in microseconds.
 *	E counts, over warm-up and window: replies that are not a netstring
 *	or carry more than one frame, replies that are not "OK ..." or
 *	"NOTFOUND ..." (TEMP and PERM are not what a cache-hit benchmark
 *	should see), replies missing after -t milliseconds (default 2000),
 *	connections closed by the server, and connections that could not be
 *	made. After an error the connection is closed and made again (a
 *	failed reconnection leaves it closed for the rest of the run).
 *
 *	Bounded: connect() has a send timeout of -t, every outstanding request
 *	has a reply deadline of -t, and the program ends by itself after
 *	warm-up + duration. The latency includes the time this single loop
 *	takes to notice a reply when many are ready at once; on a machine
 *	shared with the server it is part of what is measured.
 * DIAGNOSTICS
 *	Exit 0 when at least one reply was counted and no error occurred,
 *	1 otherwise (the first error of each kind is described on stderr),
 *	EX_USAGE (64) for bad arguments, EX_UNAVAILABLE (69) when no
 *	connection at all could be made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/netstring.h"

#define SOCKETMAP_BENCH_CONNS_MAX       10000
#define SOCKETMAP_BENCH_REPLY_MAX       100000  /* as socketmap/socketmap.h */
#define SOCKETMAP_BENCH_BUF             (SOCKETMAP_BENCH_REPLY_MAX + 16)
#define SOCKETMAP_BENCH_REQ_MAX         10000
#define SOCKETMAP_BENCH_EVENTS          256
#define SOCKETMAP_BENCH_SCAN_NS         (100 * 1000000LL)       /* timeout scan */

/* What went wrong, for the error count and one message per kind. */
enum socketmap_bench_err {
	SBE_CONNECT,
	SBE_CLOSED,
	SBE_MALFORMED,
	SBE_ANSWER,
	SBE_TIMEOUT,
	SBE_IO,
	SBE_KINDS
};

static const char *const sbe_text[SBE_KINDS] = {
	"connection failed", "connection closed by the server",
	"malformed reply", "reply not OK or NOTFOUND", "reply timeout",
	"read or write failed",
};

/* One persistent client connection. */
struct sbconn {
	int sc_fd;                      /* -1: closed for good */
	size_t sc_key;                  /* next key to send */
	int64_t sc_sent;                /* when the outstanding request was written; 0: none */
	size_t sc_len;                  /* bytes of the reply so far */
	char *sc_buf;                   /* SOCKETMAP_BENCH_BUF bytes */
};

/* The whole run. */
struct sbrun {
	const char *sr_host;
	const char *sr_port;
	int sr_epfd;
	int64_t sr_timeout_ns;
	size_t sr_nreq;
	char **sr_req;                  /* request frames, one per key */
	size_t *sr_reqlen;
	struct addrinfo *sr_ai;
	unsigned long sr_errors[SBE_KINDS];
	int sr_connected;               /* connections ever made */
	int64_t sr_win_start, sr_win_end;
	uint32_t *sr_lat;               /* latencies in ns, measured window only */
	size_t sr_nlat, sr_caplat;
};

static void
socketmap_bench_usage(void)
{
	fprintf(stderr, "usage: bench/socketmap -h HOST -p PORT [-c CONNS] "
	    "[-d SECONDS] [-w SECONDS] [-t MS] [-n NAME] KEY...\n");
}

static int64_t
socketmap_bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
socketmap_bench_error(struct sbrun *r, enum socketmap_bench_err kind,
    const char *detail)
{
	if (r->sr_errors[kind]++ == 0)
		fprintf(stderr, "bench/socketmap: %s%s%s\n", sbe_text[kind],
		    detail ? ": " : "", detail ? detail : "");
}

/* Connect c (blocking, bounded by SO_SNDTIMEO), then make it non-blocking
 * and register it. 0, or -1 after counting the error (c->sc_fd is -1). */
static int
socketmap_bench_connect(struct sbrun *r, struct sbconn *c)
{
	struct timeval tv;
	struct epoll_event ev;
	int fd, one = 1;

	c->sc_fd = -1;
	c->sc_sent = 0;
	c->sc_len = 0;
	fd = socket(r->sr_ai->ai_family, r->sr_ai->ai_socktype | SOCK_CLOEXEC,
	    r->sr_ai->ai_protocol);
	if (fd < 0) {
		socketmap_bench_error(r, SBE_CONNECT, strerror(errno));
		return -1;
	}
	tv.tv_sec = (time_t)(r->sr_timeout_ns / 1000000000LL);
	tv.tv_usec = (suseconds_t)(r->sr_timeout_ns % 1000000000LL / 1000);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, r->sr_ai->ai_addr, r->sr_ai->ai_addrlen) < 0) {
		socketmap_bench_error(r, SBE_CONNECT, strerror(errno));
		close(fd);
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		socketmap_bench_error(r, SBE_CONNECT, strerror(errno));
		close(fd);
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(r->sr_epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		socketmap_bench_error(r, SBE_CONNECT, strerror(errno));
		close(fd);
		return -1;
	}
	c->sc_fd = fd;
	r->sr_connected++;
	return 0;
}

/* Write c's next request. 0, or -1 after counting the error. The
 * previous reply has been read, so the server has read the previous
 * request and the send buffer is empty: a short write is an error. */
static int
socketmap_bench_send(struct sbrun *r, struct sbconn *c)
{
	size_t k = c->sc_key;
	ssize_t n;

	c->sc_key = (k + 1) % r->sr_nreq;
	c->sc_len = 0;
	c->sc_sent = socketmap_bench_now();
	n = write(c->sc_fd, r->sr_req[k], r->sr_reqlen[k]);
	if (n == (ssize_t)r->sr_reqlen[k])
		return 0;
	socketmap_bench_error(r, SBE_IO, n < 0 ? strerror(errno) : "short write");
	return -1;
}

/* Close c after an error and connect again; sends the next request. A
 * connection that cannot be made, or fails again at once, stays closed. */
static void
socketmap_bench_restart(struct sbrun *r, struct sbconn *c)
{
	close(c->sc_fd);        /* also removes it from the epoll set */
	c->sc_fd = -1;
	if (socketmap_bench_connect(r, c) == 0 && socketmap_bench_send(r, c) < 0) {
		close(c->sc_fd);
		c->sc_fd = -1;
	}
}

static void
socketmap_bench_record(struct sbrun *r, int64_t lat)
{
	if (r->sr_nlat == r->sr_caplat) {
		r->sr_caplat = r->sr_caplat ? 2 * r->sr_caplat : 65536;
		r->sr_lat = realloc(r->sr_lat, r->sr_caplat * sizeof(*r->sr_lat));
		if (r->sr_lat == NULL) {
			fprintf(stderr, "bench/socketmap: out of memory\n");
			abort();
		}
	}
	r->sr_lat[r->sr_nlat++] = lat > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
}

/* c is readable: read, and when the reply is whole, check it, count it
 * and send the next request. */
static void
socketmap_bench_readable(struct sbrun *r, struct sbconn *c)
{
	const char *payload;
	size_t plen, used;
	enum netstring_status st;
	int64_t now;
	ssize_t n;

	n = read(c->sc_fd, c->sc_buf + c->sc_len, SOCKETMAP_BENCH_BUF - c->sc_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		socketmap_bench_error(r, n == 0 ? SBE_CLOSED : SBE_IO,
		    n == 0 ? NULL : strerror(errno));
		socketmap_bench_restart(r, c);
		return;
	}
	now = socketmap_bench_now();
	c->sc_len += (size_t)n;
	st = netstring_parse(c->sc_buf, c->sc_len, SOCKETMAP_BENCH_REPLY_MAX,
	    &payload, &plen, &used);
	if (st == NETSTRING_INCOMPLETE && c->sc_len < SOCKETMAP_BENCH_BUF)
		return;
	if (st != NETSTRING_OK || used != c->sc_len || c->sc_sent == 0) {
		socketmap_bench_error(r, SBE_MALFORMED, st != NETSTRING_OK ?
		    netstring_status_text(st) : c->sc_sent == 0 ?
		    "unsolicited data" : "bytes after the reply");
		socketmap_bench_restart(r, c);
		return;
	}
	if (!(plen >= 3 && memcmp(payload, "OK ", 3) == 0) &&
	    !(plen >= 9 && memcmp(payload, "NOTFOUND ", 9) == 0)) {
		char what[120];

		snprintf(what, sizeof(what), "\"%.*s\"",
		    (int)(plen > 100 ? 100 : plen), payload);
		socketmap_bench_error(r, SBE_ANSWER, what);
	} else if (now >= r->sr_win_start && now < r->sr_win_end)
		socketmap_bench_record(r, now - c->sc_sent);
	c->sc_sent = 0;
	if (socketmap_bench_send(r, c) < 0)
		socketmap_bench_restart(r, c);
}

/* Every outstanding request older than the timeout is an error. */
static void
socketmap_bench_scan(struct sbrun *r, struct sbconn *conns, int nconns, int64_t now)
{
	int i;

	for (i = 0; i < nconns; i++) {
		if (conns[i].sc_fd < 0 || conns[i].sc_sent == 0 ||
		    now - conns[i].sc_sent < r->sr_timeout_ns)
			continue;
		socketmap_bench_error(r, SBE_TIMEOUT, NULL);
		socketmap_bench_restart(r, &conns[i]);
	}
}

static int
socketmap_bench_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..100] of the sorted latencies, in us. */
static double
socketmap_bench_pct(const struct sbrun *r, unsigned p)
{
	size_t rank;

	if (r->sr_nlat == 0)
		return 0;
	rank = (r->sr_nlat * p + 99) / 100;
	if (rank == 0)
		rank = 1;
	return r->sr_lat[rank - 1] / 1000.0;
}

/* Parse a positive decimal number of seconds (or ms) up to max. */
static int
socketmap_bench_number(const char *s, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v > 0) || v > max)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[SOCKETMAP_BENCH_EVENTS];
	struct addrinfo hints, *ai;
	struct sbconn *conns;
	struct sbrun r;
	const char *name = "QUERY";
	double dur = 3, warm = 0.5, tmo = 2000, v;
	int64_t now, next_scan;
	unsigned long errors = 0;
	long nconns = 1;
	char *end;
	int ch, i, n, rc, wait_ms;
	size_t k;

	memset(&r, 0, sizeof(r));
	while ((ch = getopt(argc, argv, "h:p:c:d:w:t:n:")) != -1) {
		switch (ch) {
		case 'h':
			r.sr_host = optarg;
			break;
		case 'p':
			r.sr_port = optarg;
			break;
		case 'c':
			nconns = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || nconns < 1 ||
			    nconns > SOCKETMAP_BENCH_CONNS_MAX) {
				fprintf(stderr, "bench/socketmap: -c wants 1..%d, got \"%s\"\n",
				    SOCKETMAP_BENCH_CONNS_MAX, optarg);
				return EX_USAGE;
			}
			break;
		case 'd':
		case 'w':
		case 't':
			if (socketmap_bench_number(optarg, ch == 't' ? 600000 : 3600, &v) < 0) {
				fprintf(stderr, "bench/socketmap: -%c wants a positive number, "
				    "got \"%s\"\n", ch, optarg);
				return EX_USAGE;
			}
			*(ch == 'd' ? &dur : ch == 'w' ? &warm : &tmo) = v;
			break;
		case 'n':
			name = optarg;
			break;
		default:
			socketmap_bench_usage();
			return EX_USAGE;
		}
	}
	if (r.sr_host == NULL || r.sr_port == NULL || optind == argc) {
		socketmap_bench_usage();
		return EX_USAGE;
	}

	/* Every request frame, built once. */
	r.sr_nreq = (size_t)(argc - optind);
	r.sr_req = calloc(r.sr_nreq, sizeof(*r.sr_req));
	r.sr_reqlen = calloc(r.sr_nreq, sizeof(*r.sr_reqlen));
	if (r.sr_req == NULL || r.sr_reqlen == NULL)
		abort();
	for (k = 0; k < r.sr_nreq; k++) {
		char q[SOCKETMAP_BENCH_REQ_MAX];
		int qlen = snprintf(q, sizeof(q), "%s %s", name, argv[optind + (int)k]);

		if (qlen < 0 || (size_t)qlen >= sizeof(q)) {
			fprintf(stderr, "bench/socketmap: request too long: %s %s\n",
			    name, argv[optind + (int)k]);
			return EX_USAGE;
		}
		if ((r.sr_req[k] = malloc((size_t)qlen + 12)) == NULL)
			abort();
		r.sr_reqlen[k] = netstring_format(r.sr_req[k], (size_t)qlen + 12, q,
		    (size_t)qlen);
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(r.sr_host, r.sr_port, &hints, &ai)) != 0) {
		fprintf(stderr, "bench/socketmap: %s port %s: %s\n", r.sr_host,
		    r.sr_port, gai_strerror(rc));
		return EX_USAGE;
	}
	r.sr_ai = ai;
	r.sr_timeout_ns = (int64_t)(tmo * 1e6);
	if ((r.sr_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("bench/socketmap: epoll_create1");
		return 1;
	}
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL)
		abort();
	for (i = 0; i < nconns; i++) {
		if ((conns[i].sc_buf = malloc(SOCKETMAP_BENCH_BUF)) == NULL)
			abort();
		conns[i].sc_key = (size_t)i % r.sr_nreq;
		if (socketmap_bench_connect(&r, &conns[i]) < 0)
			conns[i].sc_fd = -1;
	}
	if (r.sr_connected == 0) {
		fprintf(stderr, "bench/socketmap: no connection to %s port %s\n",
		    r.sr_host, r.sr_port);
		return EX_UNAVAILABLE;
	}

	now = socketmap_bench_now();
	r.sr_win_start = now + (int64_t)(warm * 1e9);
	r.sr_win_end = r.sr_win_start + (int64_t)(dur * 1e9);
	next_scan = now + SOCKETMAP_BENCH_SCAN_NS;
	for (i = 0; i < nconns; i++)
		if (conns[i].sc_fd >= 0 && socketmap_bench_send(&r, &conns[i]) < 0)
			socketmap_bench_restart(&r, &conns[i]);

	while ((now = socketmap_bench_now()) < r.sr_win_end) {
		if (now >= next_scan) {
			socketmap_bench_scan(&r, conns, (int)nconns, now);
			next_scan = now + SOCKETMAP_BENCH_SCAN_NS;
		}
		wait_ms = (int)(((next_scan < r.sr_win_end ? next_scan : r.sr_win_end)
		    - now + 999999) / 1000000);
		n = epoll_wait(r.sr_epfd, evs, SOCKETMAP_BENCH_EVENTS, wait_ms);
		if (n < 0 && errno != EINTR) {
			perror("bench/socketmap: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++)
			socketmap_bench_readable(&r, evs[i].data.ptr);
	}
	for (i = 0; i < nconns; i++)
		if (conns[i].sc_fd >= 0)
			close(conns[i].sc_fd);

	for (k = 0; k < SBE_KINDS; k++)
		errors += r.sr_errors[k];
	qsort(r.sr_lat, r.sr_nlat, sizeof(*r.sr_lat), socketmap_bench_cmp);
	printf("conns=%ld requests=%zu qps=%.0f p50=%.0fus p99=%.0fus errors=%lu\n",
	    nconns, r.sr_nlat, (double)r.sr_nlat / dur,
	    socketmap_bench_pct(&r, 50), socketmap_bench_pct(&r, 99), errors);
	for (i = 0; i < nconns; i++)
		free(conns[i].sc_buf);
	free(conns);
	for (k = 0; k < r.sr_nreq; k++)
		free(r.sr_req[k]);
	free(r.sr_req);
	free(r.sr_reqlen);
	free(r.sr_lat);
	freeaddrinfo(ai);
	close(r.sr_epfd);
	return errors == 0 && r.sr_nlat > 0 ? 0 : 1;
}
