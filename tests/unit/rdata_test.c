/*
 * rdata_test.c: decoding untrusted DNS data: names, MX, TLSA, addresses,
 * TXT, and whole answer packets (built with ldns) into presentation lines.
 */
#include <ldns/ldns.h>
#include <stdlib.h>

#include "dns/rdata.h"
#include "tests/tap.h"

#define W(s) ((const uint8_t *)(s)), (sizeof(s) - 1)
#define WS(s) (s), (sizeof(s) - 1)

static void
test_names(void)
{
	static const struct {
		const char *wire; size_t len; int ok; const char *want; size_t used;
	} t[] = {
		{ WS("\x02mx\x07" "Example\x03" "com\x00"), 1, "mx.example.com", 16 },
		{ WS("\x00"), 1, ".", 1 },
		{ WS("\x03" "a.b\x01" "\\\x00"), 1, "a\\.b.\\\\", 7 },
		{ WS("\x02" "a\x20\x00"), 1, "a\\032", 4 },
		{ WS("\x02mx\xc0\x0c"), 0, NULL, 0 },             /* compression pointer */
		{ WS("\x05" "abc"), 0, NULL, 0 },                   /* label past the end */
		{ WS("\x02mx"), 0, NULL, 0 },                       /* no root label */
		{ "", 0, 0, NULL, 0 },                             /* empty */
	};
	char out[RDATA_NAME_MAX];
	size_t i, used;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum rdata_status st = rdata_name((const uint8_t *)t[i].wire, t[i].len, &used, out, sizeof(out));

		if (!t[i].ok) {
			tap_is_long(st, RDATA_MALFORMED, "malformed name rejected");
			continue;
		}
		if (tap_is_long(st, RDATA_OK, "name decodes")) {
			tap_is_str(out, t[i].want, "name text");
			tap_is_long((long)used, (long)t[i].used, "name wire length");
		}
	}
	{
		uint8_t big[300];
		size_t k;

		for (k = 0; k < 4; k++) {       /* 4 x 64-byte labels: > 255 */
			big[k * 64] = 63;
			memset(big + k * 64 + 1, 'a', 63);
		}
		big[256] = 0;
		tap_is_long(rdata_name(big, 257, NULL, out, sizeof(out)), RDATA_MALFORMED,
		    "name longer than 255 octets rejected");
	}
	tap_is_long(rdata_name(W("\x02mx\x00"), NULL, out, 2), RDATA_MALFORMED,
	    "output buffer too small is an error, not a truncation");
	tap_ok(rdata_name_is_hostname("mx1.example.com"), "host name accepted");
	tap_ok(rdata_name_is_hostname("_25._tcp.mx"), "underscore labels accepted");
	tap_ok(!rdata_name_is_hostname("a..b"), "empty label refused");
	tap_ok(!rdata_name_is_hostname("a\\032b"), "escaped bytes refused");
	tap_ok(!rdata_name_is_hostname("."), "root refused");
	tap_ok(!rdata_name_is_hostname("[127.0.0.1]"), "address literal refused");
}

