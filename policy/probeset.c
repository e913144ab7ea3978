/*
 * probeset.c: see probeset.h.
 *
 * A run goes through two phases: addresses for hosts that have none in
 * the DANE result (an unsigned MX RRset: the engine did not look), then
 * one slot per (host, address), filled from the probe cache
 * (policy/probecache.c) at once or when the probe it waits for ends. The
 * run ends when its last slot is filled; the callback always comes from
 * the loop (an iv_task when everything was known at once).
 */
#include "probeset.h"

#include <arpa/inet.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"

struct ps_slot {
	char *sl_host, *sl_addr;
	struct probeset_addr sl_res;            /* strings: the slot's own copies */
	struct probecache_wait *sl_wait;        /* while waiting */
	bool sl_filled;
	char *sl_s[6];                          /* detail, version, cipher, subject, issuer, match */
	struct cert_chain sl_peer;              /* the server's certificates */
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
	const struct dane_result *ps_dr;        /* the hosts planned: ps_v's, or ps_fresh */
	struct dane_result *ps_fresh;           /* looked up again (a verdict without detail) */
	struct dane_lookup *ps_lookup;          /* ... while in flight */
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

static void ps_slot_filled(void *arg, size_t slot, const struct probe_result *r);

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
		cert_chain_free(&ps->ps_slots[i].sl_peer);
	}
	free(ps->ps_slots);
	if (ps->ps_lookup != NULL)
		dane_lookup_cancel(ps->ps_lookup);
	if (ps->ps_fresh != NULL)
		dane_result_free(ps->ps_fresh);
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
		addrs[i].pa_peer = &ps->ps_slots[i].sl_peer;
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

/* Copy a probe cache result into the slot (the entry may change later).
 * The slot's mode stays: the cache key holds it. */
static void
ps_slot_copy(struct ps_slot *sl, const struct probe_result *r, bool cached)
{
	const char *src[6] = { r->ps_detail, r->ps_tls_version, r->ps_cipher,
	    r->ps_subject, r->ps_issuer, r->ps_dane_match };
	int i;

	sl->sl_res.pa_status = r->ps_status;
	sl->sl_res.pa_reason = r->ps_reason;
	sl->sl_res.pa_bits = r->ps_bits;
	sl->sl_res.pa_pkix_verified = r->ps_pkix_verified;
	sl->sl_res.pa_dane_depth = r->ps_dane_depth;
	sl->sl_res.pa_ms = r->ps_elapsed_ms;
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
	cert_chain_free(&sl->sl_peer);
	cert_chain_copy(&sl->sl_peer, r->ps_peer->cc_certs, r->ps_peer->cc_n);
}

