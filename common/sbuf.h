/*
 * sbuf.h: growable NUL-terminated string buffers.
 *
 * A struct sbuf is owned by whoever declares it; sbuf_free() releases its
 * storage, sbuf_steal() hands the string to the caller (free() it).
 * SBUF_INIT is a valid empty buffer that allocates on first append.
 */
#ifndef DM_SBUF_H
#define DM_SBUF_H

#include <stddef.h>
#include "log.h"

struct sbuf {
	char *sb_buf;
	size_t sb_len;
	size_t sb_cap;
};

#define SBUF_INIT { NULL, 0, 0 }

void sbuf_append(struct sbuf *sb, const char *s);
void sbuf_appendn(struct sbuf *sb, const char *s, size_t n);
void sbuf_appendc(struct sbuf *sb, char c);
void sbuf_printf(struct sbuf *sb, const char *fmt, ...) DM_PRINTF(2, 3);
/* The current contents ("" for an empty buffer); valid until the next call. */
const char *sbuf_str(const struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
void sbuf_free(struct sbuf *sb);
/* Return the malloc'ed string (never NULL) and leave sb empty. */
char *sbuf_steal(struct sbuf *sb);

#endif
