/*
 * tlsrpt_fuzz.c: libFuzzer target for the TLSRPT record parser of
 * policy/monitorcheck.c (monitorcheck_tlsrpt_parse), which reads the
 * _smtp._tls TXT record of a domain `danemilter monitor` watches: DNS
 * data, untrusted (RFC 8460 §3).
 *
 * The input, as a NUL-terminated heap copy of exactly size + 1 bytes (the
 * text stops at its first NUL, as rdata's TXT output does), goes to the
 * parser. Besides memory errors the target aborts when it breaks the
 * contract of monitorcheck.h and RFC 8460 §3:
 *   - a result outside the enum;
 *   - OTHER for a text that starts "v=TLSRPTv1", or anything else for one
 *     that does not;
 *   - *why set (a NUL-terminated, non-empty sentence) unless the result is
 *     INVALID, or left NULL with INVALID;
 *   - OK for a record whose fields (split at ";", *WSP trimmed) do not
 *     hold exactly one named "rua", or one whose rua value has a URI that
 *     is neither mailto: nor https:;
 *   - an answer that changes with the bytes after the first NUL (the
 *     parser reads a C string, never past it): checked by parsing the text
 *     again from a copy of exactly its own length.
 * Seeds live in fuzz/corpus/tlsrpt/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xmalloc.h"
#include "policy/monitorcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* The number of fields named "rua" (after the version field); with
 * exactly one, *bad_uri says whether one of its URIs is neither mailto:
 * nor https:. */
static size_t
fuzz_rua(const char *txt, int *bad_uri)
{
	const char *p = strchr(txt, ';'), *f, *e, *u, *ue;
	size_t n = 0, len;

	*bad_uri = 0;
	while (p != NULL && *p == ';') {
		f = p + 1;
		while (fuzz_wsp(*f))
			f++;
		e = f + strcspn(f, ";");
		p = *e == ';' ? e : NULL;
		while (e > f && fuzz_wsp(e[-1]))
			e--;
		if (e - f < 4 || strncmp(f, "rua=", 4) != 0)
			continue;
		n++;
		for (u = f + 4; u < e; u = ue + 1) {
			while (u < e && fuzz_wsp(*u))
				u++;
			ue = memchr(u, ',', (size_t)(e - u));
			if (ue == NULL)
				ue = e;
			len = (size_t)(ue - u);
			while (len > 0 && fuzz_wsp(u[len - 1]))
				len--;
			if (!(len > 7 && strncasecmp(u, "mailto:", 7) == 0) &&
			    !(len > 8 && strncasecmp(u, "https://", 8) == 0))
				*bad_uri = 1;
		}
	}
	return n;
}

static enum monitorcheck_tlsrpt_parse
fuzz_parse(const char *txt)
{
	enum monitorcheck_tlsrpt_parse r;
	char *why = (char *)1;

	r = monitorcheck_tlsrpt_parse(txt, &why);
	if ((unsigned)r > MONITORCHECK_TLSRPT_INVALID)
		abort();
	if ((r == MONITORCHECK_TLSRPT_INVALID) != (why != NULL))
		abort();
	if (why != NULL && why[0] == '\0')
		abort();
	free(why);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *txt = xmalloc(size + 1), *copy;
	enum monitorcheck_tlsrpt_parse r;
	size_t len;
	int bad_uri;

	memcpy(txt, data, size);
	txt[size] = '\0';
	r = fuzz_parse(txt);
	if ((r == MONITORCHECK_TLSRPT_OTHER) != (strncmp(txt, "v=TLSRPTv1", 10) != 0))
		abort();
	if (r == MONITORCHECK_TLSRPT_OK && (fuzz_rua(txt, &bad_uri) != 1 || bad_uri))
		abort();
	len = strlen(txt);
	copy = xmalloc(len + 1);
	memcpy(copy, txt, len + 1);
	if (fuzz_parse(copy) != r)
		abort();
	free(copy);
	free(txt);
	return 0;
}
