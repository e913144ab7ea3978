/*
 * probeset.c: see probeset.h.
 *
 * A run goes through two phases: addresses for hosts that have none in
 * the DANE result (an unsigned MX RRset: the engine did not look), then
 * one slot per (host, address) joined to a cache entry. An entry is done
 * (a result, until it expires), running (a probe on the wire, with the
 * slots waiting for it) or queued (waiting for a free probe). The run
 * ends when its last slot is filled; the callback always comes from the
 * loop (an iv_task when everything was known at once).
 */
#include "probeset.h"

#include <arpa/inet.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "dns/rdata.h"

#define PC_BUCKETS      1024
#define PC_MAX_ENTRIES  20000

struct pc_waiter {
	struct probeset *pw_ps;
	size_t pw_slot;
	struct pc_waiter *pw_next;
};

struct pc_entry {
	char *pe_key;
	struct pc_entry *pe_next;               /* hash chain */
	struct probecache *pe_pc;
	enum { PE_QUEUED, PE_RUNNING, PE_DONE } pe_state;
	time_t pe_expires;
	unsigned pe_ttl_pass, pe_ttl_fail;      /* of the probe in flight */
	/* the request, kept until the probe starts */
	struct probe_req pe_req;
	struct tlsa_rr *pe_tlsa;
	char *pe_host, *pe_addr, *pe_base, *pe_ca, *pe_helo, *pe_tag;
	char *pe_nexthop, *pe_nexthop2;         /* DANE-TA reference identifiers */
	struct probe *pe_probe;
	struct pc_entry *pe_qnext;              /* queued */
	struct pc_waiter *pe_waiters;
	/* the result (PE_DONE) */
	struct probeset_addr pe_res;
	char *pe_detail, *pe_version, *pe_cipher, *pe_subject, *pe_issuer, *pe_match;
};

struct probecache {
	struct pc_entry *pc_buckets[PC_BUCKETS];
	size_t pc_n;
	unsigned pc_running;
	unsigned pc_max;
	struct pc_entry *pc_qhead, *pc_qtail;
};

struct ps_slot {
	char *sl_host, *sl_addr;
	struct probeset_addr sl_res;            /* strings: the slot's own copies */
	struct pc_entry *sl_entry;              /* while waiting */
	bool sl_filled;
	char *sl_s[6];                          /* detail, version, cipher, subject, issuer, match */
};

struct ps_host {
	struct probeset *ph_ps;
	const struct dane_host *ph_host;
	enum probe_mode ph_mode;
	bool ph_outside_sts;                    /* MTA-STS: not matched by the policy */
	struct dns_query *ph_q[2];
	char **ph_addrs;                        /* looked up here */
	size_t ph_naddrs;
};

struct probeset {
	struct engine *ps_en;
	struct probecache *ps_pc;
	struct verdict *ps_v;
	time_t ps_now;
	probeset_done_fn *ps_done;
	void *ps_arg;
	struct ps_host *ps_hosts;
	size_t ps_nhosts;
	unsigned ps_dns_pending;
	struct ps_slot *ps_slots;
	size_t ps_nslots, ps_slots_cap;
	size_t ps_pending;
	struct iv_task ps_task;                 /* finish from the loop */
	enum probeset_verdict ps_fixed;         /* when decided before probing */
	const char *ps_fixed_note;
	bool ps_decided;
};

const char *
probeset_verdict_name(enum probeset_verdict v)
{
	switch (v) {
	case PROBESET_PASS: return "pass";
	case PROBESET_FAIL: return "fail";
	case PROBESET_TEMP: return "temperror";
	case PROBESET_SKIPPED: return "skipped";
	}
	return "?";
}

const char *
probe_mode_name(enum probe_mode m)
{
	switch (m) {
	case PROBE_DANE: return "dane";
	case PROBE_PKIX: return "pkix";
	case PROBE_NONE: return "none";
	}
	return "?";
}

/* ------------------------------------------------------------- the cache */

