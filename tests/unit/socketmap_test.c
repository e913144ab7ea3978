/*
 * socketmap_test.c: the socketmap server on an ivykis loop in its own
 * thread, driven by blocking clients in the main thread: round trips over
 * inet and unix, the three request names, pipelining, asynchronous
 * replies, PERM answers, framing errors, the idle and I/O time bounds,
 * cancel when a client leaves, the connection limit, accept pausing when
 * out of descriptors, 200 concurrent connections, reply size limits,
 * endpoint errors and the unix socket's mode.
 *
 * The test lookup answers "OK policy-for-KEY" ("OK NAME policy-for-KEY"
 * for QUERYwithTLSRPT and JSON) at once; after 50 ms for keys starting
 * with "slow"; never for "never" (until cancelled); a reply of exactly
 * SOCKETMAP_REPLY_MAX bytes for "huge" and one byte more for "toolong".
 */
#include <errno.h>
#include <iv.h>
#include <iv_event.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netstring.h"
#include "common/xmalloc.h"
#include "socketmap/socketmap.h"
#include "tests/tap.h"

#define IO_MS           300
#define IDLE_MS         300
#define NCONC           200
#define NROUNDS         10

/* ---- the lookup (loop thread) ---- */

struct slow {
	struct iv_timer s_timer;
	struct socketmap_req *s_req;
	char s_reply[1100];
};

static int n_lookups, n_cancels, n_never;       /* atomics */
static bool in_late_reply;                      /* loop thread only */
static int n_reentered;
static char never_token;
static char big_reply[SOCKETMAP_REPLY_MAX + 2];

static int
atomic_get(int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void
atomic_inc(int *p, int by)
{
	__atomic_add_fetch(p, by, __ATOMIC_SEQ_CST);
}

static void
policy_text(char *out, size_t outlen, const struct socketmap_request_view *v)
{
	if (strcmp(v->rv_name, "QUERY") == 0)
		snprintf(out, outlen, "OK policy-for-%s", v->rv_key);
	else
		snprintf(out, outlen, "OK %s policy-for-%s", v->rv_name, v->rv_key);
}

static void
slow_fire(void *cookie)
{
	struct slow *s = cookie;

	in_late_reply = true;
	socketmap_reply(s->s_req, s->s_reply, strlen(s->s_reply));
	in_late_reply = false;
	free(s);
}

static void
t_lookup(void *arg, struct socketmap_req *req, struct socketmap_request_view *v)
{
	char reply[1100];
	struct slow *s;

	(void)arg;
	atomic_inc(&n_lookups, 1);
	if (in_late_reply)
		atomic_inc(&n_reentered, 1);
	if (strcmp(v->rv_key, "never") == 0) {
		v->rv_token = &never_token;
		atomic_inc(&n_never, 1);
		return;
	}
	if (strncmp(v->rv_key, "slow", 4) == 0) {
		s = xmalloc(sizeof(*s));
		s->s_req = req;
		policy_text(s->s_reply, sizeof(s->s_reply), v);
		IV_TIMER_INIT(&s->s_timer);
		s->s_timer.expires = iv_now;
		s->s_timer.expires.tv_nsec += 50 * 1000000L;
		if (s->s_timer.expires.tv_nsec >= 1000000000L) {
			s->s_timer.expires.tv_sec++;
			s->s_timer.expires.tv_nsec -= 1000000000L;
		}
		s->s_timer.cookie = s;
		s->s_timer.handler = slow_fire;
		iv_timer_register(&s->s_timer);
		v->rv_token = s;
		return;
	}
	if (strcmp(v->rv_key, "huge") == 0 || strcmp(v->rv_key, "toolong") == 0) {
		size_t len = SOCKETMAP_REPLY_MAX + (v->rv_key[0] == 't');

		memset(big_reply, 'h', len);
		memcpy(big_reply, "OK ", 3);
		socketmap_reply(req, big_reply, len);
		return;
	}
	if (strcmp(v->rv_key, "notfound") == 0) {
		socketmap_reply(req, "NOTFOUND ", 9);
		return;
	}
	policy_text(reply, sizeof(reply), v);
	socketmap_reply(req, reply, strlen(reply));
}

static void
t_cancel(void *arg, struct socketmap_req *req, struct socketmap_request_view *v)
{
	struct slow *s = v->rv_token;

	(void)arg;
	(void)req;
	atomic_inc(&n_cancels, 1);
	if (v->rv_token == &never_token) {
		atomic_inc(&n_never, -1);
	} else if (s != NULL) {
		iv_timer_unregister(&s->s_timer);
		free(s);
	}
}

static const struct socketmap_ops t_ops = { t_lookup, t_cancel, NULL };

/* ---- the loop thread and calls into it ---- */

static pthread_t loop_thread;
static struct iv_event call_ev;
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t call_cond = PTHREAD_COND_INITIALIZER;
static void (*call_fn)(void *);
static void *call_arg;
static bool call_done, loop_ready;

static void
call_handler(void *cookie)
{
	(void)cookie;
	call_fn(call_arg);
	pthread_mutex_lock(&call_lock);
	call_done = true;
	pthread_cond_broadcast(&call_cond);
	pthread_mutex_unlock(&call_lock);
}

static void *
loop_main(void *arg)
{
	(void)arg;
	iv_init();
	IV_EVENT_INIT(&call_ev);
	call_ev.handler = call_handler;
	iv_event_register(&call_ev);
	pthread_mutex_lock(&call_lock);
	loop_ready = true;
	pthread_cond_broadcast(&call_cond);
	pthread_mutex_unlock(&call_lock);
	iv_main();
	iv_deinit();
	return NULL;
}

/* Run fn(arg) on the loop thread and wait for it. */
static void
on_loop(void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&call_lock);
	call_fn = fn;
	call_arg = arg;
	call_done = false;
	pthread_mutex_unlock(&call_lock);
	iv_event_post(&call_ev);
	pthread_mutex_lock(&call_lock);
	while (!call_done)
		pthread_cond_wait(&call_cond, &call_lock);
	pthread_mutex_unlock(&call_lock);
}

