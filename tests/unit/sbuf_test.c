/*
 * sbuf_test.c: string buffers.
 */
#include <stdlib.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "tests/tap.h"

int
main(void)
{
	struct sbuf sb = SBUF_INIT;
	char *s;
	int k;

	tap_watchdog(10);
	tap_is_str(sbuf_str(&sb), "", "empty buffer reads as empty string");
	sbuf_append(&sb, "abc");
	sbuf_appendc(&sb, '-');
	sbuf_printf(&sb, "%d/%s", 42, "x");
	tap_is_str(sbuf_str(&sb), "abc-42/x", "append, appendc, printf");
	for (k = 0; k < 1000; k++)
		sbuf_append(&sb, "0123456789");
	tap_is_long((long)sb.sb_len, 8 + 10000, "grows past many doublings");
	sbuf_reset(&sb);
	tap_is_str(sbuf_str(&sb), "", "reset empties");
	sbuf_appendn(&sb, "kept|cut", 4);
	s = sbuf_steal(&sb);
	tap_is_str(s, "kept", "appendn, steal hands over the string");
	tap_ok(sb.sb_buf == NULL && sb.sb_len == 0, "steal leaves the buffer empty");
	free(s);
	s = xasprintf("%s=%u", "ttl", 300u);
	tap_is_str(s, "ttl=300", "xasprintf");
	free(s);
	sbuf_free(&sb);
	return tap_done();
}
