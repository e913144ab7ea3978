/*
 * jsonout.h: the rules every JSON writer of danemilter shares (issue 13:
 * every JSON document is a jansson json_t, serialized by jansson).
 *
 * Output form (JSONOUT_FLAGS): compact, one line, no spaces ({"a":1,"b":[]}),
 * keys in the order they were set (jansson >= 2.8 keeps insertion order),
 * valid UTF-8 passed through as UTF-8, U+0000..U+001F, '"' and '\' escaped.
 * Consumers match these bytes (etc/syslog-ng/danemilter.pdb, tests), so
 * every writer dumps with jsonout_dump_sbuf() or jsonout_dump().
 *
 * Text from outside (an envelope domain, a client name, a TLS cipher, a
 * certificate subject) need not be UTF-8; jansson refuses such a string
 * (json_string() gives NULL). jsonout_str() never refuses: each byte that
 * does not start a valid UTF-8 sequence (RFC 3629: no overlong form, no
 * surrogate, nothing above U+10FFFF, no cut sequence) becomes U+FFFD, the
 * rest stays as it was. The record is never dropped.
 *
 * Ownership: the constructors return a new reference (never NULL: out of
 * memory aborts). jsonout_set() and jsonout_append() steal the reference
 * to val, like json_object_set_new(). jsonout_dump_sbuf() appends to a
 * struct sbuf the caller owns; jsonout_dump() returns a malloc'ed string
 * the caller frees with free(). Both leave o's reference with the caller
 * (json_decref() it).
 */
#ifndef DM_JSONOUT_H
#define DM_JSONOUT_H

#include <jansson.h>
#include <stddef.h>

#include "common/sbuf.h"

#define JSONOUT_FLAGS   (JSON_COMPACT)

/* s as a JSON string (invalid UTF-8 repaired as above); NULL gives null. */
json_t *jsonout_str(const char *s);
/* The same for n bytes (a NUL among them counts as the string's end). */
json_t *jsonout_strn(const char *s, size_t n);
json_t *jsonout_int(long long v);
json_t *jsonout_bool(int v);
json_t *jsonout_object(void);
json_t *jsonout_array(void);

/* o[key] = val (key: a UTF-8 literal of ours), stealing val. */
void jsonout_set(json_t *o, const char *key, json_t *val);
/* Shorthands: o[key] = jsonout_str(val) / jsonout_int(val). */
void jsonout_set_str(json_t *o, const char *key, const char *val);
void jsonout_set_int(json_t *o, const char *key, long long val);
/* a[] += val, stealing val. */
void jsonout_append(json_t *a, json_t *val);

/*
 * Copy src into dst (size len > 0) as valid UTF-8: invalid bytes become
 * U+FFFD and a character that does not fit whole is left out, so dst is
 * NUL-terminated valid UTF-8 that jansson takes as it is. Returns the
 * length written. For fixed-size fields later written as JSON.
 */
size_t jsonout_utf8_copy(char *dst, size_t len, const char *src);

/* Serialize o with JSONOUT_FLAGS: appended to sb / a new string. */
void jsonout_dump_sbuf(struct sbuf *sb, const json_t *o);
char *jsonout_dump(const json_t *o);

#endif