static void
quit_fn(void *arg)
{
	(void)arg;
	iv_event_unregister(&call_ev);
	iv_quit();
}

struct server {
	const char *sv_eps[3];
	size_t sv_n;
	struct socketmap_limits sv_lim;
	struct socketmap *sv_sm;
	char *sv_err;
	struct socketmap_stats sv_stats;
};

static void
server_new_fn(void *arg)
{
	struct server *sv = arg;

	sv->sv_sm = socketmap_new(sv->sv_eps, sv->sv_n, &sv->sv_lim, &t_ops, &sv->sv_err);
}

static void
server_free_fn(void *arg)
{
	struct server *sv = arg;

	socketmap_free(sv->sv_sm);
	sv->sv_sm = NULL;
}

static void
server_stats_fn(void *arg)
{
	struct server *sv = arg;

	socketmap_stats(sv->sv_sm, &sv->sv_stats);
}

static struct socketmap_stats *
stats(struct server *sv)
{
	on_loop(server_stats_fn, sv);
	return &sv->sv_stats;
}

/* Start a server; on failure its error text stays in sv_err. */
static bool
server_start(struct server *sv)
{
	free(sv->sv_err);
	sv->sv_err = NULL;
	on_loop(server_new_fn, sv);
	return sv->sv_sm != NULL;
}

/* ---- clients (main thread, blocking sockets) ---- */

struct client {
	int cl_fd;
	size_t cl_len;
	char cl_buf[SOCKETMAP_REPLY_MAX + 64];
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
set_rcvtimeo(int fd, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int
free_port(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, port = -1;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return port;
}

static struct client *
cl_wrap(int fd)
{
	struct client *cl;

	if (fd < 0)
		return NULL;
	cl = xmalloc(sizeof(*cl));
	cl->cl_fd = fd;
	cl->cl_len = 0;
	set_rcvtimeo(fd, 5000);
	return cl;
}

static struct client *
cl_inet(int family, int port)
{
	struct sockaddr_storage ss;
	int fd;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	}
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&ss, family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0) {
		close(fd);
		return NULL;
	}
	return cl_wrap(fd);
}

static struct client *
cl_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return NULL;
	}
	return cl_wrap(fd);
}

static void
cl_close(struct client *cl)
{
	if (cl == NULL)
		return;
	close(cl->cl_fd);
	free(cl);
}

static bool
cl_send(struct client *cl, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(cl->cl_fd, s, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		s += n;
		len -= (size_t)n;
	}
	return true;
}

static bool
cl_request(struct client *cl, const char *payload)
{
	char frame[12000];
	size_t len = strlen(payload);

	return cl_send(cl, frame, netstring_format(frame, sizeof(frame), payload, len));
}

/* Read one reply frame into out (NUL-terminated, truncated to outlen);
 * its full length, or -1 on EOF, timeout or a bad frame. */
