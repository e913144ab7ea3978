/*
 * netstring_test.c: netstring framing: whole frames, the empty frame,
 * byte-by-byte arrival, every way a length can be bad, early detection of
 * an oversized length, the terminator, back-to-back frames and
 * format/parse round trips.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netstring.h"
#include "tests/tap.h"

#define MAX 100

struct parse_case {
	const char *in;                 /* parsed with strlen(in) bytes */
	size_t max;
	enum netstring_status want;
	const char *want_payload;       /* for NETSTRING_OK */
	size_t want_used;
	const char *desc;
};

static const struct parse_case cases[] = {
	{ "5:hello,", MAX, NETSTRING_OK, "hello", 8, "simple frame" },
	{ "0:,", MAX, NETSTRING_OK, "", 3, "empty frame" },
	{ "17:QUERY example.com,", MAX, NETSTRING_OK, "QUERY example.com", 21, "socketmap request" },
	{ "3:a b,trailing", MAX, NETSTRING_OK, "a b", 6, "bytes after the frame are left" },
	{ "100:", 100, NETSTRING_INCOMPLETE, NULL, 0, "length == max waits for the payload" },
	{ "", MAX, NETSTRING_INCOMPLETE, NULL, 0, "no input" },
	{ "1", MAX, NETSTRING_INCOMPLETE, NULL, 0, "one digit" },
	{ "0", MAX, NETSTRING_INCOMPLETE, NULL, 0, "lone 0 may still be \"0:,\"" },
	{ "5:hel", MAX, NETSTRING_INCOMPLETE, NULL, 0, "partial payload" },
	{ "5:hello", MAX, NETSTRING_INCOMPLETE, NULL, 0, "payload without terminator yet" },
	{ "00:,", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "\"00\"" },
	{ "05:hello,", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "leading zero" },
	{ "01", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "leading zero seen before ':'" },
	{ ":,", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "no digits" },
	{ "a:", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "letter" },
	{ "5x", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "letter after a digit" },
	{ "-1:", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "sign" },
	{ " 5:hello,", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "leading space" },
	{ "5 :hello,", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "space before ':'" },
	{ "\r\n5:hello,", MAX, NETSTRING_BAD_LENGTH, NULL, 0, "CRLF before the frame" },
	{ "12345678901", (size_t)-1, NETSTRING_BAD_LENGTH, NULL, 0, "11 digits" },
	{ "1234567890:", (size_t)-1, NETSTRING_INCOMPLETE, NULL, 0, "10 digits are allowed" },
	{ "101", 100, NETSTRING_TOO_LONG, NULL, 0, "length > max before ':'" },
	{ "99999999", 10000, NETSTRING_TOO_LONG, NULL, 0, "99999999 > 10000 before ':'" },
	{ "10001:", 10000, NETSTRING_TOO_LONG, NULL, 0, "10001 > 10000" },
	{ "1", 0, NETSTRING_TOO_LONG, NULL, 0, "max 0: any non-zero digit" },
	{ "0:,", 0, NETSTRING_OK, "", 3, "max 0: empty frame" },
	{ "5:hello;", MAX, NETSTRING_NO_COMMA, NULL, 0, "wrong terminator" },
	{ "5:hellox,", MAX, NETSTRING_NO_COMMA, NULL, 0, "payload longer than announced" },
	{ "0:x", MAX, NETSTRING_NO_COMMA, NULL, 0, "empty frame without comma" },
};

static int
check_case(const struct parse_case *c, size_t len)
{
	const char *payload = NULL;
	size_t plen = 0, used = 0;
	enum netstring_status st;
	int ok;

	st = netstring_parse(c->in, len, c->max, &payload, &plen, &used);
	ok = st == c->want;
	if (ok && st == NETSTRING_OK)
		ok = plen == strlen(c->want_payload) && used == c->want_used &&
		    memcmp(payload, c->want_payload, plen) == 0 &&
		    payload > c->in && payload + plen < c->in + len;
	if (!tap_ok(ok, "parse %s", c->desc))
		printf("# got %s (plen %zu used %zu), want %s\n", netstring_status_text(st),
		    plen, used, netstring_status_text(c->want));
	return ok;
}

/* Feed in one byte at a time: INCOMPLETE until the byte that decides,
 * then the final status; returns the number of bytes that took. */
