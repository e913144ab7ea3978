/*
 * cachefile.c: see cachefile.h.
 */
#include "cachefile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "policy/engine.h"

#define CACHEFILE_HEADER        "danemilter-cache 2"
#define CACHEFILE_HEADER_V1     "danemilter-cache 1"    /* no DETAIL field: still read */

/* ---- writing ---- */

void
cachefile_begin(struct sbuf *sb)
{
	sbuf_append(sb, CACHEFILE_HEADER "\n");
}

/* s hex-encoded ("-" when NULL or empty), with no separator. */
static void
cachefile_hex(struct sbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL || *s == '\0') {
		sbuf_appendc(sb, '-');
		return;
	}
	for (; *p; p++)
		sbuf_printf(sb, "%02x", *p);
}

static void
cachefile_hex_field(struct sbuf *sb, const char *s)
{
	sbuf_appendc(sb, ' ');
	cachefile_hex(sb, s);
}

/* Does the DETAIL field hold dr's hosts whole (cachefile.h's bounds)? */
static bool
cachefile_detail_fits(const struct dane_result *dr)
{
	size_t i, j;

	if (dr->dr_no_detail || dr->dr_nhosts > DANE_MAX_HOSTS)
		return false;
	if (dr->dr_domain_canon != NULL && strlen(dr->dr_domain_canon) > CACHEFILE_NAME_MAX)
		return false;
	for (i = 0; i < dr->dr_nhosts; i++) {
		const struct dane_host *h = &dr->dr_hosts[i];

		if (h->dh_name == NULL || *h->dh_name == '\0' ||
		    strlen(h->dh_name) > CACHEFILE_NAME_MAX ||
		    (h->dh_canon != NULL && strlen(h->dh_canon) > CACHEFILE_NAME_MAX) ||
		    (h->dh_tlsa_base != NULL && strlen(h->dh_tlsa_base) > CACHEFILE_NAME_MAX) ||
		    (h->dh_tlsa_owner != NULL && strlen(h->dh_tlsa_owner) > CACHEFILE_NAME_MAX) ||
		    (h->dh_why != NULL && strlen(h->dh_why) > CACHEFILE_REASON_MAX) ||
		    h->dh_naddrs > CACHEFILE_HOST_ADDRS_MAX || h->dh_ntlsa > CACHEFILE_HOST_TLSA_MAX)
			return false;
		for (j = 0; j < h->dh_ntlsa; j++)
			if (h->dh_tlsa[j].tr_len == 0 || h->dh_tlsa[j].tr_len > CACHEFILE_TLSA_DATA_MAX)
				return false;
	}
	return true;
}