static long
cl_reply(struct client *cl, char *out, size_t outlen)
{
	const char *p;
	size_t plen, used;
	enum netstring_status st;
	ssize_t n;

	for (;;) {
		st = netstring_parse(cl->cl_buf, cl->cl_len, SOCKETMAP_REPLY_MAX, &p, &plen, &used);
		if (st == NETSTRING_OK) {
			size_t k = plen < outlen - 1 ? plen : outlen - 1;

			memcpy(out, p, k);
			out[k] = '\0';
			memmove(cl->cl_buf, cl->cl_buf + used, cl->cl_len - used);
			cl->cl_len -= used;
			return (long)plen;
		}
		if (st != NETSTRING_INCOMPLETE)
			return -1;
		n = recv(cl->cl_fd, cl->cl_buf + cl->cl_len, sizeof(cl->cl_buf) - cl->cl_len, 0);
		if (n <= 0)
			return -1;
		cl->cl_len += (size_t)n;
	}
}

/* Send payload, read the reply; "" on failure. */
static const char *
cl_query(struct client *cl, const char *payload)
{
	static char out[2048];

	if (cl == NULL || !cl_request(cl, payload) || cl_reply(cl, out, sizeof(out)) < 0)
		return "";
	return out;
}

/* True when the server closes cl within ms (EOF or reset); *took gets the
 * time it took. Data that arrives meanwhile is discarded. */
static bool
cl_closed(struct client *cl, long ms, long *took)
{
	long start = now_ms(), left;
	char buf[4096];
	ssize_t n;

	for (;;) {
		left = ms - (now_ms() - start);
		if (left <= 0)
			break;
		set_rcvtimeo(cl->cl_fd, left);
		n = recv(cl->cl_fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			if (took != NULL)
				*took = now_ms() - start;
			return true;
		}
		if (n < 0 && errno != EINTR)
			break;
	}
	if (took != NULL)
		*took = now_ms() - start;
	return false;
}

/* Wait up to ms for *p to reach want. */
static bool
wait_int(int *p, int want, long ms)
{
	long end = now_ms() + ms;

	while (atomic_get(p) != want) {
		if (now_ms() > end)
			return false;
		usleep(5000);
	}
	return true;
}

static bool
wait_open(struct server *sv, unsigned want, long ms)
{
	long end = now_ms() + ms;

	while (stats(sv)->ss_open != want) {
		if (now_ms() > end)
			return false;
		usleep(5000);
	}
	return true;
}

/* The lowest free descriptor number: with RLIMIT_NOFILE set to it, the
 * next descriptor anyone asks for fails with EMFILE. */
static int
lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- the tests ---- */

static char tmpdir[] = "/tmp/socketmap_test.XXXXXX";
static char path_a[100], path_stale[100], path_file[100];
static int port_a, port_b, port_c;
static struct server sa, sb, sc;

static void
test_endpoints(void)
{
	static struct {
		const char *ep;
		const char *want;       /* in the error text */
		const char *desc;
	} bad[] = {
		{ "tcp:127.0.0.1:1", "tcp:127.0.0.1:1", "unknown endpoint type" },
		{ "inet:127.0.0.1", "want inet:HOST:PORT", "no port" },
		{ "inet:127.0.0.1:99999", "want inet:HOST:PORT", "port out of range" },
		{ "inet:127.0.0.1:0", "want inet:HOST:PORT", "port 0" },
		{ "inet:127.0.0.1:25x", "want inet:HOST:PORT", "port with a letter" },
		{ "inet:::1:25", "want inet:HOST:PORT", "IPv6 without brackets" },
		{ "inet:[::1:25", "want inet:HOST:PORT", "unclosed bracket" },
		{ "inet:300.1.1.1:25", "300.1.1.1", "bad IPv4 address" },
		{ "unix:", "want unix:/path", "empty path" },
		{ NULL, "is not a socket", "regular file in the way" },
		{ NULL, "bind", "port in use" },
		{ NULL, "another server is listening", "live unix socket" },
	};
	char ep_file[160], ep_busy[64], ep_live[160];
	struct server sv;
	size_t i;
	FILE *f;

	f = fopen(path_file, "w");
	if (f != NULL)
		fclose(f);
	snprintf(ep_file, sizeof(ep_file), "unix:%s", path_file);
	snprintf(ep_busy, sizeof(ep_busy), "inet:127.0.0.1:%d", port_a);
	snprintf(ep_live, sizeof(ep_live), "unix:%s", path_a);
	bad[9].ep = ep_file;
	bad[10].ep = ep_busy;
	bad[11].ep = ep_live;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&sv, 0, sizeof(sv));
		sv.sv_eps[0] = bad[i].ep;
		sv.sv_n = 1;
		if (server_start(&sv)) {
			tap_ok(0, "endpoint error: %s (%s)", bad[i].desc, bad[i].ep);
			on_loop(server_free_fn, &sv);
			continue;
		}
		if (!tap_ok(sv.sv_err != NULL && strstr(sv.sv_err, bad[i].want) != NULL &&
		    strstr(sv.sv_err, bad[i].ep) != NULL, "endpoint error: %s", bad[i].desc))
			printf("# got \"%s\", want it to contain \"%s\" and \"%s\"\n",
			    sv.sv_err ? sv.sv_err : "(null)", bad[i].want, bad[i].ep);
		free(sv.sv_err);
	}
	tap_ok(access(path_file, F_OK) == 0, "the regular file was left alone");
}

