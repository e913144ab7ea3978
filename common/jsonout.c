/*
 * jsonout.c: see jsonout.h.
 *
 * jansson reports out of memory as a NULL value or a -1; danemilter
 * aborts on it as xmalloc does, so no writer carries a half-built object.
 */
#include "jsonout.h"

#include <string.h>

#include "log.h"

#define JSONOUT_REPLACEMENT     "\xef\xbf\xbd"  /* U+FFFD in UTF-8 */

/*
 * The length of the valid UTF-8 sequence at p (at most n bytes), or 0
 * when p[0] does not start one (RFC 3629, Table 3-7 of Unicode: the
 * ranges exclude overlong forms, surrogates and code points > U+10FFFF).
 */
static size_t
jsonout_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static json_t *
jsonout_check(json_t *j)
{
	if (j == NULL)
		log_abort("jsonout: out of memory");
	return j;
}

json_t *
jsonout_strn(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	struct sbuf sb = SBUF_INIT;
	size_t i, k;
	json_t *j;

	if (s == NULL)
		return jsonout_check(json_null());
	n = strnlen(s, n);
	for (i = 0; i < n; i += k)
		if ((k = jsonout_utf8_seq(p + i, n - i)) == 0)
			break;
	if (i == n)
		return jsonout_check(json_stringn(s, n));
	/* Repair: the valid prefix, then each invalid byte as U+FFFD. */
	sbuf_appendn(&sb, s, i);
	while (i < n) {
		if ((k = jsonout_utf8_seq(p + i, n - i)) == 0) {
			sbuf_append(&sb, JSONOUT_REPLACEMENT);
			k = 1;
		} else {
			sbuf_appendn(&sb, s + i, k);
		}
		i += k;
	}
	j = json_stringn(sbuf_str(&sb), sb.sb_len);
	sbuf_free(&sb);
	if (j == NULL)
		log_abort("jsonout: a repaired string is not UTF-8 for jansson");
	return j;
}

json_t *
jsonout_str(const char *s)
{
	return jsonout_strn(s, s != NULL ? strlen(s) : 0);
}

json_t *
jsonout_int(long long v)
{
	return jsonout_check(json_integer((json_int_t)v));
}

json_t *
jsonout_bool(int v)
{
	return jsonout_check(json_boolean(v));
}

json_t *
jsonout_object(void)
{
	return jsonout_check(json_object());
}

json_t *
jsonout_array(void)
{
	return jsonout_check(json_array());
}

void
jsonout_set(json_t *o, const char *key, json_t *val)
{
	if (json_object_set_new(o, key, val) != 0)
		log_abort("jsonout: cannot set %s", key);
}

void
jsonout_set_str(json_t *o, const char *key, const char *val)
{
	jsonout_set(o, key, jsonout_str(val));
}

void
jsonout_set_int(json_t *o, const char *key, long long val)
{
	jsonout_set(o, key, jsonout_int(val));
}

void
jsonout_append(json_t *a, json_t *val)
{
	if (json_array_append_new(a, val) != 0)
		log_abort("jsonout: cannot append to an array");
}

size_t
jsonout_utf8_copy(char *dst, size_t len, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), i = 0, o = 0, k;

	while (i < n) {
		if ((k = jsonout_utf8_seq(p + i, n - i)) == 0) {
			if (o + 3 >= len)
				break;
			memcpy(dst + o, JSONOUT_REPLACEMENT, 3);
			o += 3;
			i++;
			continue;
		}
		if (o + k >= len)
			break;
		memcpy(dst + o, src + i, k);
		o += k;
		i += k;
	}
	dst[o] = '\0';
	return o;
}

static int
jsonout_sbuf_cb(const char *buf, size_t size, void *arg)
{
	sbuf_appendn(arg, buf, size);
	return 0;
}

void
jsonout_dump_sbuf(struct sbuf *sb, const json_t *o)
{
	if (json_dump_callback(o, jsonout_sbuf_cb, sb, JSONOUT_FLAGS) != 0)
		log_abort("jsonout: cannot serialize");
}

char *
jsonout_dump(const json_t *o)
{
	struct sbuf sb = SBUF_INIT;

	jsonout_dump_sbuf(&sb, o);
	return sbuf_steal(&sb);
}
