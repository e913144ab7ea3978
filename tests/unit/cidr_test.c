/*
 * cidr_test.c: networks in CIDR notation (common/cidr.c), table-driven:
 * what parses (IPv4, IPv6, single addresses, /0) and what does not (bad
 * addresses, prefixes out of range or not decimal, host bits set), then
 * which addresses each network holds (prefix edges, IPv4-mapped IPv6
 * clients against IPv4 networks, families that never match).
 */
#include <stdio.h>
#include <string.h>

#include "common/cidr.h"
#include "tests/tap.h"

static const struct {
	const char *in;
	enum cidr_status want;
} parse_rows[] = {
	{ "127.0.0.0/8", CIDR_OK },
	{ "::1/128", CIDR_OK },
	{ "192.0.2.7", CIDR_OK },
	{ "2001:db8::", CIDR_OK },
	{ "0.0.0.0/0", CIDR_OK },
	{ "::/0", CIDR_OK },
	{ "2001:db8:1::/48", CIDR_OK },
	{ "192.0.2.128/25", CIDR_OK },
	{ "::ffff:10.0.0.0/104", CIDR_OK },
	{ "", CIDR_ERR_ADDR },
	{ "/8", CIDR_ERR_ADDR },
	{ "localhost", CIDR_ERR_ADDR },
	{ "127.1/8", CIDR_ERR_ADDR },
	{ "[::1]/128", CIDR_ERR_ADDR },
	{ "fe80::1%eth0", CIDR_ERR_ADDR },
	{ " 127.0.0.0/8", CIDR_ERR_ADDR },
	{ "127.0.0.0/", CIDR_ERR_PREFIX },
	{ "127.0.0.0/33", CIDR_ERR_PREFIX },
	{ "::/129", CIDR_ERR_PREFIX },
	{ "127.0.0.0/8 ", CIDR_ERR_PREFIX },
	{ "127.0.0.0/+8", CIDR_ERR_PREFIX },
	{ "127.0.0.0/0008", CIDR_ERR_PREFIX },
	{ "127.0.0.0/8/8", CIDR_ERR_PREFIX },
	{ "127.0.0.1/8", CIDR_ERR_HOSTBITS },
	{ "192.0.2.129/25", CIDR_ERR_HOSTBITS },
	{ "2001:db8::1/64", CIDR_ERR_HOSTBITS },
	{ "0.0.0.1/0", CIDR_ERR_HOSTBITS },
};

static const struct {
	const char *net, *addr;
	bool want;
} match_rows[] = {
	{ "127.0.0.0/8", "127.0.0.1", true },
	{ "127.0.0.0/8", "127.255.255.255", true },
	{ "127.0.0.0/8", "128.0.0.0", false },
	{ "127.0.0.0/8", "126.255.255.255", false },
	{ "192.0.2.128/25", "192.0.2.128", true },
	{ "192.0.2.128/25", "192.0.2.127", false },
	{ "198.51.100.7", "198.51.100.7", true },
	{ "198.51.100.7", "198.51.100.8", false },
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "0.0.0.0/0", "2001:db8::1", false },
	{ "::1/128", "::1", true },
	{ "::1/128", "::2", false },
	{ "2001:db8:1::/48", "2001:db8:1:ffff::5", true },
	{ "2001:db8:1::/48", "2001:db8:2::5", false },
	{ "::/0", "192.0.2.1", false },
	/* IPv4-mapped IPv6 clients match IPv4 networks */
	{ "127.0.0.0/8", "::ffff:127.0.0.1", true },
	{ "127.0.0.0/8", "::ffff:128.0.0.1", false },
	{ "127.0.0.0/8", "::127.0.0.1", false },
	{ "127.0.0.0/8", "64:ff9b::127.0.0.1", false },
	/* ... but an IPv4 client is not an IPv6 address */
	{ "::ffff:127.0.0.0/104", "127.0.0.1", false },
	{ "::ffff:127.0.0.0/104", "::ffff:127.0.0.1", true },
};

int
main(void)
{
	char desc[200];
	size_t i;

	tap_watchdog(10);
	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		struct cidr c;

		snprintf(desc, sizeof(desc), "parse \"%s\"", parse_rows[i].in);
		tap_is_str(cidr_status_name(cidr_parse(parse_rows[i].in, &c)),
		    cidr_status_name(parse_rows[i].want), desc);
	}
	for (i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++) {
		struct cidr net, addr;
		bool ok = cidr_parse(match_rows[i].net, &net) == CIDR_OK &&
		    cidr_addr_parse(match_rows[i].addr, &addr);

		snprintf(desc, sizeof(desc), "%s in %s: %s", match_rows[i].addr,
		    match_rows[i].net, match_rows[i].want ? "yes" : "no");
		if (!ok) {
			tap_ok(0, "%s (does not parse)", desc);
			continue;
		}
		tap_is_long(cidr_match(&net, &addr), match_rows[i].want, desc);
	}
	{
		struct cidr c;

		tap_ok(!cidr_addr_parse("127.0.0.0/8", &c), "an address alone: no prefix");
		tap_ok(cidr_addr_parse("2001:db8::1", &c) && c.ci_prefix == 128,
		    "an IPv6 address alone is a /128");
	}
	return tap_done();
}
