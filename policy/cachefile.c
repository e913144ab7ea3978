/*
 * cachefile.c: see cachefile.h.
 */
#include "cachefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "policy/engine.h"

#define CACHEFILE_HEADER        "danemilter-cache 1"
#define CACHEFILE_REASON_MAX    4096

/* ---- writing ---- */

void
cachefile_begin(struct sbuf *sb)
{
	sbuf_append(sb, CACHEFILE_HEADER "\n");
}

static void
cachefile_hex_field(struct sbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	sbuf_appendc(sb, ' ');
	if (s == NULL || *s == '\0') {
		sbuf_appendc(sb, '-');
		return;
	}
	for (; *p; p++)
		sbuf_printf(sb, "%02x", *p);
}

bool
cachefile_keeps(const struct verdict *v)
{
	return v->v_dane->dr_policy == dane_verdict_policy(v->v_dane->dr_verdict);
}

void
cachefile_append(struct sbuf *sb, const char *domain, const struct verdict *v,
    time_t expires, const struct mtasts_policy *p, time_t policy_expires,
    time_t last_failure)
{
	if (v != NULL && !cachefile_keeps(v))
		v = NULL;
	sbuf_printf(sb, "e %s %lld %d %u", domain, v ? (long long)expires : 0LL,
	    v ? (int)v->v_dane->dr_verdict : 0, v ? v->v_dane->dr_ttl : 0);
	cachefile_hex_field(sb, v ? v->v_dane->dr_reason : NULL);
	sbuf_printf(sb, " %d %d", v ? (int)v->v_sts : (int)VERDICT_STS_ABSENT,
	    v ? (int)v->v_sts_failure : 0);
	cachefile_hex_field(sb, v ? v->v_sts_reason : NULL);
	sbuf_printf(sb, " %lld %lld %s %lld", p ? (long long)policy_expires : 0LL,
	    (long long)last_failure, p ? p->mp_id : "-",
	    p ? (long long)p->mp_fetched : 0LL);
	cachefile_hex_field(sb, p ? p->mp_text : NULL);
	sbuf_appendc(sb, '\n');
}

void
cachefile_append_sts(struct sbuf *sb, const char *domain, const struct mtasts_policy *p,
    time_t policy_expires, time_t last_failure, const char *failed_id)
{
	sbuf_printf(sb, "p %s %lld %lld %s %s %lld", domain, p ? (long long)policy_expires : 0LL,
	    (long long)last_failure, failed_id != NULL && *failed_id != '\0' ? failed_id : "-",
	    p ? p->mp_id : "-", p ? (long long)p->mp_fetched : 0LL);
	cachefile_hex_field(sb, p ? p->mp_text : NULL);
	sbuf_appendc(sb, '\n');
}

