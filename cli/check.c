/*
 * check.c: `danemilter check [-c FILE] [--json] [--log] DOMAIN...`
 *
 * The verdict of each domain (as `query`), then a STARTTLS probe of every
 * MX host and address under the policy the verdict implies (DANE with the
 * host's TLSA records, PKIX + MX name for MTA-STS, opportunistic without
 * a policy), all domains and hosts in parallel (probe.max_parallel at
 * once). Output in argument order: the verdict line, one line per probed
 * address, and the domain's check result. --log adds the resolution and
 * the PowerMTA-style TLS lines on stderr.
 *
 * Exit: 0 when every domain's MX hosts verify under its policy (or there
 * is nothing to verify), 1 when an address fails verification, 75 when a
 * domain could not be checked (lookup error, no host reachable), 64 usage,
 * 78 configuration.
 */
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "cli/cli.h"
#include "policy/cache.h"
#include "policy/probeset.h"

struct check_slot {
	struct verdict *cs_v;
	struct probeset *cs_ps;
	enum probeset_verdict cs_result;
	struct sbuf cs_out;
};

struct check_run {
	struct cli_engine cr_ce;
	struct probecache *cr_pc;
	bool cr_json;
	size_t cr_pending;
};

static struct check_run check_run;

static void
check_addr_text(struct sbuf *sb, const struct probeset_addr *a, unsigned port)
{
	sbuf_printf(sb, "  %s[%s]:%u %s %s", a->pa_host, a->pa_addr, port,
	    probe_mode_name(a->pa_mode), probe_status_name(a->pa_status));
	if (a->pa_reason != PROBE_R_NONE)
		sbuf_printf(sb, " %s", probe_reason_name(a->pa_reason));
	if (*a->pa_tls_version)
		sbuf_printf(sb, " %s %s %d-bit", a->pa_tls_version, a->pa_cipher, a->pa_bits);
	if (a->pa_dane_depth >= 0)
		sbuf_printf(sb, " depth=%d match=\"%s\"", a->pa_dane_depth, a->pa_dane_match);
	if (*a->pa_subject)
		sbuf_printf(sb, " cert=\"%s\" issuer=\"%s\" verified=%s", a->pa_subject,
		    a->pa_issuer, a->pa_pkix_verified ? "yes" : "no");
	sbuf_printf(sb, " detail=\"%s\"", a->pa_detail);
	if (a->pa_cached)
		sbuf_append(sb, " cached");
	sbuf_appendc(sb, '\n');
}

static void
check_json_kv(struct sbuf *sb, const char *k, const char *v, bool first)
{
	sbuf_printf(sb, "%s\"%s\":", first ? "" : ",", k);
	sbuf_json_str(sb, v);
}

static void
check_addr_json(struct sbuf *sb, const struct probeset_addr *a, unsigned port)
{
	sbuf_appendc(sb, '{');
	check_json_kv(sb, "host", a->pa_host, true);
	check_json_kv(sb, "addr", a->pa_addr, false);
	sbuf_printf(sb, ",\"port\":%u", port);
	check_json_kv(sb, "mode", probe_mode_name(a->pa_mode), false);
	check_json_kv(sb, "status", probe_status_name(a->pa_status), false);
	check_json_kv(sb, "reason", probe_reason_name(a->pa_reason), false);
	check_json_kv(sb, "detail", a->pa_detail, false);
	check_json_kv(sb, "tls_version", a->pa_tls_version, false);
	check_json_kv(sb, "cipher", a->pa_cipher, false);
	sbuf_printf(sb, ",\"bits\":%d", a->pa_bits);
	check_json_kv(sb, "subject", a->pa_subject, false);
	check_json_kv(sb, "issuer", a->pa_issuer, false);
	sbuf_printf(sb, ",\"pkix_verified\":%s,\"dane_depth\":%d", a->pa_pkix_verified ?
	    "true" : "false", a->pa_dane_depth);
	check_json_kv(sb, "dane_match", a->pa_dane_match, false);
	sbuf_printf(sb, ",\"ms\":%u,\"cached\":%s}", a->pa_ms, a->pa_cached ? "true" : "false");
}

