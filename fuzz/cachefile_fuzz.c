/*
 * cachefile_fuzz.c: libFuzzer target for the cache file loader: the
 * parser of policy/cachefile.c and what policy/cache.c makes of each line
 * (cache_load_stream(), the same loader as cache_load() on a buffer). The
 * file is the daemon's own, but it lives on disk across restarts and may
 * come back truncated, corrupt or edited: whatever it holds must load, or
 * be refused with an error, and never make a verdict weaker than the text.
 *
 * Once: a configuration with small cache bounds (cache.max_entries 4,
 * cache.max_policies 3, cache.max_ttl 3600, refresh_ahead false, no
 * per-domain rules), its engine and generation. Per input: a new cache;
 * the input is read once by cachefile_read_stream() with callbacks that
 * record what each well-formed line states, then loaded into the cache by
 * cache_load_stream() at a fixed now. Besides memory errors and leaks the
 * target aborts when:
 *   - the load and the read disagree on refusing the file (only a first
 *     line other than the header refuses it), or the load says it loaded
 *     more verdicts than the file has well-formed "e" lines;
 *   - the cache holds more than cca_max_entries verdicts or its policy
 *     store more than cca_max_policies records (the configuration's own
 *     bounds, read from the cfg);
 *   - a verdict the cache serves for a domain at now is not one that an
 *     unexpired "e" line of that domain states: DANE verdict, TTL and
 *     reason equal; MTA-STS absent / error as stated; a stated policy
 *     state never served without a policy;
 *   - a served verdict's MTA-STS policy, or a policy of the store, is not
 *     one a line of that domain states (id, body, fetch time) with an end
 *     after now; a store record lasts beyond the line's POLICY-EXPIRES or
 *     FETCHED + max_age;
 *   - a verdict outlives its line's EXPIRES or now + cca_max_ttl;
 *   - the Postfix policy is not product.md's for the stated facts: TEMP
 *     for DANE bogus / temperror, dane-only for usable, dane for partial
 *     and unusable, and otherwise OK only for an MTA-STS enforce policy
 *     (never a downgrade, never a policy from nowhere; DETAIL, the MX
 *     hosts, never changes it);
 *   - a served verdict's MX host detail is not its line's DETAIL: hosts
 *     without DETAIL, none (or "no detail" unset) without it, another
 *     number of hosts, or a host past the format's bounds (DANE_MAX_HOSTS,
 *     CACHEFILE_HOST_ADDRS_MAX, CACHEFILE_HOST_TLSA_MAX,
 *     CACHEFILE_TLSA_DATA_MAX, CACHEFILE_NAME_MAX-long printable names,
 *     addresses inet_pton takes, enum ranges);
 *   - a served verdict written again (cachefile_append) does not read
 *     back (cachefile_parse_line) as the same hosts, names, addresses and
 *     TLSA records (a round trip; the text and JSON reports of the
 *     verdict are rendered too, for the sanitizers);
 *   - a line the probe result parser (cachefile_parse_probe, the shared
 *     cache's "r" values) takes holds a field past its bounds (enum
 *     ranges, bits, depth, CACHEFILE_PEER_MAX certificates of 1 to
 *     CACHEFILE_CERT_MAX bytes), or does not survive a round trip
 *     through cachefile_append_probe unchanged.
 * Seeds live in fuzz/corpus/cachefile/.
 */
#include <arpa/inet.h>
#include <iv.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "config/cfg.h"
#include "policy/cache.h"
#include "policy/cachefile.h"
#include "policy/engine.h"
#include "policy/generation.h"
#include "policy/report.h"
#include "policy/stsstore.h"

#define FUZZ_NOW        ((time_t)1700000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_conf[] =
    "cache: { max_entries = 4; max_policies = 3; max_ttl = 3600; refresh_ahead = false; };\n";

/* What one well-formed line states. */
struct fuzz_line {
	bool fl_verdict;                /* an "e" line */
	char *fl_domain;
	time_t fl_expires;
	enum dane_verdict fl_dane;
	uint32_t fl_ttl;
	char *fl_reason;
	enum verdict_sts fl_sts;
	time_t fl_pexp;
	char *fl_id;
	time_t fl_fetched;
	char *fl_body;
	long fl_nhosts;                 /* DETAIL's hosts; -1: no DETAIL */
};

struct fuzz_rec {
	struct fuzz_line *lines;
	size_t n, cap;
};

static struct generation *fuzz_gen;
static const struct cfg_cache *fuzz_cc;

