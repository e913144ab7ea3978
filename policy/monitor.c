/*
 * monitor.c: see monitor.h.
 *
 * States of a run: LOOKUPS (DANE, MTA-STS and TLSRPT queries in flight),
 * PROBING (the probeset of the verdict), DONE (the callback ran; an
 * iv_task frees the run once the probeset that called back is gone).
 */
#include "monitor.h"

#include <iv.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "dns/rdata.h"
#include "policy/probecache.h"
#include "policy/probeset.h"
#include "policy/verdict.h"

struct monitor {
	struct engine *m_en;
	char *m_domain;
	char **m_files;
	size_t m_nfiles;
	unsigned m_warn_days;
	time_t m_now;
	monitor_done_fn *m_done;
	void *m_arg;
	/* the lookups */
	struct dane_lookup *m_dl;
	struct dane_result *m_dane;             /* until the verdict takes it */
	struct mtasts_lookup *m_sl;
	struct mtasts_result *m_sts;
	struct dns_query *m_tq;
	unsigned m_pending;
	struct monitorcheck_tlsrpt m_tlsrpt;
	char *m_tlsrpt_why;
	char **m_txt;
	/* the probes */
	struct verdict *m_v;
	struct probecache *m_pc;
	struct probeset *m_ps;
	struct monitorcheck_result m_res;       /* judged, for the callback */
	struct iv_task m_free_task;
};

static void
monitor_free(struct monitor *m)
{
	size_t i;

	if (iv_task_registered(&m->m_free_task))
		iv_task_unregister(&m->m_free_task);
	if (m->m_dl != NULL)
		dane_lookup_cancel(m->m_dl);
	if (m->m_sl != NULL)
		mtasts_lookup_cancel(m->m_sl);
	if (m->m_tq != NULL)
		dns_query_cancel(m->m_tq);
	if (m->m_ps != NULL)
		probeset_cancel(m->m_ps);
	probecache_free(m->m_pc);
	monitorcheck_result_free(&m->m_res);
	if (m->m_dane != NULL)
		dane_result_free(m->m_dane);
	mtasts_result_free(m->m_sts);
	if (m->m_v != NULL)
		verdict_unref(m->m_v);
	for (i = 0; i < m->m_tlsrpt.mt_ntxt; i++)
		free(m->m_txt[i]);
	free(m->m_txt);
	free(m->m_tlsrpt_why);
	for (i = 0; i < m->m_nfiles; i++)
		free(m->m_files[i]);
	free(m->m_files);
	free(m->m_domain);
	engine_unref(m->m_en);
	free(m);
}

/* Call back and free, from the loop: the probeset that called
 * monitor_probed() is gone by now (its probe cache had to outlive it). */
static void
monitor_free_task(void *cookie)
{
	struct monitor *m = cookie;

	m->m_done(m->m_arg, m->m_domain, &m->m_res);
	monitorcheck_result_free(&m->m_res);
	monitor_free(m);
}

/* probeset_done_fn: judge (r is valid during this call only). */
static void
monitor_probed(void *arg, const struct probeset_result *r)
{
	struct monitor *m = arg;
	struct monitorcheck_file *files = xcalloc(m->m_nfiles ? m->m_nfiles : 1, sizeof(*files));
	struct cert_chain *chains = xcalloc(m->m_nfiles ? m->m_nfiles : 1, sizeof(*chains));
	char **errs = xcalloc(m->m_nfiles ? m->m_nfiles : 1, sizeof(*errs));
	struct monitorcheck_in in;
	size_t i;

	m->m_ps = NULL;
	for (i = 0; i < m->m_nfiles; i++) {
		files[i].mf_path = m->m_files[i];
		if (cert_chain_load(m->m_files[i], &chains[i], &errs[i]) == CERT_LOAD_OK)
			files[i].mf_chain = &chains[i];
		else
			files[i].mf_error = errs[i];
	}
	memset(&in, 0, sizeof(in));
	in.mi_domain = m->m_domain;
	in.mi_now = m->m_now;
	in.mi_warn_days = m->m_warn_days;
	in.mi_dane = m->m_v->v_dane;
	in.mi_probe = r;
	in.mi_files = files;
	in.mi_nfiles = m->m_nfiles;
	in.mi_sts = m->m_en->en_sts != NULL ? m->m_sts : NULL;
	in.mi_tlsrpt = &m->m_tlsrpt;
	monitorcheck_run(&in, &m->m_res);
	for (i = 0; i < m->m_nfiles; i++) {
		cert_chain_free(&chains[i]);
		free(errs[i]);
	}
	free(chains);
	free(errs);
	free(files);
	iv_task_register(&m->m_free_task);
}