static void
test_basic(struct client *ci, struct client *cu)
{
	char key[1200], want[1300];
	const char *got;
	long t0;

	tap_is_str(cl_query(ci, "QUERY example.com"), "OK policy-for-example.com",
	    "inet: QUERY round trip");
	tap_is_str(cl_query(cu, "QUERY example.com"), "OK policy-for-example.com",
	    "unix: QUERY round trip");
	tap_is_str(cl_query(ci, "QUERYwithTLSRPT example.net"),
	    "OK QUERYwithTLSRPT policy-for-example.net", "QUERYwithTLSRPT reaches the lookup");
	tap_is_str(cl_query(cu, "JSON [mx.example.org]:587"),
	    "OK JSON policy-for-[mx.example.org]:587", "JSON reaches the lookup");
	tap_is_str(cl_query(ci, "QUERY notfound"), "NOTFOUND ", "NOTFOUND passes through");
	tap_is_str(cl_query(ci, "QUERY a.example"), "OK policy-for-a.example",
	    "same connection, next request");

	t0 = now_ms();
	got = cl_query(cu, "QUERY slow.example");
	tap_is_str(got, "OK policy-for-slow.example", "asynchronous reply");
	tap_ok(now_ms() - t0 >= 40, "asynchronous reply came after the lookup's delay");
	tap_is_str(cl_query(cu, "QUERY b.example"), "OK policy-for-b.example",
	    "synchronous reply after an asynchronous one");

	tap_is_str(cl_query(ci, "FOO example.com"), "PERM unknown request name", "unknown name");
	tap_is_str(cl_query(ci, "query example.com"), "PERM unknown request name",
	    "names are case-sensitive");
	tap_is_str(cl_query(ci, "QUERYexample.com"), "PERM unknown request name",
	    "no separator");
	tap_is_str(cl_query(ci, ""), "PERM unknown request name", "empty request");
	tap_is_str(cl_query(ci, "QUERY"), "PERM invalid key", "name without key");
	tap_is_str(cl_query(ci, "QUERY "), "PERM invalid key", "empty key");
	tap_is_str(cl_query(ci, "QUERY  example.com"), "PERM invalid key", "two spaces");
	tap_is_str(cl_query(ci, "QUERY a b"), "PERM invalid key", "space inside the key");
	tap_is_str(cl_query(ci, "QUERY a\tb"), "PERM invalid key", "tab in the key");
	tap_is_str(cl_query(ci, "QUERY ex\x7f"), "PERM invalid key", "DEL in the key");
	tap_is_str(cl_query(ci, "QUERY b\xc3\xbc" "cher.de"), "OK policy-for-b\xc3\xbc" "cher.de",
	    "UTF-8 in the key reaches the lookup (PERM would defer an SMTPUTF8 domain's mail)");
	memset(key, 'k', sizeof(key));
	memcpy(key, "QUERY ", 6);
	key[1006] = '\0';
	snprintf(want, sizeof(want), "OK policy-for-%s", key + 6);
	tap_is_str(cl_query(ci, key), want, "1000-byte key");
	key[1006] = 'k';
	key[1007] = '\0';
	tap_is_str(cl_query(ci, key), "PERM invalid key", "1001-byte key");
	tap_is_str(cl_query(ci, "QUERY after.perm"), "OK policy-for-after.perm",
	    "connection still serves after PERM answers");
}

static void
test_pipeline(void)
{
	static const char *const req[] = {
		"QUERY p1", "QUERY slow-p2", "BAD p3", "JSON p4", "QUERY slow-p5", "QUERY p6",
	};
	static const char *const want[] = {
		"OK policy-for-p1", "OK policy-for-slow-p2", "PERM unknown request name",
		"OK JSON policy-for-p4", "OK policy-for-slow-p5", "OK policy-for-p6",
	};
	struct client *cl = cl_inet(AF_INET, port_a);
	char buf[1024], out[256];
	size_t i, len = 0;
	int good = 0;

	for (i = 0; i < 6; i++)
		len += netstring_format(buf + len, sizeof(buf) - len, req[i], strlen(req[i]));
	if (cl != NULL && cl_send(cl, buf, len))
		for (i = 0; i < 6; i++)
			if (cl_reply(cl, out, sizeof(out)) >= 0 && strcmp(out, want[i]) == 0)
				good++;
	tap_is_long(good, 6, "six pipelined requests in one write answered in order");
	tap_is_long(atomic_get(&n_reentered), 0, "a late socketmap_reply never re-enters so_lookup");
	cl_close(cl);
}

