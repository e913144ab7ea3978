/*
 * rdata_fuzz.c: libFuzzer target for dns/rdata.c, the decoder of DNS data
 * received from the network.
 *
 * Every input goes whole to each decoder: rdata_name, rdata_mx, rdata_tlsa,
 * rdata_txt, rdata_addr (A and AAAA) and rdata_answer_parse (+ free). The
 * output buffers are heap blocks of exactly the size passed, so AddressSanitizer
 * sees a write one byte too far. Each decoder is called twice: with the
 * buffer size real callers use and with a small one (1..64 bytes, chosen by
 * the first input byte) to exercise the "does not fit" paths.
 *
 * Besides memory errors the target aborts when a decoder breaks its contract
 * in rdata.h: RDATA_OK with an unterminated or overlong string, a name length
 * past the input, TLSA data outside the input, a NULL answer line.
 * Seeds live in fuzz/corpus/rdata/ (made by fuzz/make-seeds.py).
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "dns/rdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string the decoder says it wrote must end inside its buffer. */
static void
fuzz_check_str(const char *out, size_t outlen)
{
	if (memchr(out, '\0', outlen) == NULL)
		abort();
}

static void
fuzz_name(const uint8_t *data, size_t size, size_t outlen)
{
	char *out = xmalloc(outlen);
	size_t used = 0;

	if (rdata_name(data, size, &used, out, outlen) == RDATA_OK) {
		fuzz_check_str(out, outlen);
		if (used == 0 || used > size)
			abort();
		(void)rdata_name_is_hostname(out);
	}
	free(out);
}

static void
fuzz_mx(const uint8_t *data, size_t size, size_t outlen)
{
	char *out = xmalloc(outlen);
	uint16_t pref;

	if (rdata_mx(data, size, &pref, out, outlen) == RDATA_OK) {
		fuzz_check_str(out, outlen);
		(void)rdata_name_is_hostname(out);
	}
	free(out);
}

static void
fuzz_txt(const uint8_t *data, size_t size, size_t outlen)
{
	char *out = xmalloc(outlen);
	int truncated;

	if (rdata_txt(data, size, out, outlen, &truncated) == RDATA_OK)
		fuzz_check_str(out, outlen);
	free(out);
}

static void
fuzz_tlsa(const uint8_t *data, size_t size)
{
	struct rdata_tlsa t;
	char *hex;

	if (rdata_tlsa(data, size, &t) != RDATA_OK)
		return;
	if (t.rt_data < data || t.rt_len > size ||
	    t.rt_data + t.rt_len > data + size)
		abort();
	/* Read every byte the decoder points at, as tlsa.c would. */
	hex = xmalloc(2 * t.rt_len + 1);
	rdata_hex(t.rt_data, t.rt_len, hex);
	if (strlen(hex) != 2 * t.rt_len)
		abort();
	free(hex);
}

static void
fuzz_addr(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { 1, 28 };      /* A, AAAA */
	char *out = xmalloc(INET6_ADDRSTRLEN);
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (rdata_addr(types[i], data, size, out, INET6_ADDRSTRLEN) == RDATA_OK)
			fuzz_check_str(out, INET6_ADDRSTRLEN);
	free(out);
}

static void
fuzz_answer(const uint8_t *data, size_t size)
{
	struct rdata_answer a;
	size_t i;

	if (rdata_answer_parse(data, size, &a) == RDATA_OK) {
		for (i = 0; i < a.ra_nlines; i++)
			if (a.ra_lines[i] == NULL || strlen(a.ra_lines[i]) == 0)
				abort();
	} else if (a.ra_lines != NULL || a.ra_nlines != 0) {
		abort();        /* nothing to free after MALFORMED */
	}
	rdata_answer_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t small = size > 0 ? 1 + data[0] % 64 : 1;

	fuzz_name(data, size, RDATA_NAME_MAX);
	fuzz_name(data, size, small);
	fuzz_mx(data, size, RDATA_NAME_MAX);
	fuzz_mx(data, size, small);
	fuzz_txt(data, size, 1024);
	fuzz_txt(data, size, small);
	fuzz_tlsa(data, size);
	fuzz_addr(data, size);
	fuzz_answer(data, size);
	return 0;
}
