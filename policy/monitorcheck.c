/*
 * monitorcheck.c: see monitorcheck.h.
 *
 * Each check collects findings (a state and a sentence) on its line; the
 * line's state is the worst finding's, and its detail lists the findings
 * worst first, "; " between them. Which certificate a TLSA record names
 * is decided by tlsa_match_chain() (tls/tlsa.c) only; the record text to
 * publish is computed by tlsa_data_der() as `danemilter tlsa` prints it.
 */
#include "monitorcheck.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "dns/rdata.h"
#include "tls/tlsa.h"

#define MC_DAY  86400

struct mc_item {
	enum monitorcheck_state mi_state;
	char *mi_text;
};

struct mc_line {
	struct mc_item *ml_items;
	size_t ml_n;
};

static const char *const monitorcheck_names[MONITORCHECK_N] = {
	"dnssec", "tlsa-published", "tlsa-match", "tlsa-rollover", "tlsa-stale",
	"cert-expiry", "mta-sts", "tlsrpt"
};

const char *
monitorcheck_name(enum monitorcheck_id c)
{
	return (unsigned)c < MONITORCHECK_N ? monitorcheck_names[c] : "?";
}

const char *
monitorcheck_state_name(enum monitorcheck_state s)
{
	switch (s) {
	case MONITORCHECK_PASS: return "pass";
	case MONITORCHECK_WARN: return "warn";
	case MONITORCHECK_ERROR: return "error";
	case MONITORCHECK_FAIL: return "fail";
	}
	return "?";
}

int
monitorcheck_exit(const struct monitorcheck_result *r)
{
	bool error = false;
	size_t i;

	for (i = 0; i < MONITORCHECK_N; i++) {
		if (r->mr_state[i] == MONITORCHECK_FAIL)
			return 1;
		if (r->mr_state[i] == MONITORCHECK_ERROR)
			error = true;
	}
	return error ? EX_TEMPFAIL : 0;
}

void
monitorcheck_result_free(struct monitorcheck_result *r)
{
	size_t i;

	for (i = 0; i < MONITORCHECK_N; i++) {
		free(r->mr_detail[i]);
		r->mr_detail[i] = NULL;
	}
}

/* ------------------------------------------------------------ findings */

static void mc_add(struct mc_line *l, enum monitorcheck_state st, const char *fmt, ...)
    DM_PRINTF(3, 4);

static void
mc_add(struct mc_line *l, enum monitorcheck_state st, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;
	char buf[2048];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sbuf_append(&sb, buf);
	l->ml_items = xreallocarray(l->ml_items, l->ml_n + 1, sizeof(*l->ml_items));
	l->ml_items[l->ml_n].mi_state = st;
	l->ml_items[l->ml_n++].mi_text = sbuf_steal(&sb);
}

/* The line's state and detail into out; frees the findings. */
static void
mc_close(struct mc_line *l, enum monitorcheck_id c, struct monitorcheck_result *out)
{
	enum monitorcheck_state worst = MONITORCHECK_PASS;
	struct sbuf sb = SBUF_INIT;
	size_t i;
	int s;

	for (i = 0; i < l->ml_n; i++)
		if (l->ml_items[i].mi_state > worst)
			worst = l->ml_items[i].mi_state;
	for (s = MONITORCHECK_FAIL; s >= MONITORCHECK_PASS; s--)
		for (i = 0; i < l->ml_n; i++)
			if ((int)l->ml_items[i].mi_state == s)
				sbuf_printf(&sb, "%s%s", sbuf_str(&sb)[0] ? "; " : "",
				    l->ml_items[i].mi_text);
	for (i = 0; i < l->ml_n; i++)
		free(l->ml_items[i].mi_text);
	free(l->ml_items);
	l->ml_items = NULL;
	l->ml_n = 0;
	out->mr_state[c] = worst;
	out->mr_detail[c] = sbuf_steal(&sb);
}

/* ------------------------------------------------------------- helpers */

static void
mc_date(time_t t, char out[16])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 16, "%Y-%m-%d", &tm) == 0)
		snprintf(out, 16, "?");
}

/* "CN=..." of a DER certificate (malloc'ed). */
static char *
mc_subject(const struct cert_der *c)
{
	struct cert_names n;
	char *s;

	if (cert_names(c->cd_der, c->cd_len, &n) != CERT_NAMES_OK)
		return xstrdup("an unreadable certificate");
	s = xstrdup(n.cnm_subject[0] ? n.cnm_subject : "an empty subject");
	cert_names_free(&n);
	return s;
}

