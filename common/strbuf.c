/*
 * strbuf.c: see strbuf.h.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void
strbuf_grow(struct strbuf *sb, size_t more)
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
strbuf_appendn(struct strbuf *sb, const char *s, size_t n)
{
	strbuf_grow(sb, n);
	memcpy(sb->sb_buf + sb->sb_len, s, n);
	sb->sb_len += n;
	sb->sb_buf[sb->sb_len] = '\0';
}

void
strbuf_append(struct strbuf *sb, const char *s)
{
	strbuf_appendn(sb, s, strlen(s));
}

void
strbuf_appendc(struct strbuf *sb, char c)
{
	strbuf_appendn(sb, &c, 1);
}

void
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		log_abort("strbuf_printf: bad format");
	strbuf_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->sb_buf + sb->sb_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->sb_len += (size_t)n;
}

void
strbuf_json_str(struct strbuf *sb, const char *s)
{
	const unsigned char *p;

	strbuf_appendc(sb, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  strbuf_append(sb, "\\\""); break;
		case '\\': strbuf_append(sb, "\\\\"); break;
		case '\n': strbuf_append(sb, "\\n"); break;
		case '\r': strbuf_append(sb, "\\r"); break;
		case '\t': strbuf_append(sb, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				strbuf_printf(sb, "\\u%04x", *p);
			else
				strbuf_appendc(sb, (char)*p);
		}
	}
	strbuf_appendc(sb, '"');
}

const char *
strbuf_str(const struct strbuf *sb)
{
	return sb->sb_buf ? sb->sb_buf : "";
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->sb_len = 0;
	if (sb->sb_buf)
		sb->sb_buf[0] = '\0';
}

void
strbuf_free(struct strbuf *sb)
{
	free(sb->sb_buf);
	sb->sb_buf = NULL;
	sb->sb_len = sb->sb_cap = 0;
}

char *
strbuf_steal(struct strbuf *sb)
{
	char *s = sb->sb_buf ? sb->sb_buf : xstrdup("");

	sb->sb_buf = NULL;
	sb->sb_len = sb->sb_cap = 0;
	return s;
}
