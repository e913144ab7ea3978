/*
 * NAME
 *	smtpreply 3
 * SUMMARY
 *	one SMTP reply from a remote server, pure
 * SYNOPSIS
 *	#include "tls/smtpreply.h"
 * DESCRIPTION
 *	smtpreply_parse() walks buf line by line (each LF ends a line) and
 *	stops at the first line that ends the reply. Each line is checked as
 *	it comes, so a reply is refused at its first bad line, even when its
 *	end has not arrived yet; each line after the first is compared with
 *	the first one's code. The STARTTLS keyword is looked for on every
 *	line after the first. Only the bytes of complete lines are read.
 * DIAGNOSTICS
 *	None: the caller says what it was waiting for.
 */
#include "smtpreply.h"

#include <string.h>
#include <strings.h>

const char *
smtpreply_status_name(enum smtpreply_status st)
{
	switch (st) {
	case SMTPREPLY_INCOMPLETE:
		return "incomplete";
	case SMTPREPLY_DONE:
		return "done";
	case SMTPREPLY_BAD:
		return "bad";
	}
	return "bad";
}

enum smtpreply_status
smtpreply_parse(const char *buf, size_t len, struct smtpreply *r)
{
	size_t off = 0;
	bool starttls = false;
	const char *nl;

	while ((nl = memchr(buf + off, '\n', len - off)) != NULL) {
		const char *line = buf + off;
		size_t ll = (size_t)(nl - line);

		if (ll < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9')
			return SMTPREPLY_BAD;
		/* §4.2.1: the same code on each line of a reply */
		if (off > 0 && memcmp(line, buf, 3) != 0)
			return SMTPREPLY_BAD;
		/* §4.1.1.1: the first line is the server's name, not a keyword */
		if (off > 0 && ll >= 12 && strncasecmp(line + 4, "STARTTLS", 8) == 0 &&
		    (ll == 12 || line[12] == '\r' || line[12] == ' '))
			starttls = true;
		off += ll + 1;
		if (ll == 3 || line[3] == ' ' || line[3] == '\r') {
			r->sr_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
			r->sr_len = off;
			r->sr_starttls = starttls;
			return SMTPREPLY_DONE;
		}
		if (line[3] != '-')
			return SMTPREPLY_BAD;
	}
	return len >= SMTPREPLY_MAX ? SMTPREPLY_BAD : SMTPREPLY_INCOMPLETE;
}
