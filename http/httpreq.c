/*
 * NAME
 *	httpreq 3
 * SUMMARY
 *	HTTP/1.x request head, pure
 * SYNOPSIS
 *	#include "http/httpreq.h"
 * DESCRIPTION
 *	httpreq_head() looks for "\n\n" or "\n\r\n" from *scanned on, and
 *	leaves *scanned two bytes before the end when it finds none: a line
 *	end split across reads is found on the next call.
 *	httpreq_parse() splits the head's first line at its first two spaces
 *	and checks the three parts; httpreq_route() compares the method and
 *	the path.
 * DIAGNOSTICS
 *	None: the server logs what it answers.
 */
#include "httpreq.h"

#include <string.h>

enum httpreq_head
httpreq_head(const char *buf, size_t len, size_t cap, size_t *scanned)
{
	const char *p = buf + *scanned, *end = buf + len;

	for (; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
		if (p + 1 < end && p[1] == '\n')
			return HTTPREQ_COMPLETE;
		if (p + 2 < end && p[1] == '\r' && p[2] == '\n')
			return HTTPREQ_COMPLETE;
		if (p + 2 >= end)
			break;          /* the rest may still come */
	}
	*scanned = len >= 2 ? len - 2 : 0;
	return len >= cap ? HTTPREQ_TOO_LARGE : HTTPREQ_MORE;
}

/* RFC 9110 §5.6.2 tchar. */
static bool
httpreq_tchar(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

int
httpreq_parse(const char *buf, size_t len, struct httpreq *r)
{
	const char *eol, *line = buf, *sp1, *sp2, *target, *version, *q;
	size_t mlen, tlen, vlen, i;

	if ((eol = memchr(buf, '\n', len)) == NULL)
		return 400;
	len = (size_t)(eol - line);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	sp1 = memchr(line, ' ', len);
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
	if (sp1 == NULL || sp2 == NULL)
		return 400;
	mlen = (size_t)(sp1 - line);
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	vlen = len - (size_t)(version - line);
	if (mlen == 0 || mlen > HTTPREQ_METHOD_MAX || tlen == 0 || target[0] != '/')
		return 400;
	for (i = 0; i < mlen; i++)
		if (!httpreq_tchar(line[i]))
			return 400;
	for (i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= 0x20 || (unsigned char)target[i] >= 0x7f)
			return 400;
	if (vlen != 8 || (memcmp(version, "HTTP/1.0", 8) != 0 && memcmp(version, "HTTP/1.1", 8) != 0))
		return 400;
	r->hr_method = line;
	r->hr_method_len = mlen;
	r->hr_target = target;
	r->hr_target_len = tlen;
	q = memchr(target, '?', tlen);
	r->hr_path_len = q != NULL ? (size_t)(q - target) : tlen;
	r->hr_head = mlen == 4 && memcmp(line, "HEAD", 4) == 0;
	return 0;
}

int
httpreq_route(const struct httpreq *r, const char *path)
{
	size_t plen = strlen(path);

	if (!r->hr_head && !(r->hr_method_len == 3 && memcmp(r->hr_method, "GET", 3) == 0))
		return 405;
	if (r->hr_path_len != plen || memcmp(r->hr_target, path, plen) != 0)
		return 404;
	return 200;
}