/* The owner of a host's TLSA RRset: the owner after TLSA CNAMEs, else
 * _25._tcp.<base> (base: the RRset's base, else the MX name). */
static char *
mc_owner(const struct dane_host *h)
{
	if (h->dh_tlsa_owner != NULL)
		return xstrdup(h->dh_tlsa_owner);
	return xasprintf("_25._tcp.%s", h->dh_tlsa_base ? h->dh_tlsa_base : h->dh_name);
}

/* "OWNER. IN TLSA U S M HEX" for a published record (malloc'ed). */
static char *
mc_rr_text(const char *owner, const struct tlsa_rr *rr)
{
	char *hex = xmalloc(2 * rr->tr_len + 1), *s;

	rdata_hex(rr->tr_data, rr->tr_len, hex);
	s = xasprintf("%s. IN TLSA %u %u %u %s", owner, rr->tr_usage, rr->tr_selector,
	    rr->tr_mtype, hex);
	free(hex);
	return s;
}

/* "OWNER. IN TLSA 3 1 1 HEX" for a leaf certificate, as `danemilter tlsa`
 * prints it (malloc'ed); NULL when the certificate does not parse. */
static char *
mc_rr_for(const char *owner, const struct cert_der *leaf)
{
	struct tlsa_rr rr;
	uint8_t *data;
	size_t len;
	char *s;

	if (tlsa_data_der(leaf->cd_der, leaf->cd_len, TLSA_SELECTOR_SPKI, TLSA_MTYPE_SHA256,
	    &data, &len) != TLSA_DATA_OK)
		return NULL;
	memset(&rr, 0, sizeof(rr));
	rr.tr_usage = TLSA_USAGE_DANE_EE;
	rr.tr_selector = TLSA_SELECTOR_SPKI;
	rr.tr_mtype = TLSA_MTYPE_SHA256;
	rr.tr_data = data;
	rr.tr_len = len;
	s = mc_rr_text(owner, &rr);
	free(data);
	return s;
}

/* Is the record in force (usable, not ignored for digest agility)? */
static bool
mc_in_force(const struct tlsa_rr *rr)
{
	return rr->tr_check == TLSA_USABLE && !rr->tr_agility_ignored;
}

/* Does the host have TLSA records the DANE checks judge? */
static bool
mc_dane_host(const struct dane_host *h)
{
	return (h->dh_state == DANE_HOST_USABLE || h->dh_state == DANE_HOST_UNUSABLE) &&
	    h->dh_ntlsa > 0;
}

/* The first certificate chain the host's servers sent, or NULL. */
static const struct cert_chain *
mc_live_chain(const struct monitorcheck_in *in, const char *host)
{
	size_t i;

	if (in->mi_probe == NULL)
		return NULL;
	for (i = 0; i < in->mi_probe->pr_naddrs; i++) {
		const struct probeset_addr *a = &in->mi_probe->pr_addrs[i];

		if (strcmp(a->pa_host, host) == 0 && a->pa_peer != NULL && a->pa_peer->cc_n > 0)
			return a->pa_peer;
	}
	return NULL;
}

/* Can the DNS facts be judged at all? An error verdict says why not. */
static bool
mc_dns_known(const struct monitorcheck_in *in, struct mc_line *l)
{
	const struct dane_result *d = in->mi_dane;

	if (d->dr_verdict == DANE_TEMPERROR) {
		mc_add(l, MONITORCHECK_ERROR, "the DNS lookups failed: %s", d->dr_reason);
		return false;
	}
	if (d->dr_verdict == DANE_BOGUS && d->dr_mx_security != DNS_SEC_SECURE) {
		mc_add(l, MONITORCHECK_FAIL, "DNSSEC validation failed: %s", d->dr_reason);
		return false;
	}
	if (d->dr_verdict == DANE_NULLMX) {
		mc_add(l, MONITORCHECK_PASS, "null MX: the domain accepts no mail");
		return false;
	}
	if (d->dr_mx_security != DNS_SEC_SECURE) {
		mc_add(l, MONITORCHECK_FAIL, "the MX RRset is not DNSSEC-signed: TLSA records "
		    "are not used");
		return false;
	}
	return true;
}

/* ------------------------------------------------------------- dnssec */

