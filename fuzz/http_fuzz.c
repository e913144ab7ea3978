/*
 * http_fuzz.c: libFuzzer target for what serves /metrics: http/metricsd.c
 * on libmicrohttpd, driven by an ivykis loop as in the daemon, which any
 * client that can connect sends bytes to.
 *
 * One server (metricsd_new_bare(): the daemon's code without listening
 * sockets) for the whole run. Per input: a socketpair; one end is handed
 * to the server with metricsd_connection() (as common/listener.c hands
 * it an accepted socket), the client end sends the input and, once the
 * server has read it all, shuts its writing side down, and reads the
 * reply until the server closes.
 * The first input byte picks how the rest is sent: in one write, or in
 * writes of 1 to 16 bytes (sizes taken from that byte), one per turn of
 * the loop so that the server reads the request in pieces. The loop runs
 * until the client end sees the end of the connection.
 *
 * Besides memory errors, leaks and undefined behaviour, the target aborts
 * when:
 *   - the connection is not closed within FUZZ_HANG_MS, the server's
 *     deadline (FUZZ_DEADLINE_MS, its metrics.timeout_ms) with a wide
 *     margin: libmicrohttpd may stall on a request (see metricsd.c's
 *     md_arm()), the deadline must still end it;
 *   - a reply (any byte back) does not start with "HTTP/1.";
 *   - a 200 answers anything but a GET or HEAD of /metrics: the request
 *     line, read as fuzz_asks_metrics() says (libmicrohttpd's reading,
 *     written down independently), must say method GET or HEAD and a
 *     target that, cut at its first '?' and with %XX decoded, is
 *     exactly "/metrics";
 *   - a 200 without the exposition's Content-Type (version=0.0.4), or,
 *     for HEAD, with body bytes after the head (a method "HEAD" followed
 *     by a NUL and more is what the handler reads as HEAD, a C string,
 *     but libmicrohttpd, which knows its length, sends the body for it);
 *   - connections pile up in the server: more than one open (the last
 *     input's, which libmicrohttpd may free on its next run) when an
 *     input starts.
 * libFuzzer's coverage counts our code only (libmicrohttpd is the
 * system's library, not instrumented): its parser is explored by the
 * mutations, not steered by its branches. Seeds live in fuzz/corpus/http/.
 */
#include <iv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "http/metricsd.h"

#define FUZZ_DEADLINE_MS        30      /* the server's metrics.timeout_ms: short, as each stall costs it */
#define FUZZ_HANG_MS            3000    /* its deadline with a wide margin */
#define FUZZ_REPLY_MAX          (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct metricsd *fuzz_md;

/* One input's client end. */
struct fuzz_client {
	struct iv_fd fc_fd;
	struct iv_timer fc_hang;
	struct iv_timer fc_drain;       /* waiting for the server to read it all */
	int fc_server;                  /* a duplicate of the server's end, for FIONREAD */
	const uint8_t *fc_in;
	size_t fc_inlen, fc_sent;
	uint8_t fc_split;               /* 0: one write; else the sizes' seed */
	char *fc_out;
	size_t fc_outlen;
	bool fc_done;
};

static void fuzz_client_writable(void *cookie);

/*
 * Everything is sent: shut the client's side once the server has read it
 * all (its socket's queue is empty), on a later turn of the loop if need
 * be. Shutting it at once would race libmicrohttpd 0.9.75 on epoll: a
 * read shorter than its buffer ends its reading until the next edge, so
 * an end of input that arrived with the last bytes is not seen and the
 * connection waits for the deadline (metricsd.c's timeout_ms, a bound
 * tests/engine/metrics.sh checks), which would make every incomplete
 * input cost that long here.
 */
static void
fuzz_client_drained(void *cookie)
{
	struct fuzz_client *fc = cookie;
	int queued = 0;

	if (fc->fc_done)
		return;
	if (ioctl(fc->fc_server, FIONREAD, &queued) == 0 && queued > 0) {
		iv_validate_now();
		fc->fc_drain.expires = iv_now;
		fc->fc_drain.expires.tv_nsec += 100000;         /* 0.1 ms */
		if (fc->fc_drain.expires.tv_nsec >= 1000000000) {
			fc->fc_drain.expires.tv_sec++;
			fc->fc_drain.expires.tv_nsec -= 1000000000;
		}
		iv_timer_register(&fc->fc_drain);
		return;
	}
	(void)shutdown(fc->fc_fd.fd, SHUT_WR);
}

