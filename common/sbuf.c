/*
 * sbuf.c: see sbuf.h.
 */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void
sbuf_grow(struct sbuf *sb, size_t more)
{
	size_t need = sb->sb_len + more + 1;

	if (need <= sb->sb_cap)
		return;
	if (sb->sb_cap == 0)
		sb->sb_cap = 64;
	while (sb->sb_cap < need)
		sb->sb_cap *= 2;
	sb->sb_buf = xreallocarray(sb->sb_buf, sb->sb_cap, 1);
}

void
sbuf_appendn(struct sbuf *sb, const char *s, size_t n)
{
	sbuf_grow(sb, n);
	memcpy(sb->sb_buf + sb->sb_len, s, n);
	sb->sb_len += n;
	sb->sb_buf[sb->sb_len] = '\0';
}

void
sbuf_append(struct sbuf *sb, const char *s)
{
	sbuf_appendn(sb, s, strlen(s));
}

void
sbuf_appendc(struct sbuf *sb, char c)
{
	sbuf_appendn(sb, &c, 1);
}

void
sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		log_abort("sbuf_printf: bad format");
	sbuf_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->sb_buf + sb->sb_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->sb_len += (size_t)n;
}

const char *
sbuf_str(const struct sbuf *sb)
{
	return sb->sb_buf ? sb->sb_buf : "";
}

void
sbuf_reset(struct sbuf *sb)
{
	sb->sb_len = 0;
	if (sb->sb_buf)
		sb->sb_buf[0] = '\0';
}

void
sbuf_free(struct sbuf *sb)
{
	free(sb->sb_buf);
	sb->sb_buf = NULL;
	sb->sb_len = sb->sb_cap = 0;
}

char *
sbuf_steal(struct sbuf *sb)
{
	char *s = sb->sb_buf ? sb->sb_buf : xstrdup("");

	sb->sb_buf = NULL;
	sb->sb_len = sb->sb_cap = 0;
	return s;
}
