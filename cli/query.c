/*
 * query_main.c: `danemilter query [-c FILE] [--json] [--log] DOMAIN...`
 *
 * Runs the engine in-process on this thread's loop, through the same
 * verdict cache and combination as the daemon, so it prints exactly what
 * the socketmap would answer: every domain's lookups in parallel, results
 * in argument order. Exit 0 when every domain got a verdict, EX_TEMPFAIL
 * (75) when one is a temporary error, EX_USAGE (64), EX_CONFIG (78).
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
#include "policy/report.h"

struct query_slot {
	struct verdict *qs_v;
};

static size_t query_pending;

static void
query_done(void *arg, struct verdict *v)
{
	struct query_slot *s = arg;

	s->qs_v = verdict_ref(v);
	if (--query_pending == 0)
		iv_quit();
}

/* The human-readable form of one verdict. */
static void
query_text(struct sbuf *sb, const struct verdict *v)
{
	const struct mtasts_policy *p = v->v_sts_policy;
	size_t i;

	sbuf_printf(sb, "%s: policy=%s dane=%s mta-sts=%s source=%s\n", v->v_domain, v->v_level,
	    dane_verdict_name(v->v_dane->dr_verdict), verdict_sts_name(v->v_sts),
	    verdict_source_name(v->v_source));
	sbuf_printf(sb, "  reply: %s\n", v->v_reply);
	report_text(sb, v->v_dane);
	sbuf_printf(sb, "  mta-sts: %s", verdict_sts_name(v->v_sts));
	if (p != NULL) {
		sbuf_printf(sb, " id=%s mode=%s max_age=%u mx=", p->mp_id,
		    mtasts_policy_mode_name(p->mp_mode), p->mp_max_age);
		for (i = 0; i < p->mp_nmx; i++)
			sbuf_printf(sb, "%s%s", i ? "," : "", p->mp_mx[i]);
	}
	if (v->v_sts_failure != MTASTS_FAIL_NONE)
		sbuf_printf(sb, " failure=%s", mtasts_failure_name(v->v_sts_failure));
	sbuf_append(sb, " reason=\"");
	for (const char *c = v->v_sts_reason; *c; c++)
		sbuf_appendc(sb, *c == '"' ? '\'' : ((unsigned char)*c < 0x20 ? ' ' : *c));
	sbuf_append(sb, "\"\n");
}

int
query_main(int argc, char **argv)
{
	struct query_slot *slots;
	struct cli_engine ce;
	struct cli_args a;
	size_t i, n;
	int rc;

	if ((rc = cli_domain_args(argc, argv, "query", &a)) >= 0)
		return rc;
	if ((rc = cli_engine_start(&ce, "query", a.ca_cfgpath, a.ca_logall, true,
	    a.ca_domains, a.ca_ndomains)) != 0)
		return rc;
	n = a.ca_ndomains;
	slots = xcalloc(n, sizeof(*slots));
	query_pending = n;
	for (i = 0; i < n; i++) {
		struct verdict *v = cache_get(ce.ce_cache, ce.ce_domains[i].cd_key, time(NULL),
		    query_done, &slots[i], NULL);

		if (v != NULL) {        /* the same domain twice */
			slots[i].qs_v = verdict_ref(v);
			query_pending--;
		}
	}
	if (query_pending > 0)
		iv_main();
	for (i = 0; i < n; i++) {
		struct sbuf sb = SBUF_INIT;
		struct verdict *v = slots[i].qs_v;

		if (a.ca_json) {
			json_t *o = verdict_json(v);

			jsonout_dump_sbuf(&sb, o);
			sbuf_appendc(&sb, '\n');
			json_decref(o);
		} else {
			query_text(&sb, v);
		}
		fputs(sbuf_str(&sb), stdout);
		sbuf_free(&sb);
		if (v->v_kind == VERDICT_TEMP)
			rc = EX_TEMPFAIL;
		verdict_unref(v);
	}
	fflush(stdout);
	cli_engine_stop(&ce);
	free(slots);
	return rc;
}
