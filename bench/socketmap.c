/*
 * NAME
 *	bench/socketmap - socketmap load generator: queries/s and latency
 * SUMMARY
 *	bench/socketmap -h HOST -p PORT [-c CONNS] [-d SECONDS] [-w SECONDS]
 *	    [-t MS] [-n NAME] [-N COUNT] [-S] [-k FILE] [KEY...]
 * DESCRIPTION
 *	Opens CONNS persistent TCP connections to a socketmap server
 *	(socketmap_table(5)) and keeps each busy the way Postfix's client
 *	uses one: send one netstring request "NAME KEY", wait for the whole
 *	reply netstring, send the next. Connection i starts at KEY number
 *	i mod the number of keys and then takes the keys round-robin; with
 *	-S every connection takes the next key of one sequence shared by all
 *	(so that each key is asked once per round of as many requests as
 *	there are keys). One thread drives every connection from one epoll
 *	loop.
 *
 *	-k FILE adds keys read from FILE (after those of the command line),
 *	one a line: "KEY" or "KEY<TAB>EXPECT". A key with EXPECT must get a
 *	reply that starts with EXPECT (e.g. "OK dane-only", "NOTFOUND",
 *	"TEMP"); anything else is an error. Keys without EXPECT must get
 *	"OK ..." or "NOTFOUND ..." as below.
 *
 *	-N COUNT ends the run when COUNT replies have arrived (warm-up
 *	included), or at the end of the window if that comes first.
 *
 *	The first -w seconds (default 0.5) are warm-up and are not counted;
 *	then for -d seconds (default 3) every reply that completes is counted
 *	and its latency (request written to reply complete, CLOCK_MONOTONIC)
 *	kept. Requests still outstanding at the end are dropped, not counted.
 *	One line is printed:
 *
 *	    conns=N requests=R qps=Q p50=Xus p99=Yus errors=E replies=T
 *	    ok=A notfound=B temp=C secs=S
 *
 *	R counts replies in the measured window, Q = R / the window (which
 *	-N may end early), p50 and p99 are nearest-rank percentiles of their
 *	latencies in microseconds. T counts every reply (warm-up included),
 *	A, B and C those that were "OK ...", "NOTFOUND ..." and "TEMP ...";
 *	S is the wall time from the first request to the end of the run.
 *	E counts, over warm-up and window: replies that are not a netstring
 *	or carry more than one frame, replies that are not "OK ..." or
 *	"NOTFOUND ..." (TEMP and PERM are not what a cache-hit benchmark
 *	should see) or, for a key with EXPECT, do not start with it, replies
 *	missing after -t milliseconds (default 2000),
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
 *	Exit 0 when at least one reply was counted (with -N: COUNT replies
 *	arrived) and no error occurred,
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
#define SOCKETMAP_BENCH_KEYS_MAX        10000000

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
	"malformed reply", "reply not OK or NOTFOUND, or not as expected", "reply timeout",
	"read or write failed",
};

/* One persistent client connection. */
struct sbconn {
	int sc_fd;                      /* -1: closed for good */
	size_t sc_key;                  /* next key to send */
	size_t sc_asked;                /* the key of the outstanding request */
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
	char **sr_expect;               /* per key: the reply's prefix, or NULL */
	size_t sr_next;                 /* -S: the shared sequence's next key */
	int sr_shared;                  /* -S */
	unsigned long sr_count;         /* -N; 0: none */
	unsigned long sr_replies, sr_ok, sr_notfound, sr_temp;
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
	    "[-d SECONDS] [-w SECONDS] [-t MS] [-n NAME] [-N COUNT] [-S] "
	    "[-k FILE] [KEY...]\n");
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

	if (r->sr_shared) {
		k = r->sr_next;
		r->sr_next = (k + 1) % r->sr_nreq;
	}
	c->sc_key = (k + 1) % r->sr_nreq;
	c->sc_asked = k;
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
	const char *payload, *expect;
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
	r->sr_replies++;
	if (plen >= 3 && memcmp(payload, "OK ", 3) == 0)
		r->sr_ok++;
	else if (plen >= 9 && memcmp(payload, "NOTFOUND ", 9) == 0)
		r->sr_notfound++;
	else if (plen >= 4 && memcmp(payload, "TEMP", 4) == 0)
		r->sr_temp++;
	expect = r->sr_expect[c->sc_asked];
	if (expect != NULL ? !(plen >= strlen(expect) &&
	    memcmp(payload, expect, strlen(expect)) == 0) :
	    (!(plen >= 3 && memcmp(payload, "OK ", 3) == 0) &&
	    !(plen >= 9 && memcmp(payload, "NOTFOUND ", 9) == 0))) {
		char what[200];

		snprintf(what, sizeof(what), "%s: \"%.*s\"%s%s",
		    r->sr_req[c->sc_asked], (int)(plen > 100 ? 100 : plen), payload,
		    expect ? ", want " : "", expect ? expect : "");
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
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v >= 0) || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Add the request frame "NAME KEY" (and KEY's EXPECT, NULL: none).
 * 0, or -1 when it is too long or there are too many keys. */
static int
socketmap_bench_addkey(struct sbrun *r, size_t *cap, const char *name,
    const char *key, const char *expect)
{
	char q[SOCKETMAP_BENCH_REQ_MAX];
	int qlen = snprintf(q, sizeof(q), "%s %s", name, key);
	size_t k = r->sr_nreq;

	if (qlen < 0 || (size_t)qlen >= sizeof(q) || k >= SOCKETMAP_BENCH_KEYS_MAX) {
		fprintf(stderr, "bench/socketmap: %s: %s %s\n", k >= SOCKETMAP_BENCH_KEYS_MAX ?
		    "too many keys" : "request too long", name, key);
		return -1;
	}
	if (k == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		r->sr_req = realloc(r->sr_req, *cap * sizeof(*r->sr_req));
		r->sr_reqlen = realloc(r->sr_reqlen, *cap * sizeof(*r->sr_reqlen));
		r->sr_expect = realloc(r->sr_expect, *cap * sizeof(*r->sr_expect));
		if (r->sr_req == NULL || r->sr_reqlen == NULL || r->sr_expect == NULL)
			abort();
	}
	if ((r->sr_req[k] = malloc((size_t)qlen + 12)) == NULL)
		abort();
	r->sr_reqlen[k] = netstring_format(r->sr_req[k], (size_t)qlen + 12, q, (size_t)qlen);
	r->sr_expect[k] = NULL;
	if (expect != NULL && (r->sr_expect[k] = strdup(expect)) == NULL)
		abort();
	r->sr_nreq = k + 1;
	return 0;
}

/* -k FILE: "KEY" or "KEY<TAB>EXPECT" per line; empty lines skipped.
 * 0, or -1 after a message. */
static int
socketmap_bench_keyfile(struct sbrun *r, size_t *cap, const char *name, const char *path)
{
	char line[SOCKETMAP_BENCH_REQ_MAX];
	char *tab;
	FILE *fp;
	size_t len;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "bench/socketmap: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(fp)) {
			fprintf(stderr, "bench/socketmap: %s: line too long\n", path);
			rc = -1;
			break;
		}
		if (len == 0)
			continue;
		if ((tab = strchr(line, '\t')) != NULL)
			*tab++ = '\0';
		rc = socketmap_bench_addkey(r, cap, name, line, tab);
	}
	if (ferror(fp)) {
		fprintf(stderr, "bench/socketmap: %s: read error\n", path);
		rc = -1;
	}
	fclose(fp);
	return rc;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[SOCKETMAP_BENCH_EVENTS];
	struct addrinfo hints, *ai;
	struct sbconn *conns;
	struct sbrun r;
	const char *name = "QUERY", *keyfile = NULL;
	int64_t started;
	size_t cap = 0;
	double dur = 3, warm = 0.5, tmo = 2000, v;
	int64_t now, next_scan;
	unsigned long errors = 0;
	long nconns = 1;
	char *end;
	int ch, i, n, rc, wait_ms;
	size_t k;

	memset(&r, 0, sizeof(r));
	while ((ch = getopt(argc, argv, "h:p:c:d:w:t:n:N:Sk:")) != -1) {
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
			if (socketmap_bench_number(optarg, ch == 't' ? 600000 : 86400, &v) < 0 ||
			    (ch != 'w' && v == 0)) {
				fprintf(stderr, "bench/socketmap: -%c wants a positive number, "
				    "got \"%s\"\n", ch, optarg);
				return EX_USAGE;
			}
			*(ch == 'd' ? &dur : ch == 'w' ? &warm : &tmo) = v;
			break;
		case 'n':
			name = optarg;
			break;
		case 'N':
			errno = 0;
			r.sr_count = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' || errno != 0 ||
			    r.sr_count == 0) {
				fprintf(stderr, "bench/socketmap: -N wants a positive count, "
				    "got \"%s\"\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'S':
			r.sr_shared = 1;
			break;
		case 'k':
			keyfile = optarg;
			break;
		default:
			socketmap_bench_usage();
			return EX_USAGE;
		}
	}
	if (r.sr_host == NULL || r.sr_port == NULL || (optind == argc && keyfile == NULL)) {
		socketmap_bench_usage();
		return EX_USAGE;
	}

	/* Every request frame, built once. */
	for (i = optind; i < argc; i++)
		if (socketmap_bench_addkey(&r, &cap, name, argv[i], NULL) < 0)
			return EX_USAGE;
	if (keyfile != NULL && socketmap_bench_keyfile(&r, &cap, name, keyfile) < 0)
		return EX_USAGE;
	if (r.sr_nreq == 0) {
		fprintf(stderr, "bench/socketmap: no keys\n");
		return EX_USAGE;
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

	now = started = socketmap_bench_now();
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
		if (r.sr_count != 0 && r.sr_replies >= r.sr_count) {
			now = socketmap_bench_now();
			if (now < r.sr_win_end) {
				dur = now > r.sr_win_start ?
				    (double)(now - r.sr_win_start) / 1e9 : 0;
				r.sr_win_end = now;
			}
			break;
		}
	}
	now = socketmap_bench_now();
	for (i = 0; i < nconns; i++)
		if (conns[i].sc_fd >= 0)
			close(conns[i].sc_fd);

	for (k = 0; k < SBE_KINDS; k++)
		errors += r.sr_errors[k];
	qsort(r.sr_lat, r.sr_nlat, sizeof(*r.sr_lat), socketmap_bench_cmp);
	printf("conns=%ld requests=%zu qps=%.0f p50=%.0fus p99=%.0fus errors=%lu "
	    "replies=%lu ok=%lu notfound=%lu temp=%lu secs=%.3f\n",
	    nconns, r.sr_nlat, dur > 0 ? (double)r.sr_nlat / dur : 0,
	    socketmap_bench_pct(&r, 50), socketmap_bench_pct(&r, 99), errors,
	    r.sr_replies, r.sr_ok, r.sr_notfound, r.sr_temp,
	    (double)(now - started) / 1e9);
	for (i = 0; i < nconns; i++)
		free(conns[i].sc_buf);
	free(conns);
	for (k = 0; k < r.sr_nreq; k++) {
		free(r.sr_req[k]);
		free(r.sr_expect[k]);
	}
	free(r.sr_req);
	free(r.sr_reqlen);
	free(r.sr_expect);
	free(r.sr_lat);
	freeaddrinfo(ai);
	close(r.sr_epfd);
	if (r.sr_count != 0 && r.sr_replies < r.sr_count)
		fprintf(stderr, "bench/socketmap: %lu of %lu replies before the end of the run\n",
		    r.sr_replies, r.sr_count);
	return errors == 0 && (r.sr_count != 0 ? r.sr_replies >= r.sr_count :
	    r.sr_nlat > 0) ? 0 : 1;
}