static struct fuzz_line *
fuzz_add(struct fuzz_rec *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->lines = xreallocarray(r->lines, r->cap, sizeof(*r->lines));
	}
	memset(&r->lines[r->n], 0, sizeof(r->lines[0]));
	return &r->lines[r->n++];
}

static bool
fuzz_rec_entry(void *arg, const struct cachefile_entry *fe)
{
	struct fuzz_line *l = fuzz_add(arg);

	l->fl_verdict = true;
	l->fl_domain = xstrdup(fe->cfe_domain);
	l->fl_expires = fe->cfe_expires;
	l->fl_dane = fe->cfe_dane;
	l->fl_ttl = fe->cfe_dane_ttl;
	l->fl_reason = xstrdup(fe->cfe_dane_reason);
	l->fl_sts = fe->cfe_sts;
	l->fl_pexp = fe->cfe_policy_expires;
	l->fl_id = xstrdup(fe->cfe_policy_id);
	l->fl_fetched = fe->cfe_fetched;
	l->fl_body = xstrdup(fe->cfe_body);
	l->fl_nhosts = fe->cfe_detail != NULL ? (long)fe->cfe_detail->dr_nhosts : -1;
	return true;
}

static bool
fuzz_rec_sts(void *arg, const struct cachefile_sts *fs)
{
	struct fuzz_line *l = fuzz_add(arg);

	l->fl_domain = xstrdup(fs->cfs_domain);
	l->fl_nhosts = -1;
	l->fl_pexp = fs->cfs_policy_expires;
	l->fl_id = xstrdup(fs->cfs_policy_id);
	l->fl_fetched = fs->cfs_fetched;
	l->fl_body = xstrdup(fs->cfs_body);
	return true;
}

static void
fuzz_rec_free(struct fuzz_rec *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->lines[i].fl_domain);
		free(r->lines[i].fl_reason);
		free(r->lines[i].fl_id);
		free(r->lines[i].fl_body);
	}
	free(r->lines);
}

/* Does a line of domain state policy p (id, body, fetch time) with an end
 * at or after pexp (0: any end after now)? */
static bool
fuzz_policy_stated(const struct fuzz_rec *r, const char *domain, const struct mtasts_policy *p,
    time_t pexp)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct fuzz_line *l = &r->lines[i];

		if (strcmp(l->fl_domain, domain) == 0 && strcmp(l->fl_id, p->mp_id) == 0 &&
		    strcmp(l->fl_body, p->mp_text) == 0 && l->fl_fetched == p->mp_fetched &&
		    l->fl_pexp > FUZZ_NOW && l->fl_pexp >= pexp &&
		    (pexp == 0 || p->mp_fetched + (time_t)p->mp_max_age >= pexp))
			return true;
	}
	return false;
}

/* product.md "The Postfix policy", from the stated DANE verdict. */
static void
fuzz_check_policy(const struct verdict *v, enum dane_verdict d)
{
	switch (d) {
	case DANE_BOGUS:
	case DANE_TEMPERROR:
		if (v->v_kind != VERDICT_TEMP)
			abort();
		return;
	case DANE_USABLE:
		if (v->v_kind != VERDICT_OK || v->v_source != VERDICT_SRC_DANE ||
		    strcmp(v->v_level, "dane-only") != 0)
			abort();
		return;
	case DANE_PARTIAL:
	case DANE_UNUSABLE:
		if (v->v_kind != VERDICT_OK || v->v_source != VERDICT_SRC_DANE ||
		    strcmp(v->v_level, "dane") != 0)
			abort();
		return;
	default:
		if (v->v_kind == VERDICT_TEMP)
			abort();
		if (v->v_kind == VERDICT_OK && (v->v_source != VERDICT_SRC_MTASTS ||
		    v->v_sts != VERDICT_STS_ENFORCE || v->v_sts_policy == NULL))
			abort();
		if (v->v_sts == VERDICT_STS_ENFORCE && v->v_kind != VERDICT_OK)
			abort();        /* an enforce policy dropped: a downgrade */
		return;
	}
}

/* A name of DETAIL: 1 to CACHEFILE_NAME_MAX printable characters, no space. */
static void
fuzz_check_name(const char *s, bool required)
{
	size_t n;

	if (s == NULL) {
		if (required)
			abort();
		return;
	}
	if ((n = strlen(s)) == 0 || n > CACHEFILE_NAME_MAX)
		abort();
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			abort();
}

