/*
 * cidr.h: IP networks in CIDR notation ("127.0.0.0/8", "2001:db8::/32",
 * or an address alone: /32 or /128), and whether an address is in one.
 *
 * The one parser of network strings: the configuration checks
 * milter.trusted_networks with it (config/cfg_schema.c) and the milter
 * matches its clients with it (milter/filter.c). Pure: no allocation, no
 * resolving; any thread. A struct cidr holds a copy of the address.
 */
#ifndef DM_CIDR_H
#define DM_CIDR_H

#include <stdbool.h>

/* An address (cidr_addr_parse) or a network (cidr_parse). */
struct cidr {
	int ci_family;                  /* AF_INET or AF_INET6 */
	unsigned char ci_addr[16];      /* network byte order; 4 used for AF_INET */
	unsigned ci_prefix;             /* 0..32 or 0..128 */
};

enum cidr_status {
	CIDR_OK,
	CIDR_ERR_ADDR,          /* not an IPv4 or IPv6 address */
	CIDR_ERR_PREFIX,        /* the part after '/' is not 0..32 / 0..128 */
	CIDR_ERR_HOSTBITS       /* bits set after the prefix ("127.0.0.1/8") */
};

/* Parse "ADDR[/PREFIX]" into *out (written only with CIDR_OK). */
enum cidr_status cidr_parse(const char *s, struct cidr *out);
/* Parse an address alone (a /32 or /128) into *out: true, or false. */
bool cidr_addr_parse(const char *s, struct cidr *out);
/*
 * Is addr (an address: a full-length prefix) inside net? An IPv4-mapped
 * IPv6 address (::ffff:192.0.2.1) is also compared with IPv4 networks.
 */
bool cidr_match(const struct cidr *net, const struct cidr *addr);
/* "ok", "bad address", "bad prefix length", "host bits set" (messages). */
const char *cidr_status_name(enum cidr_status st);

#endif
