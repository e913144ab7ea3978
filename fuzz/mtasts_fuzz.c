/*
 * mtasts_fuzz.c: libFuzzer target for the MTA-STS parsers of
 * policy/mtasts_policy.c, which read what a remote domain publishes.
 *
 * Every input goes whole to mtasts_policy_parse() (+ unref); the input
 * split at its first newline is a (pattern, host) pair for
 * mtasts_policy_mx_match(). The TXT record is fuzz/ststxt_fuzz.c's.
 *
 * Besides memory errors the target aborts when the parsers break their
 * contract in mtasts_policy.h: a policy together with an error (or
 * neither), a mode out of range, max_age above the cap, more than MTASTS_MX_MAX mx,
 * an mx that is empty, not lower case or that a host it describes does
 * not match, mp_text not the input, mx missing outside mode none.
 * Seeds live in fuzz/corpus/mtasts/ (policy bodies, mx patterns).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "policy/mtasts_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_policy(const uint8_t *data, size_t size)
{
	struct mtasts_policy *p;
	char *err = NULL, host[300];
	size_t i, n;

	p = mtasts_policy_parse((const char *)data, size, &err);
	if ((p == NULL) == (err == NULL))
		abort();
	free(err);
	if (p == NULL)
		return;
	if ((unsigned)p->mp_mode > MTASTS_MODE_NONE || p->mp_max_age > MTASTS_MAX_AGE_MAX ||
	    p->mp_nmx > MTASTS_MX_MAX || (p->mp_nmx == 0 && p->mp_mode != MTASTS_MODE_NONE) ||
	    p->mp_refs != 1 || p->mp_text == NULL || memcmp(p->mp_text, data, size) != 0 ||
	    p->mp_text[size] != '\0')
		abort();
	for (i = 0; i < p->mp_nmx; i++) {
		const char *mx = p->mp_mx[i];

		n = strlen(mx);
		if (n == 0 || n > 255 || strspn(mx, "*.-abcdefghijklmnopqrstuvwxyz0123456789") != n)
			abort();
		/* A host the pattern describes must match it. */
		if (mx[0] == '*')
			snprintf(host, sizeof(host), "a%s", mx + 1);
		else
			snprintf(host, sizeof(host), "%s", mx);
		if (!mtasts_policy_mx_match(mx, host))
			abort();
	}
	mtasts_policy_unref(mtasts_policy_ref(p));
	mtasts_policy_unref(p);
}

static void
fuzz_match(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - data) : size;
	char *pattern = xstrndup((const char *)data, plen);
	char *host = nl ? xstrndup((const char *)nl + 1, size - plen - 1) : xstrdup("");

	(void)mtasts_policy_mx_match(pattern, host);
	(void)mtasts_policy_mx_match(host, pattern);
	free(pattern);
	free(host);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_policy(data, size);
	fuzz_match(data, size);
	return 0;
}