/* The DETAIL field of an "e" line (cachefile.h). */
static void
cachefile_detail_field(struct sbuf *sb, const struct dane_result *dr)
{
	size_t i, j, k;

	if (dr == NULL || !cachefile_detail_fits(dr)) {
		sbuf_append(sb, " -");
		return;
	}
	sbuf_printf(sb, " d,%d,%d,", (int)dr->dr_mx_security, dr->dr_implicit_mx ? 1 : 0);
	cachefile_hex(sb, dr->dr_domain_canon);
	sbuf_printf(sb, ",%zu,%u,%u,%u", dr->dr_hosts_dropped, dr->dr_rounds, dr->dr_queries,
	    dr->dr_elapsed_ms);
	for (i = 0; i < dr->dr_nhosts; i++) {
		const struct dane_host *h = &dr->dr_hosts[i];

		sbuf_printf(sb, ";h,%u,", h->dh_pref);
		cachefile_hex(sb, h->dh_name);
		sbuf_appendc(sb, ',');
		cachefile_hex(sb, h->dh_canon);
		sbuf_printf(sb, ",%d,%d,%d,", (int)h->dh_addr_security, (int)h->dh_state,
		    h->dh_bogus ? 1 : 0);
		cachefile_hex(sb, h->dh_why);
		sbuf_appendc(sb, ',');
		cachefile_hex(sb, h->dh_tlsa_base);
		sbuf_appendc(sb, ',');
		cachefile_hex(sb, h->dh_tlsa_owner);
		sbuf_appendc(sb, ',');
		for (j = 0; j < h->dh_naddrs; j++)
			sbuf_printf(sb, "%s%s", j ? "/" : "", h->dh_addrs[j]);
		if (h->dh_naddrs == 0)
			sbuf_appendc(sb, '-');
		sbuf_appendc(sb, ',');
		for (j = 0; j < h->dh_ntlsa; j++) {
			const struct tlsa_rr *t = &h->dh_tlsa[j];

			sbuf_printf(sb, "%s%u.%u.%u.%d.%d.", j ? "/" : "", t->tr_usage, t->tr_selector,
			    t->tr_mtype, (int)t->tr_check, t->tr_agility_ignored ? 1 : 0);
			for (k = 0; k < t->tr_len; k++)
				sbuf_printf(sb, "%02x", t->tr_data[k]);
		}
		if (h->dh_ntlsa == 0)
			sbuf_appendc(sb, '-');
	}
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
	cachefile_detail_field(sb, v ? v->v_dane : NULL);
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

/* Decode a hex field of bytes (any value; not "-") into a malloc'ed
 * buffer of 1 to max bytes; NULL when it is not that. */
static uint8_t *
cachefile_unhex_bin(const char *s, size_t max, size_t *lenp)
{
	size_t n = strlen(s), i;
	uint8_t *out;

	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return NULL;
	out = xmalloc(n / 2);
	for (i = 0; i < n / 2; i++) {
		int hi = cachefile_hexval(s[2 * i]), lo = cachefile_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*lenp = n / 2;
	return out;
}

/* A hex-encoded name of DETAIL into *out (malloc'ed; NULL for "-" when
 * !required): 1 to CACHEFILE_NAME_MAX printable characters, no space.
 * False when malformed. */
static bool
cachefile_name(const char *s, bool required, char **out)
{
	char *name;
	const char *c;

	*out = NULL;
	if (strcmp(s, "-") == 0)
		return !required;
	if ((name = cachefile_unhex(s, CACHEFILE_NAME_MAX)) == NULL)
		return false;
	for (c = name; *c; c++)
		if (*c <= ' ' || *c > '~') {
			free(name);
			return false;
		}
	*out = name;
	return true;
}

/* Split s in place at sep into out[0..max): the number of parts, empty
 * ones included, or -1 when there are more than max. */
static int
cachefile_split(char *s, char sep, char **out, int max)
{
	int n = 0;
	char *p;

	for (;;) {
		if (n == max)
			return -1;
		out[n++] = s;
		if ((p = strchr(s, sep)) == NULL)
			return n;
		*p = '\0';
		s = p + 1;
	}
}

/* One host of DETAIL ("h,..." split at ',') into *h (zeroed). */
static bool
cachefile_detail_host(char *text, struct dane_host *h)
{
	char *f[13], *a[CACHEFILE_HOST_ADDRS_MAX], *t[CACHEFILE_HOST_TLSA_MAX], *r[7];
	long long pref, sec, state, bogus, num[5];
	int na = 0, nt = 0, i, k;
	struct in6_addr addr;

	if (cachefile_split(text, ',', f, 13) != 12 || strcmp(f[0], "h") != 0 ||
	    !cachefile_num(f[1], 0, UINT16_MAX, &pref) ||
	    !cachefile_num(f[4], DNS_SEC_INSECURE, DNS_SEC_INDETERMINATE, &sec) ||
	    !cachefile_num(f[5], DANE_HOST_USABLE, DANE_HOST_NOT_CHECKED, &state) ||
	    !cachefile_num(f[6], 0, 1, &bogus))
		return false;
	h->dh_pref = (uint16_t)pref;
	h->dh_addr_security = (enum dns_security)sec;
	h->dh_state = (enum dane_host_state)state;
	h->dh_bogus = bogus != 0;
	if (!cachefile_name(f[2], true, &h->dh_name) || !cachefile_name(f[3], false, &h->dh_canon) ||
	    !cachefile_name(f[8], false, &h->dh_tlsa_base) ||
	    !cachefile_name(f[9], false, &h->dh_tlsa_owner))
		return false;
	if (strcmp(f[7], "-") != 0 &&
	    (h->dh_why = cachefile_unhex(f[7], CACHEFILE_REASON_MAX)) == NULL)
		return false;
	if (strcmp(f[10], "-") != 0 &&
	    (na = cachefile_split(f[10], '/', a, CACHEFILE_HOST_ADDRS_MAX)) < 0)
		return false;
	if (strcmp(f[11], "-") != 0 &&
	    (nt = cachefile_split(f[11], '/', t, CACHEFILE_HOST_TLSA_MAX)) < 0)
		return false;
	h->dh_addrs = xcalloc(na ? (size_t)na : 1, sizeof(*h->dh_addrs));
	for (i = 0; i < na; i++) {
		if (strlen(a[i]) >= INET6_ADDRSTRLEN || (inet_pton(AF_INET, a[i], &addr) != 1 &&
		    inet_pton(AF_INET6, a[i], &addr) != 1))
			return false;
		h->dh_addrs[h->dh_naddrs++] = xstrdup(a[i]);
	}
	h->dh_tlsa = xcalloc(nt ? (size_t)nt : 1, sizeof(*h->dh_tlsa));
	for (i = 0; i < nt; i++) {
		struct tlsa_rr *rr = &h->dh_tlsa[h->dh_ntlsa];
		uint8_t *data;
		size_t len;

		if (cachefile_split(t[i], '.', r, 7) != 6)
			return false;
		for (k = 0; k < 3; k++)
			if (!cachefile_num(r[k], 0, UINT8_MAX, &num[k]))
				return false;
		if (!cachefile_num(r[3], TLSA_USABLE, TLSA_BAD_DATA, &num[3]) ||
		    !cachefile_num(r[4], 0, 1, &num[4]) ||
		    (data = cachefile_unhex_bin(r[5], CACHEFILE_TLSA_DATA_MAX, &len)) == NULL)
			return false;
		rr->tr_usage = (uint8_t)num[0];
		rr->tr_selector = (uint8_t)num[1];
		rr->tr_mtype = (uint8_t)num[2];
		rr->tr_check = (enum tlsa_check)num[3];
		rr->tr_agility_ignored = num[4] != 0;
		rr->tr_data = data;
		rr->tr_len = len;
		h->dh_ntlsa++;
	}
	return true;
}

/* The DETAIL field (not "-") of domain's "e" line: a dane_result with its
 * hosts and MX facts (verdict, policy, reason and TTL left for the
 * caller), or NULL when malformed. */
static struct dane_result *
cachefile_detail(char *text, const char *domain)
{
	char *part[DANE_MAX_HOSTS + 1], *f[9];
	long long sec, implicit, num[4];
	struct dane_result *d;
	int n, i;

	if ((n = cachefile_split(text, ';', part, DANE_MAX_HOSTS + 1)) < 1 ||
	    cachefile_split(part[0], ',', f, 9) != 8 || strcmp(f[0], "d") != 0 ||
	    !cachefile_num(f[1], DNS_SEC_INSECURE, DNS_SEC_INDETERMINATE, &sec) ||
	    !cachefile_num(f[2], 0, 1, &implicit) ||
	    !cachefile_num(f[4], 0, UINT16_MAX, &num[0]) ||
	    !cachefile_num(f[5], 0, UINT32_MAX, &num[1]) ||
	    !cachefile_num(f[6], 0, UINT32_MAX, &num[2]) ||
	    !cachefile_num(f[7], 0, UINT32_MAX, &num[3]))
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->dr_domain = xstrdup(domain);
	d->dr_reason = xstrdup("");
	d->dr_mx_security = (enum dns_security)sec;
	d->dr_implicit_mx = implicit != 0;
	d->dr_hosts_dropped = (size_t)num[0];
	d->dr_rounds = (unsigned)num[1];
	d->dr_queries = (unsigned)num[2];
	d->dr_elapsed_ms = (unsigned)num[3];
	d->dr_hosts = xcalloc((size_t)n, sizeof(*d->dr_hosts));
	if (!cachefile_name(f[3], false, &d->dr_domain_canon))
		goto bad;
	for (i = 1; i < n; i++) {
		/* counted before parsing: dane_result_free frees what a
		 * malformed host got so far */
		d->dr_nhosts++;
		if (!cachefile_detail_host(part[i], &d->dr_hosts[i - 1]))
			goto bad;
	}
	return d;
bad:
	dane_result_free(d);
	return NULL;
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

/* One "e ..." line of a file of version (1: 14 fields, no DETAIL; 2: 15)
 * to fn; false when malformed (by its syntax or by fn). */
static bool
cachefile_line(char *line, int version, cachefile_entry_fn *fn, void *arg)
{
	char *f[15], *save = NULL, *tok;
	char key[256], *reason = NULL, *sts_reason = NULL, *body = NULL;
	long long expires, dv, dttl, sst, sfail, pexp, lastfail, fetched;
	struct cachefile_entry fe;
	struct dane_result *detail = NULL;
	int n = 0;
	bool ok = false;

	for (tok = strtok_r(line, " ", &save); tok && n < 15; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n != (version == 1 ? 14 : 15) || tok != NULL || strcmp(f[0], "e") != 0 ||
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
	    (body = cachefile_unhex(f[13], MTASTS_BODY_MAX)) == NULL ||
	    (n == 15 && strcmp(f[14], "-") != 0 && (detail = cachefile_detail(f[14], key)) == NULL))
		goto out;
	memset(&fe, 0, sizeof(fe));
	fe.cfe_domain = key;
	fe.cfe_detail = detail;
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
	dane_result_free(detail);
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
	int version = 2;

	*errp = NULL;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, CACHEFILE_HEADER_V1) == 0)
				version = 1;
			else if (strcmp(line, CACHEFILE_HEADER) != 0) {
				*errp = xasprintf("%s:1: not a danemilter cache file", name);
				break;
			}
			continue;
		}
		if (len == 0)
			continue;
		if ((size_t)len != strlen(line) ||
		    !(line[0] == 'p' ? cachefile_sts_line(line, sfn, arg) :
		    cachefile_line(line, version, fn, arg)))
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
	struct dane_result *d;
	struct mtasts_result sts;

	if (fe->cfe_detail != NULL) {
		d = dane_result_dup(fe->cfe_detail);    /* the hosts as the resolver saw them */
		free(d->dr_domain);
		free(d->dr_reason);
	} else {
		d = xcalloc(1, sizeof(*d));
		d->dr_mx_security = DNS_SEC_INDETERMINATE;
		d->dr_no_detail = true;         /* a probe looks the hosts up again */
	}
	d->dr_domain = xstrdup(fe->cfe_domain);
	d->dr_verdict = fe->cfe_dane;
	/* the policy from the verdict alone, whatever DETAIL says */
	d->dr_policy = dane_verdict_policy(d->dr_verdict);
	d->dr_reason = xstrdup(fe->cfe_dane_reason);
	d->dr_ttl = fe->cfe_dane_ttl;
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
	return line[0] == 'p' ? cachefile_sts_line(line, sfn, arg) : cachefile_line(line, 2, fn, arg);
}