int
cachefile_write(const char *path, const struct sbuf *sb, char **errp)
{
	char *tmp;
	FILE *f;
	int rc = 0;

	*errp = NULL;
	tmp = xasprintf("%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL ||
	    fwrite(sbuf_str(sb), 1, sb->sb_len, f) != sb->sb_len || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		*errp = xasprintf("cannot write %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (f != NULL && fclose(f) != 0 && rc == 0) {
		*errp = xasprintf("cannot write %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		*errp = xasprintf("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		(void)unlink(tmp);
	free(tmp);
	return rc;
}

/* ---- reading ---- */

static int
cachefile_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Decode a hex field ("-" = empty) into a malloc'ed string; NULL if it is
 * not exactly pairs of hex digits, holds a NUL, or decodes past max bytes. */
static char *
cachefile_unhex(const char *s, size_t max)
{
	size_t n = strlen(s), i;
	char *out;

	if (strcmp(s, "-") == 0)
		return xstrdup("");
	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return NULL;
	out = xmalloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		int hi = cachefile_hexval(s[2 * i]), lo = cachefile_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		out[i] = (char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	return out;
}

static bool
cachefile_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= lo && *out <= hi;
}

/* An sts-id as the file holds it: "-" (none, when allowed) or 1-32
 * letters and digits. */
static bool
cachefile_id_ok(const char *id, bool none_ok)
{
	size_t n = strlen(id);

	if (strcmp(id, "-") == 0)
		return none_ok;
	return n >= 1 && n <= MTASTS_ID_MAX && strspn(id,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == n;
}

/* One "p ..." line to fn; false when malformed (by its syntax or by fn). */
static bool
cachefile_sts_line(char *line, cachefile_sts_fn *fn, void *arg)
{
	char *f[8], *save = NULL, *tok;
	char key[256], *body = NULL;
	long long pexp, lastfail, fetched;
	struct cachefile_sts fs;
	int n = 0;
	bool ok = false;

	for (tok = strtok_r(line, " ", &save); tok && n < 8; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n != 8 || tok != NULL || strcmp(f[0], "p") != 0 ||
	    engine_domain_key(f[1], key, sizeof(key)) == NULL || strcmp(key, f[1]) != 0 ||
	    !cachefile_num(f[2], 0, (long long)1 << 40, &pexp) ||
	    !cachefile_num(f[3], 0, (long long)1 << 40, &lastfail) ||
	    !cachefile_id_ok(f[4], true) ||
	    !cachefile_num(f[6], 0, (long long)1 << 40, &fetched) ||
	    (body = cachefile_unhex(f[7], MTASTS_BODY_MAX)) == NULL)
		goto out;
	memset(&fs, 0, sizeof(fs));
	fs.cfs_domain = key;
	fs.cfs_policy_expires = (time_t)pexp;
	fs.cfs_last_failure = (time_t)lastfail;
	fs.cfs_failed_id = strcmp(f[4], "-") == 0 ? "" : f[4];
	fs.cfs_policy_id = f[5];
	fs.cfs_fetched = (time_t)fetched;
	fs.cfs_body = body;
	ok = fn(arg, &fs);
out:
	free(body);
	return ok;
}

/* One "e ..." line to fn; false when malformed (by its syntax or by fn). */
static bool
cachefile_line(char *line, cachefile_entry_fn *fn, void *arg)
{
	char *f[14], *save = NULL, *tok;
	char key[256], *reason = NULL, *sts_reason = NULL, *body = NULL;
	long long expires, dv, dttl, sst, sfail, pexp, lastfail, fetched;
	struct cachefile_entry fe;
	int n = 0;
	bool ok = false;

	for (tok = strtok_r(line, " ", &save); tok && n < 14; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n != 14 || tok != NULL || strcmp(f[0], "e") != 0 ||
	    engine_domain_key(f[1], key, sizeof(key)) == NULL || strcmp(key, f[1]) != 0 ||
	    !cachefile_num(f[2], 0, (long long)1 << 40, &expires) ||
	    !cachefile_num(f[3], DANE_USABLE, DANE_TEMPERROR, &dv) ||
	    !cachefile_num(f[4], 0, UINT32_MAX, &dttl) ||
	    !cachefile_num(f[6], VERDICT_STS_ENFORCE, VERDICT_STS_ERROR, &sst) ||
	    !cachefile_num(f[7], MTASTS_FAIL_NONE, MTASTS_FAIL_WEBPKI, &sfail) ||
	    !cachefile_num(f[9], 0, (long long)1 << 40, &pexp) ||
	    !cachefile_num(f[10], 0, (long long)1 << 40, &lastfail) ||
	    !cachefile_num(f[12], 0, (long long)1 << 40, &fetched) ||
	    (reason = cachefile_unhex(f[5], CACHEFILE_REASON_MAX)) == NULL ||
	    (sts_reason = cachefile_unhex(f[8], CACHEFILE_REASON_MAX)) == NULL ||
	    (body = cachefile_unhex(f[13], MTASTS_BODY_MAX)) == NULL)
		goto out;
	memset(&fe, 0, sizeof(fe));
	fe.cfe_domain = key;
	fe.cfe_expires = (time_t)expires;
	fe.cfe_dane = (enum dane_verdict)dv;
	fe.cfe_dane_ttl = (uint32_t)dttl;
	fe.cfe_dane_reason = reason;
	fe.cfe_sts = (enum verdict_sts)sst;
	fe.cfe_sts_failure = (enum mtasts_failure)sfail;
	fe.cfe_sts_reason = sts_reason;
	fe.cfe_policy_expires = (time_t)pexp;
	fe.cfe_last_failure = (time_t)lastfail;
	fe.cfe_policy_id = f[11];
	fe.cfe_fetched = (time_t)fetched;
	fe.cfe_body = body;
	ok = fn(arg, &fe);
out:
	free(reason);
	free(sts_reason);
	free(body);
	return ok;
}

int
cachefile_read_stream(FILE *f, const char *name, cachefile_entry_fn *fn, cachefile_sts_fn *sfn,
    void *arg, char **errp)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;

	*errp = NULL;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, CACHEFILE_HEADER) != 0) {
				*errp = xasprintf("%s:1: not a danemilter cache file", name);
				break;
			}
			continue;
		}
		if (len == 0)
			continue;
		if ((size_t)len != strlen(line) ||
		    !(line[0] == 'p' ? cachefile_sts_line(line, sfn, arg) : cachefile_line(line, fn, arg)))
			log_warnx("cache: %s:%ld: malformed entry ignored", name, lineno);
	}
	free(line);
	return *errp != NULL ? -1 : 0;
}

