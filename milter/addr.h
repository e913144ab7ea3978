/*
 * addr.h: the domain of an SMTP envelope address, taken the way the MTA
 * routes it: after the last '@' that is not inside a quoted string.
 *
 * Two shapes are read:
 *   - a path as the client wrote it (the MAIL / RCPT argument, RFC 5321
 *     §4.1.2): "<" [ A-d-l ":" ] Mailbox ">", where the local part may be
 *     a Quoted-string with quoted-pairs ("<\"x@a.example>\"@b.example>" is
 *     at b.example); the source route "@a,@b:" is dropped;
 *   - a mailbox without angle brackets, as the MTA's macros give it
 *     (Postfix's {rcpt_addr} / {mail_addr}: the resolved address with the
 *     local part quoted when it needs it, or possibly unquoted). A macro
 *     that starts with '<' is read as a path.
 * Whatever the shape, a domain that is found is always the text after the
 * last '@' of the whole string: an '@' inside quotes never counts, and an
 * address whose last '@' is quoted has no usable domain.
 *
 * Anything that does not give a host name is ADDR_INVALID, never a guess:
 * no '@' outside quotes, an empty domain, an address literal
 * ("[192.0.2.1]", "[IPv6:...]"), a domain that is not a host name (8-bit
 * or other bytes, too long), a name at or under the special-use TLD
 * "invalid" (RFC 6761: it never exists), an unterminated quoted string, a
 * backslash outside quotes (parsers disagree on what it escapes), a path
 * without its closing '>' or with text after it, control characters or
 * spaces outside quotes in a path. The caller decides what an invalid
 * domain means (milter/filter.c: domain=invalid, and the RCPT rules fail
 * closed).
 *
 * Pure functions, no allocation: any thread.
 */
#ifndef DM_ADDR_H
#define DM_ADDR_H

#include <stddef.h>

enum addr_status {
	ADDR_DOMAIN,    /* a host name, normalized into buf (engine_domain_key:
	                   lower case, no trailing dot) */
	ADDR_NULL,      /* the null path "<>", or an empty string (Postfix's
	                   {mail_addr} of the null sender) */
	ADDR_INVALID    /* no usable domain (see above) */
};

/*
 * The domain of addr (NULL: ADDR_INVALID) into buf[len] (len 256 holds
 * any host name). buf is written only with ADDR_DOMAIN.
 */
enum addr_status addr_domain(const char *addr, char *buf, size_t len);

/* "domain", "null", "invalid" (logs, tests). */
const char *addr_status_name(enum addr_status st);

#endif