/* probecache_done_fn: the probe a slot waited for ended. */
static void
ps_slot_filled(void *arg, size_t slot, const struct probe_result *r)
{
	struct probeset *ps = arg;
	struct ps_slot *sl = &ps->ps_slots[slot];

	ps_slot_copy(sl, r, false);
	sl->sl_wait = NULL;
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
	bool ps_v_secure_mx = ph->ph_ps->ps_dr->dr_mx_security == DNS_SEC_SECURE;
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

/* The slot for (host, addr): a cached result, or a wait for a probe. */
static void
ps_add_probe(struct probeset *ps, struct ps_host *ph, const char *addr)
{
	const struct cfg_probe *cp = &ps->ps_en->en_cfg->c_probe;
	const struct dane_host *h = ph->ph_host;
	struct ps_slot *sl = ps_new_slot(ps, h->dh_name, addr);
	size_t slot = ps->ps_nslots - 1;
	char *key = ps_key(ph, addr, cp->cpr_port, ps->ps_en), *tag = NULL;
	const struct probe_result *hit;
	struct probe_req req;
	char host[256] = "";

	sl->sl_res.pa_mode = ph->ph_mode;
	if ((hit = probecache_lookup(ps->ps_pc, key, ps->ps_now)) != NULL) {
		free(key);
		ps_slot_copy(sl, hit, true);
		sl->sl_filled = true;
		return;
	}
	/* the request, should the cache have to start a probe */
	memset(&req, 0, sizeof(req));
	req.pr_host = h->dh_name;
	req.pr_addr = addr;
	req.pr_port = cp->cpr_port;
	req.pr_mode = ph->ph_mode;
	req.pr_timeout_ms = cp->cpr_timeout_ms;
	/* RFC 7672 §3.2.2: behind an unsigned MX RRset the MX host name is
	 * the only DANE-TA reference identifier */
	req.pr_tlsa_base = ps->ps_dr->dr_mx_security == DNS_SEC_SECURE ? h->dh_tlsa_base :
	    h->dh_name;
	/* RFC 7672 §3.2.2: with a secure MX RRset the next-hop domain
	 * (and its CNAME-expanded form) are reference identifiers too */
	if (ph->ph_mode == PROBE_DANE && ps->ps_dr->dr_mx_security == DNS_SEC_SECURE) {
		req.pr_nexthop = ps->ps_v->v_domain;
		req.pr_nexthop2 = ps->ps_dr->dr_domain_canon;
	}
	req.pr_ca_file = ps->ps_en->en_cfg->c_mta_sts.cst_ca_file;
	if (*cp->cpr_helo != '\0')
		req.pr_helo = cp->cpr_helo;
	else if (gethostname(host, sizeof(host) - 1) == 0 && strchr(host, '.') != NULL)
		req.pr_helo = host;
	else
		req.pr_helo = "localhost.localdomain";
	if (ps_log_tls(ps))
		req.pr_logtag = tag = xasprintf("%s: %s[%s]", ps->ps_v->v_domain, h->dh_name, addr);
	if (ph->ph_mode == PROBE_DANE) {
		req.pr_tlsa = h->dh_tlsa;
		req.pr_ntlsa = h->dh_ntlsa;
	}
	sl->sl_wait = probecache_join(ps->ps_pc, key, &req, cp->cpr_ttl, cp->cpr_fail_ttl,
	    ps->ps_now, ps_slot_filled, ps, slot);
	ps->ps_pending++;
	free(tag);
	free(key);
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
	probecache_run(ps->ps_pc);
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

/* Decided without probing: call back from the loop. */
static void
ps_decide(struct probeset *ps, enum probeset_verdict pv, const char *note)
{
	ps->ps_decided = true;
	ps->ps_fixed = pv;
	ps->ps_fixed_note = note;
	iv_task_register(&ps->ps_task);
}

/* Plan the hosts of ps->ps_dr under ps->ps_v's policy: look up the
 * addresses the engine did not, then probe. */
static void
ps_begin(struct probeset *ps)
{
	const struct dane_result *dr = ps->ps_dr;
	const struct verdict *v = ps->ps_v;
	struct engine *en = ps->ps_en;
	bool dane_applies, sts_applies;
	size_t i, k;

	/* DANE at the hosts of an unsigned MX too, when it is the policy
	 * (not when MTA-STS in enforce mode won over it) */
	dane_applies = dr->dr_verdict == DANE_USABLE || dr->dr_verdict == DANE_PARTIAL ||
	    dr->dr_verdict == DANE_UNUSABLE ||
	    (dr->dr_verdict == DANE_INSECURE && dr->dr_policy == DANE_POLICY_DANE &&
	    v->v_source == VERDICT_SRC_DANE);
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
		if (dane_applies && dr->dr_verdict == DANE_INSECURE)
			/* unsigned MX: DANE only where the host has TLSA */
			ph->ph_mode = h->dh_state == DANE_HOST_USABLE ||
			    h->dh_state == DANE_HOST_UNUSABLE ? PROBE_DANE : PROBE_NONE;
		else if (dane_applies)
			ph->ph_mode = h->dh_state == DANE_HOST_NO_TLSA || h->dh_state == DANE_HOST_INSECURE ?
			    PROBE_NONE : PROBE_DANE;
		else if (sts_applies)
			ph->ph_mode = PROBE_PKIX;
		else
			ph->ph_mode = PROBE_NONE;
		if (sts_applies) {
			ph->ph_outside_sts = true;
			for (k = 0; k < v->v_sts_policy->mp_nmx; k++)
				if (mtasts_policy_mx_match(v->v_sts_policy->mp_mx[k], h->dh_name))
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
}

/* The hosts of a verdict loaded from the cache file, looked up again. */
static void
ps_detail_done(void *arg, struct dane_result *res)
{
	struct probeset *ps = arg;

	ps->ps_lookup = NULL;
	ps->ps_fresh = res;
	ps->ps_dr = res;
	if (res->dr_policy == DANE_POLICY_TEMP)
		ps_decide(ps, PROBESET_TEMP, "the MX hosts' lookups failed: nothing to probe against");
	else if (res->dr_verdict == DANE_NULLMX)
		ps_decide(ps, PROBESET_SKIPPED, "null MX: the domain accepts no mail");
	else
		ps_begin(ps);
}

struct probeset *
probeset_start(struct engine *en, struct probecache *pc, const struct verdict *v,
    time_t now, probeset_done_fn *done, void *arg)
{
	const struct dane_result *dr = v->v_dane;
	struct probeset *ps = xcalloc(1, sizeof(*ps));

	ps->ps_en = engine_ref(en);
	ps->ps_pc = pc;
	ps->ps_v = verdict_ref((struct verdict *)v);
	ps->ps_now = now;
	ps->ps_done = done;
	ps->ps_arg = arg;
	IV_TASK_INIT(&ps->ps_task);
	ps->ps_task.cookie = ps;
	ps->ps_task.handler = ps_task;
	probecache_set_max_parallel(pc, en->en_cfg->c_probe.cpr_max_parallel);

	ps->ps_dr = dr;
	if (v->v_kind == VERDICT_TEMP) {
		ps_decide(ps, PROBESET_TEMP, "the domain's lookups failed: nothing to probe against");
		return ps;
	}
	if (dr->dr_verdict == DANE_NULLMX) {
		ps_decide(ps, PROBESET_SKIPPED, "null MX: the domain accepts no mail");
		return ps;
	}
	if (dr->dr_no_detail) {
		/* a verdict from the cache file: the hosts are not known */
		ps->ps_lookup = engine_dane(en, v->v_domain, ps_detail_done, ps);
		if (ps->ps_lookup == NULL)
			ps_decide(ps, PROBESET_TEMP, "the domain cannot be looked up again");
		return ps;
	}
	ps_begin(ps);
	return ps;
}

void
probeset_cancel(struct probeset *ps)
{
	size_t i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->ps_nslots; i++)
		if (ps->ps_slots[i].sl_wait != NULL)
			probecache_wait_cancel(ps->ps_slots[i].sl_wait);
	ps_free(ps);
}
