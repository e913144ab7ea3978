/*
 * xmalloc.h: allocation that never returns NULL.
 *
 * Out of memory is not a condition danemilter recovers from: these functions
 * log and abort() instead. Memory they return is freed with free().
 */
#ifndef DM_XMALLOC_H
#define DM_XMALLOC_H

#include <stddef.h>
#include "log.h"

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
/* Copy at most n bytes of s and NUL-terminate. */
char *xstrndup(const char *s, size_t n);
/* Allocated sprintf. */
char *xasprintf(const char *fmt, ...) DM_PRINTF(1, 2);

#endif
