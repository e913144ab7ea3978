/*
 * netstring.c: see netstring.h.
 *
 * FORMAT
 *	<length> ":" <payload> ","  where <length> is 1 to 10 decimal digits
 *	without leading zeros ("0" alone is the empty payload). Postfix
 *	(src/util/netstring.c) writes exactly this; it would also accept
 *	leading zeros, which a conforming sender never produces, so they are
 *	rejected here.
 * PARSING
 *	netstring_parse() looks at the whole buffered input again on each
 *	call (at most 11 length bytes are rescanned) and keeps no state, so a
 *	caller simply appends what it reads and calls again. It decides as
 *	early as the bytes allow: a bad length byte, an 11th digit or a length
 *	above max is reported before ':' arrives, a wrong terminator as soon as
 *	the byte after the payload is there.
 */
#include "netstring.h"

#include <stdint.h>
#include <string.h>

#include "log.h"

#define NETSTRING_DIGITS_MAX    10

enum netstring_status
netstring_parse(const char *buf, size_t len, size_t max,
    const char **payload, size_t *plen, size_t *used)
{
	size_t i, n = 0, total;
	unsigned d;

	for (i = 0; i < len && buf[i] != ':'; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return NETSTRING_BAD_LENGTH;
		if (i == NETSTRING_DIGITS_MAX || (i == 1 && buf[0] == '0'))
			return NETSTRING_BAD_LENGTH;
		d = (unsigned)(buf[i] - '0');
		if (n > (SIZE_MAX - d) / 10)
			return NETSTRING_TOO_LONG;
		n = n * 10 + d;
		/* More digits only make it larger. */
		if (n > max)
			return NETSTRING_TOO_LONG;
	}
	if (i == len)
		return NETSTRING_INCOMPLETE;
	if (i == 0)
		return NETSTRING_BAD_LENGTH;
	/* i <= 10 and the frame must fit in memory at all. */
	if (n > SIZE_MAX - (i + 2))
		return NETSTRING_TOO_LONG;
	total = i + 1 + n + 1;
	if (len < total)
		return NETSTRING_INCOMPLETE;
	if (buf[total - 1] != ',')
		return NETSTRING_NO_COMMA;
	*payload = buf + i + 1;
	*plen = n;
	*used = total;
	return NETSTRING_OK;
}

size_t
netstring_format(char *out, size_t outlen, const char *data, size_t len)
{
	char digits[24];
	size_t nd = 0, v = len, total;

	do {
		digits[sizeof(digits) - 1 - nd++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (nd > NETSTRING_DIGITS_MAX)
		log_abort("netstring_format: length %zu has more than %d digits",
		    len, NETSTRING_DIGITS_MAX);
	total = nd + 1 + len + 1;
	if (total > outlen)
		log_abort("netstring_format: frame of %zu bytes, room for %zu",
		    total, outlen);
	memcpy(out, digits + sizeof(digits) - nd, nd);
	out[nd] = ':';
	if (len > 0)
		memcpy(out + nd + 1, data, len);
	out[total - 1] = ',';
	return total;
}

const char *
netstring_status_text(enum netstring_status st)
{
	switch (st) {
	case NETSTRING_OK:
		return "ok";
	case NETSTRING_INCOMPLETE:
		return "incomplete frame";
	case NETSTRING_BAD_LENGTH:
		return "bad length";
	case NETSTRING_TOO_LONG:
		return "frame too long";
	case NETSTRING_NO_COMMA:
		return "missing comma";
	}
	return "unknown netstring status";
}