static void
mc_dnssec(const struct monitorcheck_in *in, struct mc_line *l)
{
	const struct dane_result *d = in->mi_dane;
	struct sbuf sb = SBUF_INIT;
	size_t i;
	bool bad = false;

	if (d->dr_verdict == DANE_TEMPERROR) {
		mc_add(l, MONITORCHECK_ERROR, "the MX lookup failed: %s", d->dr_reason);
		return;
	}
	if (d->dr_mx_security == DNS_SEC_BOGUS ||
	    (d->dr_verdict == DANE_BOGUS && d->dr_mx_security != DNS_SEC_SECURE)) {
		mc_add(l, MONITORCHECK_FAIL, "DNSSEC validation of %s failed: %s: fix the zone's "
		    "signatures or its DS record", in->mi_domain, d->dr_reason);
		return;
	}
	if (d->dr_mx_security == DNS_SEC_INSECURE) {
		mc_add(l, MONITORCHECK_FAIL, "the MX RRset of %s is not DNSSEC-signed (insecure): "
		    "sign the zone and publish its DS record in the parent zone", in->mi_domain);
		return;
	}
	for (i = 0; i < d->dr_nhosts; i++) {
		const struct dane_host *h = &d->dr_hosts[i];

		if (h->dh_state == DANE_HOST_ERROR && h->dh_bogus) {
			mc_add(l, MONITORCHECK_FAIL, "%s: DNSSEC validation failed: %s", h->dh_name,
			    h->dh_why ? h->dh_why : "bogus");
			bad = true;
		} else if (h->dh_state == DANE_HOST_ERROR) {
			mc_add(l, MONITORCHECK_ERROR, "%s: lookup failed: %s", h->dh_name,
			    h->dh_why ? h->dh_why : "error");
			bad = true;
		} else if (h->dh_state == DANE_HOST_INSECURE) {
			mc_add(l, MONITORCHECK_FAIL, "%s: %s: sign the host's zone", h->dh_name,
			    h->dh_why ? h->dh_why : "not DNSSEC-signed");
			bad = true;
		}
	}
	if (bad)
		return;
	if (d->dr_verdict == DANE_NULLMX) {
		mc_add(l, MONITORCHECK_PASS, "null MX, secure: the domain accepts no mail");
		return;
	}
	if (d->dr_implicit_mx) {
		mc_add(l, MONITORCHECK_PASS, "no MX RRset (implicit MX %s), secure", in->mi_domain);
		return;
	}
	for (i = 0; i < d->dr_nhosts; i++)
		sbuf_printf(&sb, "%s%s (%u)", i ? ", " : "", d->dr_hosts[i].dh_name,
		    d->dr_hosts[i].dh_pref);
	mc_add(l, MONITORCHECK_PASS, "MX RRset secure: %s", sbuf_str(&sb));
	sbuf_free(&sb);
}

/* ----------------------------------------------------- tlsa-published */

static void
mc_published(const struct monitorcheck_in *in, struct mc_line *l)
{
	const struct dane_result *d = in->mi_dane;
	size_t i, j, n;

	if (!mc_dns_known(in, l))
		return;
	for (i = 0; i < d->dr_nhosts; i++) {
		const struct dane_host *h = &d->dr_hosts[i];
		const struct cert_chain *live = mc_live_chain(in, h->dh_name);
		char *owner = mc_owner(h), *rec = NULL, *t;

		if (live != NULL)
			rec = mc_rr_for(owner, &live->cc_certs[0]);
		switch (h->dh_state) {
		case DANE_HOST_USABLE:
			for (j = n = 0; j < h->dh_ntlsa; j++) {
				if (h->dh_tlsa[j].tr_check == TLSA_USABLE) {
					n++;
					continue;
				}
				t = mc_rr_text(owner, &h->dh_tlsa[j]);
				mc_add(l, MONITORCHECK_WARN, "%s: remove the unusable record %s (%s)",
				    h->dh_name, t, tlsa_check_text(h->dh_tlsa[j].tr_check));
				free(t);
			}
			mc_add(l, MONITORCHECK_PASS, "%s: %zu usable TLSA record%s at %s", h->dh_name,
			    n, n == 1 ? "" : "s", owner);
			break;
		case DANE_HOST_UNUSABLE:
			mc_add(l, MONITORCHECK_FAIL, "%s: none of the %zu TLSA records at %s is usable: "
			    "publish %s", h->dh_name, h->dh_ntlsa, owner,
			    rec ? rec : "a 3 1 1 record of the server's key (danemilter tlsa CERT)");
			break;
		case DANE_HOST_NO_TLSA:
			mc_add(l, MONITORCHECK_FAIL, "%s: no TLSA records (%s): publish %s", h->dh_name,
			    h->dh_why ? h->dh_why : "none found",
			    rec ? rec : "a 3 1 1 record of the server's key (danemilter tlsa CERT)");
			break;
		case DANE_HOST_INSECURE:
			mc_add(l, MONITORCHECK_FAIL, "%s: %s", h->dh_name,
			    h->dh_why ? h->dh_why : "addresses not DNSSEC-signed");
			break;
		case DANE_HOST_UNREACHABLE:
			mc_add(l, MONITORCHECK_FAIL, "%s: %s", h->dh_name,
			    h->dh_why ? h->dh_why : "no address");
			break;
		case DANE_HOST_ERROR:
			mc_add(l, h->dh_bogus ? MONITORCHECK_FAIL : MONITORCHECK_ERROR,
			    "%s: lookup failed: %s", h->dh_name, h->dh_why ? h->dh_why : "error");
			break;
		case DANE_HOST_NOT_CHECKED:
			break;
		}
		free(rec);
		free(owner);
	}
}

