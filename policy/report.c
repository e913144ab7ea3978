/*
 * report.c: see report.h.
 */
#include "report.h"

#include <stdlib.h>

#include "common/xmalloc.h"
#include "dns/rdata.h"

static const char *
report_tlsa_status(const struct tlsa_rr *t)
{
	if (t->tr_check != TLSA_USABLE)
		return "unusable";
	return t->tr_agility_ignored ? "ignored" : "usable";
}

static char *
report_hex(const struct tlsa_rr *t)
{
	char *hex = xmalloc(2 * t->tr_len + 1);

	rdata_hex(t->tr_data, t->tr_len, hex);
	return hex;
}

/* A value for key=value text: quoted, quotes and controls replaced. */
static void
report_quoted(struct sbuf *sb, const char *s)
{
	sbuf_appendc(sb, '"');
	for (; *s; s++)
		sbuf_appendc(sb, *s == '"' ? '\'' : ((unsigned char)*s < 0x20 ? ' ' : *s));
	sbuf_appendc(sb, '"');
}

void
report_text(struct sbuf *sb, const struct dane_result *res)
{
	size_t i, j;

	sbuf_printf(sb, "  dane: %s ttl=%u rounds=%u reason=", dane_verdict_name(res->dr_verdict),
	    res->dr_ttl, res->dr_rounds);
	report_quoted(sb, res->dr_reason);
	sbuf_appendc(sb, '\n');
	if (res->dr_domain_canon)
		sbuf_printf(sb, "  cname %s\n", res->dr_domain_canon);
	for (i = 0; i < res->dr_nhosts; i++) {
		const struct dane_host *h = &res->dr_hosts[i];

		sbuf_printf(sb, "  %s %u %s", res->dr_implicit_mx ? "implicit-mx" : "mx",
		    h->dh_pref, h->dh_name);
		if (h->dh_canon)
			sbuf_printf(sb, " cname=%s", h->dh_canon);
		sbuf_append(sb, " addrs=");
		for (j = 0; j < h->dh_naddrs; j++)
			sbuf_printf(sb, "%s%s", j ? "," : "", h->dh_addrs[j]);
		if (h->dh_naddrs == 0)
			sbuf_append(sb, "none");
		if (h->dh_state != DANE_HOST_NOT_CHECKED)
			sbuf_printf(sb, " dnssec=%s", dns_security_name(h->dh_addr_security));
		sbuf_printf(sb, " tlsa=%s", dane_host_state_name(h->dh_state));
		if (h->dh_tlsa_base)
			sbuf_printf(sb, " base=%s", h->dh_tlsa_base);
		if (h->dh_tlsa_owner)
			sbuf_printf(sb, " owner=%s", h->dh_tlsa_owner);
		if (h->dh_why) {
			sbuf_append(sb, " why=");
			report_quoted(sb, h->dh_why);
		}
		sbuf_appendc(sb, '\n');
		for (j = 0; j < h->dh_ntlsa; j++) {
			const struct tlsa_rr *t = &h->dh_tlsa[j];
			char *hex = report_hex(t);

			sbuf_printf(sb, "    tlsa %u %u %u %s: %s", t->tr_usage, t->tr_selector,
			    t->tr_mtype, hex, report_tlsa_status(t));
			if (t->tr_check != TLSA_USABLE)
				sbuf_printf(sb, ": %s", tlsa_check_text(t->tr_check));
			else if (t->tr_agility_ignored)
				sbuf_append(sb, ": a stronger digest is published (digest agility)");
			sbuf_appendc(sb, '\n');
			free(hex);
		}
	}
	if (res->dr_hosts_dropped)
		sbuf_printf(sb, "  (%zu more MX hosts not examined)\n", res->dr_hosts_dropped);
}

json_t *
report_json(const struct dane_result *res)
{
	json_t *o = jsonout_object(), *hosts = jsonout_array();
	size_t i, j;

	jsonout_set_str(o, "domain", res->dr_domain);
	jsonout_set_str(o, "policy", dane_policy_name(res->dr_policy));
	jsonout_set_str(o, "dane", dane_verdict_name(res->dr_verdict));
	jsonout_set_int(o, "ttl", res->dr_ttl);
	jsonout_set_str(o, "reason", res->dr_reason);
	jsonout_set_str(o, "mx_dnssec", dns_security_name(res->dr_mx_security));
	jsonout_set(o, "implicit_mx", jsonout_bool(res->dr_implicit_mx));
	jsonout_set_str(o, "cname", res->dr_domain_canon);
	jsonout_set_int(o, "rounds", res->dr_rounds);
	jsonout_set_int(o, "queries", res->dr_queries);
	jsonout_set_int(o, "elapsed_ms", res->dr_elapsed_ms);
	jsonout_set_int(o, "hosts_dropped", (long long)res->dr_hosts_dropped);
	for (i = 0; i < res->dr_nhosts; i++) {
		const struct dane_host *h = &res->dr_hosts[i];
		json_t *ho = jsonout_object(), *addrs = jsonout_array(), *tlsa = jsonout_array();

		jsonout_set_str(ho, "name", h->dh_name);
		jsonout_set_int(ho, "preference", h->dh_pref);
		jsonout_set_str(ho, "cname", h->dh_canon);
		for (j = 0; j < h->dh_naddrs; j++)
			jsonout_append(addrs, jsonout_str(h->dh_addrs[j]));
		jsonout_set(ho, "addresses", addrs);
		jsonout_set_str(ho, "address_dnssec", dns_security_name(h->dh_addr_security));
		jsonout_set_str(ho, "tlsa_state", dane_host_state_name(h->dh_state));
		jsonout_set_str(ho, "tlsa_base", h->dh_tlsa_base);
		jsonout_set_str(ho, "tlsa_owner", h->dh_tlsa_owner);
		jsonout_set_str(ho, "why", h->dh_why);
		for (j = 0; j < h->dh_ntlsa; j++) {
			const struct tlsa_rr *t = &h->dh_tlsa[j];
			json_t *to = jsonout_object();
			char *hex = report_hex(t);

			jsonout_set_int(to, "usage", t->tr_usage);
			jsonout_set_int(to, "selector", t->tr_selector);
			jsonout_set_int(to, "mtype", t->tr_mtype);
			jsonout_set_str(to, "data", hex);
			jsonout_set_str(to, "status", report_tlsa_status(t));
			jsonout_set_str(to, "why", t->tr_check != TLSA_USABLE ?
			    tlsa_check_text(t->tr_check) :
			    (t->tr_agility_ignored ? "digest agility" : NULL));
			jsonout_append(tlsa, to);
			free(hex);
		}
		jsonout_set(ho, "tlsa", tlsa);
		jsonout_append(hosts, ho);
	}
	jsonout_set(o, "hosts", hosts);
	return o;
}
