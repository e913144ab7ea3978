/*
 * http_fuzz.c: libFuzzer target for http/httpreq.c, the request head
 * parser of the /metrics endpoint (http/metricsd.c), which any client
 * that can connect sends bytes to.
 *
 * The first input byte picks how the rest arrives: in one piece, or in
 * writes of 1 to 16 bytes (sizes taken from that byte), as metricsd.c
 * reads it: httpreq_head() after each write into a heap block of exactly
 * METRICSD_REQUEST_MAX bytes (the server's buffer), with the *scanned it
 * keeps; then httpreq_parse() and httpreq_route(r, "/metrics") on a
 * complete head. Besides memory errors (a read past the bytes received is
 * seen by AddressSanitizer: the block is filled only as the bytes arrive,
 * the rest poisoned), the target aborts when:
 *   - bounded size: TOO_LARGE before the buffer is full, MORE with a full
 *     buffer, or a head accepted beyond METRICSD_REQUEST_MAX bytes;
 *   - the incremental answer differs from httpreq_head() on the same
 *     bytes with *scanned 0 (after each of the first 64 writes and the
 *     last one), or a head is complete one write earlier;
 *     complete means an empty line ("\n\n" or "\n\r\n") is in the buffer;
 *   - an accepted request (0) whose method, target and path do not lie
 *     inside the head's first line, method not 1..HTTPREQ_METHOD_MAX
 *     tchar, target not "/" then bytes 0x21-0x7e, version not HTTP/1.0 or
 *     HTTP/1.1 right after it, path not the target up to its first '?';
 *     a refusal other than 400, or a 400 for a line of that form (checked
 *     here from the grammar in httpreq.h);
 *   - a route other than 405 for a method other than GET and HEAD, 404
 *     for another path, 200 for "/metrics" (the statuses the server sends).
 * Seeds live in fuzz/corpus/http/.
 */
#include <sanitizer/asan_interface.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "http/httpreq.h"
#include "http/metricsd.h"

#define FUZZ_WRITES_CHECKED     64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
fuzz_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Is line[0..len) "METHOD SP /TARGET SP HTTP/1.x" as httpreq.h says? */
static bool
fuzz_grammar(const char *line, size_t len)
{
	size_t m, t;

	for (m = 0; m < len && fuzz_tchar(line[m]); m++)
		;
	if (m == 0 || m > HTTPREQ_METHOD_MAX || m == len || line[m] != ' ')
		return false;
	if (m + 1 >= len || line[m + 1] != '/')
		return false;
	for (t = m + 1; t < len && (unsigned char)line[t] > 0x20 && (unsigned char)line[t] < 0x7f; t++)
		;
	if (t == len || line[t] != ' ')
		return false;
	return len - (t + 1) == 8 && (memcmp(line + t + 1, "HTTP/1.0", 8) == 0 ||
	    memcmp(line + t + 1, "HTTP/1.1", 8) == 0);
}

static bool
fuzz_has_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if (buf[i] == '\n' && (buf[i + 1] == '\n' ||
		    (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')))
			return true;
	return false;
}

static void
fuzz_request(const char *buf, size_t len)
{
	const char *eol = memchr(buf, '\n', len), *end;
	struct httpreq r;
	size_t llen;
	int st, route;

	if (eol == NULL)
		abort();                /* a complete head has a line end */
	llen = (size_t)(eol - buf);
	if (llen > 0 && buf[llen - 1] == '\r')
		llen--;
	memset(&r, 0, sizeof(r));
	st = httpreq_parse(buf, len, &r);
	if (st != 0) {
		if (st != 400 || fuzz_grammar(buf, llen))
			abort();
		return;
	}
	if (!fuzz_grammar(buf, llen))
		abort();
	end = buf + llen;
	if (r.hr_method != buf || r.hr_method_len == 0 || r.hr_method_len > HTTPREQ_METHOD_MAX ||
	    r.hr_method[r.hr_method_len] != ' ' || r.hr_target != r.hr_method + r.hr_method_len + 1 ||
	    r.hr_target_len == 0 || r.hr_target + r.hr_target_len + 9 != end ||
	    r.hr_target[0] != '/' || r.hr_path_len > r.hr_target_len ||
	    memchr(r.hr_target, '?', r.hr_path_len) != NULL ||
	    (r.hr_path_len < r.hr_target_len && r.hr_target[r.hr_path_len] != '?'))
		abort();
	if (r.hr_head != (r.hr_method_len == 4 && memcmp(r.hr_method, "HEAD", 4) == 0))
		abort();
	route = httpreq_route(&r, "/metrics");
	if (!r.hr_head && !(r.hr_method_len == 3 && memcmp(r.hr_method, "GET", 3) == 0)) {
		if (route != 405)
			abort();
	} else if (r.hr_path_len == 8 && memcmp(r.hr_target, "/metrics", 8) == 0) {
		if (route != 200)
			abort();
	} else if (route != 404) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum httpreq_head st = HTTPREQ_MORE, once;
	size_t len = 0, scanned = 0, zero, chunk, n, prev = 0, writes = 0;
	unsigned seed;
	char *buf;

	if (size < 1)
		return 0;
	seed = data[0];
	data++;
	size--;
	buf = xmalloc(METRICSD_REQUEST_MAX);
	ASAN_POISON_MEMORY_REGION(buf, METRICSD_REQUEST_MAX);
	while (len < size && len < METRICSD_REQUEST_MAX) {
		chunk = seed < 16 ? size : 1 + (seed + len) % 16;
		n = size - len < chunk ? size - len : chunk;
		if (n > METRICSD_REQUEST_MAX - len)
			n = METRICSD_REQUEST_MAX - len;
		ASAN_UNPOISON_MEMORY_REGION(buf + len, n);
		memcpy(buf + len, data + len, n);
		prev = len;
		len += n;
		st = httpreq_head(buf, len, METRICSD_REQUEST_MAX, &scanned);
		if (scanned > len)
			abort();
		/* The one-shot answer after each of the first writes and the
		 * last (every write would make a run quadratic in its size). */
		if (++writes <= FUZZ_WRITES_CHECKED || st != HTTPREQ_MORE || len == size) {
			zero = 0;
			once = httpreq_head(buf, len, METRICSD_REQUEST_MAX, &zero);
			if (once != st || (st == HTTPREQ_COMPLETE) != fuzz_has_end(buf, len))
				abort();
		}
		if ((st == HTTPREQ_TOO_LARGE) != (st != HTTPREQ_COMPLETE && len == METRICSD_REQUEST_MAX))
			abort();
		if (st != HTTPREQ_MORE)
			break;
	}
	if (st == HTTPREQ_COMPLETE) {
		zero = 0;
		if (len > METRICSD_REQUEST_MAX ||
		    (prev > 0 && httpreq_head(buf, prev, METRICSD_REQUEST_MAX, &zero) != HTTPREQ_MORE))
			abort();
		fuzz_request(buf, len);
	}
	ASAN_UNPOISON_MEMORY_REGION(buf, METRICSD_REQUEST_MAX);
	free(buf);
	return 0;
}