/* --------------------------------------------------------- tlsa-match */

static void
mc_match(const struct monitorcheck_in *in, struct mc_line *l)
{
	const struct dane_result *d = in->mi_dane;
	const struct probeset_result *p = in->mi_probe;
	size_t i, k, judged = 0;

	if (!mc_dns_known(in, l))
		return;
	if (p == NULL) {
		mc_add(l, MONITORCHECK_ERROR, "the MX hosts were not probed");
		return;
	}
	for (i = 0; i < d->dr_nhosts; i++) {
		const struct dane_host *h = &d->dr_hosts[i];
		size_t reached = 0, seen = 0;

		if (!mc_dane_host(h))
			continue;
		for (k = 0; k < p->pr_naddrs; k++) {
			const struct probeset_addr *a = &p->pr_addrs[k];

			if (strcmp(a->pa_host, h->dh_name) != 0 || a->pa_mode != PROBE_DANE)
				continue;
			seen++;
			if (a->pa_status != PROBE_ERROR)
				reached++;
		}
		for (k = 0; k < p->pr_naddrs; k++) {
			const struct probeset_addr *a = &p->pr_addrs[k];
			char *owner, *rec, *subj;

			if (strcmp(a->pa_host, h->dh_name) != 0 || a->pa_mode != PROBE_DANE)
				continue;
			judged++;
			if (a->pa_status == PROBE_PASS) {
				mc_add(l, MONITORCHECK_PASS, "%s[%s] matches at depth %d (%s)", a->pa_host,
				    a->pa_addr, a->pa_dane_depth, a->pa_dane_match);
				continue;
			}
			if (a->pa_status == PROBE_ERROR) {
				/* one address out of reach while another verified: a
				 * warning; the whole host out of reach: not checked */
				mc_add(l, reached ? MONITORCHECK_WARN : MONITORCHECK_ERROR,
				    "%s[%s] not reached: %s", a->pa_host, a->pa_addr, a->pa_detail);
				continue;
			}
			owner = mc_owner(h);
			rec = a->pa_peer->cc_n ? mc_rr_for(owner, &a->pa_peer->cc_certs[0]) : NULL;
			subj = a->pa_peer->cc_n ? mc_subject(&a->pa_peer->cc_certs[0]) : NULL;
			if (rec != NULL)
				mc_add(l, MONITORCHECK_FAIL, "%s[%s] %s: %s: its certificate (%s) needs "
				    "%s, or deploy the certificate the published records name",
				    a->pa_host, a->pa_addr, probe_reason_name(a->pa_reason),
				    a->pa_detail, subj, rec);
			else
				mc_add(l, MONITORCHECK_FAIL, "%s[%s] %s: %s", a->pa_host, a->pa_addr,
				    probe_reason_name(a->pa_reason), a->pa_detail);
			free(subj);
			free(rec);
			free(owner);
		}
		if (seen == 0) {
			mc_add(l, MONITORCHECK_ERROR, "%s: not probed", h->dh_name);
			judged++;
		}
	}
	if (judged == 0)
		mc_add(l, MONITORCHECK_WARN, "no MX host has TLSA records: nothing to match");
}

/* ------------------------------------------------------ tlsa-rollover */

