/*
 * probecache.c: see probecache.h.
 *
 * A chained hash table (FNV-1a, fixed bucket count) of entries and one
 * FIFO of queued entries. An entry keeps its request (with its own copies
 * of every string and of the TLSA RRset) from probecache_join() until the
 * probe ends, and its result (its own copies of the strings) from then on.
 * Waiters are called newest first, each taken off the list before its
 * callback runs, so a callback may cancel other waits or join again.
 */
#include "probecache.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "policy/cachefile.h"
#include "policy/shared.h"
#include "tls/hmac.h"

#define PROBECACHE_BUCKETS      1024
#define PROBECACHE_MAX_ENTRIES  20000

struct probecache_entry;

struct probecache_wait {
	struct probecache_entry *pw_entry;
	probecache_done_fn *pw_done;
	void *pw_arg;
	size_t pw_slot;
	struct probecache_wait *pw_next;
};

struct probecache_entry {
	char *pe_key;
	struct probecache_entry *pe_next;       /* hash chain */
	struct probecache *pe_pc;
	enum { PE_ASKING, PE_QUEUED, PE_RUNNING, PE_DONE } pe_state;
	struct shared_req *pe_fetch;            /* PE_ASKING: the fleet's value asked for */
	time_t pe_expires;
	unsigned pe_ttl_pass, pe_ttl_fail;      /* of the probe in flight */
	/* the request, kept until the probe ends */
	struct probe_req pe_req;
	struct tlsa_rr *pe_tlsa;
	char *pe_host, *pe_addr, *pe_base, *pe_ca, *pe_helo, *pe_tag;
	char *pe_nexthop, *pe_nexthop2;         /* DANE-TA reference identifiers */
	struct probe *pe_probe;
	struct probecache_entry *pe_qnext;      /* queued */
	struct probecache_wait *pe_waiters;
	/* the result (PE_DONE) */
	struct probe_result pe_res;
	char *pe_detail, *pe_version, *pe_cipher, *pe_subject, *pe_issuer, *pe_match;
	struct cert_chain pe_peer;              /* the server's certificates */
};

struct probecache {
	struct probecache_entry *pc_buckets[PROBECACHE_BUCKETS];
	size_t pc_n;
	unsigned pc_running;
	unsigned pc_max;
	struct probecache_entry *pc_qhead, *pc_qtail;
	struct shared *pc_shared;               /* the fleet's cache, or NULL */
};

struct probecache *
probecache_new(void)
{
	struct probecache *pc = xcalloc(1, sizeof(*pc));

	pc->pc_max = 8;
	return pc;
}

void
probecache_set_shared(struct probecache *pc, struct shared *s)
{
	pc->pc_shared = s;
}

void
probecache_set_max_parallel(struct probecache *pc, unsigned max)
{
	pc->pc_max = max;
}

static unsigned
probecache_hash(const char *k)
{
	unsigned h = 2166136261u;

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h % PROBECACHE_BUCKETS;
}

static void
probecache_clear_result(struct probecache_entry *e)
{
	free(e->pe_detail);
	free(e->pe_version);
	free(e->pe_cipher);
	free(e->pe_subject);
	free(e->pe_issuer);
	free(e->pe_match);
	e->pe_detail = e->pe_version = e->pe_cipher = NULL;
	e->pe_subject = e->pe_issuer = e->pe_match = NULL;
	cert_chain_free(&e->pe_peer);
}

static void
probecache_clear_req(struct probecache_entry *e)
{
	tlsa_rrs_free(e->pe_tlsa, e->pe_req.pr_ntlsa);
	free(e->pe_base);
	free(e->pe_ca);
	free(e->pe_helo);
	free(e->pe_tag);
	free(e->pe_nexthop);
	free(e->pe_nexthop2);
	e->pe_tlsa = NULL;
	e->pe_base = e->pe_ca = e->pe_helo = e->pe_tag = NULL;
	e->pe_nexthop = e->pe_nexthop2 = NULL;
}

static void
probecache_entry_free(struct probecache_entry *e)
{
	if (e->pe_fetch)
		shared_cancel(e->pe_fetch);
	if (e->pe_probe)
		probe_cancel(e->pe_probe);
	probecache_clear_req(e);
	probecache_clear_result(e);
	free(e->pe_host);
	free(e->pe_addr);
	free(e->pe_key);
	free(e);
}

