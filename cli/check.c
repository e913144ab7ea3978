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

#include "common/jsonout.h"
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

static json_t *
check_addr_json(const struct probeset_addr *a, unsigned port)
{
	json_t *o = jsonout_object();

	jsonout_set_str(o, "host", a->pa_host);
	jsonout_set_str(o, "addr", a->pa_addr);
	jsonout_set_int(o, "port", port);
	jsonout_set_str(o, "mode", probe_mode_name(a->pa_mode));
	jsonout_set_str(o, "status", probe_status_name(a->pa_status));
	jsonout_set_str(o, "reason", probe_reason_name(a->pa_reason));
	jsonout_set_str(o, "detail", a->pa_detail);
	jsonout_set_str(o, "tls_version", a->pa_tls_version);
	jsonout_set_str(o, "cipher", a->pa_cipher);
	jsonout_set_int(o, "bits", a->pa_bits);
	jsonout_set_str(o, "subject", a->pa_subject);
	jsonout_set_str(o, "issuer", a->pa_issuer);
	jsonout_set(o, "pkix_verified", jsonout_bool(a->pa_pkix_verified));
	jsonout_set_int(o, "dane_depth", a->pa_dane_depth);
	jsonout_set_str(o, "dane_match", a->pa_dane_match);
	jsonout_set_int(o, "ms", a->pa_ms);
	jsonout_set(o, "cached", jsonout_bool(a->pa_cached));
	return o;
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
		json_t *o = jsonout_object(), *addrs = jsonout_array();

		jsonout_set_str(o, "domain", v->v_domain);
		jsonout_set_str(o, "policy", v->v_level);
		jsonout_set_str(o, "dane", dane_verdict_name(v->v_dane->dr_verdict));
		jsonout_set_str(o, "mta_sts", verdict_sts_name(v->v_sts));
		jsonout_set_str(o, "source", verdict_source_name(v->v_source));
		jsonout_set_str(o, "check", probeset_verdict_name(r->pr_verdict));
		jsonout_set_str(o, "reason", probe_reason_name(r->pr_reason));
		jsonout_set_str(o, "note", r->pr_note);
		for (i = 0; i < r->pr_naddrs; i++)
			jsonout_append(addrs, check_addr_json(&r->pr_addrs[i], port));
		jsonout_set(o, "addresses", addrs);
		jsonout_dump_sbuf(&s->cs_out, o);
		sbuf_appendc(&s->cs_out, '\n');
		json_decref(o);
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
