/*
 * overrides.c: see overrides.h.
 *
 * Lines are split on blanks; the first word is the domain, then the
 * policy's words up to an "expires=" word or a word starting with '#'.
 * The policy is its words joined by one space and checked by
 * cfg_policy_problem(), the configuration's own check of `policy`.
 * Entries are sorted once; a lookup is a binary search.
 */
#include "overrides.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "config/cfg.h"
#include "policy/engine.h"

#define OVERRIDES_LINE_MAX      (CFG_POLICY_MAX + 1024)

static int
overrides_cmp(const void *a, const void *b)
{
	return strcmp(((const struct overrides_entry *)a)->oe_domain,
	    ((const struct overrides_entry *)b)->oe_domain);
}

/* "YYYY-MM-DD" into the first second of the next day (UTC); false when
 * it is not a date. */
static bool
overrides_date(const char *s, size_t len, time_t *out)
{
	struct tm tm;
	int y, m, d, i;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d + 1;
	*out = timegm(&tm);
	return *out != (time_t)-1;
}

void
overrides_unref(struct overrides *ov)
{
	size_t i;

	if (ov == NULL || --ov->ov_refs > 0)
		return;
	for (i = 0; i < ov->ov_n; i++) {
		free(ov->ov_entries[i].oe_domain);
		free(ov->ov_entries[i].oe_policy);
	}
	free(ov->ov_entries);
	free(ov->ov_file);
	free(ov);
}

struct overrides *
overrides_ref(struct overrides *ov)
{
	ov->ov_refs++;
	return ov;
}

/* One line (no line end) into ov; NULL, or the problem (static text or
 * *msg malloc'ed). */
static const char *
overrides_line(struct overrides *ov, const char *line, size_t len, int lineno, char **msg)
{
	struct overrides_entry e;
	struct sbuf pol = SBUF_INIT;
	char word[256], key[256];
	const char *p = line, *end = line + len, *w, *problem;
	size_t wl;
	bool expires_seen = false;

	memset(&e, 0, sizeof(e));
	e.oe_line = lineno;
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end || *p == '#')
			break;
		w = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		wl = (size_t)(p - w);
		if (e.oe_domain == NULL) {
			if (wl >= sizeof(word))
				return "the domain is too long";
			memcpy(word, w, wl);
			word[wl] = '\0';
			if (engine_domain_key(word, key, sizeof(key)) == NULL || key[0] == '.' ||
			    strchr(key, '*') != NULL) {
				*msg = xasprintf("\"%s\" is not a domain name", word);
				return *msg;
			}
			e.oe_domain = xstrdup(key);
			continue;
		}
		if (expires_seen) {
			free(e.oe_domain);
			sbuf_free(&pol);
			return "nothing but a comment may follow expires=";
		}
		if (wl > 8 && memcmp(w, "expires=", 8) == 0) {
			if (!overrides_date(w + 8, wl - 8, &e.oe_expires)) {
				free(e.oe_domain);
				sbuf_free(&pol);
				return "expires= wants a date YYYY-MM-DD";
			}
			expires_seen = true;
			continue;
		}
		if (pol.sb_len > 0)
			sbuf_appendc(&pol, ' ');
		sbuf_appendn(&pol, w, wl);
	}
	if (e.oe_domain == NULL)
		return NULL;                    /* blank or comment */
	if (pol.sb_len == 0) {
		if (expires_seen) {
			free(e.oe_domain);
			return "expires= needs a POLICY before it";
		}
		e.oe_danefail = 1;
		e.oe_policy = xstrdup("may");
	} else {
		if ((problem = cfg_policy_problem(sbuf_str(&pol))) != NULL) {
			*msg = xasprintf("the policy %s", problem);
			free(e.oe_domain);
			sbuf_free(&pol);
			return *msg;
		}
		e.oe_policy = sbuf_steal(&pol);
	}
	ov->ov_entries = xreallocarray(ov->ov_entries, ov->ov_n + 1, sizeof(e));
	ov->ov_entries[ov->ov_n++] = e;
	return NULL;
}

struct overrides *
overrides_parse(const char *text, size_t len, const char *name, char **errp)
{
	struct overrides *ov = xcalloc(1, sizeof(*ov));
	const char *p = text, *end = text + len, *nl, *problem;
	char *msg = NULL;
	size_t ll, i;
	int lineno = 0;

	*errp = NULL;
	ov->ov_refs = 1;
	ov->ov_file = xstrdup(name);
	if (len > OVERRIDES_FILE_MAX) {
		*errp = xasprintf("%s: more than %u bytes", name, OVERRIDES_FILE_MAX);
		overrides_unref(ov);
		return NULL;
	}
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		problem = NULL;
		if (ll > OVERRIDES_LINE_MAX)
			problem = "the line is too long";
		else if (memchr(p, '\0', ll) != NULL)
			problem = "a NUL byte";
		else
			for (i = 0; i < ll && problem == NULL; i++)
				if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
					problem = "a control character";
		if (problem == NULL)
			problem = overrides_line(ov, p, ll, lineno, &msg);
		if (problem != NULL) {
			*errp = xasprintf("%s:%d: %s", name, lineno, problem);
			free(msg);
			overrides_unref(ov);
			return NULL;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (ov->ov_n > 1)
		qsort(ov->ov_entries, ov->ov_n, sizeof(*ov->ov_entries), overrides_cmp);
	for (i = 1; i < ov->ov_n; i++) {
		const struct overrides_entry *a = &ov->ov_entries[i - 1], *b = &ov->ov_entries[i];

		if (strcmp(a->oe_domain, b->oe_domain) == 0) {
			*errp = xasprintf("%s:%d: %s is listed again (first on line %d)", name,
			    a->oe_line > b->oe_line ? a->oe_line : b->oe_line, a->oe_domain,
			    a->oe_line < b->oe_line ? a->oe_line : b->oe_line);
			overrides_unref(ov);
			return NULL;
		}
	}
	return ov;
}

struct overrides *
overrides_load(const char *path, char **errp)
{
	struct overrides *ov;
	struct sbuf sb = SBUF_INIT;
	char buf[65536];
	ssize_t n;
	int fd;

	*errp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*errp = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*errp = xasprintf("%s: read: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (sb.sb_len + (size_t)n > OVERRIDES_FILE_MAX) {
			*errp = xasprintf("%s: more than %u bytes", path, OVERRIDES_FILE_MAX);
			break;
		}
		sbuf_appendn(&sb, buf, (size_t)n);
	}
	close(fd);
	if (*errp != NULL) {
		sbuf_free(&sb);
		return NULL;
	}
	ov = overrides_parse(sb.sb_len ? sb.sb_buf : "", sb.sb_len, path, errp);
	sbuf_free(&sb);
	return ov;
}

enum overrides_status
overrides_lookup(const struct overrides *ov, const char *domain, time_t now,
    const struct overrides_entry **out)
{
	size_t lo = 0, hi, mid;
	int c;

	*out = NULL;
	if (ov == NULL)
		return OVERRIDES_NONE;
	hi = ov->ov_n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(domain, ov->ov_entries[mid].oe_domain);
		if (c == 0) {
			*out = &ov->ov_entries[mid];
			return ov->ov_entries[mid].oe_expires != 0 &&
			    now >= ov->ov_entries[mid].oe_expires ? OVERRIDES_EXPIRED : OVERRIDES_FOUND;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return OVERRIDES_NONE;
}
