/*
 * httpreq.h: the HTTP/1.x request head as the metrics endpoint
 * (http/metricsd.c) reads it, as pure functions: whether a head is
 * complete, its request line, and the status a server of one path gives
 * it. The input is untrusted (fuzzed: fuzz/http_fuzz.c). libc only: no
 * I/O, no state, nothing allocated; any thread.
 *
 * The head ends at the first empty line ("\n\n" or "\n\r\n"); a server
 * reads it into a buffer of cap bytes, and a full buffer without the end
 * is refused (HTTPREQ_TOO_LARGE: the server closes the connection). The
 * request line is the head's first line (its CR dropped):
 *   METHOD SP TARGET SP VERSION
 * METHOD 1 to HTTPREQ_METHOD_MAX tchar (RFC 9110 §5.6.2); TARGET begins
 * with "/" and holds no control character, space or byte above 0x7e;
 * VERSION is exactly "HTTP/1.0" or "HTTP/1.1". Anything else is 400.
 * Header fields after the request line are not looked at.
 */
#ifndef DM_HTTPREQ_H
#define DM_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

#define HTTPREQ_METHOD_MAX      16

enum httpreq_head {
	HTTPREQ_MORE,           /* no empty line yet, fewer than cap bytes: read on */
	HTTPREQ_COMPLETE,       /* buf holds the whole head */
	HTTPREQ_TOO_LARGE       /* cap bytes without the end of the head */
};

/*
 * Is the head in buf[0..len) (len <= cap) complete? *scanned (0 at the
 * start of a request) is where to look from: the function moves it past
 * what cannot hold the end, so that each byte is looked at about once
 * however the client splits its writes; the answer is the same as with
 * *scanned 0. Nothing past len is read.
 */
enum httpreq_head httpreq_head(const char *buf, size_t len, size_t cap, size_t *scanned);

/* The request line, pointing into the head given to httpreq_parse(). */
struct httpreq {
	const char *hr_method;
	size_t hr_method_len;
	const char *hr_target;          /* "/..." */
	size_t hr_target_len;
	size_t hr_path_len;             /* hr_target up to its query ('?') */
	bool hr_head;                   /* the method is HEAD: no body in the reply */
};

/*
 * The request line of a complete head buf[0..len) (HTTPREQ_COMPLETE):
 * 0 with *r set, or 400 (the status the server answers) when it is not
 * "METHOD /TARGET HTTP/1.x".
 */
int httpreq_parse(const char *buf, size_t len, struct httpreq *r);

/*
 * The status a server of one resource at path (GET and HEAD only) gives r:
 * 405 for another method, 404 for another path (the query is ignored),
 * 200 for path.
 */
int httpreq_route(const struct httpreq *r, const char *path);

#endif