static void
test_bad_frames(void)
{
	static const struct {
		const char *data;
		const char *desc;
	} bad[] = {
		{ "abc:", "non-digit length" },
		{ "05:QUERY,", "leading zero" },
		{ ":,", "empty length" },
		{ "5:QUERYx", "missing comma" },
		{ "99999999:", "oversized length" },
		{ "10001:", "length over SOCKETMAP_QUERY_MAX" },
		{ "12345678901:", "11-digit length" },
		{ "QUERY example.com\r\n", "unframed line" },
	};
	unsigned long dropped = stats(&sa)->ss_dropped;
	struct client *cl;
	size_t i;
	long took;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cl = cl_inet(AF_INET, port_a);
		if (cl == NULL || !cl_send(cl, bad[i].data, strlen(bad[i].data))) {
			tap_ok(0, "%s: closed at once", bad[i].desc);
			cl_close(cl);
			continue;
		}
		if (!tap_ok(cl_closed(cl, 1000, &took) && took < 200, "%s: closed at once",
		    bad[i].desc))
			printf("# took %ld ms\n", took);
		cl_close(cl);
	}
	/* A bad frame after a good one on the same connection. */
	cl = cl_unix(path_a);
	tap_is_str(cl_query(cl, "QUERY good"), "OK policy-for-good", "good request first");
	if (cl != NULL)
		cl_send(cl, "7:QUERY x;", 10);
	tap_ok(cl != NULL && cl_closed(cl, 1000, NULL), "then a missing comma closes it");
	cl_close(cl);
	tap_is_long((long)(stats(&sa)->ss_dropped - dropped),
	    (long)(sizeof(bad) / sizeof(bad[0]) + 1), "each counted as dropped");
}

static void
test_time_bounds(void)
{
	struct client *cl;
	long took, t0;
	static const char trickle[] = "20:QUERY example.com,";
	size_t i;

	cl = cl_inet(AF_INET, port_a);
	if (cl != NULL)
		cl_send(cl, "20:QUERY exa", 12);
	tap_ok(cl != NULL && !cl_closed(cl, IO_MS / 2, NULL), "half a frame: still open before the I/O timeout");
	if (!tap_ok(cl != NULL && cl_closed(cl, 3000, &took),
	    "half a frame: closed after the I/O timeout"))
		printf("# took %ld ms more\n", took);
	cl_close(cl);

	/* Trickling does not extend the bound: it runs from the first byte. */
	cl = cl_unix(path_a);
	t0 = now_ms();
	for (i = 0; cl != NULL && i < sizeof(trickle) - 1; i++) {
		if (!cl_send(cl, trickle + i, 1))
			break;
		usleep(60 * 1000);
		if (now_ms() - t0 > 3 * IO_MS)
			break;
	}
	took = now_ms() - t0;
	if (!tap_ok(cl != NULL && i < sizeof(trickle) - 1 && cl_closed(cl, 3000, NULL),
	    "a trickling client is closed within the I/O timeout of its first byte"))
		printf("# sent %zu bytes over %ld ms\n", i, took);
	cl_close(cl);

	cl = cl_inet(AF_INET, port_b);
	tap_is_str(cl_query(cl, "QUERY idle.example"), "OK policy-for-idle.example",
	    "idle server answers");
	t0 = now_ms();
	tap_ok(cl != NULL && cl_closed(cl, 3000, &took), "idle connection closed");
	took = now_ms() - t0;
	if (!tap_ok(took >= IDLE_MS - 50 && took < IDLE_MS + 1500,
	    "after about the idle timeout"))
		printf("# got %ld ms, want about %d\n", took, IDLE_MS);
	cl_close(cl);

	cl = cl_inet(AF_INET, port_b);
	tap_ok(cl != NULL && cl_closed(cl, 3000, &took) && took >= IDLE_MS - 50,
	    "a connection that never sends is closed after the idle timeout");
	cl_close(cl);
}