/* ---- probe results (the shared cache's) ---- */

static bool
cachefile_text_fits(const char *s)
{
	return s == NULL || strlen(s) <= CACHEFILE_REASON_MAX;
}

bool
cachefile_append_probe(struct sbuf *sb, const struct probe_result *r, time_t expires)
{
	const char *txt[6] = { r->ps_detail, r->ps_tls_version, r->ps_cipher, r->ps_subject,
	    r->ps_issuer, r->ps_dane_match };
	size_t i, k;

	for (i = 0; i < 6; i++)
		if (!cachefile_text_fits(txt[i]))
			return false;
	if (r->ps_peer->cc_n > CACHEFILE_PEER_MAX || r->ps_bits < 0 || r->ps_bits > UINT16_MAX ||
	    r->ps_dane_depth < -1 || r->ps_dane_depth >= CACHEFILE_PEER_MAX)
		return false;
	for (i = 0; i < r->ps_peer->cc_n; i++)
		if (r->ps_peer->cc_certs[i].cd_len == 0 ||
		    r->ps_peer->cc_certs[i].cd_len > CACHEFILE_CERT_MAX)
			return false;
	sbuf_printf(sb, "r %lld %d %d %d %d %d %u", (long long)expires, (int)r->ps_status,
	    (int)r->ps_reason, r->ps_bits, r->ps_pkix_verified ? 1 : 0, r->ps_dane_depth,
	    r->ps_elapsed_ms);
	for (i = 0; i < 6; i++)
		cachefile_hex_field(sb, txt[i]);
	sbuf_appendc(sb, ' ');
	for (i = 0; i < r->ps_peer->cc_n; i++) {
		const struct cert_der *c = &r->ps_peer->cc_certs[i];

		if (i)
			sbuf_appendc(sb, '/');
		for (k = 0; k < c->cd_len; k++)
			sbuf_printf(sb, "%02x", c->cd_der[k]);
	}
	if (r->ps_peer->cc_n == 0)
		sbuf_appendc(sb, '-');
	sbuf_appendc(sb, '\n');
	return true;
}

