/*
 * smtpreply_test.c: one SMTP reply from a remote server (tls/smtpreply.c),
 * table-driven: banners, EHLO replies with and without the STARTTLS
 * keyword (a keyword that merely begins with it, the server's name on the
 * first line), CR LF and bare LF, incomplete replies, lines that are not
 * SMTP, codes that change inside a reply (RFC 5321 §4.2.1), and the
 * SMTPREPLY_MAX bound.
 */
#include <stdio.h>
#include <string.h>

#include "tests/tap.h"
#include "tls/smtpreply.h"

struct smtpreply_row {
	const char *in;
	enum smtpreply_status want;
	int code;               /* with SMTPREPLY_DONE */
	size_t len;
	bool starttls;
};

#define DONE(c, l, s)   SMTPREPLY_DONE, c, l, s
#define MORE            SMTPREPLY_INCOMPLETE, 0, 0, false
#define BAD             SMTPREPLY_BAD, 0, 0, false

static const struct smtpreply_row rows[] = {
	{ "220 mx.example.com ESMTP\r\n", DONE(220, 26, false) },
	{ "220 mx.example.com ESMTP\r\nEHLO", DONE(220, 26, false) },
	{ "220\r\n", DONE(220, 5, false) },
	{ "220\n", DONE(220, 4, false) },
	{ "220-hello\r\n220-more\r\n220 last\r\n", DONE(220, 31, false) },
	{ "250-mx.example.com\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
	  DONE(250, 64, true) },
	{ "250-mx\n250-starttls\n250 SIZE\n", DONE(250, 29, true) },
	{ "250-mx\n250 STARTTLS param\n", DONE(250, 26, true) },
	{ "250-mx\n250-STARTTLSX\n250 SIZE\n", DONE(250, 30, false) },
	{ "250-mx\n250-X-STARTTLS\n250 SIZE\n", DONE(250, 31, false) },
	{ "250 STARTTLS\r\n", DONE(250, 14, false) },          /* the server's name */
	{ "250-STARTTLS\r\n250 SIZE\r\n", DONE(250, 24, false) },
	{ "454 4.7.0 TLS not available\r\n", DONE(454, 29, false) },
	{ "", MORE },
	{ "220 no line end yet", MORE },
	{ "250-mx\r\n250-PIPELINING\r\n", MORE },
	{ "hello\r\n", BAD },
	{ "20\r\n", BAD },
	{ "120 too low\r\n", BAD },
	{ "620 too high\r\n", BAD },
	{ "2x0 not digits\r\n", BAD },
	{ "220_what\r\n", BAD },
	{ "250-mx\r\n220 other code\r\n", BAD },        /* §4.2.1 */
	{ "250-mx\r\n251-other code\r\n250 x\r\n", BAD },
	{ "250-mx\r\nnot smtp\r\n", BAD },
};

/* s for a TAP line: CR and LF as \r and \n, at most 60 bytes of s. */
static const char *
smtpreply_test_show(const char *s, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && i < 60 && o + 3 < len; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			buf[o++] = '\\';
			buf[o++] = s[i] == '\r' ? 'r' : 'n';
		} else {
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
	return buf;
}

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct smtpreply_row *t = &rows[i];
		struct smtpreply r;
		enum smtpreply_status st;
		char desc[200], show[130];

		memset(&r, 0, sizeof(r));
		st = smtpreply_parse(t->in, strlen(t->in), &r);
		snprintf(desc, sizeof(desc), "%s: %s", smtpreply_test_show(t->in, show, sizeof(show)),
		    smtpreply_status_name(t->want));
		tap_is_str(smtpreply_status_name(st), smtpreply_status_name(t->want), desc);
		if (t->want != SMTPREPLY_DONE)
			continue;
		snprintf(desc, sizeof(desc), "%s: code, length, starttls", show);
		tap_ok(r.sr_code == t->code && r.sr_len == t->len && r.sr_starttls == t->starttls,
		    "%s (got %d %zu %d, want %d %zu %d)", desc, r.sr_code, r.sr_len,
		    (int)r.sr_starttls, t->code, t->len, (int)t->starttls);
	}
}

/* No complete reply in SMTPREPLY_MAX bytes: bad, never "wait for more". */
static void
test_bound(void)
{
	static char buf[SMTPREPLY_MAX];
	struct smtpreply r;
	size_t off;

	for (off = 0; off + 8 <= sizeof(buf); off += 8)
		memcpy(buf + off, "250-xxx\n", 8);
	tap_is_str(smtpreply_status_name(smtpreply_parse(buf, sizeof(buf) - 1, &r)), "incomplete",
	    "continuation lines one byte short of SMTPREPLY_MAX: incomplete");
	tap_is_str(smtpreply_status_name(smtpreply_parse(buf, sizeof(buf), &r)), "bad",
	    "continuation lines filling SMTPREPLY_MAX: bad");
	memcpy(buf + sizeof(buf) - 8, "250 end\n", 8);
	tap_is_str(smtpreply_status_name(smtpreply_parse(buf, sizeof(buf), &r)), "done",
	    "a reply of exactly SMTPREPLY_MAX bytes: done");
	tap_ok(r.sr_len == SMTPREPLY_MAX, "... its length is SMTPREPLY_MAX (got %zu)", r.sr_len);
}

int
main(void)
{
	tap_watchdog(10);
	test_rows();
	test_bound();
	return tap_done();
}