static void
test_cancel(void)
{
	int cancels = atomic_get(&n_cancels), lookups = atomic_get(&n_lookups);
	struct client *cl;

	cl = cl_inet(AF_INET, port_a);
	if (cl != NULL)
		cl_request(cl, "QUERY never");
	tap_ok(wait_int(&n_never, 1, 2000), "the \"never\" request reached the lookup");
	cl_close(cl);
	tap_ok(wait_int(&n_cancels, cancels + 1, 2000), "client left: so_cancel called");
	tap_is_long(atomic_get(&n_never), 0, "the cancel was for that request");

	cl = cl_unix(path_a);
	if (cl != NULL)
		cl_request(cl, "QUERY slow-cancel");
	wait_int(&n_lookups, lookups + 2, 2000);
	cl_close(cl);
	tap_ok(wait_int(&n_cancels, cancels + 2, 2000),
	    "client left during an asynchronous lookup: so_cancel called");

	/* Pipelined bytes after a pending request do not hide the EOF. */
	cl = cl_inet(AF_INET, port_a);
	if (cl != NULL) {
		cl_request(cl, "QUERY never");
		cl_request(cl, "QUERY next");
	}
	tap_ok(wait_int(&n_never, 1, 2000), "pending with a pipelined request behind it");
	cl_close(cl);
	tap_ok(wait_int(&n_cancels, cancels + 3, 2000), "... so_cancel still called on EOF");
}

static void
test_limit(void)
{
	struct client *cl[6], *busy[5], *extra;
	char key[32];
	int i, good = 0;
	long took;

	for (i = 0; i < 5; i++) {
		cl[i] = cl_inet(AF_INET, port_c);
		snprintf(key, sizeof(key), "QUERY lim%d", i);
		if (strncmp(cl_query(cl[i], key), "OK policy-for-lim", 17) == 0)
			good++;
	}
	tap_is_long(good, 5, "five connections at the limit are served");
	/* At the limit, the connection idle the longest makes room. */
	cl[5] = cl_inet(AF_INET, port_c);
	tap_is_str(cl_query(cl[5], "QUERY sixth"), "OK policy-for-sixth",
	    "a sixth client at the limit is served");
	tap_ok(cl_closed(cl[0], 1000, &took),
	    "... the connection idle the longest (the first) was closed for it");
	tap_is_long((long)stats(&sc)->ss_room, 1, "counted as closed for room");
	tap_is_long((long)stats(&sc)->ss_refused, 0, "none refused");
	tap_is_long((long)stats(&sc)->ss_open, 5, "five open");
	tap_is_str(cl_query(cl[1], "QUERY second"), "OK policy-for-second",
	    "the others are still served");
	for (i = 0; i < 6; i++)
		cl_close(cl[i]);
	wait_open(&sc, 0, 2000);
	/* With a request in progress on every connection, nothing is idle:
	 * the new one is refused at once. */
	for (i = 0; i < 5; i++) {
		busy[i] = cl_inet(AF_INET, port_c);
		if (busy[i] != NULL)
			cl_request(busy[i], "QUERY never");
	}
	tap_ok(wait_int(&n_never, 5, 2000), "five connections at the limit, each with a pending request");
	extra = cl_inet(AF_INET, port_c);
	tap_ok(extra != NULL && cl_closed(extra, 1000, &took),
	    "with none idle, a new one is closed at once");
	tap_is_long((long)stats(&sc)->ss_refused, 1, "counted as refused");
	tap_is_long((long)stats(&sc)->ss_open, 5, "five open");
	cl_close(extra);
	for (i = 0; i < 5; i++)
		cl_close(busy[i]);
	wait_int(&n_never, 0, 2000);
	wait_open(&sc, 0, 2000);
	{
		struct client *again = cl_inet(AF_INET, port_c);

		tap_is_str(cl_query(again, "QUERY again"), "OK policy-for-again",
		    "after they leave, a new one is served");
		cl_close(again);
	}
}

static void
test_emfile(void)
{
	struct client *cl[3];
	struct rlimit old, low;
	struct sockaddr_in sin;
	int fds[3], i, good = 0;
	double cpu0;
	long took;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port_c);
	for (i = 0; i < 3; i++)
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)lowest_free_fd();
	setrlimit(RLIMIT_NOFILE, &low);
	for (i = 0; i < 3; i++)
		if (connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) < 0)
			tap_diag("connect: %s", strerror(errno));
	cpu0 = cpu_seconds();
	usleep(500 * 1000);
	took = (long)((cpu_seconds() - cpu0) * 1000);
	if (!tap_ok(took < 200, "out of descriptors: accepting pauses instead of spinning"))
		printf("# %ld ms CPU in 500 ms\n", took);
	setrlimit(RLIMIT_NOFILE, &old);
	for (i = 0; i < 3; i++) {
		cl[i] = cl_wrap(fds[i]);
		if (strcmp(cl_query(cl[i], "QUERY emfile"), "OK policy-for-emfile") == 0)
			good++;
	}
	tap_is_long(good, 3, "descriptors back: the waiting connections are served");
	for (i = 0; i < 3; i++)
		cl_close(cl[i]);
}

