/*
 * netstring.h: netstring framing ("<decimal length>:<bytes>,") as Postfix's
 * socketmap protocol uses it, incremental and bounded. Pure: no I/O, no
 * allocation; the caller owns every buffer.
 */
#ifndef DM_NETSTRING_H
#define DM_NETSTRING_H

#include <stddef.h>

enum netstring_status {
	NETSTRING_OK,           /* a whole frame: *payload, *plen, *used set */
	NETSTRING_INCOMPLETE,   /* need more bytes (nothing invalid seen yet) */
	NETSTRING_BAD_LENGTH,   /* not a decimal length, leading zeros, or no ':' in time */
	NETSTRING_TOO_LONG,     /* the announced length exceeds max */
	NETSTRING_NO_COMMA      /* the payload is not followed by ',' */
};

/*
 * Look for one frame at buf[0..len). A length of more than max bytes is
 * NETSTRING_TOO_LONG as soon as its digits show it (before the payload
 * arrives). On NETSTRING_OK, *payload points into buf, *plen is its
 * length and *used the frame's total size.
 */
enum netstring_status netstring_parse(const char *buf, size_t len, size_t max,
    const char **payload, size_t *plen, size_t *used);

/* Write the frame for data into out (room for len + 12 bytes); returns
 * the frame size. */
size_t netstring_format(char *out, size_t outlen, const char *data, size_t len);

const char *netstring_status_text(enum netstring_status st);

#endif