/* Does the certificate file name the host (a SAN dNSName or the CN)? */
static bool
mc_file_names(const struct cert_chain *c, const char *host)
{
	struct cert_names n;
	bool found = false;
	size_t i;

	if (cert_names(c->cc_certs[0].cd_der, c->cc_certs[0].cd_len, &n) != CERT_NAMES_OK)
		return false;
	for (i = 0; i < n.cnm_ndns && !found; i++)
		found = strcasecmp(n.cnm_dns[i], host) == 0;
	if (n.cnm_ndns == 0 && n.cnm_cn != NULL)
		found = strcasecmp(n.cnm_cn, host) == 0;
	cert_names_free(&n);
	return found;
}

/* Is one record in force at h matched by chain? */
static bool
mc_host_matches(const struct dane_host *h, const struct cert_chain *chain, char **which)
{
	size_t j;

	for (j = 0; j < h->dh_ntlsa; j++)
		if (mc_in_force(&h->dh_tlsa[j]) &&
		    tlsa_match_chain(&h->dh_tlsa[j], chain->cc_certs, chain->cc_n) >= 0) {
			*which = xasprintf("%u %u %u", h->dh_tlsa[j].tr_usage,
			    h->dh_tlsa[j].tr_selector, h->dh_tlsa[j].tr_mtype);
			return true;
		}
	return false;
}

static void
mc_rollover(const struct monitorcheck_in *in, struct mc_line *l)
{
	const struct dane_result *d = in->mi_dane;
	size_t f, i, ndane = 0;

	if (in->mi_nfiles == 0) {
		mc_add(l, MONITORCHECK_PASS, "no next certificate given (--cert FILE, or cert_files "
		    "in the monitor configuration)");
		return;
	}
	for (f = 0; f < in->mi_nfiles; f++)
		if (in->mi_files[f].mf_chain == NULL)
			mc_add(l, MONITORCHECK_FAIL, "%s: %s", in->mi_files[f].mf_path,
			    in->mi_files[f].mf_error ? in->mi_files[f].mf_error : "cannot be read");
	if (!mc_dns_known(in, l))
		return;
	for (i = 0; i < d->dr_nhosts; i++)
		ndane += mc_dane_host(&d->dr_hosts[i]);
	if (ndane == 0) {
		mc_add(l, MONITORCHECK_PASS, "no TLSA records published: nothing to roll over");
		return;
	}
	for (f = 0; f < in->mi_nfiles; f++) {
		const struct cert_chain *c = in->mi_files[f].mf_chain;
		bool named = false;

		if (c == NULL)
			continue;
		/* the hosts the certificate names; none named: every MX host */
		for (i = 0; i < d->dr_nhosts; i++)
			named |= mc_dane_host(&d->dr_hosts[i]) && mc_file_names(c, d->dr_hosts[i].dh_name);
		for (i = 0; i < d->dr_nhosts; i++) {
			const struct dane_host *h = &d->dr_hosts[i];
			char *owner, *rec, *which = NULL;

			if (!mc_dane_host(h) || (named && !mc_file_names(c, h->dh_name)))
				continue;
			owner = mc_owner(h);
			if (mc_host_matches(h, c, &which)) {
				mc_add(l, MONITORCHECK_PASS, "%s: already published at %s (%s)",
				    in->mi_files[f].mf_path, owner, which);
			} else if ((rec = mc_rr_for(owner, &c->cc_certs[0])) != NULL) {
				mc_add(l, MONITORCHECK_FAIL, "%s: no published TLSA record at %s matches "
				    "it: publish %s next to the current record, wait for the TLSA TTL, "
				    "then deploy the certificate (current + next)",
				    in->mi_files[f].mf_path, owner, rec);
				free(rec);
			} else {
				mc_add(l, MONITORCHECK_FAIL, "%s: its leaf certificate does not parse",
				    in->mi_files[f].mf_path);
			}
			free(which);
			free(owner);
		}
	}
}

/* --------------------------------------------------------- tlsa-stale */