static void
test_concurrent(void)
{
	static struct client *cl[NCONC];
	char req[64], want[96], out[256];
	int i, r, good = 0, opened = 0;

	for (i = 0; i < NCONC; i++) {
		cl[i] = i % 2 ? cl_unix(path_a) : cl_inet(AF_INET, port_a);
		if (cl[i] != NULL)
			opened++;
	}
	tap_is_long(opened, NCONC, "200 connections open");
	tap_ok(wait_open(&sa, NCONC, 3000), "the server holds 200 connections");
	for (r = 0; r < NROUNDS; r++) {
		for (i = 0; i < NCONC; i++) {
			snprintf(req, sizeof(req), "QUERY %sc%d-r%d.example",
			    (i + r) % 7 == 0 ? "slow-" : "", i, r);
			if (cl[i] != NULL)
				cl_request(cl[i], req);
		}
		for (i = 0; i < NCONC; i++) {
			snprintf(want, sizeof(want), "OK policy-for-%sc%d-r%d.example",
			    (i + r) % 7 == 0 ? "slow-" : "", i, r);
			if (cl[i] != NULL && cl_reply(cl[i], out, sizeof(out)) >= 0 &&
			    strcmp(out, want) == 0)
				good++;
		}
	}
	tap_is_long(good, NCONC * NROUNDS, "200 concurrent connections x 10 requests all correct");
	for (i = 0; i < NCONC; i++)
		cl_close(cl[i]);
	tap_ok(wait_open(&sa, 0, 3000), "all closed on the server side");
}