/* The MX host detail of a served verdict stays within the format's bounds. */
static void
fuzz_check_hosts(const struct dane_result *d)
{
	unsigned char a[16];
	size_t i, j;

	if (d->dr_no_detail) {
		if (d->dr_nhosts != 0)
			abort();
		return;
	}
	if (d->dr_nhosts > DANE_MAX_HOSTS || d->dr_mx_security > DNS_SEC_INDETERMINATE)
		abort();
	fuzz_check_name(d->dr_domain_canon, false);
	for (i = 0; i < d->dr_nhosts; i++) {
		const struct dane_host *h = &d->dr_hosts[i];

		fuzz_check_name(h->dh_name, true);
		fuzz_check_name(h->dh_canon, false);
		fuzz_check_name(h->dh_tlsa_base, false);
		fuzz_check_name(h->dh_tlsa_owner, false);
		if (h->dh_naddrs > CACHEFILE_HOST_ADDRS_MAX || h->dh_ntlsa > CACHEFILE_HOST_TLSA_MAX ||
		    h->dh_state > DANE_HOST_NOT_CHECKED || h->dh_addr_security > DNS_SEC_INDETERMINATE ||
		    (h->dh_why != NULL && strlen(h->dh_why) > CACHEFILE_REASON_MAX))
			abort();
		for (j = 0; j < h->dh_naddrs; j++)
			if (inet_pton(AF_INET, h->dh_addrs[j], a) != 1 &&
			    inet_pton(AF_INET6, h->dh_addrs[j], a) != 1)
				abort();
		for (j = 0; j < h->dh_ntlsa; j++)
			if (h->dh_tlsa[j].tr_len == 0 || h->dh_tlsa[j].tr_len > CACHEFILE_TLSA_DATA_MAX ||
			    h->dh_tlsa[j].tr_check > TLSA_BAD_DATA)
				abort();
	}
}

/* cachefile_entry_fn of the round trip: fe's DETAIL equals the verdict's. */
static bool
fuzz_roundtrip_entry(void *arg, const struct cachefile_entry *fe)
{
	const struct dane_result *d = arg, *r = fe->cfe_detail;
	size_t i, j;

	if (fe->cfe_dane != d->dr_verdict || strcmp(fe->cfe_dane_reason, d->dr_reason) != 0 ||
	    (r == NULL) != d->dr_no_detail)
		abort();
	if (r == NULL)
		return true;
	if (r->dr_nhosts != d->dr_nhosts || r->dr_mx_security != d->dr_mx_security ||
	    r->dr_implicit_mx != d->dr_implicit_mx || r->dr_rounds != d->dr_rounds ||
	    r->dr_queries != d->dr_queries || r->dr_hosts_dropped != d->dr_hosts_dropped)
		abort();
	for (i = 0; i < d->dr_nhosts; i++) {
		const struct dane_host *a = &d->dr_hosts[i], *b = &r->dr_hosts[i];

		if (strcmp(a->dh_name, b->dh_name) != 0 || a->dh_pref != b->dh_pref ||
		    a->dh_state != b->dh_state || a->dh_naddrs != b->dh_naddrs ||
		    a->dh_ntlsa != b->dh_ntlsa || a->dh_bogus != b->dh_bogus)
			abort();
		for (j = 0; j < a->dh_naddrs; j++)
			if (strcmp(a->dh_addrs[j], b->dh_addrs[j]) != 0)
				abort();
		for (j = 0; j < a->dh_ntlsa; j++)
			if (a->dh_tlsa[j].tr_len != b->dh_tlsa[j].tr_len ||
			    memcmp(a->dh_tlsa[j].tr_data, b->dh_tlsa[j].tr_data, a->dh_tlsa[j].tr_len) != 0 ||
			    a->dh_tlsa[j].tr_check != b->dh_tlsa[j].tr_check)
				abort();
	}
	return true;
}

static bool
fuzz_roundtrip_sts(void *arg, const struct cachefile_sts *fs)
{
	(void)arg;
	(void)fs;
	abort();                /* cachefile_append writes an "e" line only */
}

/* v written again reads back as the same detail; its reports render. */
static void
fuzz_roundtrip(const struct verdict *v, time_t expires)
{
	struct sbuf sb = SBUF_INIT, rep = SBUF_INIT;
	char *line, *dump;
	json_t *js;

	cachefile_append(&sb, v->v_domain, v, expires, NULL, 0, 0);
	line = xstrdup(sbuf_str(&sb));
	line[strcspn(line, "\n")] = '\0';
	if (!cachefile_parse_line(line, fuzz_roundtrip_entry, fuzz_roundtrip_sts, v->v_dane))
		abort();
	report_text(&rep, v->v_dane);
	js = report_json(v->v_dane);
	if (js == NULL || (dump = json_dumps(js, 0)) == NULL)
		abort();
	free(dump);
	json_decref(js);
	free(line);
	sbuf_free(&sb);
	sbuf_free(&rep);
}

