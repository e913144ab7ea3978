/*
 * cfg_fuzz.c: libFuzzer target for config/ (cfg.c, cfg_schema.c, cfg_decode.c).
 *
 * Feeds the input, as a NUL-terminated copy, to cfg_load_string() and frees
 * whatever comes back (the cfg or the error message). Seeds live in
 * fuzz/corpus/cfg/.
 *
 * Inputs with "@include" are skipped: libconfig would open whatever path
 * follows (a FIFO or /dev/stdin blocks the fuzzer), and include handling is
 * libconfig's code, not ours.
 *
 * libconfig 1.5 leaks the string token that is the parser's lookahead when
 * a syntax error happens (no bison %destructor): 'a "x";' loses 64 bytes.
 * __lsan_default_suppressions() ignores leaks allocated under libconfig.so;
 * ours are allocated from our own frames and are still reported.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "config/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_domain_view v;
	struct cfg *c;
	char *text, *err = NULL;

	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (strstr(text, "@include") != NULL) {
		free(text);
		return 0;
	}
	c = cfg_load_string(text, "fuzz.conf", &err);
	if (c != NULL) {
		/* Exercise the lookup on what was loaded. */
		cfg_domain_lookup(c, "a.b.example.com", &v);
		if (c->c_ndomains > 0)
			cfg_domain_lookup(c, c->c_domains[0].cdom_name, &v);
		cfg_unref(c);
	}
	free(err);
	free(text);
	return 0;
}