void
probecache_free(struct probecache *pc)
{
	struct probecache_entry *e, *next;
	size_t i;

	if (pc == NULL)
		return;
	for (i = 0; i < PROBECACHE_BUCKETS; i++)
		for (e = pc->pc_buckets[i]; e != NULL; e = next) {
			next = e->pe_next;
			/* waiters belong to runs that must have been cancelled */
			while (e->pe_waiters) {
				struct probecache_wait *w = e->pe_waiters;

				e->pe_waiters = w->pw_next;
				free(w);
			}
			probecache_entry_free(e);
		}
	free(pc);
}

/* Drop expired, finished entries (when the cache is large). */
static void
probecache_sweep(struct probecache *pc, time_t now)
{
	struct probecache_entry **pp, *e;
	size_t i;

	for (i = 0; i < PROBECACHE_BUCKETS; i++)
		for (pp = &pc->pc_buckets[i]; (e = *pp) != NULL;) {
			if (e->pe_state == PE_DONE && e->pe_expires <= now && e->pe_waiters == NULL) {
				*pp = e->pe_next;
				pc->pc_n--;
				probecache_entry_free(e);
			} else {
				pp = &e->pe_next;
			}
		}
}

/* ---- metrics ---- */

/* probes_total{result,reason}: indexed by enum probe_status, enum probe_reason. */
static const char *const probecache_metric_results[] = {
	[PROBE_PASS] = "pass",
	[PROBE_FAIL] = "fail",
	[PROBE_ERROR] = "error"
};
static const char *const probecache_metric_reasons[] = {
	[PROBE_R_NONE] = "none",
	[PROBE_R_STARTTLS_NOT_SUPPORTED] = "starttls-not-supported",
	[PROBE_R_CERT_HOST_MISMATCH] = "certificate-host-mismatch",
	[PROBE_R_CERT_EXPIRED] = "certificate-expired",
	[PROBE_R_CERT_NOT_TRUSTED] = "certificate-not-trusted",
	[PROBE_R_VALIDATION_FAILURE] = "validation-failure",
	[PROBE_R_TLSA_INVALID] = "tlsa-invalid"
};
_Static_assert(METRICS_NELEM(probecache_metric_results) == PROBE_ERROR + 1,
    "a name per probe_status");
_Static_assert(METRICS_NELEM(probecache_metric_reasons) == PROBE_R_TLSA_INVALID + 1,
    "a name per probe_reason");

static struct metrics_family probecache_probes_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_probes_total",
	    "TLS probes of MX hosts run (not probe cache hits), by result and RFC 8460 reason."),
	METRICS_LABEL2("result", probecache_metric_results, "reason", probecache_metric_reasons),
};

void
probecache_metrics_register(void)
{
	metrics_register(&probecache_probes_metric);
}

/* probes_total{result,reason}: one probe ran (a probe cache hit is not one). */
static void
probecache_count(const struct probe_result *r)
{
	metrics_inc(&probecache_probes_metric, r->ps_status, r->ps_reason);
}

/* The fleet's name for key: its SHA-256 (an HMAC under a fixed label),
 * whatever the key's length. */
static void
probecache_shared_name(const char *key, char hex[HMAC_SHA256_HEXLEN + 1])
{
	static const char label[] = "danemilter probe cache key";
	const void *part[1] = { key };
	size_t len[1] = { strlen(key) };

	hmac_sha256_hex(label, sizeof(label) - 1, part, len, 1, hex);
}

/* Keep r as e's result until expires, call the waiters, start the next
 * probes. */
static void
probecache_keep(struct probecache_entry *e, const struct probe_result *r, time_t expires)
{
	struct probecache *pc = e->pe_pc;
	struct probecache_wait *w;

	e->pe_state = PE_DONE;
	probecache_clear_result(e);
	e->pe_detail = xstrdup(r->ps_detail);
	e->pe_version = xstrdup(r->ps_tls_version);
	e->pe_cipher = xstrdup(r->ps_cipher);
	e->pe_subject = xstrdup(r->ps_subject);
	e->pe_issuer = xstrdup(r->ps_issuer);
	e->pe_match = xstrdup(r->ps_dane_match);
	memset(&e->pe_res, 0, sizeof(e->pe_res));
	e->pe_res.ps_status = r->ps_status;
	e->pe_res.ps_reason = r->ps_reason;
	e->pe_res.ps_detail = e->pe_detail;
	e->pe_res.ps_tls_version = e->pe_version;
	e->pe_res.ps_cipher = e->pe_cipher;
	e->pe_res.ps_bits = r->ps_bits;
	e->pe_res.ps_subject = e->pe_subject;
	e->pe_res.ps_issuer = e->pe_issuer;
	e->pe_res.ps_chain = "";
	e->pe_res.ps_pkix_verified = r->ps_pkix_verified;
	e->pe_res.ps_dane_depth = r->ps_dane_depth;
	e->pe_res.ps_dane_match = e->pe_match;
	e->pe_res.ps_elapsed_ms = r->ps_elapsed_ms;
	cert_chain_copy(&e->pe_peer, r->ps_peer->cc_certs, r->ps_peer->cc_n);
	e->pe_res.ps_peer = &e->pe_peer;
	e->pe_expires = expires;
	probecache_clear_req(e);
	while ((w = e->pe_waiters) != NULL) {
		e->pe_waiters = w->pw_next;
		w->pw_done(w->pw_arg, w->pw_slot, &e->pe_res);
		free(w);
	}
	probecache_run(pc);
}

