/*
 * smtpreply_fuzz.c: libFuzzer target for tls/smtpreply.c, the parser of
 * the SMTP replies the TLS probe (tls/probe.c) reads from a remote server:
 * the banner, the EHLO reply with its STARTTLS keyword, the STARTTLS reply.
 *
 * Each input is parsed twice by smtpreply_parse(): as it is, from a heap
 * block of exactly its size (AddressSanitizer sees a read past it), and
 * repeated to fill a block of exactly SMTPREPLY_MAX bytes, the probe's
 * whole input buffer. Each answer is compared with a reading of RFC 5321
 * written here from the RFC, not from the parser:
 *   - §4.2.1 / §4.2: each line is a three-digit code, first digit 2-5,
 *     then "-" (more lines follow), or SP, CR or the line end (last line);
 *     every line of one reply carries the same code; the reply's code is
 *     that code and its length runs to the LF of its last line;
 *   - §4.1.1.1: the first line of an EHLO reply is the server's name; the
 *     STARTTLS capability is found only when a later line is the whole
 *     keyword (case-insensitive, followed by SP, CR or the line end);
 *   - the bound: no complete reply within SMTPREPLY_MAX bytes is BAD, never
 *     INCOMPLETE (the probe would wait for nothing), and a reply found is
 *     never longer than the input.
 * Besides, a complete reply must not be complete one byte earlier, and the
 * bytes after it must not change it. Any difference aborts.
 * Seeds live in fuzz/corpus/smtpreply/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xmalloc.h"
#include "tls/smtpreply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
fuzz_digit(char c, char lo)
{
	return c >= lo && c <= '9';
}

/* RFC 5321's reading of buf[0..len) (see above). */
static enum smtpreply_status
fuzz_oracle(const char *buf, size_t len, struct smtpreply *want)
{
	size_t off = 0, nlines = 0;
	bool starttls = false;
	char code[3];

	while (off < len) {
		const char *line = buf + off, *nl = memchr(line, '\n', len - off);
		size_t ll;

		if (nl == NULL)
			break;
		ll = (size_t)(nl - line);
		if (ll < 3 || !fuzz_digit(line[0], '2') || line[0] > '5' ||
		    !fuzz_digit(line[1], '0') || !fuzz_digit(line[2], '0'))
			return SMTPREPLY_BAD;
		if (nlines == 0)
			memcpy(code, line, 3);
		else if (memcmp(code, line, 3) != 0)
			return SMTPREPLY_BAD;       /* §4.2.1: the same code on each line */
		if (nlines > 0 && ll >= 12 && strncasecmp(line + 4, "starttls", 8) == 0 &&
		    (ll == 12 || line[12] == ' ' || line[12] == '\r'))
			starttls = true;
		nlines++;
		off += ll + 1;
		if (ll == 3 || line[3] == ' ' || line[3] == '\r') {
			want->sr_code = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
			want->sr_len = off;
			want->sr_starttls = starttls;
			return SMTPREPLY_DONE;
		}
		if (line[3] != '-')
			return SMTPREPLY_BAD;
	}
	return len >= SMTPREPLY_MAX ? SMTPREPLY_BAD : SMTPREPLY_INCOMPLETE;
}

static void
fuzz_one(const char *buf, size_t len)
{
	struct smtpreply got, want, again;
	enum smtpreply_status st, ws;

	memset(&got, 0xa5, sizeof(got));
	memset(&want, 0x5a, sizeof(want));
	st = smtpreply_parse(buf, len, &got);
	ws = fuzz_oracle(buf, len, &want);
	if (st != ws || smtpreply_status_name(st) == NULL)
		abort();
	if (st != SMTPREPLY_DONE)
		return;
	if (got.sr_code != want.sr_code || got.sr_len != want.sr_len ||
	    got.sr_starttls != want.sr_starttls)
		abort();
	if (got.sr_code < 200 || got.sr_code > 599 || got.sr_len == 0 || got.sr_len > len ||
	    got.sr_len > SMTPREPLY_MAX || buf[got.sr_len - 1] != '\n')
		abort();
	/* Complete exactly at its last LF, whatever follows. */
	if (smtpreply_parse(buf, got.sr_len - 1, &again) != SMTPREPLY_INCOMPLETE)
		abort();
	if (smtpreply_parse(buf, got.sr_len, &again) != SMTPREPLY_DONE ||
	    again.sr_code != got.sr_code || again.sr_len != got.sr_len ||
	    again.sr_starttls != got.sr_starttls)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	size_t n, off;

	n = size < SMTPREPLY_MAX ? size : SMTPREPLY_MAX;
	buf = xmalloc(n ? n : 1);
	memcpy(buf, data, n);
	fuzz_one(buf, n);
	free(buf);
	if (size == 0)
		return 0;
	/* The input again and again, to the probe's whole buffer. */
	buf = xmalloc(SMTPREPLY_MAX);
	for (off = 0; off < SMTPREPLY_MAX; off += n)
		memcpy(buf + off, data, SMTPREPLY_MAX - off < n ? SMTPREPLY_MAX - off : n);
	fuzz_one(buf, SMTPREPLY_MAX);
	free(buf);
	return 0;
}