static void
mc_stale(const struct monitorcheck_in *in, struct mc_line *l)
{
	const struct dane_result *d = in->mi_dane;
	const struct probeset_result *p = in->mi_probe;
	size_t i, j, k, f, checked = 0;

	if (!mc_dns_known(in, l))
		return;
	for (i = 0; i < d->dr_nhosts; i++) {
		const struct dane_host *h = &d->dr_hosts[i];
		bool live = false;

		if (!mc_dane_host(h))
			continue;
		for (k = 0; p != NULL && k < p->pr_naddrs; k++)
			live |= strcmp(p->pr_addrs[k].pa_host, h->dh_name) == 0 &&
			    p->pr_addrs[k].pa_peer->cc_n > 0;
		if (!live) {
			mc_add(l, MONITORCHECK_ERROR, "%s: the live certificate could not be fetched",
			    h->dh_name);
			continue;
		}
		for (j = 0; j < h->dh_ntlsa; j++) {
			const struct tlsa_rr *rr = &h->dh_tlsa[j];
			bool used = false;
			char *owner, *t;

			if (rr->tr_check != TLSA_USABLE)
				continue;       /* tlsa-published says remove it */
			checked++;
			for (k = 0; p != NULL && k < p->pr_naddrs && !used; k++) {
				const struct probeset_addr *a = &p->pr_addrs[k];

				used = strcmp(a->pa_host, h->dh_name) == 0 &&
				    tlsa_match_chain(rr, a->pa_peer->cc_certs, a->pa_peer->cc_n) >= 0;
			}
			for (f = 0; f < in->mi_nfiles && !used; f++)
				used = in->mi_files[f].mf_chain != NULL &&
				    tlsa_match_chain(rr, in->mi_files[f].mf_chain->cc_certs,
				    in->mi_files[f].mf_chain->cc_n) >= 0;
			if (used)
				continue;
			owner = mc_owner(h);
			t = mc_rr_text(owner, rr);
			mc_add(l, MONITORCHECK_WARN, "remove %s: it matches neither the live nor the "
			    "next certificate", t);
			free(t);
			free(owner);
		}
	}
	if (l->ml_n == 0)
		mc_add(l, MONITORCHECK_PASS, checked ? "every TLSA record matches the live or the "
		    "next certificate" : "no TLSA records published");
}

/* -------------------------------------------------------- cert-expiry */

static void
mc_expiry(const struct monitorcheck_in *in, struct mc_line *l)
{
	const struct probeset_result *p = in->mi_probe;
	time_t soonest = 0, nb, na, warn = (time_t)in->mi_warn_days * MC_DAY;
	size_t k, c, seen = 0;
	char date[16];

	for (k = 0; p != NULL && k < p->pr_naddrs; k++) {
		const struct probeset_addr *a = &p->pr_addrs[k];

		for (c = 0; c < a->pa_peer->cc_n; c++) {
			const struct cert_der *cd = &a->pa_peer->cc_certs[c];
			char *subj;

			if (cert_validity(cd->cd_der, cd->cd_len, &nb, &na) != 0)
				continue;
			seen++;
			if (soonest == 0 || na < soonest)
				soonest = na;
			if (na > in->mi_now + warn && nb <= in->mi_now)
				continue;
			subj = mc_subject(cd);
			if (nb > in->mi_now) {
				mc_date(nb, date);
				mc_add(l, MONITORCHECK_FAIL, "%s[%s]: the certificate %s is not valid "
				    "before %s", a->pa_host, a->pa_addr, subj, date);
			} else if (na <= in->mi_now) {
				mc_date(na, date);
				mc_add(l, MONITORCHECK_FAIL, "%s[%s]: the certificate %s expired on %s: "
				    "renew it (publish the new key's TLSA record first)", a->pa_host,
				    a->pa_addr, subj, date);
			} else {
				mc_date(na, date);
				mc_add(l, MONITORCHECK_WARN, "%s[%s]: the certificate %s expires on %s "
				    "(in %ld days): renew it (publish the new key's TLSA record first)",
				    a->pa_host, a->pa_addr, subj, date,
				    (long)((na - in->mi_now) / MC_DAY));
			}
			free(subj);
		}
	}
	if (seen == 0) {
		mc_add(l, MONITORCHECK_ERROR, "no certificate seen: no MX host completed a TLS "
		    "handshake");
		return;
	}
	if (l->ml_n == 0) {
		mc_date(soonest, date);
		mc_add(l, MONITORCHECK_PASS, "every certificate valid for more than %u days "
		    "(the first to expire: %s)", in->mi_warn_days, date);
	}
}

/* ------------------------------------------------------------ mta-sts */

