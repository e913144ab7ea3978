/*
 * cidr.c: see cidr.h. Addresses are read with inet_pton(3), so the
 * accepted address forms are exactly libc's (dotted quad only for IPv4;
 * no zone index for IPv6).
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

bool
cidr_addr_parse(const char *s, struct cidr *out)
{
	struct cidr c;

	memset(&c, 0, sizeof(c));
	if (inet_pton(AF_INET, s, c.ci_addr) == 1) {
		c.ci_family = AF_INET;
		c.ci_prefix = 32;
	} else if (inet_pton(AF_INET6, s, c.ci_addr) == 1) {
		c.ci_family = AF_INET6;
		c.ci_prefix = 128;
	} else {
		return false;
	}
	*out = c;
	return true;
}

/* Are the first bits bits of a and b the same? */
static bool
cidr_same_prefix(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

enum cidr_status
cidr_parse(const char *s, struct cidr *out)
{
	char buf[64];
	const char *slash = strchr(s, '/'), *p;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix = 0;
	unsigned max, i;
	struct cidr c;

	if (n == 0 || n >= sizeof(buf))
		return CIDR_ERR_ADDR;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!cidr_addr_parse(buf, &c))
		return CIDR_ERR_ADDR;
	max = c.ci_prefix;
	if (slash != NULL) {
		p = slash + 1;
		if (*p == '\0' || strlen(p) > 3)
			return CIDR_ERR_PREFIX;
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				return CIDR_ERR_PREFIX;
			prefix = prefix * 10 + (unsigned long)(*p - '0');
		}
		if (prefix > max)
			return CIDR_ERR_PREFIX;
		c.ci_prefix = (unsigned)prefix;
	}
	/* no bit may be set after the prefix */
	for (i = c.ci_prefix; i < max; i++)
		if (c.ci_addr[i / 8] & (0x80 >> (i % 8)))
			return CIDR_ERR_HOSTBITS;
	*out = c;
	return CIDR_OK;
}

bool
cidr_match(const struct cidr *net, const struct cidr *addr)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (net->ci_family == addr->ci_family)
		return cidr_same_prefix(net->ci_addr, addr->ci_addr, net->ci_prefix);
	if (net->ci_family == AF_INET && addr->ci_family == AF_INET6 &&
	    memcmp(addr->ci_addr, mapped, sizeof(mapped)) == 0)
		return cidr_same_prefix(net->ci_addr, addr->ci_addr + 12, net->ci_prefix);
	return false;
}

const char *
cidr_status_name(enum cidr_status st)
{
	switch (st) {
	case CIDR_OK:
		return "ok";
	case CIDR_ERR_ADDR:
		return "bad address";
	case CIDR_ERR_PREFIX:
		return "bad prefix length";
	case CIDR_ERR_HOSTBITS:
		return "host bits set";
	}
	return "bad address";
}