struct probecache *
probecache_new(void)
{
	struct probecache *pc = xcalloc(1, sizeof(*pc));

	pc->pc_max = 8;
	return pc;
}

static unsigned
pc_hash(const char *k)
{
	unsigned h = 2166136261u;

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h % PC_BUCKETS;
}

static void
pc_entry_clear_result(struct pc_entry *e)
{
	free(e->pe_detail);
	free(e->pe_version);
	free(e->pe_cipher);
	free(e->pe_subject);
	free(e->pe_issuer);
	free(e->pe_match);
	e->pe_detail = e->pe_version = e->pe_cipher = NULL;
	e->pe_subject = e->pe_issuer = e->pe_match = NULL;
}

static void
pc_entry_clear_req(struct pc_entry *e)
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
pc_entry_free(struct pc_entry *e)
{
	if (e->pe_probe)
		probe_cancel(e->pe_probe);
	pc_entry_clear_req(e);
	pc_entry_clear_result(e);
	free(e->pe_host);
	free(e->pe_addr);
	free(e->pe_key);
	free(e);
}

void
probecache_free(struct probecache *pc)
{
	struct pc_entry *e, *next;
	size_t i;

	if (pc == NULL)
		return;
	for (i = 0; i < PC_BUCKETS; i++)
		for (e = pc->pc_buckets[i]; e != NULL; e = next) {
			next = e->pe_next;
			/* waiters belong to runs that must have been cancelled */
			while (e->pe_waiters) {
				struct pc_waiter *w = e->pe_waiters;

				e->pe_waiters = w->pw_next;
				free(w);
			}
			pc_entry_free(e);
		}
	free(pc);
}

/* Drop expired, finished entries (when the cache is large). */
static void
pc_sweep(struct probecache *pc, time_t now)
{
	struct pc_entry **pp, *e;
	size_t i;

	for (i = 0; i < PC_BUCKETS; i++)
		for (pp = &pc->pc_buckets[i]; (e = *pp) != NULL;) {
			if (e->pe_state == PE_DONE && e->pe_expires <= now && e->pe_waiters == NULL) {
				*pp = e->pe_next;
				pc->pc_n--;
				pc_entry_free(e);
			} else {
				pp = &e->pe_next;
			}
		}
}

static void pc_start_queued(struct probecache *pc);
static void ps_slot_filled(struct probeset *ps, size_t slot);

/* probes_total{result,reason}: one probe ran (a probe cache hit is not one). */
static void
pc_count(const struct probe_result *r)
{
	enum metrics_probe st;
	enum metrics_reason why;

	switch (r->ps_status) {
	case PROBE_PASS:        st = METRICS_PROBE_PASS; break;
	case PROBE_FAIL:        st = METRICS_PROBE_FAIL; break;
	case PROBE_ERROR:
	default:                st = METRICS_PROBE_ERROR; break;
	}
	switch (r->ps_reason) {
	case PROBE_R_STARTTLS_NOT_SUPPORTED:    why = METRICS_REASON_STARTTLS_NOT_SUPPORTED; break;
	case PROBE_R_CERT_HOST_MISMATCH:        why = METRICS_REASON_CERT_HOST_MISMATCH; break;
	case PROBE_R_CERT_EXPIRED:              why = METRICS_REASON_CERT_EXPIRED; break;
	case PROBE_R_CERT_NOT_TRUSTED:          why = METRICS_REASON_CERT_NOT_TRUSTED; break;
	case PROBE_R_VALIDATION_FAILURE:        why = METRICS_REASON_VALIDATION_FAILURE; break;
	case PROBE_R_TLSA_INVALID:              why = METRICS_REASON_TLSA_INVALID; break;
	case PROBE_R_NONE:
	default:                                why = METRICS_REASON_NONE; break;
	}
	metrics_probe(st, why);
}

