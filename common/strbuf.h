/*
 * strbuf.h: growable NUL-terminated string buffers.
 *
 * A struct strbuf is owned by whoever declares it; strbuf_free() releases its
 * storage, strbuf_steal() hands the string to the caller (free() it).
 * STRBUF_INIT is a valid empty buffer that allocates on first append.
 * Also holds the JSON string escaper used by every JSON writer.
 */
#ifndef DM_STRBUF_H
#define DM_STRBUF_H

#include <stddef.h>
#include "log.h"

struct strbuf {
	char *sb_buf;
	size_t sb_len;
	size_t sb_cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_append(struct strbuf *sb, const char *s);
void strbuf_appendn(struct strbuf *sb, const char *s, size_t n);
void strbuf_appendc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) DM_PRINTF(2, 3);
/* Append s as a JSON string literal, quotes included. */
void strbuf_json_str(struct strbuf *sb, const char *s);
/* The current contents ("" for an empty buffer); valid until the next call. */
const char *strbuf_str(const struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
/* Return the malloc'ed string (never NULL) and leave sb empty. */
char *strbuf_steal(struct strbuf *sb);

#endif