static void
mc_mtasts(const struct monitorcheck_in *in, struct mc_line *l)
{
	const struct mtasts_result *s = in->mi_sts;
	const struct dane_result *d = in->mi_dane;
	const struct mtasts_policy *p;
	struct sbuf pats = SBUF_INIT;
	size_t i, k;
	bool covered;

	if (s == NULL) {
		mc_add(l, MONITORCHECK_WARN, "MTA-STS lookups are off (mta_sts.enabled = false)");
		return;
	}
	switch (s->mr_status) {
	case MTASTS_ABSENT:
		mc_add(l, MONITORCHECK_WARN, "no MTA-STS policy: %s", s->mr_reason);
		return;
	case MTASTS_ERROR:
		if (s->mr_fetch_failed || s->mr_failure != MTASTS_FAIL_NONE)
			mc_add(l, MONITORCHECK_FAIL, "%s: %s: fix https://mta-sts.%s/.well-known/"
			    "mta-sts.txt", mtasts_failure_name(s->mr_failure), s->mr_reason,
			    in->mi_domain);
		else
			mc_add(l, MONITORCHECK_ERROR, "the lookup failed: %s", s->mr_reason);
		return;
	case MTASTS_POLICY:
		break;
	}
	p = s->mr_policy;
	for (k = 0; k < p->mp_nmx; k++)
		sbuf_printf(&pats, "%s%s", k ? ", " : "", p->mp_mx[k]);
	if (p->mp_mode != MTASTS_MODE_NONE) {
		if (d->dr_verdict == DANE_TEMPERROR)
			mc_add(l, MONITORCHECK_ERROR, "the MX lookup failed: the policy's mx patterns "
			    "were not checked");
		for (i = 0; i < d->dr_nhosts; i++) {
			const char *h = d->dr_hosts[i].dh_name;

			for (k = 0, covered = false; k < p->mp_nmx && !covered; k++)
				covered = mtasts_policy_mx_match(p->mp_mx[k], h);
			if (!covered)
				mc_add(l, MONITORCHECK_FAIL, "the MX host %s is not covered by the policy's "
				    "mx patterns (%s): add \"mx: %s\" to the policy and publish a new id "
				    "in _mta-sts.%s", h, sbuf_str(&pats), h, in->mi_domain);
		}
	}
	if (s->mr_fetched && s->mr_cert_not_after != 0 &&
	    s->mr_cert_not_after <= in->mi_now + (time_t)in->mi_warn_days * MC_DAY) {
		char date[16];

		mc_date(s->mr_cert_not_after, date);
		mc_add(l, MONITORCHECK_WARN, "the certificate of mta-sts.%s expires on %s (in %ld "
		    "days): renew it", in->mi_domain, date,
		    (long)((s->mr_cert_not_after - in->mi_now) / MC_DAY));
	}
	switch (p->mp_mode) {
	case MTASTS_MODE_ENFORCE:
		mc_add(l, MONITORCHECK_PASS, "mode enforce, id %s, mx %s", p->mp_id, sbuf_str(&pats));
		break;
	case MTASTS_MODE_TESTING:
		mc_add(l, MONITORCHECK_WARN, "mode testing, id %s, mx %s: senders do not enforce it; "
		    "switch to mode enforce once the reports are clean", p->mp_id, sbuf_str(&pats));
		break;
	case MTASTS_MODE_NONE:
		mc_add(l, MONITORCHECK_WARN, "mode none, id %s: the policy is withdrawn", p->mp_id);
		break;
	}
	sbuf_free(&pats);
}

/* ------------------------------------------------------------- tlsrpt */

static bool
mc_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* One URI of rua: "mailto:" or "https:" and something after it, no
 * spaces, commas or semicolons (those delimit). */
