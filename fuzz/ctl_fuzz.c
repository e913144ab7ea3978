/*
 * ctl_fuzz.c: libFuzzer target for control/ctlproto.c, the parser of every
 * request line a client sends to the control socket (`danemilter ctl`).
 *
 * The input is copied to a heap block of exactly its size, so
 * AddressSanitizer sees any read past it, and parsed as one request. Besides
 * memory errors the target aborts when ctlproto_parse breaks its contract in
 * ctlproto.h:
 *   - CTLPROTO_OK with a command out of range, an argument where the command
 *     takes none (or none where it takes one), an argument longer than
 *     CTLPROTO_DOMAIN_MAX or with a byte outside 0x21..0x7e, or from an
 *     input longer than CTLPROTO_REQUEST_MAX;
 *   - an accepted request that does not parse again, to the same request,
 *     from its canonical line (command, argument, "\n");
 *   - a status outside the enum, or one without a message.
 * Build and run: fuzz/run.sh with the recipe
 *   ctl) srcs="control/ctlproto.c $common"; cflags_extra=''; libs='' ;;
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_words[] = {
	[CTLPROTO_QUERY] = "query", [CTLPROTO_DUMP] = "dump", [CTLPROTO_DUMP_JSON] = "dump json",
	[CTLPROTO_PURGE] = "purge", [CTLPROTO_PURGE_ALL] = "purge --all",
	[CTLPROTO_RELOAD] = "reload", [CTLPROTO_STATS] = "stats"
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlproto_req r, again;
	enum ctlproto_status st;
	char *buf = malloc(size ? size : 1);
	char line[CTLPROTO_REQUEST_MAX * 2];
	size_t alen, i;
	int n;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	st = ctlproto_parse(buf, size, &r);
	free(buf);
	if ((unsigned)st > CTLPROTO_ERR_ARGS || ctlproto_status_text(st) == NULL ||
	    strcmp(ctlproto_status_text(st), "?") == 0)
		abort();
	if (st != CTLPROTO_OK)
		return 0;
	if (size > CTLPROTO_REQUEST_MAX || (unsigned)r.cr_cmd > CTLPROTO_STATS)
		abort();
	alen = strnlen(r.cr_arg, sizeof(r.cr_arg));
	if (alen > CTLPROTO_DOMAIN_MAX)
		abort();
	for (i = 0; i < alen; i++)
		if ((unsigned char)r.cr_arg[i] < 0x21 || (unsigned char)r.cr_arg[i] > 0x7e)
			abort();
	if ((r.cr_cmd == CTLPROTO_QUERY || r.cr_cmd == CTLPROTO_PURGE) != (alen > 0))
		abort();
	n = snprintf(line, sizeof(line), "%s%s%s\n", fuzz_words[r.cr_cmd], alen ? " " : "",
	    r.cr_arg);
	if (n < 0 || (size_t)n >= sizeof(line))
		abort();
	if (ctlproto_parse(line, (size_t)n, &again) != CTLPROTO_OK || again.cr_cmd != r.cr_cmd ||
	    strcmp(again.cr_arg, r.cr_arg) != 0)
		abort();
	return 0;
}