static void
fuzz_client_readable(void *cookie)
{
	struct fuzz_client *fc = cookie;
	ssize_t n;

	for (;;) {
		if (fc->fc_outlen == FUZZ_REPLY_MAX)
			abort();        /* a reply this large is not ours */
		n = read(fc->fc_fd.fd, fc->fc_out + fc->fc_outlen, FUZZ_REPLY_MAX - fc->fc_outlen);
		if (n > 0) {
			fc->fc_outlen += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		break;                  /* the end (or a reset) */
	}
	fc->fc_done = true;
	iv_fd_set_handler_in(&fc->fc_fd, NULL);
	iv_fd_set_handler_out(&fc->fc_fd, NULL);
	iv_quit();
}

static void
fuzz_client_writable(void *cookie)
{
	struct fuzz_client *fc = cookie;
	size_t want = fc->fc_inlen - fc->fc_sent;
	ssize_t n;

	if (fc->fc_split != 0) {
		size_t piece = (size_t)((fc->fc_split + fc->fc_sent * 7) % 16) + 1;

		if (want > piece)
			want = piece;
	}
	if (want > 0) {
		n = send(fc->fc_fd.fd, fc->fc_in + fc->fc_sent, want, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* the server closed early (e.g. it refused the head) */
			fc->fc_sent = fc->fc_inlen;
		} else {
			fc->fc_sent += (size_t)n;
		}
	}
	if (fc->fc_sent == fc->fc_inlen) {
		iv_fd_set_handler_out(&fc->fc_fd, NULL);
		fuzz_client_drained(fc);
	}
}

static void
fuzz_hang(void *cookie)
{
	(void)cookie;
	fprintf(stderr, "http_fuzz: the connection is still open after %d ms\n", FUZZ_HANG_MS);
	abort();
}

static int
fuzz_hex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Does the request line of in[0..len) ask for GET or HEAD of /metrics, as
 * libmicrohttpd 0.9.75 reads a request line (RFC 9112 with its
 * tolerances)? Lines end at LF, a CR before it dropped; lines that are
 * empty or begin with a NUL before the request line are skipped; the
 * method runs to the first space; the target from the spaces after it
 * to the last space of the line (trailing spaces skipped) or the line's
 * end; it is cut at '?', %XX decoded, and read as a C string, like the
 * method (a NUL ends both).
 */
static bool
fuzz_asks_metrics(const uint8_t *in, size_t len, bool *head)
{
	size_t pos = 0, end, eol, sp, m, u, v, k, n = 0;
	const uint8_t *nl;
	char path[16];

	for (;;) {
		if ((nl = memchr(in + pos, '\n', len - pos)) == NULL)
			return false;   /* no whole request line */
		eol = (size_t)(nl - in);
		end = eol > pos && in[eol - 1] == '\r' ? eol - 1 : eol;
		if (end > pos && in[pos] != '\0')
			break;
		pos = eol + 1;
	}
	if ((nl = memchr(in + pos, ' ', end - pos)) == NULL)
		return false;
	sp = (size_t)(nl - in);
	for (m = pos; m < sp && in[m] != '\0'; m++)
		;
	if (m - pos == 3 && memcmp(in + pos, "GET", 3) == 0)
		*head = false;
	else if (m - pos == 4 && memcmp(in + pos, "HEAD", 4) == 0)
		*head = m == sp;        /* "HEAD\0..." is no HEAD to libmicrohttpd */
	else
		return false;
	for (u = sp + 1; u < end && in[u] == ' '; u++)
		;
	if (u == end)
		return false;   /* no target: "" */
	v = end - 1;
	while (in[v] == ' ' && v > u)
		v--;
	while (in[v] != ' ' && v > u)
		v--;
	if (v == u)
		v = end;        /* no version: the target runs to the end */
	for (k = u; k < v && in[k] != '?' && in[k] != '\0'; k++) {
		int c = in[k];

		if (c == '%' && k + 2 < v && fuzz_hex(in[k + 1]) >= 0 && fuzz_hex(in[k + 2]) >= 0 &&
		    in[k + 1] != '\0') {
			c = fuzz_hex(in[k + 1]) * 16 + fuzz_hex(in[k + 2]);
			k += 2;
		}
		if (c == '\0')
			break;
		if (n == sizeof(path))
			return false;
		path[n++] = (char)c;
	}
	return n == strlen("/metrics") && memcmp(path, "/metrics", n) == 0;
}

/* Check the reply to in[0..len). */
static void
fuzz_check(const uint8_t *in, size_t len, const char *out, size_t outlen)
{
	const char *hend;
	bool head;

	if (outlen == 0)
		return;                 /* closed without a reply: allowed */
	if (outlen < 7 || memcmp(out, "HTTP/1.", 7) != 0)
		abort();
	if (outlen < 12 || memcmp(out + 8, " 200", 4) != 0)
		return;
	if (!fuzz_asks_metrics(in, len, &head))
		abort();                /* a 200 for something else */
	hend = memmem(out, outlen, "\r\n\r\n", 4);
	if (hend == NULL)
		abort();
	if (memmem(out, (size_t)(hend - out), "version=0.0.4", 13) == NULL)
		abort();
	if (head && (size_t)(hend + 4 - out) != outlen)
		abort();                /* a body in reply to HEAD */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_client fc;
	struct sockaddr_storage peer;
	int sv[2];

	if (!ready) {
		struct cfg_metrics cm;

		log_init(LOG_DEST_STDERR, "http_fuzz", 0, LOG_CRIT);
		iv_init();
		memset(&cm, 0, sizeof(cm));
		cm.cmt_listen = (char *)"";
		cm.cmt_max_connections = 4;
		cm.cmt_timeout_ms = FUZZ_DEADLINE_MS;
		fuzz_md = metricsd_new_bare(&cm);
		ready = true;
	}
	if (size == 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	memset(&fc, 0, sizeof(fc));
	fc.fc_split = data[0] & 1 ? data[0] : 0;
	fc.fc_in = data + 1;
	fc.fc_inlen = size - 1;
	fc.fc_out = xmalloc(FUZZ_REPLY_MAX);
	IV_FD_INIT(&fc.fc_fd);
	fc.fc_fd.fd = sv[0];
	fc.fc_fd.cookie = &fc;
	fc.fc_fd.handler_in = fuzz_client_readable;
	fc.fc_fd.handler_out = fuzz_client_writable;
	iv_fd_register(&fc.fc_fd);
	IV_TIMER_INIT(&fc.fc_drain);
	fc.fc_drain.cookie = &fc;
	fc.fc_drain.handler = fuzz_client_drained;
	if ((fc.fc_server = dup(sv[1])) < 0)
		abort();
	IV_TIMER_INIT(&fc.fc_hang);
	fc.fc_hang.cookie = &fc;
	fc.fc_hang.handler = fuzz_hang;
	iv_validate_now();
	fc.fc_hang.expires = iv_now;
	fc.fc_hang.expires.tv_sec += FUZZ_HANG_MS / 1000;
	iv_timer_register(&fc.fc_hang);

	if (metricsd_connections(fuzz_md) > 1)
		abort();
	memset(&peer, 0, sizeof(peer));
	peer.ss_family = AF_UNIX;
	metricsd_connection(fuzz_md, sv[1], &peer);
	iv_main();

	iv_timer_unregister(&fc.fc_hang);
	if (iv_timer_registered(&fc.fc_drain))
		iv_timer_unregister(&fc.fc_drain);
	iv_fd_unregister(&fc.fc_fd);
	close(sv[0]);
	close(fc.fc_server);
	if (!fc.fc_done)
		abort();
	fuzz_check(fc.fc_in, fc.fc_inlen, fc.fc_out, fc.fc_outlen);
	free(fc.fc_out);
	return 0;
}