static void
pc_probe_done(void *arg, const struct probe_result *r)
{
	struct pc_entry *e = arg;
	struct probecache *pc = e->pe_pc;
	struct pc_waiter *w;
	unsigned ttl;

	e->pe_probe = NULL;
	pc->pc_running--;
	pc_count(r);
	e->pe_state = PE_DONE;
	pc_entry_clear_result(e);
	e->pe_detail = xstrdup(r->ps_detail);
	e->pe_version = xstrdup(r->ps_tls_version);
	e->pe_cipher = xstrdup(r->ps_cipher);
	e->pe_subject = xstrdup(r->ps_subject);
	e->pe_issuer = xstrdup(r->ps_issuer);
	e->pe_match = xstrdup(r->ps_dane_match);
	memset(&e->pe_res, 0, sizeof(e->pe_res));
	e->pe_res.pa_host = e->pe_host;
	e->pe_res.pa_addr = e->pe_addr;
	e->pe_res.pa_mode = e->pe_req.pr_mode;
	e->pe_res.pa_status = r->ps_status;
	e->pe_res.pa_reason = r->ps_reason;
	e->pe_res.pa_detail = e->pe_detail;
	e->pe_res.pa_tls_version = e->pe_version;
	e->pe_res.pa_cipher = e->pe_cipher;
	e->pe_res.pa_bits = r->ps_bits;
	e->pe_res.pa_subject = e->pe_subject;
	e->pe_res.pa_issuer = e->pe_issuer;
	e->pe_res.pa_pkix_verified = r->ps_pkix_verified;
	e->pe_res.pa_dane_depth = r->ps_dane_depth;
	e->pe_res.pa_dane_match = e->pe_match;
	e->pe_res.pa_ms = r->ps_elapsed_ms;
	ttl = r->ps_status == PROBE_PASS ? e->pe_ttl_pass : e->pe_ttl_fail;
	e->pe_expires = time(NULL) + (time_t)ttl;
	pc_entry_clear_req(e);
	while ((w = e->pe_waiters) != NULL) {
		e->pe_waiters = w->pw_next;
		ps_slot_filled(w->pw_ps, w->pw_slot);
		free(w);
	}
	pc_start_queued(pc);
}

static void
pc_start_queued(struct probecache *pc)
{
	struct pc_entry *e;

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
		if ((e->pe_probe = probe_start(&e->pe_req, pc_probe_done, e)) == NULL) {
			/* not an address: cannot happen for addresses from DNS */
			struct probe_result r;

			memset(&r, 0, sizeof(r));
			r.ps_status = PROBE_ERROR;
			r.ps_detail = "not an IP address";
			r.ps_tls_version = r.ps_cipher = r.ps_subject = r.ps_issuer = "";
			r.ps_chain = r.ps_dane_match = "";
			r.ps_dane_depth = -1;
			pc_probe_done(e, &r);
		}
	}
}

/* ---------------------------------------------------------------- a run */

static void
ps_free(struct probeset *ps)
{
	size_t i, j;

	if (iv_task_registered(&ps->ps_task))
		iv_task_unregister(&ps->ps_task);
	for (i = 0; i < ps->ps_nhosts; i++) {
		for (j = 0; j < 2; j++)
			if (ps->ps_hosts[i].ph_q[j])
				dns_query_cancel(ps->ps_hosts[i].ph_q[j]);
		for (j = 0; j < ps->ps_hosts[i].ph_naddrs; j++)
			free(ps->ps_hosts[i].ph_addrs[j]);
		free(ps->ps_hosts[i].ph_addrs);
	}
	free(ps->ps_hosts);
	for (i = 0; i < ps->ps_nslots; i++) {
		free(ps->ps_slots[i].sl_host);
		free(ps->ps_slots[i].sl_addr);
		for (j = 0; j < 6; j++)
			free(ps->ps_slots[i].sl_s[j]);
	}
	free(ps->ps_slots);
	verdict_unref(ps->ps_v);
	engine_unref(ps->ps_en);
	free(ps);
}