/* Does unexpired "e" line l state what v says? */
static bool
fuzz_verdict_stated(const struct fuzz_line *l, const struct verdict *v)
{
	if (!l->fl_verdict || l->fl_expires <= FUZZ_NOW || v->v_dane->dr_verdict != l->fl_dane ||
	    v->v_dane->dr_ttl != l->fl_ttl || strcmp(v->v_dane->dr_reason, l->fl_reason) != 0 ||
	    (l->fl_nhosts < 0) != v->v_dane->dr_no_detail ||
	    (l->fl_nhosts >= 0 && (size_t)l->fl_nhosts != v->v_dane->dr_nhosts))
		return false;
	switch (l->fl_sts) {
	case VERDICT_STS_ABSENT:
	case VERDICT_STS_ERROR:
		return v->v_sts == l->fl_sts && v->v_sts_policy == NULL;
	default:
		return v->v_sts_policy != NULL;
	}
}

static void
fuzz_check_verdicts(struct cache *c, const struct fuzz_rec *r)
{
	size_t i, j;

	for (i = 0; i < r->n; i++) {
		const struct fuzz_line *l = &r->lines[i];
		struct verdict *v;
		time_t last = 0;
		bool stated = false;

		if (!l->fl_verdict)
			continue;
		for (j = 0; j < i; j++)
			if (r->lines[j].fl_verdict && strcmp(r->lines[j].fl_domain, l->fl_domain) == 0)
				break;
		if (j < i)
			continue;       /* this domain was checked at its first line */
		if ((v = cache_lookup(c, l->fl_domain, FUZZ_NOW)) == NULL)
			continue;
		if (strcmp(v->v_dane->dr_domain, l->fl_domain) != 0)
			abort();
		for (j = i; j < r->n; j++) {
			const struct fuzz_line *m = &r->lines[j];

			if (!m->fl_verdict || strcmp(m->fl_domain, l->fl_domain) != 0)
				continue;
			if (m->fl_expires > last)
				last = m->fl_expires;
			if (fuzz_verdict_stated(m, v)) {
				stated = true;
				fuzz_check_policy(v, m->fl_dane);
			}
		}
		if (!stated)
			abort();
		fuzz_check_hosts(v->v_dane);
		fuzz_roundtrip(v, last > FUZZ_NOW ? last : FUZZ_NOW + 1);
		if (v->v_sts_policy != NULL &&
		    !fuzz_policy_stated(r, l->fl_domain, v->v_sts_policy, 0))
			abort();
		/* Never beyond what the file or the configuration allows. */
		if (cache_lookup(c, l->fl_domain, last) != NULL ||
		    cache_lookup(c, l->fl_domain, FUZZ_NOW + (time_t)fuzz_cc->cca_max_ttl) != NULL)
			abort();
	}
}

struct fuzz_store_check {
	const struct fuzz_rec *r;
};

static void
fuzz_check_store_entry(void *arg, const struct stsstore_entry *se)
{
	const struct fuzz_store_check *sc = arg;

	if (se->se_policy == NULL)
		return;
	if (se->se_expires <= FUZZ_NOW ||
	    !fuzz_policy_stated(sc->r, se->se_domain, se->se_policy, se->se_expires))
		abort();
}

