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

static void
report_json_opt(struct sbuf *sb, const char *key, const char *val)
{
	sbuf_printf(sb, ",\"%s\":", key);
	if (val)
		sbuf_json_str(sb, val);
	else
		sbuf_append(sb, "null");
}

void
report_json(struct sbuf *sb, const struct dane_result *res)
{
	size_t i, j;

	sbuf_append(sb, "{\"domain\":");
	sbuf_json_str(sb, res->dr_domain);
	sbuf_printf(sb, ",\"policy\":\"%s\",\"dane\":\"%s\",\"ttl\":%u",
	    dane_policy_name(res->dr_policy), dane_verdict_name(res->dr_verdict), res->dr_ttl);
	report_json_opt(sb, "reason", res->dr_reason);
	sbuf_printf(sb, ",\"mx_dnssec\":\"%s\",\"implicit_mx\":%s",
	    dns_security_name(res->dr_mx_security), res->dr_implicit_mx ? "true" : "false");
	report_json_opt(sb, "cname", res->dr_domain_canon);
	sbuf_printf(sb, ",\"rounds\":%u,\"queries\":%u,\"elapsed_ms\":%u,\"hosts_dropped\":%zu,\"hosts\":[",
	    res->dr_rounds, res->dr_queries, res->dr_elapsed_ms, res->dr_hosts_dropped);
	for (i = 0; i < res->dr_nhosts; i++) {
		const struct dane_host *h = &res->dr_hosts[i];

		sbuf_append(sb, i ? ",{\"name\":" : "{\"name\":");
		sbuf_json_str(sb, h->dh_name);
		sbuf_printf(sb, ",\"preference\":%u", h->dh_pref);
		report_json_opt(sb, "cname", h->dh_canon);
		sbuf_append(sb, ",\"addresses\":[");
		for (j = 0; j < h->dh_naddrs; j++) {
			if (j)
				sbuf_appendc(sb, ',');
			sbuf_json_str(sb, h->dh_addrs[j]);
		}
		sbuf_printf(sb, "],\"address_dnssec\":\"%s\",\"tlsa_state\":\"%s\"",
		    dns_security_name(h->dh_addr_security), dane_host_state_name(h->dh_state));
		report_json_opt(sb, "tlsa_base", h->dh_tlsa_base);
		report_json_opt(sb, "tlsa_owner", h->dh_tlsa_owner);
		report_json_opt(sb, "why", h->dh_why);
		sbuf_append(sb, ",\"tlsa\":[");
		for (j = 0; j < h->dh_ntlsa; j++) {
			const struct tlsa_rr *t = &h->dh_tlsa[j];
			char *hex = report_hex(t);

			sbuf_printf(sb, "%s{\"usage\":%u,\"selector\":%u,\"mtype\":%u,\"data\":\"%s\",\"status\":\"%s\"",
			    j ? "," : "", t->tr_usage, t->tr_selector, t->tr_mtype, hex, report_tlsa_status(t));
			report_json_opt(sb, "why", t->tr_check != TLSA_USABLE ? tlsa_check_text(t->tr_check) :
			    (t->tr_agility_ignored ? "digest agility" : NULL));
			sbuf_appendc(sb, '}');
			free(hex);
		}
		sbuf_append(sb, "]}");
	}
	sbuf_append(sb, "]}");
}