/* Judge the domain from its slots, call back, free. */
static void
ps_finish(struct probeset *ps)
{
	struct probeset_result r;
	struct probeset_addr *addrs;
	size_t i, h;
	bool any_fail = false, any_policy = false, any_pass = false, host_dead = false;
	char note[256];

	addrs = xcalloc(ps->ps_nslots ? ps->ps_nslots : 1, sizeof(*addrs));
	memset(&r, 0, sizeof(r));
	r.pr_domain = ps->ps_v->v_domain;
	for (i = 0; i < ps->ps_nslots; i++) {
		addrs[i] = ps->ps_slots[i].sl_res;
		/* without a policy nothing can fail: a failed handshake there
		 * is a fact to show, not a verification failure */
		if (addrs[i].pa_mode == PROBE_NONE)
			continue;
		any_policy = true;
		if (addrs[i].pa_status == PROBE_FAIL && !any_fail) {
			any_fail = true;
			r.pr_reason = addrs[i].pa_reason;
		}
		if (addrs[i].pa_status == PROBE_PASS)
			any_pass = true;
	}
	/* a host under a policy none of whose addresses could be probed (no
	 * address at all included): it is not verified */
	for (h = 0; h < ps->ps_nhosts; h++) {
		const char *name = ps->ps_hosts[h].ph_host->dh_name;
		bool seen = false, reached = false;

		if (ps->ps_hosts[h].ph_mode == PROBE_NONE)
			continue;
		for (i = 0; i < ps->ps_nslots; i++)
			if (strcmp(ps->ps_slots[i].sl_host, name) == 0) {
				seen = true;
				if (addrs[i].pa_status != PROBE_ERROR)
					reached = true;
			}
		if (seen && !reached)
			host_dead = true;
	}
	if (ps->ps_decided) {
		r.pr_verdict = ps->ps_fixed;
		r.pr_note = ps->ps_fixed_note;
	} else if (any_fail) {
		r.pr_verdict = PROBESET_FAIL;
		r.pr_note = "at least one MX address failed verification";
	} else if (!any_policy) {
		r.pr_verdict = PROBESET_SKIPPED;
		r.pr_note = ps->ps_nslots ? "no DANE or MTA-STS policy: TLS not authenticated" :
		    "no MX address to probe";
	} else if (host_dead || !any_pass) {
		r.pr_verdict = PROBESET_TEMP;
		r.pr_note = "an MX host could not be reached on any address";
	} else {
		snprintf(note, sizeof(note), "every MX host verified");
		r.pr_verdict = PROBESET_PASS;
		r.pr_note = note;
	}
	r.pr_addrs = addrs;
	r.pr_naddrs = ps->ps_nslots;
	ps->ps_done(ps->ps_arg, &r);
	free(addrs);
	ps_free(ps);
}

static void
ps_task(void *cookie)
{
	ps_finish(cookie);
}

/* Copy an entry's result into the slot (the entry may change later). */
static void
ps_slot_copy(struct ps_slot *sl, const struct probeset_addr *r, bool cached)
{
	const char *src[6] = { r->pa_detail, r->pa_tls_version, r->pa_cipher,
	    r->pa_subject, r->pa_issuer, r->pa_dane_match };
	int i;

	sl->sl_res = *r;
	sl->sl_res.pa_cached = cached;
	sl->sl_res.pa_host = sl->sl_host;
	sl->sl_res.pa_addr = sl->sl_addr;
	for (i = 0; i < 6; i++) {
		free(sl->sl_s[i]);
		sl->sl_s[i] = xstrdup(src[i] ? src[i] : "");
	}
	sl->sl_res.pa_detail = sl->sl_s[0];
	sl->sl_res.pa_tls_version = sl->sl_s[1];
	sl->sl_res.pa_cipher = sl->sl_s[2];
	sl->sl_res.pa_subject = sl->sl_s[3];
	sl->sl_res.pa_issuer = sl->sl_s[4];
	sl->sl_res.pa_dane_match = sl->sl_s[5];
}

