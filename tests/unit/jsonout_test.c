/*
 * jsonout_test.c: the JSON writers' shared rules (common/jsonout.h): the
 * bytes of a dumped string (escapes, UTF-8 kept, invalid UTF-8 repaired
 * as U+FFFD), compact output in insertion order, the fixed-size copy, and
 * random byte strings against jansson's own UTF-8 check: what jansson
 * takes is kept byte for byte, what it refuses comes out repaired and
 * parses back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonout.h"
#include "tests/tap.h"

#define FFFD "\xef\xbf\xbd"

static const struct {
	const char *in, *want, *desc;
} strs[] = {
	{ "plain", "\"plain\"", "plain ASCII" },
	{ "", "\"\"", "empty" },
	{ "a\"b\\c/d", "\"a\\\"b\\\\c/d\"", "quote and backslash escaped, slash kept" },
	{ "line\r\nnext\t", "\"line\\r\\nnext\\t\"", "CR LF TAB as short escapes" },
	{ "\x01\x1f\x1b[31m", "\"\\u0001\\u001F\\u001B[31m\"", "other controls as \\u00XX" },
	{ "del\x7f", "\"del\x7f\"", "DEL is valid JSON as it is" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"",
	  "valid UTF-8 (2, 3, 4 bytes) kept as UTF-8" },
	{ "a\xff" "b", "\"a" FFFD "b\"", "a byte that starts nothing: U+FFFD" },
	{ "\x80x", "\"" FFFD "x\"", "a lone continuation byte" },
	{ "\xc0\x80", "\"" FFFD FFFD "\"", "overlong NUL: each byte replaced" },
	{ "\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"", "overlong 3-byte form" },
	{ "\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"", "UTF-16 surrogate" },
	{ "\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"", "above U+10FFFF" },
	{ "ok\xe2\x82", "\"ok" FFFD FFFD "\"", "a sequence cut by the end" },
	{ "\xc3(", "\"" FFFD "(\"", "a lead byte without its continuation" },
	{ "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"", "U+10FFFF itself is kept" },
};

/* s dumped as the one element of an array (jansson dumps documents,
 * objects or arrays, only), the brackets taken off again. */
static char *
dump_str(const char *s)
{
	json_t *a = jsonout_array();
	char *out;
	size_t n;

	jsonout_append(a, jsonout_str(s));
	out = jsonout_dump(a);
	json_decref(a);
	n = strlen(out);
	if (n < 2 || out[0] != '[' || out[n - 1] != ']')
		return out;
	memmove(out, out + 1, n - 2);
	out[n - 2] = '\0';
	return out;
}

static void
test_strings(void)
{
	json_t *j;
	char *got;
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		got = dump_str(strs[i].in);
		tap_is_str(got, strs[i].want, strs[i].desc);
		free(got);
	}
	got = dump_str(NULL);
	tap_is_str(got, "null", "NULL gives null");
	free(got);
	j = jsonout_strn("ab\0cd", 5);
	tap_is_str(json_string_value(j), "ab", "strn stops at a NUL");
	json_decref(j);
	j = jsonout_strn("abcdef", 3);
	tap_is_str(json_string_value(j), "abc", "strn takes n bytes");
	json_decref(j);
}

static void
test_document(void)
{
	json_t *o = jsonout_object(), *a = jsonout_array();
	struct sbuf sb = SBUF_INIT;
	char *got;

	jsonout_set_int(o, "z", -5);
	jsonout_append(a, jsonout_bool(1));
	jsonout_append(a, jsonout_str(NULL));
	jsonout_append(a, jsonout_int(4294967295LL));
	jsonout_set(o, "a", a);
	jsonout_set_str(o, "m", "x");
	jsonout_set(o, "e", jsonout_object());
	got = jsonout_dump(o);
	tap_is_str(got, "{\"z\":-5,\"a\":[true,null,4294967295],\"m\":\"x\",\"e\":{}}",
	    "compact, one line, keys in insertion order");
	free(got);
	sbuf_append(&sb, "OK ");
	jsonout_dump_sbuf(&sb, o);
	tap_is_str(sbuf_str(&sb), "OK {\"z\":-5,\"a\":[true,null,4294967295],\"m\":\"x\",\"e\":{}}",
	    "dump_sbuf appends");
	sbuf_free(&sb);
	json_decref(o);
}

static void
test_copy(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
		const char *desc;
	} c[] = {
		{ "caf\xc3\xa9", 6, "caf\xc3\xa9", "fits whole" },
		{ "caf\xc3\xa9", 5, "caf", "a character that does not fit is left out, not cut" },
		{ "ab\xff", 6, "ab" FFFD, "invalid byte replaced" },
		{ "ab\xff", 5, "ab", "a replacement that does not fit is left out" },
		{ "abc", 1, "", "room for the NUL only" },
		{ "", 4, "", "empty" },
	};
	char buf[16];
	size_t i, n;
	json_t *j;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		n = jsonout_utf8_copy(buf, c[i].len, c[i].in);
		tap_is_str(buf, c[i].want, c[i].desc);
		tap_ok(n == strlen(c[i].want), "%s: returns the length (got %zu, want %zu)",
		    c[i].desc, n, strlen(c[i].want));
		j = json_string(buf);
		tap_ok(j != NULL, "%s: jansson takes the copy as it is", c[i].desc);
		json_decref(j);
	}
}

/* Random byte strings, rich in UTF-8 lead and continuation bytes. */
static void
test_random(void)
{
	static const unsigned char pick[] = {
		0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec,
		0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff, 'a', '"', '\\', 0x01,
	};
	unsigned long kept = 0, repaired = 0, bad = 0;
	unsigned seed = 12345;
	char in[24], *out;
	json_t *mine, *theirs, *back, *doc;
	size_t n, i;
	int k;

	for (k = 0; k < 200000; k++) {
		n = (size_t)(rand_r(&seed) % 12);
		for (i = 0; i < n; i++)
			in[i] = (char)(rand_r(&seed) % 3 == 0 ? rand_r(&seed) % 0x7f + 1 :
			    pick[rand_r(&seed) % sizeof(pick)]);
		in[n] = '\0';
		mine = jsonout_str(in);
		theirs = json_string(in);
		if (theirs != NULL) {
			if (strcmp(json_string_value(mine), in) != 0)
				bad++;
			kept++;
		} else {
			if (strstr(json_string_value(mine), FFFD) == NULL)
				bad++;
			repaired++;
		}
		doc = jsonout_array();
		jsonout_append(doc, mine);
		out = jsonout_dump(doc);
		back = json_loads(out, 0, NULL);
		if (back == NULL || !json_equal(back, doc))
			bad++;
		json_decref(back);
		free(out);
		json_decref(theirs);
		json_decref(doc);
	}
	tap_ok(bad == 0 && kept > 1000 && repaired > 1000,
	    "random bytes: what jansson takes is kept, the rest repaired, all parse back "
	    "(kept %lu, repaired %lu, wrong %lu)", kept, repaired, bad);
}

int
main(void)
{
	tap_watchdog(60);
	test_strings();
	test_document();
	test_copy();
	test_random();
	return tap_done();
}