/* probe_done_fn: keep the result (and give it to the fleet), call the
 * waiters, start the next probes. */
static void
probecache_probe_done(void *arg, const struct probe_result *r)
{
	struct probecache_entry *e = arg;
	struct probecache *pc = e->pe_pc;
	unsigned ttl;
	time_t now = time(NULL);

	e->pe_probe = NULL;
	pc->pc_running--;
	probecache_count(r);
	ttl = r->ps_status == PROBE_PASS ? e->pe_ttl_pass : e->pe_ttl_fail;
	if (pc->pc_shared != NULL && ttl > 0) {
		struct sbuf sb = SBUF_INIT;
		char name[HMAC_SHA256_HEXLEN + 1];

		probecache_shared_name(e->pe_key, name);
		if (cachefile_append_probe(&sb, r, now + (time_t)ttl))
			shared_put(pc->pc_shared, "probe", name, sbuf_str(&sb), (int64_t)ttl * 1000);
		sbuf_free(&sb);
	}
	probecache_keep(e, r, now + (time_t)ttl);
}

static void
probecache_enqueue(struct probecache_entry *e)
{
	struct probecache *pc = e->pe_pc;

	e->pe_state = PE_QUEUED;
	if (pc->pc_qtail)
		pc->pc_qtail->pe_qnext = e;
	else
		pc->pc_qhead = e;
	pc->pc_qtail = e;
}

/* shared_fetch_fn: the fleet's result for e's probe (then no probe here,
 * until it expires), or none: probe. */
static void
probecache_fetched(void *arg, const char *payload)
{
	struct probecache_entry *e = arg;
	struct probecache *pc = e->pe_pc;
	struct cachefile_probe fp;
	time_t now = time(NULL), expires;
	unsigned ttl;
	char *buf;

	e->pe_fetch = NULL;
	if (payload != NULL) {
		buf = xstrdup(payload);
		if (!cachefile_parse_probe(buf, &fp)) {
			char name[HMAC_SHA256_HEXLEN + 8];

			snprintf(name, sizeof(name), "probe:");
			probecache_shared_name(e->pe_key, name + 6);
			shared_reject(pc->pc_shared, name, "a malformed probe result");
		} else if (fp.cfp_expires > now) {
			/* never longer than this member would keep its own */
			ttl = fp.cfp_res.ps_status == PROBE_PASS ? e->pe_ttl_pass : e->pe_ttl_fail;
			expires = fp.cfp_expires < now + (time_t)ttl ? fp.cfp_expires : now + (time_t)ttl;
			log_debug("probe cache: %s[%s]: the fleet's result (%s), no probe",
			    e->pe_host, e->pe_addr, probe_status_name(fp.cfp_res.ps_status));
			free(buf);
			probecache_keep(e, &fp.cfp_res, expires);
			cachefile_probe_free(&fp);
			return;
		} else {
			cachefile_probe_free(&fp);
		}
		free(buf);
	}
	probecache_enqueue(e);
	probecache_run(pc);
}

void
probecache_run(struct probecache *pc)
{
	struct probecache_entry *e;

	while (pc->pc_running < pc->pc_max && (e = pc->pc_qhead) != NULL) {
		pc->pc_qhead = e->pe_qnext;
		if (pc->pc_qhead == NULL)
			pc->pc_qtail = NULL;
		e->pe_qnext = NULL;
		e->pe_req.pr_host = e->pe_host;
		e->pe_req.pr_addr = e->pe_addr;
		e->pe_req.pr_tlsa_base = e->pe_base;
		e->pe_req.pr_tlsa = e->pe_tlsa;
		e->pe_req.pr_ca_file = e->pe_ca;
		e->pe_req.pr_helo = e->pe_helo;
		e->pe_req.pr_logtag = e->pe_tag;
		e->pe_req.pr_nexthop = e->pe_nexthop;
		e->pe_req.pr_nexthop2 = e->pe_nexthop2;
		e->pe_state = PE_RUNNING;
		pc->pc_running++;
		if ((e->pe_probe = probe_start(&e->pe_req, probecache_probe_done, e)) == NULL) {
			/* not an address: cannot happen for addresses from DNS */
			struct probe_result r;
			struct cert_chain none = { NULL, 0 };

			memset(&r, 0, sizeof(r));
			r.ps_peer = &none;
			r.ps_status = PROBE_ERROR;
			r.ps_detail = "not an IP address";
			r.ps_tls_version = r.ps_cipher = r.ps_subject = r.ps_issuer = "";
			r.ps_chain = r.ps_dane_match = "";
			r.ps_dane_depth = -1;
			probecache_probe_done(e, &r);
		}
	}
}

