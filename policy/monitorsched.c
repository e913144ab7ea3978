/*
 * monitorsched.c: see monitorsched.h.
 *
 * One iv_timer arms each round; a round walks ms_doms (rebuilt from the
 * configuration in force when the round starts, keeping the states of
 * the names it still lists) with one struct monitor at a time.
 */
#include "monitorsched.h"

#include <iv.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/xmalloc.h"
#include "policy/monitor.h"

struct ms_dom {
	char *md_name;
	bool md_known;                          /* a run ended: md_state holds */
	enum monitorcheck_state md_state[MONITORCHECK_N];
	time_t md_last_run;
};

struct monitorsched {
	struct generation *ms_gen;
	struct iv_timer ms_timer;
	struct ms_dom *ms_doms;
	size_t ms_ndoms;
	size_t ms_next;                         /* the next domain of the round */
	struct engine *ms_en;                   /* the round's engine (a reference) */
	struct monitor *ms_run;                 /* in flight, or NULL */
	struct iv_task ms_skip;                 /* past a domain that cannot be run */
	bool ms_bound;                          /* the metrics read this scheduler */
};

static void monitorsched_step(struct monitorsched *ms);

/* ------------------------------------------------------------ metrics */

static void
monitorsched_emit_checks(void *arg, struct metrics_out *o)
{
	static const double value[] = {
		[MONITORCHECK_PASS] = 1, [MONITORCHECK_WARN] = 0.5,
		[MONITORCHECK_FAIL] = 0, [MONITORCHECK_ERROR] = -1
	};
	const struct monitorsched *ms = arg;
	size_t i, c;

	for (i = 0; ms != NULL && i < ms->ms_ndoms; i++)
		for (c = 0; ms->ms_doms[i].md_known && c < MONITORCHECK_N; c++)
			metrics_sample(o, ms->ms_doms[i].md_name,
			    monitorcheck_name((enum monitorcheck_id)c),
			    value[ms->ms_doms[i].md_state[c]]);
}

static void
monitorsched_emit_last(void *arg, struct metrics_out *o)
{
	const struct monitorsched *ms = arg;
	size_t i;

	for (i = 0; ms != NULL && i < ms->ms_ndoms; i++)
		if (ms->ms_doms[i].md_known)
			metrics_sample(o, ms->ms_doms[i].md_name, NULL,
			    (double)ms->ms_doms[i].md_last_run);
}

static struct metrics_family monitorsched_check_metric = {
	METRICS_HEAD(METRICS_GAUGE, "danemilter_monitor_check",
	    "The state of each monitor check of each monitored domain at its last run: "
	    "1 pass, 0.5 warn, 0 fail, -1 could not be checked."),
	METRICS_OPEN_LABEL2("domain", "check"),
	.mf_emit = monitorsched_emit_checks,
};

static struct metrics_family monitorsched_last_metric = {
	METRICS_HEAD(METRICS_GAUGE, "danemilter_monitor_last_run_timestamp_seconds",
	    "When the last monitor run of each monitored domain ended (Unix time)."),
	METRICS_OPEN_LABEL1("domain"),
	.mf_emit = monitorsched_emit_last,
};

void
monitorsched_metrics_register(struct monitorsched *ms)
{
	monitorsched_check_metric.mf_arg = ms;
	monitorsched_last_metric.mf_arg = ms;
	ms->ms_bound = true;
	metrics_register(&monitorsched_check_metric);
	metrics_register(&monitorsched_last_metric);
}

/* -------------------------------------------------------------- rounds */

static const struct cfg *
monitorsched_cfg(const struct monitorsched *ms)
{
	return generation_engine(ms->ms_gen)->en_cfg;
}

static void
monitorsched_arm(struct monitorsched *ms, unsigned seconds)
{
	if (iv_timer_registered(&ms->ms_timer))
		iv_timer_unregister(&ms->ms_timer);
	iv_validate_now();
	ms->ms_timer.expires = iv_now;
	deadline_add_ms(&ms->ms_timer.expires, seconds * 1000u);
	iv_timer_register(&ms->ms_timer);
}

/* The domains of the configuration in force, with the states kept. */
static void
monitorsched_rebuild(struct monitorsched *ms, const struct cfg_monitor *cm)
{
	struct ms_dom *doms = xcalloc(cm->cmo_ndomains ? cm->cmo_ndomains : 1, sizeof(*doms));
	size_t i, j;

	for (i = 0; i < cm->cmo_ndomains; i++) {
		doms[i].md_name = xstrdup(cm->cmo_domains[i].cmd_name);
		for (j = 0; j < ms->ms_ndoms; j++)
			if (ms->ms_doms[j].md_name != NULL &&
			    strcmp(ms->ms_doms[j].md_name, doms[i].md_name) == 0) {
				doms[i].md_known = ms->ms_doms[j].md_known;
				memcpy(doms[i].md_state, ms->ms_doms[j].md_state,
				    sizeof(doms[i].md_state));
				doms[i].md_last_run = ms->ms_doms[j].md_last_run;
				free(ms->ms_doms[j].md_name);
				ms->ms_doms[j].md_name = NULL;  /* a name listed twice: once */
				break;
			}
	}
	for (j = 0; j < ms->ms_ndoms; j++)
		free(ms->ms_doms[j].md_name);
	free(ms->ms_doms);
	ms->ms_doms = doms;
	ms->ms_ndoms = cm->cmo_ndomains;
}