void
cachefile_probe_free(struct cachefile_probe *p)
{
	int i;

	for (i = 0; i < 6; i++)
		free(p->cfp_s[i]);
	cert_chain_free(&p->cfp_peer);
	memset(p, 0, sizeof(*p));
}

bool
cachefile_parse_probe(char *line, struct cachefile_probe *out)
{
	char *f[16], *save = NULL, *tok, *c[CACHEFILE_PEER_MAX];
	long long exp, st, rs, bits, pkix, depth, ms;
	size_t len = strlen(line);
	int n = 0, nc = 0, i;

	memset(out, 0, sizeof(*out));
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	for (tok = strtok_r(line, " ", &save); tok && n < 16; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n != 15 || tok != NULL || strcmp(f[0], "r") != 0 ||
	    !cachefile_num(f[1], 0, (long long)1 << 40, &exp) ||
	    !cachefile_num(f[2], PROBE_PASS, PROBE_ERROR, &st) ||
	    !cachefile_num(f[3], PROBE_R_NONE, PROBE_R_TLSA_INVALID, &rs) ||
	    !cachefile_num(f[4], 0, UINT16_MAX, &bits) ||
	    !cachefile_num(f[5], 0, 1, &pkix) ||
	    !cachefile_num(f[6], -1, CACHEFILE_PEER_MAX - 1, &depth) ||
	    !cachefile_num(f[7], 0, UINT32_MAX, &ms))
		return false;
	for (i = 0; i < 6; i++)
		if ((out->cfp_s[i] = cachefile_unhex(f[8 + i], CACHEFILE_REASON_MAX)) == NULL)
			goto bad;
	if (strcmp(f[14], "-") != 0 && (nc = cachefile_split(f[14], '/', c, CACHEFILE_PEER_MAX)) < 0)
		goto bad;
	out->cfp_peer.cc_certs = xcalloc(nc ? (size_t)nc : 1, sizeof(*out->cfp_peer.cc_certs));
	for (i = 0; i < nc; i++) {
		struct cert_der *d = &out->cfp_peer.cc_certs[i];

		if ((d->cd_der = cachefile_unhex_bin(c[i], CACHEFILE_CERT_MAX, &d->cd_len)) == NULL)
			goto bad;
		out->cfp_peer.cc_n++;
	}
	out->cfp_expires = (time_t)exp;
	out->cfp_res.ps_status = (enum probe_status)st;
	out->cfp_res.ps_reason = (enum probe_reason)rs;
	out->cfp_res.ps_bits = (int)bits;
	out->cfp_res.ps_pkix_verified = pkix != 0;
	out->cfp_res.ps_dane_depth = (int)depth;
	out->cfp_res.ps_elapsed_ms = (unsigned)ms;
	out->cfp_res.ps_detail = out->cfp_s[0];
	out->cfp_res.ps_tls_version = out->cfp_s[1];
	out->cfp_res.ps_cipher = out->cfp_s[2];
	out->cfp_res.ps_subject = out->cfp_s[3];
	out->cfp_res.ps_issuer = out->cfp_s[4];
	out->cfp_res.ps_dane_match = out->cfp_s[5];
	out->cfp_res.ps_chain = "";
	out->cfp_res.ps_peer = &out->cfp_peer;
	return true;
bad:
	cachefile_probe_free(out);
	return false;
}