int
cachefile_read(const char *path, cachefile_entry_fn *fn, cachefile_sts_fn *sfn, void *arg,
    char **errp)
{
	FILE *f;
	int rc;

	*errp = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		*errp = xasprintf("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	rc = cachefile_read_stream(f, path, fn, sfn, arg, errp);
	fclose(f);
	return rc;
}

/* ---- what an entry holds ---- */

/* The policy of an "e" or a "p" line (see cachefile_policy()). */
static enum cachefile_policy
cachefile_policy_of(const char *id, time_t fetched, time_t pexp, const char *body,
    time_t now, struct mtasts_policy **pp, time_t *expires)
{
	struct mtasts_policy *p;
	char *perr = NULL;

	if (pexp <= now || *body == '\0')
		return CACHEFILE_NO_POLICY;
	p = mtasts_policy_parse(body, strlen(body), &perr);
	if (p == NULL || !cachefile_id_ok(id, false)) {
		free(perr);
		if (p)
			mtasts_policy_unref(p);
		return CACHEFILE_MALFORMED;
	}
	snprintf(p->mp_id, sizeof(p->mp_id), "%s", id);
	p->mp_fetched = fetched;
	/* fetched + max_age is the end, whatever the file says */
	if (p->mp_fetched + (time_t)p->mp_max_age < pexp)
		pexp = p->mp_fetched + (time_t)p->mp_max_age;
	if (pexp <= now) {
		mtasts_policy_unref(p);         /* stale: as if not saved */
		return CACHEFILE_NO_POLICY;
	}
	*pp = p;
	*expires = pexp;
	return CACHEFILE_POLICY;
}

enum cachefile_policy
cachefile_policy(const struct cachefile_entry *fe, time_t now, struct mtasts_policy **pp,
    time_t *expires)
{
	return cachefile_policy_of(fe->cfe_policy_id, fe->cfe_fetched, fe->cfe_policy_expires,
	    fe->cfe_body, now, pp, expires);
}

enum cachefile_policy
cachefile_sts_policy(const struct cachefile_sts *fs, time_t now, struct mtasts_policy **pp,
    time_t *expires)
{
	return cachefile_policy_of(fs->cfs_policy_id, fs->cfs_fetched, fs->cfs_policy_expires,
	    fs->cfs_body, now, pp, expires);
}

struct verdict *
cachefile_verdict(const struct cachefile_entry *fe, const struct cfg *cfg,
    const struct overrides *ov, struct mtasts_policy *p, time_t now)
{
	struct dane_result *d = xcalloc(1, sizeof(*d));
	struct mtasts_result sts;

	d->dr_domain = xstrdup(fe->cfe_domain);
	d->dr_verdict = fe->cfe_dane;
	d->dr_policy = dane_verdict_policy(d->dr_verdict);
	d->dr_reason = xstrdup(fe->cfe_dane_reason);
	d->dr_ttl = fe->cfe_dane_ttl;
	d->dr_mx_security = DNS_SEC_INDETERMINATE;
	d->dr_no_detail = true;         /* a probe looks the hosts up again */
	memset(&sts, 0, sizeof(sts));
	sts.mr_status = fe->cfe_sts == VERDICT_STS_ABSENT ? MTASTS_ABSENT :
	    fe->cfe_sts == VERDICT_STS_ERROR ? MTASTS_ERROR : MTASTS_POLICY;
	sts.mr_failure = fe->cfe_sts_failure;
	sts.mr_reason = fe->cfe_sts_reason;
	sts.mr_policy = p;
	if (sts.mr_status == MTASTS_POLICY && sts.mr_policy == NULL)
		sts.mr_status = MTASTS_ERROR;
	return verdict_build(cfg, ov, d, &sts, now);
}

bool
cachefile_parse_line(char *line, cachefile_entry_fn *fn, cachefile_sts_fn *sfn, void *arg)
{
	return line[0] == 'p' ? cachefile_sts_line(line, sfn, arg) : cachefile_line(line, fn, arg);
}