static size_t
bytewise(const char *in, size_t len, size_t max, enum netstring_status *final)
{
	const char *payload;
	size_t plen, used, n;
	enum netstring_status st = NETSTRING_INCOMPLETE;

	for (n = 1; n <= len; n++) {
		st = netstring_parse(in, n, max, &payload, &plen, &used);
		if (st != NETSTRING_INCOMPLETE)
			break;
	}
	*final = st;
	return n > len ? len : n;
}

int
main(void)
{
	static const struct {
		const char *in;
		size_t max;
		enum netstring_status want;
		size_t decided_at;      /* bytes seen when the status shows */
		const char *desc;
	} early[] = {
		{ "17:QUERY example.com,", MAX, NETSTRING_OK, 21, "valid frame decided at its comma" },
		{ "0:,", MAX, NETSTRING_OK, 3, "empty frame decided at its comma" },
		{ "99999999:", 10000, NETSTRING_TOO_LONG, 5, "99999 already > 10000" },
		{ "10001:", 10000, NETSTRING_TOO_LONG, 5, "10001 at its 5th digit" },
		{ "12345678901:", (size_t)-1, NETSTRING_BAD_LENGTH, 11, "11th digit" },
		{ "007:", MAX, NETSTRING_BAD_LENGTH, 2, "leading zero at the 2nd byte" },
		{ "3:abcX", MAX, NETSTRING_NO_COMMA, 6, "missing comma at the terminator" },
		{ "QUERY x", MAX, NETSTRING_BAD_LENGTH, 1, "unframed text at the 1st byte" },
	};
	static const char *const payloads[] = {
		"", "x", "QUERY example.com", "OK secure match=.example.com", "NOTFOUND ",
		"with,comma:colon", "1234567890",
	};
	char two[] = "3:abc,5:hello,0:,";
	char frame[256], big[10000];
	const char *payload;
	size_t plen, used, i, n, off, fl;
	enum netstring_status st;
	int k;

	tap_watchdog(10);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i], strlen(cases[i].in));

	for (i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
		n = bytewise(early[i].in, strlen(early[i].in), early[i].max, &st);
		if (!tap_ok(st == early[i].want && n == early[i].decided_at,
		    "byte by byte: %s", early[i].desc))
			printf("# got %s after %zu bytes, want %s after %zu\n",
			    netstring_status_text(st), n,
			    netstring_status_text(early[i].want), early[i].decided_at);
	}

	/* Three frames back to back in one buffer. */
	{
		static const char *const want[] = { "abc", "hello", "" };
		int good = 1;

		off = 0;
		for (k = 0; k < 3; k++) {
			st = netstring_parse(two + off, strlen(two) - off, MAX, &payload, &plen, &used);
			if (st != NETSTRING_OK || plen != strlen(want[k]) ||
			    memcmp(payload, want[k], plen) != 0)
				good = 0;
			off += used;
		}
		tap_ok(good && off == strlen(two), "three frames in one buffer");
		st = netstring_parse(two + off, 0, MAX, &payload, &plen, &used);
		tap_is_str(netstring_status_text(st), "incomplete frame", "nothing left after them");
	}

	/* Round trips. */
	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		size_t len = strlen(payloads[i]);

		memset(frame, '#', sizeof(frame));
		fl = netstring_format(frame, len + 12, payloads[i], len);
		st = netstring_parse(frame, fl, MAX, &payload, &plen, &used);
		if (!tap_ok(st == NETSTRING_OK && used == fl && plen == len &&
		    memcmp(payload, payloads[i], len) == 0 && frame[fl] == '#',
		    "round trip \"%s\"", payloads[i]))
			printf("# got %s, frame \"%.*s\"\n", netstring_status_text(st), (int)fl, frame);
	}
	fl = netstring_format(frame, sizeof(frame), "hello", 5);
	tap_ok(fl == 8 && memcmp(frame, "5:hello,", 8) == 0, "format writes \"5:hello,\"");
	fl = netstring_format(frame, 3, "", 0);
	tap_ok(fl == 3 && memcmp(frame, "0:,", 3) == 0, "format writes \"0:,\" in exactly 3 bytes");
	memset(big, 'a', sizeof(big));
	{
		static char out[10020];

		fl = netstring_format(out, sizeof(out), big, 10000);
		st = netstring_parse(out, fl, 10000, &payload, &plen, &used);
		tap_ok(fl == 10007 && st == NETSTRING_OK && plen == 10000 && used == 10007,
		    "round trip of a 10000-byte payload at max");
		st = netstring_parse(out, fl, 9999, &payload, &plen, &used);
		tap_is_str(netstring_status_text(st), "frame too long", "same frame, max 9999");
	}
	return tap_done();
}