static void
ps_slot_filled(struct probeset *ps, size_t slot)
{
	struct ps_slot *sl = &ps->ps_slots[slot];

	ps_slot_copy(sl, &sl->sl_entry->pe_res, false);
	sl->sl_entry = NULL;
	sl->sl_filled = true;
	if (--ps->ps_pending == 0)
		ps_finish(ps);
}

static struct ps_slot *
ps_new_slot(struct probeset *ps, const char *host, const char *addr)
{
	struct ps_slot *sl;

	if (ps->ps_nslots == ps->ps_slots_cap) {
		ps->ps_slots_cap = ps->ps_slots_cap ? 2 * ps->ps_slots_cap : 8;
		ps->ps_slots = xreallocarray(ps->ps_slots, ps->ps_slots_cap, sizeof(*sl));
	}
	sl = &ps->ps_slots[ps->ps_nslots++];
	memset(sl, 0, sizeof(*sl));
	sl->sl_host = xstrdup(host);
	sl->sl_addr = xstrdup(addr);
	sl->sl_res.pa_host = sl->sl_host;
	sl->sl_res.pa_addr = sl->sl_addr;
	sl->sl_res.pa_tls_version = sl->sl_res.pa_cipher = "";
	sl->sl_res.pa_subject = sl->sl_res.pa_issuer = sl->sl_res.pa_dane_match = "";
	sl->sl_res.pa_dane_depth = -1;
	return sl;
}

/* The cache key of one probe. */
static char *
ps_key(const struct ps_host *ph, const char *addr, unsigned port, const struct engine *en)
{
	const struct verdict *v = ph->ph_ps->ps_v;
	bool ps_v_secure_mx = v->v_dane->dr_mx_security == DNS_SEC_SECURE;
	const char *ps_v_domain = v->v_domain;
	const struct dane_host *h = ph->ph_host;
	struct sbuf sb = SBUF_INIT;
	size_t i, j;

	sbuf_printf(&sb, "%s|%s|%u|%s|%s|%s", h->dh_name, addr, port, probe_mode_name(ph->ph_mode),
	    ph->ph_mode == PROBE_DANE && h->dh_tlsa_base ? h->dh_tlsa_base : "",
	    ph->ph_mode == PROBE_PKIX && en->en_cfg->c_mta_sts.cst_ca_file ?
	    en->en_cfg->c_mta_sts.cst_ca_file : "");
	if (ph->ph_mode == PROBE_DANE && ps_v_secure_mx)
		sbuf_printf(&sb, "|nh=%s", ps_v_domain);
	if (ph->ph_mode == PROBE_DANE)
		for (i = 0; i < h->dh_ntlsa; i++) {
			sbuf_printf(&sb, "|%u %u %u ", h->dh_tlsa[i].tr_usage,
			    h->dh_tlsa[i].tr_selector, h->dh_tlsa[i].tr_mtype);
			for (j = 0; j < h->dh_tlsa[i].tr_len; j++)
				sbuf_printf(&sb, "%02x", h->dh_tlsa[i].tr_data[j]);
		}
	return sbuf_steal(&sb);
}

/* log_tls for the domain, or --log. */
static bool
ps_log_tls(const struct probeset *ps)
{
	struct cfg_domain_view view;

	if (ps->ps_en->en_force_log)
		return true;
	cfg_domain_lookup(ps->ps_en->en_cfg, ps->ps_v->v_domain, &view);
	return view.cdv_log_tls;
}