static void
check_done(void *arg, const struct probeset_result *r)
{
	struct check_slot *s = arg;
	const struct verdict *v = s->cs_v;
	unsigned port = check_run.cr_ce.ce_en->en_cfg->c_probe.cpr_port;
	size_t i;

	s->cs_ps = NULL;
	s->cs_result = r->pr_verdict;
	if (check_run.cr_json) {
		sbuf_appendc(&s->cs_out, '{');
		check_json_kv(&s->cs_out, "domain", v->v_domain, true);
		check_json_kv(&s->cs_out, "policy", v->v_level, false);
		check_json_kv(&s->cs_out, "dane", dane_verdict_name(v->v_dane->dr_verdict), false);
		check_json_kv(&s->cs_out, "mta_sts", verdict_sts_name(v->v_sts), false);
		check_json_kv(&s->cs_out, "source", verdict_source_name(v->v_source), false);
		check_json_kv(&s->cs_out, "check", probeset_verdict_name(r->pr_verdict), false);
		check_json_kv(&s->cs_out, "reason", probe_reason_name(r->pr_reason), false);
		check_json_kv(&s->cs_out, "note", r->pr_note, false);
		sbuf_append(&s->cs_out, ",\"addresses\":[");
		for (i = 0; i < r->pr_naddrs; i++) {
			if (i)
				sbuf_appendc(&s->cs_out, ',');
			check_addr_json(&s->cs_out, &r->pr_addrs[i], port);
		}
		sbuf_append(&s->cs_out, "]}\n");
	} else {
		sbuf_printf(&s->cs_out, "%s: policy=%s dane=%s mta-sts=%s source=%s\n", v->v_domain,
		    v->v_level, dane_verdict_name(v->v_dane->dr_verdict), verdict_sts_name(v->v_sts),
		    verdict_source_name(v->v_source));
		for (i = 0; i < r->pr_naddrs; i++)
			check_addr_text(&s->cs_out, &r->pr_addrs[i], port);
		sbuf_printf(&s->cs_out, "  check: %s%s%s: %s\n", probeset_verdict_name(r->pr_verdict),
		    r->pr_reason != PROBE_R_NONE ? " " : "", probe_reason_name(r->pr_reason),
		    r->pr_note);
	}
	if (--check_run.cr_pending == 0)
		iv_quit();
}

static void
check_verdict(void *arg, struct verdict *v)
{
	struct check_slot *s = arg;

	s->cs_v = verdict_ref(v);
	s->cs_ps = probeset_start(check_run.cr_ce.ce_en, check_run.cr_pc, v, time(NULL),
	    check_done, s);
}

int
check_main(int argc, char **argv)
{
	struct check_slot *slots;
	struct cli_args a;
	size_t i, n;
	int rc;

	memset(&check_run, 0, sizeof(check_run));
	if ((rc = cli_domain_args(argc, argv, "check", &a)) >= 0)
		return rc;
	check_run.cr_json = a.ca_json;
	if ((rc = cli_engine_start(&check_run.cr_ce, "check", a.ca_cfgpath, a.ca_logall, true,
	    a.ca_domains, a.ca_ndomains)) != 0)
		return rc;
	n = a.ca_ndomains;
	slots = xcalloc(n, sizeof(*slots));
	check_run.cr_pc = probecache_new();
	check_run.cr_pending = n;
	for (i = 0; i < n; i++) {
		struct verdict *v = cache_get(check_run.cr_ce.ce_cache,
		    check_run.cr_ce.ce_domains[i].cd_key, time(NULL), check_verdict, &slots[i],
		    NULL);

		if (v != NULL)          /* the same domain twice */
			check_verdict(&slots[i], v);
	}
	iv_main();
	for (i = 0; i < n; i++) {
		fputs(sbuf_str(&slots[i].cs_out), stdout);
		sbuf_free(&slots[i].cs_out);
		if (slots[i].cs_result == PROBESET_FAIL)
			rc = 1;
		else if (slots[i].cs_result == PROBESET_TEMP && rc == 0)
			rc = EX_TEMPFAIL;
		verdict_unref(slots[i].cs_v);
	}
	fflush(stdout);
	probecache_free(check_run.cr_pc);
	cli_engine_stop(&check_run.cr_ce);
	free(slots);
	return rc;
}