/* Every "r " line of the input through the probe result parser. */
static void
fuzz_probes(const char *buf, size_t size)
{
	char *text = xmalloc(size + 1), *line, *save = NULL;
	struct cachefile_probe p, q;
	struct sbuf sb = SBUF_INIT;
	size_t i;
	char *again;

	memcpy(text, buf, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "r ", 2) != 0 || !cachefile_parse_probe(line, &p))
			continue;
		if (p.cfp_res.ps_status > PROBE_ERROR || p.cfp_res.ps_reason > PROBE_R_TLSA_INVALID ||
		    p.cfp_res.ps_bits < 0 || p.cfp_res.ps_bits > UINT16_MAX ||
		    p.cfp_res.ps_dane_depth < -1 || p.cfp_res.ps_dane_depth >= CACHEFILE_PEER_MAX ||
		    p.cfp_peer.cc_n > CACHEFILE_PEER_MAX || p.cfp_res.ps_peer != &p.cfp_peer)
			abort();
		for (i = 0; i < 6; i++)
			if (strlen(p.cfp_s[i]) > CACHEFILE_REASON_MAX)
				abort();
		for (i = 0; i < p.cfp_peer.cc_n; i++)
			if (p.cfp_peer.cc_certs[i].cd_len == 0 ||
			    p.cfp_peer.cc_certs[i].cd_len > CACHEFILE_CERT_MAX)
				abort();
		/* the round trip */
		sbuf_reset(&sb);
		if (!cachefile_append_probe(&sb, &p.cfp_res, p.cfp_expires))
			abort();
		again = xstrdup(sbuf_str(&sb));
		if (!cachefile_parse_probe(again, &q) || q.cfp_expires != p.cfp_expires ||
		    q.cfp_res.ps_status != p.cfp_res.ps_status ||
		    q.cfp_res.ps_reason != p.cfp_res.ps_reason || q.cfp_res.ps_bits != p.cfp_res.ps_bits ||
		    q.cfp_res.ps_dane_depth != p.cfp_res.ps_dane_depth ||
		    q.cfp_peer.cc_n != p.cfp_peer.cc_n)
			abort();
		for (i = 0; i < 6; i++)
			if (strcmp(q.cfp_s[i], p.cfp_s[i]) != 0)
				abort();
		for (i = 0; i < p.cfp_peer.cc_n; i++)
			if (q.cfp_peer.cc_certs[i].cd_len != p.cfp_peer.cc_certs[i].cd_len ||
			    memcmp(q.cfp_peer.cc_certs[i].cd_der, p.cfp_peer.cc_certs[i].cd_der,
			    p.cfp_peer.cc_certs[i].cd_len) != 0)
				abort();
		free(again);
		cachefile_probe_free(&q);
		cachefile_probe_free(&p);
	}
	sbuf_free(&sb);
	free(text);
}

static void
fuzz_setup(void)
{
	struct engine *en;
	struct cfg *cfg;
	char *err = NULL;

	log_set_level(LOG_ERR);         /* a warning per malformed line otherwise */
	iv_init();
	if ((cfg = cfg_load_string(fuzz_conf, "fuzz.conf", &err)) == NULL ||
	    (en = engine_new(cfg, false, &err)) == NULL) {
		fprintf(stderr, "cachefile_fuzz: setup: %s\n", err);
		abort();
	}
	fuzz_gen = generation_new(en);
	fuzz_cc = &generation_engine(fuzz_gen)->en_cfg->c_cache;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_rec rec = { NULL, 0, 0 };
	struct fuzz_store_check sc = { &rec };
	struct cache_stats cs;
	struct stsstore_stats ss;
	struct cache *c;
	char *buf, *err = NULL, *err2 = NULL;
	size_t i, nverdicts = 0;
	FILE *f;
	long n;
	int rc;

	if (fuzz_gen == NULL)
		fuzz_setup();
	if (size == 0)
		return 0;               /* fmemopen() needs a byte; an empty file reads nothing */
	buf = xmalloc(size);
	memcpy(buf, data, size);

	/* What the file states, line by line. */
	if ((f = fmemopen(buf, size, "r")) == NULL)
		abort();
	rc = cachefile_read_stream(f, "fuzz", fuzz_rec_entry, fuzz_rec_sts, &rec, &err);
	fclose(f);
	if ((rc == 0) != (err == NULL))
		abort();
	for (i = 0; i < rec.n; i++)
		nverdicts += rec.lines[i].fl_verdict;

	/* The loader. */
	c = cache_new(fuzz_gen);
	if ((f = fmemopen(buf, size, "r")) == NULL)
		abort();
	n = cache_load_stream(c, f, "fuzz", FUZZ_NOW, &err2);
	fclose(f);
	if ((n < 0) != (rc < 0) || (n < 0) != (err2 != NULL) || (n >= 0 && (size_t)n > nverdicts))
		abort();
	cache_stats(c, &cs);
	stsstore_stats(cache_stsstore(c), &ss);
	if (cs.cs_entries > fuzz_cc->cca_max_entries ||
	    ss.ss_policies + ss.ss_failures > fuzz_cc->cca_max_policies)
		abort();
	stsstore_each(cache_stsstore(c), FUZZ_NOW, fuzz_check_store_entry, &sc);
	fuzz_check_verdicts(c, &rec);
	cache_free(c);
	fuzz_probes(buf, size);
	fuzz_rec_free(&rec);
	free(err);
	free(err2);
	free(buf);
	return 0;
}