/* Join or create the cache entry for (host, addr) and wait on it. */
static void
ps_add_probe(struct probeset *ps, struct ps_host *ph, const char *addr)
{
	const struct cfg_probe *cp = &ps->ps_en->en_cfg->c_probe;
	const struct dane_host *h = ph->ph_host;
	struct probecache *pc = ps->ps_pc;
	struct ps_slot *sl = ps_new_slot(ps, h->dh_name, addr);
	size_t slot = ps->ps_nslots - 1;
	struct pc_entry *e;
	struct pc_waiter *w;
	char *key = ps_key(ph, addr, cp->cpr_port, ps->ps_en);
	(void)sl;
	unsigned b = pc_hash(key);
	char host[256];

	sl->sl_res.pa_mode = ph->ph_mode;
	for (e = pc->pc_buckets[b]; e != NULL; e = e->pe_next)
		if (strcmp(e->pe_key, key) == 0)
			break;
	if (e != NULL && e->pe_state == PE_DONE && e->pe_expires > ps->ps_now) {
		free(key);
		ps_slot_copy(sl, &e->pe_res, true);
		sl->sl_filled = true;
		return;
	}
	if (e == NULL) {
		if (pc->pc_n >= PC_MAX_ENTRIES)
			pc_sweep(pc, ps->ps_now);
		e = xcalloc(1, sizeof(*e));
		e->pe_key = key;
		e->pe_pc = pc;
		e->pe_host = xstrdup(h->dh_name);
		e->pe_addr = xstrdup(addr);
		e->pe_next = pc->pc_buckets[b];
		pc->pc_buckets[b] = e;
		pc->pc_n++;
		e->pe_state = PE_DONE;
		e->pe_expires = 0;
	} else {
		free(key);
	}
	if (e->pe_state == PE_DONE) {
		/* (re)start: build the request */
		pc_entry_clear_req(e);
		memset(&e->pe_req, 0, sizeof(e->pe_req));
		e->pe_req.pr_port = cp->cpr_port;
		e->pe_req.pr_mode = ph->ph_mode;
		e->pe_req.pr_timeout_ms = cp->cpr_timeout_ms;
		e->pe_ttl_pass = cp->cpr_ttl;
		e->pe_ttl_fail = cp->cpr_fail_ttl;
		e->pe_base = h->dh_tlsa_base ? xstrdup(h->dh_tlsa_base) : NULL;
		/* RFC 7672 §3.2.2: with a secure MX RRset the next-hop domain
		 * (and its CNAME-expanded form) are reference identifiers too */
		if (ph->ph_mode == PROBE_DANE &&
		    ps->ps_v->v_dane->dr_mx_security == DNS_SEC_SECURE) {
			e->pe_nexthop = xstrdup(ps->ps_v->v_domain);
			if (ps->ps_v->v_dane->dr_domain_canon != NULL)
				e->pe_nexthop2 = xstrdup(ps->ps_v->v_dane->dr_domain_canon);
		}
		e->pe_ca = ps->ps_en->en_cfg->c_mta_sts.cst_ca_file ?
		    xstrdup(ps->ps_en->en_cfg->c_mta_sts.cst_ca_file) : NULL;
		if (*cp->cpr_helo != '\0')
			e->pe_helo = xstrdup(cp->cpr_helo);
		else if (gethostname(host, sizeof(host) - 1) == 0 && strchr(host, '.') != NULL)
			e->pe_helo = xstrdup(host);
		else
			e->pe_helo = xstrdup("localhost.localdomain");
		if (ps_log_tls(ps))
			e->pe_tag = xasprintf("%s: %s[%s]", ps->ps_v->v_domain, h->dh_name, addr);
		if (ph->ph_mode == PROBE_DANE) {
			e->pe_tlsa = tlsa_rrs_dup(h->dh_tlsa, h->dh_ntlsa);
			e->pe_req.pr_ntlsa = h->dh_ntlsa;
		}
		e->pe_state = PE_QUEUED;
		if (pc->pc_qtail)
			pc->pc_qtail->pe_qnext = e;
		else
			pc->pc_qhead = e;
		pc->pc_qtail = e;
	}
	w = xcalloc(1, sizeof(*w));
	w->pw_ps = ps;
	w->pw_slot = slot;
	w->pw_next = e->pe_waiters;
	e->pe_waiters = w;
	sl->sl_entry = e;
	ps->ps_pending++;
}

/* ------------------------------------------------------------ planning */

