/*
 * ststxt_fuzz.c: libFuzzer target for the MTA-STS TXT record parser of
 * policy/mtasts_policy.c (mtasts_policy_txt_candidate and
 * mtasts_policy_txt_parse), which read the _mta-sts TXT record a remote
 * domain publishes (RFC 8461 §3.1). The policy body and the mx patterns
 * are fuzz/mtasts_fuzz.c's; this target owns the TXT record.
 *
 * The input, as a NUL-terminated heap copy of exactly size + 1 bytes (the
 * text stops at its first NUL, as rdata_txt's output does), goes to both
 * functions. Besides memory errors the target aborts when they break the
 * contract of mtasts_policy.h and RFC 8461 §3.1:
 *   - a record accepted that is not a candidate (the version field
 *     "v=STSv1" first, then *WSP and ";" or the end);
 *   - an accepted id that is empty, longer than MTASTS_ID_MAX, not
 *     ALPHA/DIGIT, not NUL-terminated inside id[MTASTS_ID_MAX + 1], or not
 *     the value of a whole "id=" field of the text (after ";" *WSP, ended
 *     by the end of the text, ";" or WSP);
 *   - id not "" after a rejection;
 *   - an answer that changes with the bytes after the first NUL (the
 *     parsers read a C string, never past it): checked by parsing the
 *     text again from a copy of exactly its own length.
 * Seeds live in fuzz/corpus/ststxt/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "policy/mtasts_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
fuzz_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
fuzz_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Is id the value of a whole "id=" field of txt? */
static bool
fuzz_id_field(const char *txt, const char *id)
{
	size_t n = strlen(id);
	const char *p, *b;

	for (p = strstr(txt, "id="); p != NULL; p = strstr(p + 1, "id=")) {
		for (b = p; b > txt && fuzz_wsp(b[-1]); b--)
			;
		if (b == txt || b[-1] != ';')
			continue;
		if (strncmp(p + 3, id, n) == 0 &&
		    (p[3 + n] == '\0' || p[3 + n] == ';' || fuzz_wsp(p[3 + n])))
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *txt = xmalloc(size + 1), *exact, id[MTASTS_ID_MAX + 1], id2[MTASTS_ID_MAX + 1];
	bool cand;
	size_t n, tlen;
	int ok;

	memcpy(txt, data, size);
	txt[size] = '\0';
	memset(id, 'X', sizeof(id));
	cand = mtasts_policy_txt_candidate(txt);
	ok = mtasts_policy_txt_parse(txt, id);
	if (ok != 0 && ok != 1)
		abort();
	if (ok) {
		n = strnlen(id, sizeof(id));
		if (!cand || n == 0 || n > MTASTS_ID_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if (!fuzz_alnum(id[i]))
				abort();
		if (strncmp(txt, "v=STSv1", 7) != 0 || !fuzz_id_field(txt, id))
			abort();
	} else if (id[0] != '\0') {
		abort();
	}
	/* The same text in a block of exactly its length + 1. */
	tlen = strlen(txt);
	exact = xmalloc(tlen + 1);
	memcpy(exact, txt, tlen + 1);
	memset(id2, 'Y', sizeof(id2));
	if (mtasts_policy_txt_candidate(exact) != cand || mtasts_policy_txt_parse(exact, id2) != ok ||
	    (ok && strcmp(id, id2) != 0))
		abort();
	free(exact);
	free(txt);
	return 0;
}
