/*
 * NAME
 *	mtasts_policy 3
 * SUMMARY
 *	MTA-STS (RFC 8461) policy object and parsers, pure
 * SYNOPSIS
 *	#include "policy/mtasts_policy.h"
 * DESCRIPTION
 *	The strict parsers for what a policy domain publishes, and the
 *	reference-counted struct mtasts_policy they build. No I/O, no event
 *	loop, no global state: libc and common/ only, so the fuzz target
 *	(fuzz/mtasts_fuzz.c) links this file alone.
 *
 *	mtasts_policy_txt_candidate() and mtasts_policy_txt_parse() read one
 *	_mta-sts TXT record (RFC 8461 §3.1): the version field first, then
 *	"; " separated fields; the id is 1 to MTASTS_ID_MAX ALPHA/DIGIT,
 *	extensions (sts-ext-name "=" sts-ext-value) are ignored when valid,
 *	a repeated id is an extension.
 *
 *	Policy body grammar (RFC 8461 §3.2) as enforced by
 *	mtasts_policy_parse(): lines end in LF or CRLF; each is "key:" *WSP
 *	value *WSP, key 1-32 characters (ALPHA/DIGIT first, then
 *	ALPHA/DIGIT/"_"/"-"/"."), value printable (SP inside, UTF-8 allowed,
 *	no other control characters, no NUL). Empty (or all-blank) lines are
 *	skipped. At most MTASTS_MX_MAX mx.
 *
 *	mtasts_policy_mx_match() is §4.1: "*." matches exactly one leftmost
 *	label, case-insensitively.
 *
 *	The reference count is atomic: policies travel to milter threads
 *	inside verdicts.
 * DIAGNOSTICS
 *	A rejected body is described in *errp: the line number and the
 *	problem, untrusted text quoted by mtasts_policy_quote(). A reference
 *	count going below zero aborts. Out of memory aborts.
 */
#include "mtasts_policy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"

#define MTASTS_KEY_MAX          32      /* sts-ext-name / sts-policy-ext-name */
#define MTASTS_QUOTE_MAX        40      /* untrusted text quoted in messages */

/* ---------------------------------------------------------------- names */

const char *
mtasts_policy_mode_name(enum mtasts_mode m)
{
	static const char *const n[] = { "enforce", "testing", "none" };

	return (unsigned)m < sizeof(n) / sizeof(n[0]) ? n[m] : "?";
}

/* ---------------------------------------------------------------- helpers */

static bool
mtasts_policy_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static bool
mtasts_policy_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Untrusted text for a message: quoted, at most MTASTS_QUOTE_MAX bytes,
 * anything not printable ASCII as \xHH. */
void
mtasts_policy_quote(struct sbuf *sb, const char *s, size_t n)
{
	size_t i;

	sbuf_appendc(sb, '"');
	for (i = 0; i < n && i < MTASTS_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			sbuf_printf(sb, "\\x%02x", c);
		else
			sbuf_appendc(sb, (char)c);
	}
	sbuf_appendc(sb, '"');
	if (n > MTASTS_QUOTE_MAX)
		sbuf_append(sb, "...");
}

/* ---------------------------------------------------------------- TXT */

/* sts-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."),
 * also the policy's sts-policy-ext-name. Length of the name at s, or 0. */
static size_t
mtasts_policy_ext_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !mtasts_policy_alnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < n; i++) {
		int c = (unsigned char)s[i];

		if (!mtasts_policy_alnum(c) && c != '_' && c != '-' && c != '.')
			break;
	}
	return i <= MTASTS_KEY_MAX ? i : 0;
}

/* sts-ext-value characters: %x21-3A / %x3C / %x3E-7E. */
static bool
mtasts_policy_txt_vchar(int c)
{
	return c >= 0x21 && c <= 0x7e && c != ';' && c != '=';
}

int
mtasts_policy_txt_parse(const char *txt, char id[MTASTS_ID_MAX + 1])
{
	char got[MTASTS_ID_MAX + 1];
	const char *p;
	bool have_id = false;

	id[0] = '\0';
	if (strncmp(txt, "v=STSv1", 7) != 0)
		return 0;
	p = txt + 7;
	for (;;) {
		size_t nlen, vlen;

		/* After a field: the end, or sts-field-delim. */
		if (*p == '\0')
			break;
		while (mtasts_policy_wsp(*p))
			p++;
		if (*p != ';')
			return 0;
		p++;
		while (mtasts_policy_wsp(*p))
			p++;
		if (*p == '\0')
			break;          /* trailing delimiter */
		nlen = mtasts_policy_ext_name(p, strlen(p));
		if (nlen == 0 || p[nlen] != '=')
			return 0;
		if (nlen == 2 && memcmp(p, "id", 2) == 0 && !have_id) {
			p += 3;
			for (vlen = 0; mtasts_policy_alnum((unsigned char)p[vlen]); vlen++)
				;
			if (vlen == 0 || vlen > MTASTS_ID_MAX)
				return 0;
			memcpy(got, p, vlen);
			got[vlen] = '\0';
			have_id = true;
		} else {
			/* An extension, or a repeated id: ignored when valid. */
			p += nlen + 1;
			for (vlen = 0; mtasts_policy_txt_vchar((unsigned char)p[vlen]); vlen++)
				;
			if (vlen == 0)
				return 0;
		}
		p += vlen;
		if (*p != '\0' && *p != ';' && !mtasts_policy_wsp(*p))
			return 0;
	}
	if (!have_id)
		return 0;
	memcpy(id, got, sizeof(got));
	return 1;
}