/* Slots for one host: its addresses (or one judged without a probe). */
static void
ps_plan_host(struct probeset *ps, struct ps_host *ph)
{
	const struct dane_host *h = ph->ph_host;
	char **addrs = h->dh_naddrs ? h->dh_addrs : ph->ph_addrs;
	size_t n = h->dh_naddrs ? h->dh_naddrs : ph->ph_naddrs, i;
	struct in6_addr a6;
	struct ps_slot *sl;

	if (ph->ph_outside_sts) {
		sl = ps_new_slot(ps, h->dh_name, "-");
		sl->sl_res.pa_mode = PROBE_PKIX;
		sl->sl_res.pa_status = PROBE_FAIL;
		sl->sl_res.pa_reason = PROBE_R_CERT_HOST_MISMATCH;
		sl->sl_s[0] = xstrdup("MX host not matched by the MTA-STS policy's mx patterns");
		sl->sl_res.pa_detail = sl->sl_s[0];
		sl->sl_filled = true;
		return;
	}
	if (n == 0 || (ph->ph_mode == PROBE_DANE && (h->dh_state == DANE_HOST_ERROR ||
	    h->dh_state == DANE_HOST_UNREACHABLE))) {
		sl = ps_new_slot(ps, h->dh_name, "-");
		sl->sl_res.pa_mode = ph->ph_mode;
		sl->sl_res.pa_status = PROBE_ERROR;
		sl->sl_s[0] = xasprintf("%s%s%s", n == 0 ? "no address to probe" :
		    "its DNS lookups failed", h->dh_why ? ": " : "", h->dh_why ? h->dh_why : "");
		sl->sl_res.pa_detail = sl->sl_s[0];
		sl->sl_filled = true;
		return;
	}
	for (i = 0; i < n; i++) {
		if (inet_pton(AF_INET, addrs[i], &a6) != 1 && inet_pton(AF_INET6, addrs[i], &a6) != 1)
			continue;
		ps_add_probe(ps, ph, addrs[i]);
	}
}

static void
ps_plan(struct probeset *ps)
{
	size_t i;

	for (i = 0; i < ps->ps_nhosts; i++)
		ps_plan_host(ps, &ps->ps_hosts[i]);
	pc_start_queued(ps->ps_pc);
	if (ps->ps_pending == 0)
		iv_task_register(&ps->ps_task);
}

static void
ps_dns_done(void *arg, const struct dns_answer *ans)
{
	struct ps_host *ph = arg;
	struct probeset *ps = ph->ph_ps;
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	ph->ph_q[ans->da_qtype == DNS_TYPE_A ? 0 : 1] = NULL;
	if (ans->da_status == DNS_RECORDS)
		for (i = 0; i < ans->da_nrr; i++) {
			const struct dns_rdata *rr = &ans->da_rr[i];

			if (!((ans->da_qtype == DNS_TYPE_A && rr->dr_len == 4 &&
			    inet_ntop(AF_INET, rr->dr_data, buf, sizeof(buf))) ||
			    (ans->da_qtype == DNS_TYPE_AAAA && rr->dr_len == 16 &&
			    inet_ntop(AF_INET6, rr->dr_data, buf, sizeof(buf)))))
				continue;
			ph->ph_addrs = xreallocarray(ph->ph_addrs, ph->ph_naddrs + 1, sizeof(char *));
			ph->ph_addrs[ph->ph_naddrs++] = xstrdup(buf);
		}
	if (--ps->ps_dns_pending == 0)
		ps_plan(ps);
}