static struct probecache_entry *
probecache_find(struct probecache *pc, const char *key, unsigned b)
{
	struct probecache_entry *e;

	for (e = pc->pc_buckets[b]; e != NULL; e = e->pe_next)
		if (strcmp(e->pe_key, key) == 0)
			break;
	return e;
}

const struct probe_result *
probecache_lookup(struct probecache *pc, const char *key, time_t now)
{
	struct probecache_entry *e = probecache_find(pc, key, probecache_hash(key));

	if (e != NULL && e->pe_state == PE_DONE && e->pe_expires > now)
		return &e->pe_res;
	return NULL;
}

static char *
probecache_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct probecache_wait *
probecache_join(struct probecache *pc, const char *key, const struct probe_req *req,
    unsigned ttl_pass, unsigned ttl_fail, time_t now, probecache_done_fn *done, void *arg,
    size_t slot)
{
	unsigned b = probecache_hash(key);
	struct probecache_entry *e = probecache_find(pc, key, b);
	struct probecache_wait *w;

	if (e == NULL) {
		if (pc->pc_n >= PROBECACHE_MAX_ENTRIES)
			probecache_sweep(pc, now);
		e = xcalloc(1, sizeof(*e));
		e->pe_key = xstrdup(key);
		e->pe_pc = pc;
		e->pe_host = xstrdup(req->pr_host);
		e->pe_addr = xstrdup(req->pr_addr);
		e->pe_next = pc->pc_buckets[b];
		pc->pc_buckets[b] = e;
		pc->pc_n++;
		e->pe_state = PE_DONE;
		e->pe_expires = 0;
	}
	if (e->pe_state == PE_DONE) {
		/* (re)start: keep a copy of the request */
		probecache_clear_req(e);
		memset(&e->pe_req, 0, sizeof(e->pe_req));
		e->pe_req.pr_port = req->pr_port;
		e->pe_req.pr_mode = req->pr_mode;
		e->pe_req.pr_timeout_ms = req->pr_timeout_ms;
		e->pe_ttl_pass = ttl_pass;
		e->pe_ttl_fail = ttl_fail;
		e->pe_base = probecache_strdup(req->pr_tlsa_base);
		e->pe_nexthop = probecache_strdup(req->pr_nexthop);
		e->pe_nexthop2 = probecache_strdup(req->pr_nexthop2);
		e->pe_ca = probecache_strdup(req->pr_ca_file);
		e->pe_helo = probecache_strdup(req->pr_helo);
		e->pe_tag = probecache_strdup(req->pr_logtag);
		if (req->pr_tlsa != NULL) {
			e->pe_tlsa = tlsa_rrs_dup(req->pr_tlsa, req->pr_ntlsa);
			e->pe_req.pr_ntlsa = req->pr_ntlsa;
		}
		e->pe_fetch = NULL;
		if (pc->pc_shared != NULL) {
			char name[HMAC_SHA256_HEXLEN + 1];

			probecache_shared_name(key, name);
			e->pe_fetch = shared_fetch(pc->pc_shared, "probe", name,
			    shared_timeout_ms(pc->pc_shared), probecache_fetched, e);
		}
		if (e->pe_fetch != NULL)
			e->pe_state = PE_ASKING;        /* the fleet first */
		else
			probecache_enqueue(e);
	}
	w = xcalloc(1, sizeof(*w));
	w->pw_entry = e;
	w->pw_done = done;
	w->pw_arg = arg;
	w->pw_slot = slot;
	w->pw_next = e->pe_waiters;
	e->pe_waiters = w;
	return w;
}

void
probecache_wait_cancel(struct probecache_wait *w)
{
	struct probecache_wait **pp;

	for (pp = &w->pw_entry->pe_waiters; *pp != NULL; pp = &(*pp)->pw_next)
		if (*pp == w) {
			*pp = w->pw_next;
			break;
		}
	free(w);
}