static void
monitorsched_round(void *cookie)
{
	struct monitorsched *ms = cookie;

	ms->ms_en = engine_ref(generation_engine(ms->ms_gen));
	monitorsched_rebuild(ms, &ms->ms_en->en_cfg->c_monitor);
	ms->ms_next = 0;
	monitorsched_step(ms);
}

static void
monitorsched_skip(void *cookie)
{
	monitorsched_step(cookie);
}

/* monitor_done_fn: log the changes, keep the states, go on. */
static void
monitorsched_done(void *arg, const char *domain, const struct monitorcheck_result *r)
{
	struct monitorsched *ms = arg;
	struct ms_dom *d = &ms->ms_doms[ms->ms_next - 1];
	size_t c;

	ms->ms_run = NULL;
	for (c = 0; c < MONITORCHECK_N; c++) {
		if (d->md_known && d->md_state[c] == r->mr_state[c])
			continue;
		if (r->mr_state[c] == MONITORCHECK_FAIL || r->mr_state[c] == MONITORCHECK_ERROR)
			log_warnx("monitor: %s: %s %s: %s", domain,
			    monitorcheck_name((enum monitorcheck_id)c),
			    monitorcheck_state_name(r->mr_state[c]), r->mr_detail[c]);
		else
			log_notice("monitor: %s: %s %s: %s", domain,
			    monitorcheck_name((enum monitorcheck_id)c),
			    monitorcheck_state_name(r->mr_state[c]), r->mr_detail[c]);
		d->md_state[c] = r->mr_state[c];
	}
	d->md_known = true;
	d->md_last_run = time(NULL);
	monitorsched_step(ms);
}

/* The next domain of the round, or the end of the round. */
static void
monitorsched_step(struct monitorsched *ms)
{
	const struct cfg_monitor *cm = &ms->ms_en->en_cfg->c_monitor;
	const struct cfg_monitor_domain *md;
	struct monitor_req req;
	char key[256];

	if (ms->ms_next >= ms->ms_ndoms) {
		engine_unref(ms->ms_en);
		ms->ms_en = NULL;
		monitorsched_arm(ms, monitorsched_cfg(ms)->c_monitor.cmo_interval_s);
		return;
	}
	md = &cm->cmo_domains[ms->ms_next++];
	if (engine_domain_key(md->cmd_name, key, sizeof(key)) == NULL) {
		/* a name the configuration lets through but DNS cannot ask */
		log_warnx("monitor: %s: not a host name: not monitored", md->cmd_name);
		iv_task_register(&ms->ms_skip);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.mq_domain = key;
	req.mq_cert_files = (const char *const *)md->cmd_cert_files;
	req.mq_ncert_files = md->cmd_ncert_files;
	req.mq_warn_days = cm->cmo_expiry_warn_days;
	ms->ms_run = monitor_start(ms->ms_en, &req, time(NULL), monitorsched_done, ms);
}

struct monitorsched *
monitorsched_new(struct generation *g)
{
	struct monitorsched *ms = xcalloc(1, sizeof(*ms));

	ms->ms_gen = g;
	IV_TIMER_INIT(&ms->ms_timer);
	ms->ms_timer.cookie = ms;
	ms->ms_timer.handler = monitorsched_round;
	IV_TASK_INIT(&ms->ms_skip);
	ms->ms_skip.cookie = ms;
	ms->ms_skip.handler = monitorsched_skip;
	return ms;
}

void
monitorsched_start(struct monitorsched *ms)
{
	monitorsched_arm(ms, 0);
}

void
monitorsched_free(struct monitorsched *ms)
{
	size_t i;

	if (ms == NULL)
		return;
	if (ms->ms_bound) {
		metrics_unregister(&monitorsched_check_metric);
		metrics_unregister(&monitorsched_last_metric);
		monitorsched_check_metric.mf_arg = NULL;
		monitorsched_last_metric.mf_arg = NULL;
	}
	if (iv_timer_registered(&ms->ms_timer))
		iv_timer_unregister(&ms->ms_timer);
	if (iv_task_registered(&ms->ms_skip))
		iv_task_unregister(&ms->ms_skip);
	monitor_cancel(ms->ms_run);
	if (ms->ms_en != NULL)
		engine_unref(ms->ms_en);
	for (i = 0; i < ms->ms_ndoms; i++)
		free(ms->ms_doms[i].md_name);
	free(ms->ms_doms);
	free(ms);
}
