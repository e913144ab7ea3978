/*
 * dane.c: see dane.h. One struct dane_lookup per domain; one struct
 * dane_hostq per MX host with its in-flight queries. Every DNS callback
 * records what it learned in the result being built, then either starts the
 * next step or, when nothing is in flight any more, computes the verdict.
 */
#include "dane.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "dns/rdata.h"

struct dane_lookup;

struct dane_hostq {
	struct dane_lookup *hq_l;
	size_t hq_idx;                  /* index in l->dl_res->dr_hosts */
	struct dns_query *hq_a, *hq_aaaa, *hq_cname, *hq_tlsa;
	struct dns_answer_summary {
		enum dns_status st;
		enum dns_security sec;
		uint32_t ttl;
		char *canon;
		char *why;
	} hq_addr[2];                   /* A, AAAA */
	int hq_addr_pending;
	char *hq_cand[2];               /* candidate TLSA base names */
	size_t hq_ncand, hq_cur;
	unsigned hq_depth;              /* round trips so far on this host's path */
};

struct dane_lookup {
	struct dns_resolver *dl_r;
	char *dl_logtag;
	dane_done_fn *dl_done;
	void *dl_arg;
	struct dane_result *dl_res;
	struct dns_query *dl_mx;
	struct dane_hostq *dl_hq;
	size_t dl_nhq;
	size_t dl_pending;              /* hosts not finished */
	bool dl_insecure_mx;            /* the MX RRset is not signed: hosts looked up all the same */
	struct timespec dl_start;
};

const char *
dane_verdict_name(enum dane_verdict v)
{
	static const char *const n[] = {
		"usable", "partial", "unusable", "none", "insecure", "nullmx", "bogus", "temperror"
	};

	return (unsigned)v < sizeof(n) / sizeof(n[0]) ? n[v] : "?";
}

const char *
dane_policy_name(enum dane_policy p)
{
	static const char *const n[] = { "dane-only", "dane", "none", "temperror" };

	return (unsigned)p < sizeof(n) / sizeof(n[0]) ? n[p] : "?";
}