struct probeset *
probeset_start(struct engine *en, struct probecache *pc, const struct verdict *v,
    time_t now, probeset_done_fn *done, void *arg)
{
	const struct dane_result *dr = v->v_dane;
	struct probeset *ps = xcalloc(1, sizeof(*ps));
	bool dane_applies, sts_applies;
	size_t i, k;

	ps->ps_en = engine_ref(en);
	ps->ps_pc = pc;
	ps->ps_v = verdict_ref((struct verdict *)v);
	ps->ps_now = now;
	ps->ps_done = done;
	ps->ps_arg = arg;
	IV_TASK_INIT(&ps->ps_task);
	ps->ps_task.cookie = ps;
	ps->ps_task.handler = ps_task;
	pc->pc_max = en->en_cfg->c_probe.cpr_max_parallel;

	if (v->v_kind == VERDICT_TEMP) {
		ps->ps_decided = true;
		ps->ps_fixed = PROBESET_TEMP;
		ps->ps_fixed_note = "the domain's lookups failed: nothing to probe against";
		iv_task_register(&ps->ps_task);
		return ps;
	}
	if (dr->dr_verdict == DANE_NULLMX) {
		ps->ps_decided = true;
		ps->ps_fixed = PROBESET_SKIPPED;
		ps->ps_fixed_note = "null MX: the domain accepts no mail";
		iv_task_register(&ps->ps_task);
		return ps;
	}
	dane_applies = dr->dr_verdict == DANE_USABLE || dr->dr_verdict == DANE_PARTIAL ||
	    dr->dr_verdict == DANE_UNUSABLE;
	sts_applies = !dane_applies && v->v_sts_policy != NULL &&
	    (v->v_sts == VERDICT_STS_ENFORCE || v->v_sts == VERDICT_STS_TESTING);
	ps->ps_nhosts = dr->dr_nhosts;
	ps->ps_hosts = xcalloc(dr->dr_nhosts ? dr->dr_nhosts : 1, sizeof(*ps->ps_hosts));
	for (i = 0; i < dr->dr_nhosts; i++) {
		struct ps_host *ph = &ps->ps_hosts[i];
		const struct dane_host *h = &dr->dr_hosts[i];

		ph->ph_ps = ps;
		ph->ph_host = h;
		/* under DANE a host whose lookups failed is not verified
		 * either: it stays under the policy (and is reported as not
		 * probed); only hosts without TLSA get opportunistic TLS */
		if (dane_applies)
			ph->ph_mode = h->dh_state == DANE_HOST_NO_TLSA || h->dh_state == DANE_HOST_INSECURE ?
			    PROBE_NONE : PROBE_DANE;
		else if (sts_applies)
			ph->ph_mode = PROBE_PKIX;
		else
			ph->ph_mode = PROBE_NONE;
		if (sts_applies) {
			ph->ph_outside_sts = true;
			for (k = 0; k < v->v_sts_policy->mp_nmx; k++)
				if (mtasts_mx_match(v->v_sts_policy->mp_mx[k], h->dh_name))
					ph->ph_outside_sts = false;
		}
	}
	/* hosts of an unsigned MX RRset: the engine did not look up addresses */
	for (i = 0; i < ps->ps_nhosts; i++) {
		struct ps_host *ph = &ps->ps_hosts[i];

		if (ph->ph_host->dh_naddrs != 0 || ph->ph_outside_sts ||
		    ph->ph_host->dh_state != DANE_HOST_NOT_CHECKED)
			continue;
		ps->ps_dns_pending += 2;
		ph->ph_q[0] = dns_query_start(en->en_dns, ph->ph_host->dh_name, DNS_TYPE_A,
		    engine_logtag(en, v->v_domain), ps_dns_done, ph);
		ph->ph_q[1] = dns_query_start(en->en_dns, ph->ph_host->dh_name, DNS_TYPE_AAAA,
		    engine_logtag(en, v->v_domain), ps_dns_done, ph);
	}
	if (ps->ps_dns_pending == 0)
		ps_plan(ps);
	return ps;
}

void
probeset_cancel(struct probeset *ps)
{
	struct pc_waiter **pp, *w;
	size_t i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->ps_nslots; i++) {
		struct pc_entry *e = ps->ps_slots[i].sl_entry;

		if (e == NULL)
			continue;
		for (pp = &e->pe_waiters; (w = *pp) != NULL;)
			if (w->pw_ps == ps) {
				*pp = w->pw_next;
				free(w);
			} else {
				pp = &w->pw_next;
			}
	}
	ps_free(ps);
}