static bool
mc_rua_uri(const char *s, size_t n)
{
	size_t i, plen;

	if (n > 7 && strncasecmp(s, "mailto:", 7) == 0)
		plen = 7;
	else if (n > 8 && strncasecmp(s, "https://", 8) == 0)
		plen = 8;
	else
		return false;
	for (i = plen; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

enum monitorcheck_tlsrpt_parse
monitorcheck_tlsrpt_parse(const char *txt, char **why)
{
	static const char ver[] = "v=TLSRPTv1";
	const char *p = txt, *f, *e, *eq;
	size_t n, nrua = 0;

	*why = NULL;
	if (strncmp(txt, ver, sizeof(ver) - 1) != 0)
		return MONITORCHECK_TLSRPT_OTHER;
	p += sizeof(ver) - 1;
	while (mc_wsp(*p))
		p++;
	if (*p != ';') {
		*why = xstrdup(*p ? "no \";\" after v=TLSRPTv1" : "no rua field");
		return MONITORCHECK_TLSRPT_INVALID;
	}
	while (*p == ';') {
		p++;
		while (mc_wsp(*p))
			p++;
		if (*p == '\0')
			break;          /* a trailing delimiter */
		f = p;
		e = f + strcspn(f, ";");
		while (e > f && mc_wsp(e[-1]))
			e--;
		p = f + strcspn(f, ";");
		eq = memchr(f, '=', (size_t)(e - f));
		if (eq == NULL || eq == f) {
			*why = xasprintf("field \"%.*s\" is not NAME=VALUE", (int)(e - f), f);
			return MONITORCHECK_TLSRPT_INVALID;
		}
		if (eq - f == 3 && strncmp(f, "rua", 3) == 0) {
			const char *u = eq + 1, *ue;

			nrua++;
			for (;;) {
				ue = u + strcspn(u, ",;");
				if (ue > e)
					ue = e;
				n = (size_t)(ue - u);
				while (n > 0 && mc_wsp(u[n - 1]))
					n--;
				if (!mc_rua_uri(u, n)) {
					*why = xasprintf("rua URI \"%.*s\" is not mailto: or https:",
					    (int)n, u);
					return MONITORCHECK_TLSRPT_INVALID;
				}
				if (ue >= e || *ue != ',')
					break;
				u = ue + 1;
				while (u < e && mc_wsp(*u))     /* never past the field's end */
					u++;
			}
		} else {
			const char *c;

			for (c = f; c < eq; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || (c > f && (*c == '_' || *c == '-' ||
				    *c == '.'))))
					break;
			if (c < eq || eq - f > 32 || eq + 1 == e) {
				*why = xasprintf("field \"%.*s\" is not NAME=VALUE", (int)(e - f), f);
				return MONITORCHECK_TLSRPT_INVALID;
			}
		}
	}
	if (nrua != 1) {
		*why = xstrdup(nrua ? "more than one rua field" : "no rua field");
		return MONITORCHECK_TLSRPT_INVALID;
	}
	return MONITORCHECK_TLSRPT_OK;
}

static void
mc_tlsrpt(const struct monitorcheck_in *in, struct mc_line *l)
{
	const struct monitorcheck_tlsrpt *t = in->mi_tlsrpt;
	const char *valid = NULL;
	size_t i, ncand = 0;
	char *why = NULL, *bad = NULL;

	switch (t->mt_status) {
	case DNS_ERROR:
	case DNS_TIMEOUT:
		mc_add(l, t->mt_security == DNS_SEC_BOGUS ? MONITORCHECK_FAIL : MONITORCHECK_ERROR,
		    "the TXT lookup at _smtp._tls.%s failed: %s", in->mi_domain,
		    t->mt_why ? t->mt_why : dns_status_name(t->mt_status));
		return;
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		break;
	case DNS_RECORDS:
		for (i = 0; i < t->mt_ntxt; i++) {
			switch (monitorcheck_tlsrpt_parse(t->mt_txt[i], &why)) {
			case MONITORCHECK_TLSRPT_OK:
				ncand++;
				valid = t->mt_txt[i];
				break;
			case MONITORCHECK_TLSRPT_INVALID:
				ncand++;
				if (bad == NULL)
					bad = why;
				else
					free(why);
				break;
			case MONITORCHECK_TLSRPT_OTHER:
				break;
			}
		}
		break;
	}
	if (ncand > 1)
		mc_add(l, MONITORCHECK_WARN, "%zu v=TLSRPTv1 records at _smtp._tls.%s: senders use "
		    "none of them (RFC 8460 3); keep one", ncand, in->mi_domain);
	else if (bad != NULL)
		mc_add(l, MONITORCHECK_WARN, "the record at _smtp._tls.%s is not valid: %s",
		    in->mi_domain, bad);
	else if (valid != NULL)
		mc_add(l, MONITORCHECK_PASS, "%s", valid);
	else
		mc_add(l, MONITORCHECK_WARN, "no TLSRPT record: publish _smtp._tls.%s. IN TXT "
		    "\"v=TLSRPTv1; rua=mailto:tlsrpt@%s\" to receive reports of failed deliveries",
		    in->mi_domain, in->mi_domain);
	free(bad);
}

/* ---------------------------------------------------------------- run */

void
monitorcheck_run(const struct monitorcheck_in *in, struct monitorcheck_result *out)
{
	static void (*const checks[MONITORCHECK_N])(const struct monitorcheck_in *,
	    struct mc_line *) = {
		mc_dnssec, mc_published, mc_match, mc_rollover, mc_stale, mc_expiry,
		mc_mtasts, mc_tlsrpt
	};
	struct mc_line l = { NULL, 0 };
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < MONITORCHECK_N; i++) {
		checks[i](in, &l);
		mc_close(&l, (enum monitorcheck_id)i, out);
	}
}