/* Does the TXT text begin with the version field ("v=STSv1" followed by
 * the end or a delimiter)? Only those records count (RFC 8461 §3.1). */
bool
mtasts_policy_txt_candidate(const char *txt)
{
	const char *p;

	if (strncmp(txt, "v=STSv1", 7) != 0)
		return false;
	for (p = txt + 7; mtasts_policy_wsp(*p); p++)
		;
	return *p == '\0' || *p == ';';
}

/* ---------------------------------------------------------------- policy */

struct mtasts_policy *
mtasts_policy_ref(struct mtasts_policy *p)
{
	if (__atomic_fetch_add(&p->mp_refs, 1, __ATOMIC_RELAXED) <= 0)
		log_abort("mtasts_policy_ref: policy already freed");
	return p;
}

void
mtasts_policy_unref(struct mtasts_policy *p)
{
	size_t i;
	int left;

	if (p == NULL)
		return;
	left = __atomic_sub_fetch(&p->mp_refs, 1, __ATOMIC_ACQ_REL);
	if (left < 0)
		log_abort("mtasts_policy_unref: policy already freed");
	if (left > 0)
		return;
	for (i = 0; i < p->mp_nmx; i++)
		free(p->mp_mx[i]);
	free(p->mp_mx);
	free(p->mp_text);
	free(p);
}

/* ["*."] Domain (RFC 5321 §4.1.2: LDH labels, letter or digit at both
 * ends), at most 253 characters after the wildcard. */