static void
test_replies(void)
{
	struct client *cl = cl_unix(path_a);
	static char out[SOCKETMAP_REPLY_MAX + 8];
	unsigned long dropped;
	long len, took;
	char *buf;
	int i, n = 100;

	len = cl != NULL && cl_request(cl, "QUERY huge") ? cl_reply(cl, out, sizeof(out)) : -1;
	tap_is_long(len, SOCKETMAP_REPLY_MAX, "a reply of exactly SOCKETMAP_REPLY_MAX bytes");
	tap_ok(len > 0 && memcmp(out, "OK hhh", 6) == 0 && out[len - 1] == 'h',
	    "... arrives intact");
	tap_is_str(cl_query(cl, "QUERY toolong"), "TEMP reply too long",
	    "one byte more: TEMP reply too long");
	tap_is_str(cl_query(cl, "QUERY small"), "OK policy-for-small", "small reply after big ones");
	cl_close(cl);

	/* Many requests for big replies, never read: dropped at the I/O bound. */
	dropped = stats(&sa)->ss_dropped;
	cl = cl_inet(AF_INET, port_a);
	buf = xmalloc((size_t)n * 20);
	len = 0;
	for (i = 0; i < n; i++)
		len += (long)netstring_format(buf + len, 20, "QUERY huge", 10);
	if (cl != NULL) {
		int small = 4096;

		setsockopt(cl->cl_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		cl_send(cl, buf, (size_t)len);
	}
	free(buf);
	took = now_ms();
	while (stats(&sa)->ss_dropped == dropped && now_ms() - took < 5000)
		usleep(20 * 1000);
	took = now_ms() - took;
	if (!tap_ok(stats(&sa)->ss_dropped == dropped + 1,
	    "a client that never reads its replies is dropped"))
		printf("# waited %ld ms\n", took);
	cl_close(cl);
}

static void
test_families(void)
{
	struct server s6, sl;
	char ep6[64], epl[64];
	struct client *cl;
	int p6 = free_port(AF_INET6), pl = free_port(AF_INET);

	memset(&sl, 0, sizeof(sl));
	snprintf(epl, sizeof(epl), "inet:localhost:%d", pl);
	sl.sv_eps[0] = epl;
	sl.sv_n = 1;
	if (!tap_ok(server_start(&sl), "listen on a name (localhost)"))
		tap_diag("%s", sl.sv_err);
	cl = cl_inet(AF_INET, pl);
	tap_is_str(cl_query(cl, "QUERY lh"), "OK policy-for-lh", "... reached over 127.0.0.1");
	cl_close(cl);
	if (sl.sv_sm != NULL)
		on_loop(server_free_fn, &sl);

	if (p6 < 0) {
		tap_diag("no IPv6 loopback: [::1] not tested");
		return;
	}
	memset(&s6, 0, sizeof(s6));
	snprintf(ep6, sizeof(ep6), "inet:[::1]:%d", p6);
	s6.sv_eps[0] = ep6;
	s6.sv_n = 1;
	if (!tap_ok(server_start(&s6), "listen on [::1]"))
		tap_diag("%s", s6.sv_err);
	cl = cl_inet(AF_INET6, p6);
	tap_is_str(cl_query(cl, "QUERY v6"), "OK policy-for-v6", "... round trip over IPv6");
	cl_close(cl);
	if (s6.sv_sm != NULL)
		on_loop(server_free_fn, &s6);
}

int
main(void)
{
	struct rlimit rl;
	struct client *ci, *cu, *pending;
	struct sockaddr_un sun;
	struct stat st;
	char ep_a_inet[64], ep_a_unix[160], ep_b[64], ep_c[64];
	int fd, cancels;

	tap_watchdog(30);
	log_init(LOG_DEST_STDERR, "socketmap_test", LOG_MAIL, LOG_WARNING);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024 && rl.rlim_max >= 1024) {
		rl.rlim_cur = 1024;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(path_a, sizeof(path_a), "%s/a.sock", tmpdir);
	snprintf(path_stale, sizeof(path_stale), "%s/stale.sock", tmpdir);
	snprintf(path_file, sizeof(path_file), "%s/file", tmpdir);
	port_a = free_port(AF_INET);
	port_b = free_port(AF_INET);
	port_c = free_port(AF_INET);

	/* A stale socket file where server A will listen. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path_a);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		close(fd);

	pthread_create(&loop_thread, NULL, loop_main, NULL);
	pthread_mutex_lock(&call_lock);
	while (!loop_ready)
		pthread_cond_wait(&call_cond, &call_lock);
	pthread_mutex_unlock(&call_lock);

	snprintf(ep_a_inet, sizeof(ep_a_inet), "inet:127.0.0.1:%d", port_a);
	snprintf(ep_a_unix, sizeof(ep_a_unix), "unix:%s", path_a);
	snprintf(ep_b, sizeof(ep_b), "inet:127.0.0.1:%d", port_b);
	snprintf(ep_c, sizeof(ep_c), "inet:127.0.0.1:%d", port_c);
	sa.sv_eps[0] = ep_a_inet;
	sa.sv_eps[1] = ep_a_unix;
	sa.sv_n = 2;
	sa.sv_lim.sl_idle_timeout_ms = 20000;
	sa.sv_lim.sl_io_timeout_ms = IO_MS;
	sa.sv_lim.sl_unix_mode = 0660;
	sb.sv_eps[0] = ep_b;
	sb.sv_n = 1;
	sb.sv_lim.sl_idle_timeout_ms = IDLE_MS;
	sb.sv_lim.sl_io_timeout_ms = IO_MS;
	sc.sv_eps[0] = ep_c;
	sc.sv_n = 1;
	sc.sv_lim.sl_max_connections = 5;
	if (!tap_ok(server_start(&sa), "server A on inet and unix (stale socket replaced)") ||
	    !tap_ok(server_start(&sb), "server B (short idle timeout)") ||
	    !tap_ok(server_start(&sc), "server C (5 connections)")) {
		printf("Bail out! %s\n", sa.sv_err ? sa.sv_err : sb.sv_err ? sb.sv_err : sc.sv_err);
		return 1;
	}
	if (tap_ok(stat(path_a, &st) == 0 && S_ISSOCK(st.st_mode), "unix socket exists"))
		tap_is_long((long)(st.st_mode & 07777), 0660, "unix socket has the configured mode");

	test_endpoints();
	ci = cl_inet(AF_INET, port_a);
	cu = cl_unix(path_a);
	tap_ok(ci != NULL && cu != NULL, "clients connect over inet and unix");
	test_basic(ci, cu);
	cl_close(ci);
	cl_close(cu);
	test_pipeline();
	test_bad_frames();
	test_time_bounds();
	test_cancel();
	test_limit();
	test_emfile();
	test_concurrent();
	test_replies();
	test_families();

	tap_ok(stats(&sa)->ss_requests > 2000 && sa.sv_stats.ss_connections > 200,
	    "stats count requests and connections");

	/* Freeing a server cancels what is pending and removes its socket. */
	cancels = atomic_get(&n_cancels);
	pending = cl_unix(path_a);
	if (pending != NULL)
		cl_request(pending, "QUERY never");
	wait_int(&n_never, 1, 2000);
	on_loop(server_free_fn, &sa);
	tap_is_long(atomic_get(&n_cancels) - cancels, 1, "socketmap_free cancels a pending request");
	tap_ok(pending != NULL && cl_closed(pending, 1000, NULL), "... and closes its connection");
	tap_ok(access(path_a, F_OK) < 0, "... and removes its unix socket");
	cl_close(pending);
	on_loop(server_free_fn, &sb);
	on_loop(server_free_fn, &sc);
	on_loop(quit_fn, NULL);
	pthread_join(loop_thread, NULL);
	unlink(path_file);
	unlink(path_stale);
	rmdir(tmpdir);
	free(sa.sv_err);
	free(sb.sv_err);
	free(sc.sv_err);
	return tap_done();
}