/* One lookup ended: with all of them, the verdict and the probes. */
static void
monitor_lookup_done(struct monitor *m)
{
	if (--m->m_pending != 0)
		return;
	/* (no overrides: the monitor judges what the domain publishes) */
	m->m_v = verdict_build(m->m_en->en_cfg, NULL, m->m_dane, m->m_sts, m->m_now);
	m->m_dane = NULL;
	m->m_pc = probecache_new();
	m->m_ps = probeset_start(m->m_en, m->m_pc, m->m_v, m->m_now, monitor_probed, m);
}

static void
monitor_dane_done(void *arg, struct dane_result *res)
{
	struct monitor *m = arg;

	m->m_dl = NULL;
	m->m_dane = res;
	monitor_lookup_done(m);
}

static void
monitor_sts_done(void *arg, struct mtasts_result *res)
{
	struct monitor *m = arg;

	m->m_sl = NULL;
	m->m_sts = res;
	monitor_lookup_done(m);
}

static void
monitor_txt_done(void *arg, const struct dns_answer *a)
{
	struct monitor *m = arg;
	size_t i;
	int trunc;

	m->m_tq = NULL;
	m->m_tlsrpt.mt_status = a->da_status;
	m->m_tlsrpt.mt_security = a->da_security;
	if (a->da_why != NULL)
		m->m_tlsrpt_why = xstrdup(a->da_why);
	m->m_tlsrpt.mt_why = m->m_tlsrpt_why;
	if (a->da_status == DNS_RECORDS) {
		m->m_txt = xcalloc(a->da_nrr, sizeof(*m->m_txt));
		for (i = 0; i < a->da_nrr; i++) {
			char *txt = xmalloc(a->da_rr[i].dr_len + 1);

			if (rdata_txt(a->da_rr[i].dr_data, a->da_rr[i].dr_len, txt,
			    a->da_rr[i].dr_len + 1, &trunc) != RDATA_OK || trunc) {
				free(txt);
				continue;
			}
			m->m_txt[m->m_tlsrpt.mt_ntxt++] = txt;
		}
	}
	m->m_tlsrpt.mt_txt = m->m_txt;
	monitor_lookup_done(m);
}

struct monitor *
monitor_start(struct engine *en, const struct monitor_req *req, time_t now,
    monitor_done_fn *done, void *arg)
{
	struct monitor *m = xcalloc(1, sizeof(*m));
	struct mtasts_cached nothing;
	char *name;
	size_t i;

	m->m_en = engine_ref(en);
	m->m_domain = xstrdup(req->mq_domain);
	m->m_nfiles = req->mq_ncert_files;
	m->m_files = xcalloc(m->m_nfiles ? m->m_nfiles : 1, sizeof(*m->m_files));
	for (i = 0; i < m->m_nfiles; i++)
		m->m_files[i] = xstrdup(req->mq_cert_files[i]);
	m->m_warn_days = req->mq_warn_days;
	m->m_now = now;
	m->m_done = done;
	m->m_arg = arg;
	IV_TASK_INIT(&m->m_free_task);
	m->m_free_task.cookie = m;
	m->m_free_task.handler = monitor_free_task;

	/* every lookup calls back from the loop, never from here */
	memset(&nothing, 0, sizeof(nothing));
	m->m_pending = 3;
	m->m_dl = engine_dane(en, m->m_domain, monitor_dane_done, m);
	if (m->m_dl == NULL)
		log_abort("monitor: %s: not a host name", m->m_domain);
	m->m_sl = engine_mtasts(en, m->m_domain, &nothing, now, monitor_sts_done, m);
	if (m->m_sl == NULL)            /* MTA-STS is off */
		m->m_pending--;
	name = xasprintf("_smtp._tls.%s", m->m_domain);
	m->m_tq = dns_query_start(en->en_dns, name, DNS_TYPE_TXT, engine_logtag(en, m->m_domain),
	    monitor_txt_done, m);
	free(name);
	return m;
}

void
monitor_cancel(struct monitor *m)
{
	if (m != NULL)
		monitor_free(m);
}
