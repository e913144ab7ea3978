/*
 * addr_test.c: the domain of an envelope address (milter/addr.c),
 * table-driven: paths as clients write them (quoted local parts holding
 * '@', '>', '<', spaces and quoted-pairs; source routes; the null path),
 * mailboxes as the MTA's macros give them (quoted and unquoted local
 * parts), and everything that has no usable domain (no '@' outside
 * quotes, empty domain, address literals, bad host names, the special-use
 * TLD "invalid", unterminated quotes, backslashes outside quotes, a path
 * without its '>' or with text after it, control characters).
 */
#include <stdio.h>
#include <string.h>

#include "milter/addr.h"
#include "tests/tap.h"

struct addr_row {
	const char *in;
	enum addr_status want;
	const char *domain;     /* with ADDR_DOMAIN */
};

#define DOM(d)  ADDR_DOMAIN, d
#define NUL     ADDR_NULL, NULL
#define INV     ADDR_INVALID, NULL

static const struct addr_row rows[] = {
	/* plain paths and mailboxes, normalization */
	{ "<user@example.org>", DOM("example.org") },
	{ "user@example.org", DOM("example.org") },
	{ "<User@Example.ORG.>", DOM("example.org") },
	{ "<a.b-c+tag@sub.example.org>", DOM("sub.example.org") },
	{ "<\"\"@example.org>", DOM("example.org") },
	/* the null path */
	{ "<>", NUL },
	{ "", NUL },
	/* quoted local parts: the last '@' outside quotes, '>' inside quotes */
	{ "<\"x@a.example>\"@b.example>", DOM("b.example") },
	{ "<\"a>b\"@b.example>", DOM("b.example") },
	{ "<\"a<b\"@b.example>", DOM("b.example") },
	{ "<\"x y@a.example\"@b.example>", DOM("b.example") },
	{ "<\"x\\\"@a.example>\"@b.example>", DOM("b.example") },       /* \" inside */
	{ "<\"x\\\\\"@b.example>", DOM("b.example") },                  /* \\ inside */
	{ "<\"x\\@a.example\"@b.example>", DOM("b.example") },          /* \@ inside */
	{ "<\"@a.example\"@b.example>", DOM("b.example") },
	{ "\"x@a.example>\"@b.example", DOM("b.example") },             /* macro, quoted */
	{ "\"x y\"@b.example", DOM("b.example") },
	{ "x@a.example>@b.example", DOM("b.example") },                 /* macro, unquoted */
	{ "a>b@b.example", DOM("b.example") },
	{ "x y@b.example", DOM("b.example") },
	/* source routes are dropped */
	{ "<@a.example,@b.example:user@c.example>", DOM("c.example") },
	{ "<@a.example:user@c.example>", DOM("c.example") },
	{ "@a.example:user@c.example", DOM("c.example") },
	{ "<@a.example:user>", INV },
	{ "<@a.example>", INV },
	{ "<@a.example,@b.example>", INV },
	/* the last '@' is quoted: no domain */
	{ "<\"user@a.example\">", INV },
	{ "\"user@a.example\"", INV },
	{ "<\"x@a.example>\">", INV },
	/* no '@', empty domain */
	{ "<user>", INV },
	{ "user", INV },
	{ "<user@>", INV },
	{ "user@", INV },
	{ "<\"a\"@>", INV },
	/* address literals and names that are not host names */
	{ "<user@[192.0.2.1]>", INV },
	{ "<user@[IPv6:2001:db8::1]>", INV },
	{ "user@[192.0.2.1]", INV },
	{ "<user@a..example>", INV },
	{ "<user@.example>", INV },
	{ "<user@exa mple.org>", INV },
	{ "<user@example.org;x>", INV },
	/* SMTPUTF8: a U-label domain is routed under its A-label (IDNA2008);
	 * bytes that are not UTF-8 are no domain */
	{ "<user@b\xc3\xa9.example>", DOM("xn--b-bga.example") },
	{ "<us\xc3\xa9r@B\xc3\x89.example>", DOM("xn--b-bga.example") },
	{ "<user@b\xe9.example>", INV },
	{ "<user@b.example\">", INV },
	{ "<user@b.example>x>", INV },
	{ "<user@b.example >", INV },
	{ "user@b.example>", INV },
	/* the special-use TLD "invalid" never exists */
	{ "<user@invalid>", INV },
	{ "<user@foo.INVALID.>", INV },
	{ "<user@invalid.example>", DOM("invalid.example") },
	{ "<user@notinvalid>", DOM("notinvalid") },
	/* unterminated quotes, backslashes outside quotes, missing or extra '>' */
	{ "<\"user@b.example>", INV },
	{ "\"user@b.example", INV },
	{ "<\"user\\\"@b.example>", INV },
	{ "<\"user\\", INV },
	{ "<user\\@a.example@b.example>", INV },
	{ "user\\@b.example", INV },
	{ "<user@b.example", INV },
	{ "<user@b.example>>", INV },
	{ "<a>b@b.example>", INV },
	{ "<a<b@b.example>", INV },
	{ "<user name@b.example>", INV },
	{ "<user@b.example>:", INV },
	/* control characters, inside quotes too */
	{ "<us\ter@b.example>", INV },
	{ "<\"us\rer\"@b.example>", INV },
	{ "<\"us\\\ner\"@b.example>", INV },
	{ "us\x7f" "er@b.example", INV },
};

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct addr_row *t = &rows[i];
		char buf[256], desc[300];
		enum addr_status got;

		strcpy(buf, "untouched");
		got = addr_domain(t->in, buf, sizeof(buf));
		snprintf(desc, sizeof(desc), "%s: %s", t->in, addr_status_name(t->want));
		tap_is_str(addr_status_name(got), addr_status_name(t->want), desc);
		snprintf(desc, sizeof(desc), "%s: domain", t->in);
		tap_is_str(buf, t->want == ADDR_DOMAIN ? t->domain : "untouched", desc);
	}
}

/* NULL, a domain of 253 bytes, one of 254, a small buffer. */
static void
test_edges(void)
{
	char in[600], want[300], buf[256], small[8];
	size_t i;

	tap_is_str(addr_status_name(addr_domain(NULL, buf, sizeof(buf))), "invalid",
	    "NULL: invalid");
	for (i = 0; i < 253; i++)
		want[i] = (i % 64 == 63) ? '.' : 'a';
	want[253] = '\0';
	snprintf(in, sizeof(in), "<\"x@y>\"@%s>", want);
	tap_is_str(addr_status_name(addr_domain(in, buf, sizeof(buf))), "domain",
	    "a 253-byte domain: domain");
	tap_is_str(buf, want, "a 253-byte domain: kept whole");
	snprintf(in, sizeof(in), "<x@a%s>", want);
	tap_is_str(addr_status_name(addr_domain(in, buf, sizeof(buf))), "invalid",
	    "a 254-byte domain: invalid");
	strcpy(small, "keep");
	tap_is_str(addr_status_name(addr_domain("<x@example.org>", small, sizeof(small))),
	    "invalid", "a domain longer than the buffer: invalid");
	tap_is_str(small, "keep", "... and the buffer is untouched");
}

int
main(void)
{
	tap_watchdog(10);
	test_rows();
	test_edges();
	return tap_done();
}