static void
test_mx_tlsa_addr_txt(void)
{
	char host[RDATA_NAME_MAX], txt[16], a[64];
	uint16_t pref = 0;
	struct rdata_tlsa t;
	int trunc;

	tap_is_long(rdata_mx(W("\x00\x0a\x02mx\x04test\x00"), &pref, host, sizeof(host)), RDATA_OK, "MX decodes");
	tap_is_long(pref, 10, "MX preference");
	tap_is_str(host, "mx.test", "MX host");
	tap_is_long(rdata_mx(W("\x00\x00\x00"), &pref, host, sizeof(host)), RDATA_OK, "null MX decodes");
	tap_is_str(host, ".", "null MX host is the root");
	tap_is_long(rdata_mx(W("\x00\x0a\x02mx\x00zz"), &pref, host, sizeof(host)), RDATA_MALFORMED,
	    "MX with trailing bytes rejected");
	tap_is_long(rdata_mx(W("\x00"), &pref, host, sizeof(host)), RDATA_MALFORMED, "short MX rejected");

	tap_is_long(rdata_tlsa(W("\x03\x01\x01\xab\xcd"), &t), RDATA_OK, "TLSA decodes");
	tap_ok(t.rt_usage == 3 && t.rt_selector == 1 && t.rt_mtype == 1 && t.rt_len == 2 &&
	    t.rt_data[0] == 0xab, "TLSA fields");
	tap_is_long(rdata_tlsa(W("\x03\x01"), &t), RDATA_MALFORMED, "short TLSA rejected");

	tap_is_long(rdata_addr(1, W("\x7f\x00\x00\x01"), a, sizeof(a)), RDATA_OK, "A decodes");
	tap_is_str(a, "127.0.0.1", "A text");
	tap_is_long(rdata_addr(28, W("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"), a, sizeof(a)), RDATA_OK, "AAAA decodes");
	tap_is_str(a, "2001:db8::1", "AAAA text");
	tap_is_long(rdata_addr(1, W("\x7f\x00\x00"), a, sizeof(a)), RDATA_MALFORMED, "3-byte A rejected");

	tap_is_long(rdata_txt(W("\x07v=STSv1\x07; id=42"), txt, sizeof(txt), &trunc), RDATA_OK, "TXT decodes");
	tap_is_str(txt, "v=STSv1; id=42", "multi-string TXT concatenated without spaces");
	tap_is_long(trunc, 0, "not truncated");
	tap_is_long(rdata_txt(W("\x10" "0123456789abcdef"), txt, 8, &trunc), RDATA_OK, "long TXT decodes");
	tap_ok(trunc == 1 && strlen(txt) == 7, "long TXT truncated and flagged");
	tap_is_long(rdata_txt(W("\x03" "a\0b"), txt, sizeof(txt), &trunc), RDATA_MALFORMED, "TXT with NUL rejected");
	tap_is_long(rdata_txt(W("\x05" "ab"), txt, sizeof(txt), &trunc), RDATA_MALFORMED, "TXT string past the end rejected");
}

static void
add_rr(ldns_pkt *p, ldns_pkt_section sec, const char *text)
{
	ldns_rr *rr = NULL;

	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_push_rr(p, sec, rr);
}

static void
test_answer(void)
{
	ldns_pkt *p = ldns_pkt_new();
	struct rdata_answer a;
	uint8_t *wire = NULL;
	size_t len = 0;

	add_rr(p, LDNS_SECTION_ANSWER, "_25._tcp.mx.example.com. 3600 IN CNAME 3.1.1._dane.example.net.");
	add_rr(p, LDNS_SECTION_ANSWER, "3.1.1._dane.example.net. 600 IN TLSA 3 1 1 25de2127e359b8522ddd6e237381458804549cde5440e4f5b547c5629e48d46b");
	add_rr(p, LDNS_SECTION_ANSWER, "3.1.1._dane.example.net. 600 IN RRSIG TLSA 13 4 600 20300101000000 20200101000000 1234 example.net. AAAA");
	add_rr(p, LDNS_SECTION_AUTHORITY, "example.net. 900 IN SOA ns. host. 1 2 3 4 300");
	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK)
		abort();
	tap_is_long(rdata_answer_parse(wire, len, &a), RDATA_OK, "answer packet parses");
	tap_is_long((long)a.ra_nlines, 2, "RRSIGs left out of the answer lines");
	if (a.ra_nlines == 2) {
		tap_is_str(a.ra_lines[0], "_25._tcp.mx.example.com. 3600 IN CNAME 3.1.1._dane.example.net.",
		    "CNAME line in PowerMTA form");
		tap_is_str(a.ra_lines[1], "3.1.1._dane.example.net. 600 IN TLSA 3 1 1 "
		    "25DE2127E359B8522DDD6E237381458804549CDE5440E4F5B547C5629E48D46B",
		    "TLSA line with upper-case digest");
	}
	tap_ok(a.ra_have_soa && a.ra_neg_ttl == 300, "negative TTL = min(SOA TTL, minimum)");
	rdata_answer_free(&a);
	tap_is_long(rdata_answer_parse(wire, len / 2, &a), RDATA_MALFORMED, "truncated packet rejected");
	tap_is_long(rdata_answer_parse(wire, 0, &a), RDATA_MALFORMED, "empty packet rejected");
	free(wire);
	ldns_pkt_free(p);
}

int
main(void)
{
	tap_watchdog(10);
	test_names();
	test_mx_tlsa_addr_txt();
	test_answer();
	return tap_done();
}