const char *
dane_host_state_name(enum dane_host_state s)
{
	static const char *const n[] = {
		"usable", "unusable", "none", "insecure", "unreachable", "error", "not-checked"
	};

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

enum dane_policy
dane_verdict_policy(enum dane_verdict v)
{
	switch (v) {
	case DANE_USABLE:
		return DANE_POLICY_DANE_ONLY;
	case DANE_PARTIAL:
	case DANE_UNUSABLE:
		return DANE_POLICY_DANE;
	case DANE_BOGUS:
	case DANE_TEMPERROR:
		return DANE_POLICY_TEMP;
	default:
		return DANE_POLICY_NONE;
	}
}

static void
dane_ttl(struct dane_lookup *l, uint32_t ttl)
{
	if (ttl < l->dl_res->dr_ttl)
		l->dl_res->dr_ttl = ttl;
}

/* Every DNS query of a lookup goes through here: it counts the query and
 * the round trips on the critical path (depth = this query's position in
 * its chain of dependent queries). */
static struct dns_query *
dane_query(struct dane_lookup *l, unsigned depth, const char *name, uint16_t type,
    dns_callback *cb, void *arg)
{
	if (depth > l->dl_res->dr_rounds)
		l->dl_res->dr_rounds = depth;
	l->dl_res->dr_queries++;
	return dns_query_start(l->dl_r, name, type, l->dl_logtag, cb, arg);
}

/* "TYPE NAME: status (reason)" for an error answer. */
static char *
dane_answer_error(const struct dns_answer *a)
{
	return xasprintf("%s %s: %s%s%s", dns_type_name(a->da_qtype), a->da_qname,
	    a->da_security == DNS_SEC_BOGUS ? "DNSSEC validation failed" : dns_status_name(a->da_status),
	    a->da_why ? ": " : "", a->da_why ? a->da_why : "");
}

static void
dane_finish_policy(struct dane_lookup *l, enum dane_verdict v, enum dane_policy p, char *reason)
{
	struct dane_result *res = l->dl_res;

	res->dr_verdict = v;
	res->dr_policy = p;
	/* Hosts past DANE_MAX_HOSTS were not examined: they may lack TLSA,
	 * so "every host" cannot be promised (Postfix's own per-host DANE
	 * still applies to each host under "dane"). */
	if (res->dr_policy == DANE_POLICY_DANE_ONLY && res->dr_hosts_dropped > 0)
		res->dr_policy = DANE_POLICY_DANE;
	res->dr_reason = reason;
	if (v == DANE_BOGUS || v == DANE_TEMPERROR || res->dr_ttl == UINT32_MAX)
		res->dr_ttl = 0;
	res->dr_elapsed_ms = (unsigned)(deadline_since_us(&l->dl_start) / 1000);
	if (l->dl_logtag)
		log_info("%s: verdict dane=%s policy=%s ttl=%u reason=\"%s\"", l->dl_logtag,
		    dane_verdict_name(v), dane_policy_name(res->dr_policy), res->dr_ttl, reason);
	l->dl_res = NULL;
	l->dl_done(l->dl_arg, res);
	dane_lookup_cancel(l);          /* frees what is left: nothing in flight */
}

/* The verdict with the policy it implies (dane_verdict_policy). */
static void
dane_finish(struct dane_lookup *l, enum dane_verdict v, char *reason)
{
	dane_finish_policy(l, v, dane_verdict_policy(v), reason);
}

/*
 * All hosts are done: the verdict of RFC 7672 §2.2 as product.md tabulates.
 * A host whose lookups failed is unreachable for delivery (§2.1.2): when
 * the other hosts have TLSA (usable, partial, unusable), that verdict
 * stands and Postfix's own per-host DANE skips the failing host. When they
 * have no TLSA, the domain is "partial" (policy "dane", never none or
 * MTA-STS); when no host is left at all, the error decides: bogus or
 * temperror.
 */
/*
 * An unsigned MX RRset whose hosts were looked up all the same (RFC 7672
 * §2.2.1 "MAY", as Postfix does): the verdict stays "insecure" (the MX
 * itself can be forged, so never dane-only), but when a host has a
 * secure, usable TLSA RRset the policy is "dane" and Postfix applies DANE
 * to that host (smtp_tls_dane_insecure_mx_policy); verdict_build lets an
 * MTA-STS policy in enforce mode win over it. A host's lookup error
 * changes nothing here: without a signed MX there is no DANE promise to
 * keep, and Postfix looks every host up again itself.
 */
static void
dane_conclude_insecure_mx(struct dane_lookup *l)
{
	struct dane_result *res = l->dl_res;
	const char *what = res->dr_implicit_mx ? "the domain is not DNSSEC-signed (insecure)" :
	    "the MX RRset is not DNSSEC-signed (insecure)";
	size_t i, usable = 0;

	for (i = 0; i < res->dr_nhosts; i++)
		if (res->dr_hosts[i].dh_state == DANE_HOST_USABLE)
			usable++;
	if (usable == 0) {
		dane_finish(l, DANE_INSECURE, xstrdup(what));
		return;
	}
	dane_finish_policy(l, DANE_INSECURE, DANE_POLICY_DANE,
	    xasprintf("%s; %zu of %zu MX hosts with secure, usable TLSA records: DANE for those "
	    "hosts", what, usable, res->dr_nhosts));
}

static void
dane_conclude(struct dane_lookup *l)
{
	struct dane_result *res = l->dl_res;
	size_t i, reachable = 0, usable = 0, unusable = 0, none = 0, errors = 0;
	const struct dane_host *err_host = NULL;
	char note[64] = "";

	if (l->dl_insecure_mx) {
		dane_conclude_insecure_mx(l);
		return;
	}
	for (i = 0; i < res->dr_nhosts; i++) {
		const struct dane_host *h = &res->dr_hosts[i];

		switch (h->dh_state) {
		case DANE_HOST_USABLE:   usable++; reachable++; break;
		case DANE_HOST_UNUSABLE: unusable++; reachable++; break;
		case DANE_HOST_NO_TLSA:
		case DANE_HOST_INSECURE: none++; reachable++; break;
		case DANE_HOST_ERROR:
			errors++;
			if (err_host == NULL || (h->dh_bogus && !err_host->dh_bogus))
				err_host = h;
			break;
		default: break;
		}
	}
	if (errors > 0 && reachable == 0) {
		/* every host failed: the error decides */
		dane_finish(l, err_host->dh_bogus ? DANE_BOGUS : DANE_TEMPERROR,
		    xasprintf("MX host %s: %s", err_host->dh_name, err_host->dh_why));
		return;
	}
	if (errors > 0 && usable + unusable == 0) {
		/* RFC 7672 §2.1.2: the failing host is unreachable, delivery goes
		 * on via the others, which have no TLSA. Not "none" (the failing
		 * host may have TLSA) and never MTA-STS: "partial" (some hosts
		 * with TLSA or unknown, some without), policy "dane", under
		 * which Postfix looks each host up itself. */
		dane_finish(l, DANE_PARTIAL,
		    xasprintf("secure MX, no secure TLSA at its %zu reachable host%s; MX host %s "
		    "skipped as unreachable: %s", reachable, reachable == 1 ? "" : "s",
		    err_host->dh_name, err_host->dh_why));
		return;
	}
	if (errors > 0)
		snprintf(note, sizeof(note), "; %zu host%s with lookup errors skipped", errors,
		    errors == 1 ? "" : "s");
	if (reachable == 0)
		dane_finish(l, DANE_NONE, xstrdup("no MX host has an address"));
	else if (usable == reachable)
		dane_finish(l, DANE_USABLE, xasprintf("%zu of %zu MX hosts with usable TLSA records%s",
		    usable, reachable, note));
	else if (usable + unusable == 0)
		dane_finish(l, DANE_NONE, xasprintf("secure MX, no secure TLSA records at its %zu host%s",
		    reachable, reachable == 1 ? "" : "s"));
	else if (usable == 0 && none == 0)
		dane_finish(l, DANE_UNUSABLE, xasprintf("TLSA records published, none usable%s", note));
	else
		dane_finish(l, DANE_PARTIAL, xasprintf("%zu of %zu MX hosts with TLSA records (%zu usable)%s",
		    usable + unusable, reachable, usable, note));
}

static void
dane_host_done(struct dane_hostq *hq, enum dane_host_state st, char *why)
{
	struct dane_lookup *l = hq->hq_l;
	struct dane_host *h = &l->dl_res->dr_hosts[hq->hq_idx];

	h->dh_state = st;
	free(h->dh_why);
	h->dh_why = why;
	if (l->dl_logtag && st != DANE_HOST_USABLE)
		log_info("%s: MX host %s: tlsa=%s%s%s", l->dl_logtag, h->dh_name,
		    dane_host_state_name(st), why ? ": " : "", why ? why : "");
	if (--l->dl_pending == 0)
		dane_conclude(l);
}

static void dane_tlsa_next(struct dane_hostq *hq);

static void
dane_tlsa_cb(void *arg, const struct dns_answer *a)
{
	struct dane_hostq *hq = arg;
	struct dane_lookup *l = hq->hq_l;
	struct dane_host *h = &l->dl_res->dr_hosts[hq->hq_idx];
	size_t i;

	hq->hq_tlsa = NULL;
	if (a->da_status == DNS_ERROR || a->da_status == DNS_TIMEOUT) {
		h->dh_bogus = a->da_security == DNS_SEC_BOGUS;
		dane_host_done(hq, DANE_HOST_ERROR, dane_answer_error(a));
		return;
	}
	dane_ttl(l, a->da_ttl);
	if (a->da_status != DNS_RECORDS || a->da_security != DNS_SEC_SECURE) {
		hq->hq_cur++;
		dane_tlsa_next(hq);
		return;
	}
	h->dh_tlsa_base = xstrdup(hq->hq_cand[hq->hq_cur]);
	if (a->da_canon)
		h->dh_tlsa_owner = xstrdup(a->da_canon);
	h->dh_tlsa = xcalloc(a->da_nrr, sizeof(*h->dh_tlsa));
	for (i = 0; i < a->da_nrr; i++) {
		struct rdata_tlsa t;

		if (rdata_tlsa(a->da_rr[i].dr_data, a->da_rr[i].dr_len, &t) != RDATA_OK) {
			dane_host_done(hq, DANE_HOST_ERROR,
			    xasprintf("TLSA %s: malformed record", a->da_qname));
			return;
		}
		tlsa_rr_set(&h->dh_tlsa[h->dh_ntlsa++], t.rt_usage, t.rt_selector, t.rt_mtype,
		    t.rt_data, t.rt_len);
	}
	/* usable records, digest agility (RFC 7671 §9) applied */
	if (tlsa_rrs_rate(h->dh_tlsa, h->dh_ntlsa) > 0)
		dane_host_done(hq, DANE_HOST_USABLE, NULL);
	else
		dane_host_done(hq, DANE_HOST_UNUSABLE,
		    xasprintf("%zu TLSA record%s at %s, none usable", h->dh_ntlsa,
		    h->dh_ntlsa == 1 ? "" : "s", a->da_qname));
}

/* Query TLSA for the next candidate base name, or conclude "no TLSA". */
static void
dane_tlsa_next(struct dane_hostq *hq)
{
	struct dane_lookup *l = hq->hq_l;
	char qname[RDATA_NAME_MAX + 16];

	if (hq->hq_cur >= hq->hq_ncand) {
		dane_host_done(hq, DANE_HOST_NO_TLSA, hq->hq_ncand == 1 ?
		    xasprintf("no secure TLSA at _25._tcp.%s", hq->hq_cand[0]) :
		    xasprintf("no secure TLSA at _25._tcp.%s or _25._tcp.%s", hq->hq_cand[0], hq->hq_cand[1]));
		return;
	}
	snprintf(qname, sizeof(qname), "_25._tcp.%s", hq->hq_cand[hq->hq_cur]);
	hq->hq_tlsa = dane_query(l, ++hq->hq_depth, qname, DNS_TYPE_TLSA, dane_tlsa_cb, hq);
}

static void
dane_cname_cb(void *arg, const struct dns_answer *a)
{
	struct dane_hostq *hq = arg;
	struct dane_host *h = &hq->hq_l->dl_res->dr_hosts[hq->hq_idx];

	hq->hq_cname = NULL;
	if (a->da_status == DNS_ERROR || a->da_status == DNS_TIMEOUT) {
		h->dh_bogus = a->da_security == DNS_SEC_BOGUS;
		dane_host_done(hq, DANE_HOST_ERROR, dane_answer_error(a));
		return;
	}
	if (a->da_status == DNS_RECORDS && a->da_security == DNS_SEC_SECURE) {
		/* Secure initial CNAME, insecure target: the original name only. */
		hq->hq_cand[0] = xstrdup(h->dh_name);
		hq->hq_ncand = 1;
		dane_ttl(hq->hq_l, a->da_ttl);
		dane_tlsa_next(hq);
		return;
	}
	if (a->da_status == DNS_RECORDS) {
		dane_host_done(hq, DANE_HOST_INSECURE, xstrdup("insecure CNAME: TLSA not looked up"));
		return;
	}
	/* It answered as a CNAME a moment ago: as Postfix, an inconsistency
	 * is a lookup error, not "insecure". */
	dane_host_done(hq, DANE_HOST_ERROR, xasprintf("CNAME %s: %s (no longer a CNAME)",
	    a->da_qname, dns_status_name(a->da_status)));
}

/* Both address answers are in: pick the TLSA candidates (RFC 7672 §2.2.2). */
static void
dane_addrs_done(struct dane_hostq *hq)
{
	struct dane_lookup *l = hq->hq_l;
	struct dane_host *h = &l->dl_res->dr_hosts[hq->hq_idx];
	struct dns_answer_summary *s = hq->hq_addr;
	bool err[2], secure = true;
	const char *canon = s[0].canon ? s[0].canon : s[1].canon;
	int i;

	for (i = 0; i < 2; i++) {
		err[i] = s[i].st == DNS_ERROR || s[i].st == DNS_TIMEOUT;
		if (s[i].sec == DNS_SEC_BOGUS) {
			h->dh_bogus = true;
			dane_host_done(hq, DANE_HOST_ERROR, xstrdup(s[i].why));
			return;
		}
	}
	if (err[0] && err[1]) {
		dane_host_done(hq, DANE_HOST_ERROR, xstrdup(s[0].why));
		return;
	}
	if ((err[0] || err[1]) && h->dh_naddrs == 0) {
		/* One family failed, the other has nothing: cannot tell. */
		dane_host_done(hq, DANE_HOST_ERROR, xstrdup(s[err[0] ? 0 : 1].why));
		return;
	}
	for (i = 0; i < 2; i++)
		if (!err[i] && s[i].sec != DNS_SEC_SECURE)
			secure = false;
	h->dh_addr_security = secure ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
	if (canon)
		h->dh_canon = xstrdup(canon);
	if (h->dh_naddrs == 0) {
		dane_host_done(hq, DANE_HOST_UNREACHABLE, xstrdup("no A or AAAA records"));
		return;
	}
	if (secure) {
		if (canon)
			hq->hq_cand[hq->hq_ncand++] = xstrdup(canon);
		hq->hq_cand[hq->hq_ncand++] = xstrdup(h->dh_name);
		dane_tlsa_next(hq);
		return;
	}
	if (canon) {
		/* Insecure final addresses: is the initial CNAME secure? */
		hq->hq_cname = dane_query(l, ++hq->hq_depth, h->dh_name, DNS_TYPE_CNAME,
		    dane_cname_cb, hq);
		return;
	}
	dane_host_done(hq, DANE_HOST_INSECURE, xstrdup("addresses not DNSSEC-signed: TLSA not looked up"));
}

static void
dane_addr_cb(struct dane_hostq *hq, int fam, const struct dns_answer *a)
{
	struct dane_lookup *l = hq->hq_l;
	struct dane_host *h = &l->dl_res->dr_hosts[hq->hq_idx];
	struct dns_answer_summary *s = &hq->hq_addr[fam];
	size_t i;

	s->st = a->da_status;
	s->sec = a->da_security;
	s->ttl = a->da_ttl;
	if (a->da_canon)
		s->canon = xstrdup(a->da_canon);
	if (a->da_status == DNS_ERROR || a->da_status == DNS_TIMEOUT)
		s->why = dane_answer_error(a);
	else
		dane_ttl(l, a->da_ttl);
	if (a->da_status == DNS_RECORDS) {
		h->dh_addrs = xreallocarray(h->dh_addrs, h->dh_naddrs + a->da_nrr, sizeof(char *));
		for (i = 0; i < a->da_nrr; i++) {
			char text[64];

			if (rdata_addr(a->da_qtype, a->da_rr[i].dr_data, a->da_rr[i].dr_len,
			    text, sizeof(text)) == RDATA_OK) {
				h->dh_addrs[h->dh_naddrs++] = xstrdup(text);
			} else if (s->st != DNS_ERROR) {
				s->st = DNS_ERROR;      /* never read malformed data as "no address" */
				s->sec = DNS_SEC_INDETERMINATE;
				s->why = xasprintf("%s %s: malformed record", dns_type_name(a->da_qtype),
				    a->da_qname);
			}
		}
	}
	if (--hq->hq_addr_pending == 0)
		dane_addrs_done(hq);
}

static void
dane_a_cb(void *arg, const struct dns_answer *a)
{
	struct dane_hostq *hq = arg;

	hq->hq_a = NULL;
	dane_addr_cb(hq, 0, a);
}

static void
dane_aaaa_cb(void *arg, const struct dns_answer *a)
{
	struct dane_hostq *hq = arg;

	hq->hq_aaaa = NULL;
	dane_addr_cb(hq, 1, a);
}

static bool
dane_is_address(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1;
}

static int
dane_host_cmp(const void *x, const void *y)
{
	const struct dane_host *a = x, *b = y;

	if (a->dh_pref != b->dh_pref)
		return a->dh_pref < b->dh_pref ? -1 : 1;
	return strcmp(a->dh_name, b->dh_name);
}

/* Fill dr_hosts from the MX answer (or the implicit MX). 0, or -1 after
 * finishing the lookup with an error / null MX verdict. */
static int
dane_hosts_from_mx(struct dane_lookup *l, const struct dns_answer *a)
{
	struct dane_result *res = l->dl_res;
	size_t i, j, n = 0;
	bool nullmx = false;

	if (a->da_status != DNS_RECORDS) {
		res->dr_implicit_mx = true;
		res->dr_hosts = xcalloc(1, sizeof(*res->dr_hosts));
		/* The domain's own name (RFC 7672 §2.2.2): its address lookup
		 * follows a CNAME, and then the expanded name and the original
		 * are both TLSA candidates. */
		res->dr_hosts[0].dh_name = xstrdup(res->dr_domain);
		res->dr_nhosts = 1;
		return 0;
	}
	res->dr_hosts = xcalloc(a->da_nrr, sizeof(*res->dr_hosts));
	for (i = 0; i < a->da_nrr; i++) {
		char name[RDATA_NAME_MAX];
		uint16_t pref;

		if (rdata_mx(a->da_rr[i].dr_data, a->da_rr[i].dr_len, &pref, name, sizeof(name)) != RDATA_OK) {
			res->dr_nhosts = n;     /* freed with the result */
			dane_finish(l, DANE_TEMPERROR, xasprintf("MX %s: malformed record", a->da_qname));
			return -1;
		}
		if (strcmp(name, ".") == 0) {
			nullmx = true;
			continue;
		}
		for (j = 0; j < n; j++)
			if (strcmp(res->dr_hosts[j].dh_name, name) == 0)
				break;
		if (j < n) {            /* duplicate name: keep the best preference */
			if (pref < res->dr_hosts[j].dh_pref)
				res->dr_hosts[j].dh_pref = pref;
			continue;
		}
		res->dr_hosts[n].dh_name = xstrdup(name);
		res->dr_hosts[n].dh_pref = pref;
		n++;
	}
	res->dr_nhosts = n;
	if (nullmx) {                   /* alone, or wrongly mixed in (RFC 7505 §3): as Postfix */
		dane_finish(l, DANE_NULLMX, xstrdup("null MX (RFC 7505): the domain accepts no mail"));
		return -1;
	}
	qsort(res->dr_hosts, n, sizeof(*res->dr_hosts), dane_host_cmp);
	if (n > DANE_MAX_HOSTS) {
		for (i = DANE_MAX_HOSTS; i < n; i++)
			free(res->dr_hosts[i].dh_name);
		res->dr_hosts_dropped = n - DANE_MAX_HOSTS;
		res->dr_nhosts = DANE_MAX_HOSTS;
	}
	return 0;
}

static void
dane_mx_cb(void *arg, const struct dns_answer *a)
{
	struct dane_lookup *l = arg;
	struct dane_result *res = l->dl_res;
	size_t i;

	l->dl_mx = NULL;
	res->dr_mx_security = a->da_security;
	if (a->da_status == DNS_ERROR || a->da_status == DNS_TIMEOUT) {
		dane_finish(l, a->da_security == DNS_SEC_BOGUS ? DANE_BOGUS : DANE_TEMPERROR,
		    dane_answer_error(a));
		return;
	}
	dane_ttl(l, a->da_ttl);
	if (a->da_canon)
		res->dr_domain_canon = xstrdup(a->da_canon);
	if (a->da_status == DNS_NXDOMAIN) {
		dane_finish(l, a->da_security == DNS_SEC_SECURE ? DANE_NONE : DANE_INSECURE,
		    xasprintf("the domain does not exist (%s NXDOMAIN)", dns_security_name(a->da_security)));
		return;
	}
	if (dane_hosts_from_mx(l, a) < 0)
		return;
	/* An unsigned MX RRset: its hosts are looked up all the same
	 * (dane_conclude_insecure_mx). */
	l->dl_insecure_mx = a->da_security != DNS_SEC_SECURE;
	l->dl_hq = xcalloc(res->dr_nhosts, sizeof(*l->dl_hq));
	l->dl_nhq = res->dr_nhosts;
	l->dl_pending = res->dr_nhosts;
	if (res->dr_nhosts == 0) {      /* cannot happen: null MX handled above */
		dane_conclude(l);
		return;
	}
	for (i = 0; i < res->dr_nhosts; i++) {
		struct dane_hostq *hq = &l->dl_hq[i];

		hq->hq_l = l;
		hq->hq_idx = i;
		hq->hq_depth = 2;
		hq->hq_addr_pending = 2;
	}
	/* Start every host's lookups before any can complete (callbacks only
	 * run from the loop, so a host finishing early cannot conclude). */
	for (i = 0; i < res->dr_nhosts; i++) {
		struct dane_hostq *hq = &l->dl_hq[i];
		const char *name = res->dr_hosts[i].dh_name;

		if (!rdata_name_is_hostname(name) || dane_is_address(name)) {
			hq->hq_addr_pending = 0;
			res->dr_hosts[i].dh_state = DANE_HOST_UNREACHABLE;
			res->dr_hosts[i].dh_why = xstrdup(dane_is_address(name) ?
			    "the MX names an address: DANE does not apply (RFC 7672 §2.2)" :
			    "not a valid host name");
			l->dl_pending--;
			continue;
		}
		hq->hq_a = dane_query(l, 2, name, DNS_TYPE_A, dane_a_cb, hq);
		hq->hq_aaaa = dane_query(l, 2, name, DNS_TYPE_AAAA, dane_aaaa_cb, hq);
	}
	if (l->dl_pending == 0)
		dane_conclude(l);
}

bool
dane_insecure_mx_usable(const struct dane_result *res)
{
	size_t i;

	if (res->dr_verdict != DANE_INSECURE)
		return false;
	for (i = 0; i < res->dr_nhosts; i++)
		if (res->dr_hosts[i].dh_state == DANE_HOST_USABLE)
			return true;
	return false;
}

struct dane_lookup *
dane_lookup_start(struct dns_resolver *r, const char *domain, const char *logtag,
    dane_done_fn *done, void *arg)
{
	struct dane_lookup *l;

	if (!rdata_name_is_hostname(domain))
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->dl_r = r;
	l->dl_logtag = logtag ? xstrdup(logtag) : NULL;
	l->dl_done = done;
	l->dl_arg = arg;
	l->dl_res = xcalloc(1, sizeof(*l->dl_res));
	l->dl_res->dr_domain = xstrdup(domain);
	l->dl_res->dr_ttl = UINT32_MAX;
	l->dl_res->dr_mx_security = DNS_SEC_INDETERMINATE;
	clock_gettime(CLOCK_MONOTONIC, &l->dl_start);
	l->dl_mx = dane_query(l, 1, domain, DNS_TYPE_MX, dane_mx_cb, l);
	return l;
}

void
dane_lookup_cancel(struct dane_lookup *l)
{
	size_t i;
	int k;

	if (l->dl_mx)
		dns_query_cancel(l->dl_mx);
	for (i = 0; i < l->dl_nhq; i++) {
		struct dane_hostq *hq = &l->dl_hq[i];

		if (hq->hq_a)
			dns_query_cancel(hq->hq_a);
		if (hq->hq_aaaa)
			dns_query_cancel(hq->hq_aaaa);
		if (hq->hq_cname)
			dns_query_cancel(hq->hq_cname);
		if (hq->hq_tlsa)
			dns_query_cancel(hq->hq_tlsa);
		for (k = 0; k < 2; k++) {
			free(hq->hq_addr[k].canon);
			free(hq->hq_addr[k].why);
		}
		free(hq->hq_cand[0]);
		free(hq->hq_cand[1]);
	}
	free(l->dl_hq);
	if (l->dl_res)
		dane_result_free(l->dl_res);
	free(l->dl_logtag);
	free(l);
}

static char *
dane_strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct dane_result *
dane_result_dup(const struct dane_result *res)
{
	struct dane_result *d = xmalloc(sizeof(*d));
	size_t i, j;

	*d = *res;
	d->dr_domain = xstrdup(res->dr_domain);
	d->dr_reason = xstrdup(res->dr_reason);
	d->dr_domain_canon = dane_strdup_or_null(res->dr_domain_canon);
	d->dr_hosts = xcalloc(res->dr_nhosts ? res->dr_nhosts : 1, sizeof(*d->dr_hosts));
	for (i = 0; i < res->dr_nhosts; i++) {
		const struct dane_host *h = &res->dr_hosts[i];
		struct dane_host *c = &d->dr_hosts[i];

		*c = *h;
		c->dh_name = xstrdup(h->dh_name);
		c->dh_canon = dane_strdup_or_null(h->dh_canon);
		c->dh_addrs = xcalloc(h->dh_naddrs ? h->dh_naddrs : 1, sizeof(*c->dh_addrs));
		for (j = 0; j < h->dh_naddrs; j++)
			c->dh_addrs[j] = xstrdup(h->dh_addrs[j]);
		c->dh_why = dane_strdup_or_null(h->dh_why);
		c->dh_tlsa_base = dane_strdup_or_null(h->dh_tlsa_base);
		c->dh_tlsa_owner = dane_strdup_or_null(h->dh_tlsa_owner);
		c->dh_tlsa = h->dh_ntlsa ? tlsa_rrs_dup(h->dh_tlsa, h->dh_ntlsa) : NULL;
	}
	return d;
}

void
dane_result_free(struct dane_result *res)
{
	size_t i, j;

	if (res == NULL)
		return;
	for (i = 0; i < res->dr_nhosts; i++) {
		struct dane_host *h = &res->dr_hosts[i];

		free(h->dh_name);
		free(h->dh_canon);
		for (j = 0; j < h->dh_naddrs; j++)
			free(h->dh_addrs[j]);
		free(h->dh_addrs);
		free(h->dh_why);
		free(h->dh_tlsa_base);
		free(h->dh_tlsa_owner);
		tlsa_rrs_free(h->dh_tlsa, h->dh_ntlsa);
	}
	free(res->dr_hosts);
	free(res->dr_domain);
	free(res->dr_reason);
	free(res->dr_domain_canon);
	free(res);
}