static bool
mtasts_policy_mx_valid(const char *v, size_t n)
{
	size_t i = 0, label = 0;

	if (n >= 2 && v[0] == '*' && v[1] == '.')
		i = 2;
	if (n - i == 0 || n - i > 253)
		return false;
	for (; i < n; i++) {
		int c = (unsigned char)v[i];

		if (c == '.') {
			if (label == 0 || v[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!mtasts_policy_alnum(c) && c != '-')
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && v[n - 1] != '-';
}

/* sts-policy-ext-value after trimming: vchar, SP inside, UTF-8 octets. */
static bool
mtasts_policy_value_ok(const char *v, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static bool
mtasts_policy_value_is(const char *v, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(v, want, n) == 0;
}

struct mtasts_policy_parser {
	struct mtasts_policy *pp_p;
	bool pp_version, pp_mode, pp_max_age;
	unsigned pp_line;
	struct sbuf pp_err;
};

static bool
mtasts_policy_parse_err(struct mtasts_policy_parser *pp, const char *what, const char *v, size_t n)
{
	sbuf_printf(&pp->pp_err, "line %u: %s", pp->pp_line, what);
	if (v != NULL) {
		sbuf_appendc(&pp->pp_err, ' ');
		mtasts_policy_quote(&pp->pp_err, v, n);
	}
	return false;
}

/* One line without its terminator. */
static bool
mtasts_policy_parse_line(struct mtasts_policy_parser *pp, const char *s, size_t n)
{
	struct mtasts_policy *p = pp->pp_p;
	const char *v;
	size_t i, klen, vlen;

	for (i = 0; i < n && mtasts_policy_wsp(s[i]); i++)
		;
	if (i == n)
		return true;            /* blank line */
	klen = mtasts_policy_ext_name(s, n);
	if (klen == 0 || klen == n || s[klen] != ':')
		return mtasts_policy_parse_err(pp, "not \"key: value\":", s, n);
	for (i = klen + 1; i < n && mtasts_policy_wsp(s[i]); i++)
		;
	v = s + i;
	vlen = n - i;
	while (vlen > 0 && mtasts_policy_wsp(v[vlen - 1]))
		vlen--;
	if (!mtasts_policy_value_ok(v, vlen))
		return mtasts_policy_parse_err(pp, vlen == 0 ? "empty value:" :
		    "control character in the value:", s, n);

	if (klen == 2 && memcmp(s, "mx", 2) == 0) {
		char *mx;

		if (p->mp_nmx == MTASTS_MX_MAX) {
			sbuf_printf(&pp->pp_err, "line %u: more than %d mx lines", pp->pp_line,
			    MTASTS_MX_MAX);
			return false;
		}
		if (!mtasts_policy_mx_valid(v, vlen))
			return mtasts_policy_parse_err(pp, "bad mx pattern", v, vlen);
		mx = xstrndup(v, vlen);
		for (i = 0; i < vlen; i++)
			mx[i] = (char)tolower((unsigned char)mx[i]);
		if (p->mp_nmx % 8 == 0)
			p->mp_mx = xreallocarray(p->mp_mx, p->mp_nmx + 8, sizeof(*p->mp_mx));
		p->mp_mx[p->mp_nmx++] = mx;
	} else if (klen == 7 && memcmp(s, "version", 7) == 0) {
		if (pp->pp_version)
			return true;    /* first wins */
		if (!mtasts_policy_value_is(v, vlen, "STSv1"))
			return mtasts_policy_parse_err(pp, "unsupported version", v, vlen);
		pp->pp_version = true;
	} else if (klen == 4 && memcmp(s, "mode", 4) == 0) {
		if (pp->pp_mode)
			return true;
		if (mtasts_policy_value_is(v, vlen, "enforce"))
			p->mp_mode = MTASTS_MODE_ENFORCE;
		else if (mtasts_policy_value_is(v, vlen, "testing"))
			p->mp_mode = MTASTS_MODE_TESTING;
		else if (mtasts_policy_value_is(v, vlen, "none"))
			p->mp_mode = MTASTS_MODE_NONE;
		else
			return mtasts_policy_parse_err(pp, "bad mode", v, vlen);
		pp->pp_mode = true;
	} else if (klen == 7 && memcmp(s, "max_age", 7) == 0) {
		uint64_t age = 0;

		if (pp->pp_max_age)
			return true;
		if (vlen > 10)
			return mtasts_policy_parse_err(pp, "max_age longer than 10 digits:", v,
			    vlen);
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return mtasts_policy_parse_err(pp, "max_age not a number:", v,
				    vlen);
			age = age * 10 + (uint64_t)(v[i] - '0');
		}
		p->mp_max_age = age > MTASTS_MAX_AGE_MAX ? MTASTS_MAX_AGE_MAX : (uint32_t)age;
		pp->pp_max_age = true;
	}
	/* Anything else: an extension, ignored. */
	return true;
}

struct mtasts_policy *
mtasts_policy_parse(const char *body, size_t len, char **errp)
{
	struct mtasts_policy_parser pp;
	const char *s = body, *end = body + len, *nul;
	struct mtasts_policy *p;

	*errp = NULL;
	memset(&pp, 0, sizeof(pp));
	if (len > MTASTS_BODY_MAX) {
		*errp = xasprintf("policy larger than %d bytes", MTASTS_BODY_MAX);
		return NULL;
	}
	if ((nul = memchr(body, '\0', len)) != NULL) {
		const char *q;
		unsigned line = 1;

		for (q = body; q < nul; q++)
			line += *q == '\n';
		*errp = xasprintf("line %u: NUL byte", line);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->mp_refs = 1;
	pp.pp_p = p;
	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		const char *le = eol ? eol : end;

		pp.pp_line++;
		if (eol != NULL && le > s && le[-1] == '\r')
			le--;
		if (!mtasts_policy_parse_line(&pp, s, (size_t)(le - s)))
			goto fail;
		s = eol ? eol + 1 : end;
	}
	if (!pp.pp_version)
		sbuf_append(&pp.pp_err, "no version line");
	else if (!pp.pp_mode)
		sbuf_append(&pp.pp_err, "no mode line");
	else if (!pp.pp_max_age)
		sbuf_append(&pp.pp_err, "no max_age line");
	else if (p->mp_nmx == 0 && p->mp_mode != MTASTS_MODE_NONE)
		sbuf_printf(&pp.pp_err, "no mx line (mode %s)",
		    mtasts_policy_mode_name(p->mp_mode));
	else {
		p->mp_text = xmalloc(len + 1);
		memcpy(p->mp_text, body, len);
		p->mp_text[len] = '\0';
		return p;
	}
fail:
	*errp = sbuf_steal(&pp.pp_err);
	mtasts_policy_unref(p);
	return NULL;
}

bool
mtasts_policy_mx_match(const char *pattern, const char *host)
{
	const char *dot;

	if (*pattern == '\0' || *host == '\0')
		return false;
	if (pattern[0] == '*' && pattern[1] == '.') {
		if (pattern[2] == '\0')
			return false;
		dot = strchr(host, '.');
		return dot != NULL && dot != host && strcasecmp(dot, pattern + 1) == 0;
	}
	return strcasecmp(pattern, host) == 0;
}
