/*
 * netstring_fuzz.c: libFuzzer target for common/netstring.c, the framing
 * of every byte a socketmap client sends.
 *
 * The first input byte picks the length limit (0, 1, 5, 100, the socketmap
 * server's own SOCKETMAP_QUERY_MAX or SIZE_MAX); the rest is copied to a
 * heap block of exactly its size, so AddressSanitizer sees any read past
 * it, and consumed frame by frame as the socketmap server does. Besides
 * memory errors the target aborts when netstring_parse breaks its
 * contract in netstring.h:
 *   - NETSTRING_OK with used beyond the input, a payload outside the frame,
 *     plen above the limit, or a frame that netstring_format would not
 *     write byte for byte (the accepted syntax is exactly the canonical one);
 *   - an answer that changes with more input after a decision: every
 *     shorter prefix of a decided input must be INCOMPLETE or the same
 *     decision (checked on the first 64 prefixes of each frame position).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/netstring.h"
#include "common/xmalloc.h"
#include "socketmap/socketmap.h"

#define FUZZ_PREFIXES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t fuzz_max[] = { 0, 1, 5, 100, SOCKETMAP_QUERY_MAX, SIZE_MAX };

static void
fuzz_check_prefixes(const char *buf, size_t len, size_t max, enum netstring_status final,
    size_t used)
{
	const char *payload;
	size_t plen, u, n, lim;
	enum netstring_status st;

	/* For OK only the bytes of the frame matter. */
	lim = final == NETSTRING_OK ? used : len;
	if (lim > FUZZ_PREFIXES)
		lim = FUZZ_PREFIXES;
	for (n = 0; n < lim; n++) {
		st = netstring_parse(buf, n, max, &payload, &plen, &u);
		if (st != NETSTRING_INCOMPLETE && st != final)
			abort();
		if (final == NETSTRING_OK && st == NETSTRING_OK)
			abort();        /* a frame complete before its last byte */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *payload;
	char *buf, *frame;
	size_t max, len, off = 0, plen, used, fl;
	enum netstring_status st;

	if (size < 1)
		return 0;
	max = fuzz_max[data[0] % (sizeof(fuzz_max) / sizeof(fuzz_max[0]))];
	len = size - 1;
	buf = xmalloc(len ? len : 1);
	memcpy(buf, data + 1, len);
	for (;;) {
		payload = NULL;
		plen = used = 0;
		st = netstring_parse(buf + off, len - off, max, &payload, &plen, &used);
		if (netstring_status_text(st) == NULL)
			abort();
		if (st != NETSTRING_INCOMPLETE)
			fuzz_check_prefixes(buf + off, len - off, max, st, used);
		if (st != NETSTRING_OK)
			break;
		if (used > len - off || used < plen + 3 || plen > max)
			abort();
		if (payload < buf + off || payload + plen > buf + off + used)
			abort();
		frame = xmalloc(plen + 12);
		fl = netstring_format(frame, plen + 12, payload, plen);
		if (fl != used || memcmp(frame, buf + off, used) != 0)
			abort();
		free(frame);
		off += used;
	}
	free(buf);
	return 0;
}
