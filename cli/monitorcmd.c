/*
 * monitorcmd.c: `danemilter monitor [-c FILE] [--json] [--log]
 *     [--cert FILE]... DOMAIN...`
 *
 * One monitor run (policy/monitor.h) per DOMAIN, all in parallel on this
 * thread's loop, for cron, a certbot deploy hook or Nagios. Output in
 * argument order, one line per check (policy/monitorcheck.h):
 *
 *   DOMAIN: CHECK pass|warn|error|fail: detail
 *
 * or with --json one JSON object per line: {"domain":...,"check":...,
 * "state":...,"detail":...}. The next certificates (tlsa-rollover,
 * tlsa-stale) are the --cert files, else the domain's cert_files in the
 * configuration's monitor.domains; monitor.expiry_warn_days sets how far
 * ahead cert-expiry warns. --log writes the resolution and TLS logs on
 * stderr.
 *
 * Exit: 0 when no check fails (warnings pass), 1 when one fails, 75 when
 * one could not be done (a lookup failed) and none fails, 64 usage, 78
 * configuration.
 */
#include <getopt.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jsonout.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "cli/cli.h"
#include "policy/monitor.h"

struct monitorcmd_slot {
	struct sbuf ms_out;
	int ms_exit;
	bool ms_done;
};

struct monitorcmd_run {
	bool mr_json;
	size_t mr_pending;
};

static struct monitorcmd_run monitorcmd_run;

static void
monitorcmd_usage(void)
{
	fprintf(stderr, "usage: danemilter monitor [-c FILE] [--json] [--log] [--cert FILE]... "
	    "DOMAIN...\n");
}

static void
monitorcmd_done(void *arg, const char *domain, const struct monitorcheck_result *r)
{
	struct monitorcmd_slot *s = arg;
	size_t i;

	for (i = 0; i < MONITORCHECK_N; i++) {
		if (monitorcmd_run.mr_json) {
			json_t *o = jsonout_object();

			jsonout_set_str(o, "domain", domain);
			jsonout_set_str(o, "check", monitorcheck_name((enum monitorcheck_id)i));
			jsonout_set_str(o, "state", monitorcheck_state_name(r->mr_state[i]));
			jsonout_set_str(o, "detail", r->mr_detail[i]);
			jsonout_dump_sbuf(&s->ms_out, o);
			sbuf_appendc(&s->ms_out, '\n');
			json_decref(o);
		} else {
			sbuf_printf(&s->ms_out, "%s: %s %s: %s\n", domain,
			    monitorcheck_name((enum monitorcheck_id)i),
			    monitorcheck_state_name(r->mr_state[i]), r->mr_detail[i]);
		}
	}
	s->ms_exit = monitorcheck_exit(r);
	s->ms_done = true;
	if (--monitorcmd_run.mr_pending == 0)
		iv_quit();
}

/* The domain's cert_files in monitor.domains, or none. */
static const struct cfg_monitor_domain *
monitorcmd_cfg_domain(const struct cfg *cfg, const char *domain)
{
	size_t i;

	for (i = 0; i < cfg->c_monitor.cmo_ndomains; i++)
		if (strcmp(cfg->c_monitor.cmo_domains[i].cmd_name, domain) == 0)
			return &cfg->c_monitor.cmo_domains[i];
	return NULL;
}

int
monitorcmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "log", no_argument, NULL, 'l' },
		{ "cert", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = NULL;
	const char **certs = NULL;
	size_t ncerts = 0, i, n;
	struct monitorcmd_slot *slots;
	struct cli_engine ce;
	bool logall = false;
	int c, rc;

	memset(&monitorcmd_run, 0, sizeof(monitorcmd_run));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jlh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'j': monitorcmd_run.mr_json = true; break;
		case 'l': logall = true; break;
		case 'C':
			certs = xreallocarray(certs, ncerts + 1, sizeof(*certs));
			certs[ncerts++] = optarg;
			break;
		case 'h': monitorcmd_usage(); free(certs); return 0;
		default: monitorcmd_usage(); free(certs); return EX_USAGE;
		}
	}
	if (optind >= argc) {
		monitorcmd_usage();
		free(certs);
		return EX_USAGE;
	}
	n = (size_t)(argc - optind);
	if ((rc = cli_engine_start(&ce, "monitor", cfgpath, logall, false, argv + optind, n)) != 0) {
		free(certs);
		return rc;
	}
	slots = xcalloc(n, sizeof(*slots));
	monitorcmd_run.mr_pending = n;
	for (i = 0; i < n; i++) {
		const struct cfg_monitor_domain *md = monitorcmd_cfg_domain(ce.ce_cfg,
		    ce.ce_domains[i].cd_key);
		struct monitor_req req;

		memset(&req, 0, sizeof(req));
		req.mq_domain = ce.ce_domains[i].cd_key;
		req.mq_warn_days = ce.ce_cfg->c_monitor.cmo_expiry_warn_days;
		if (ncerts > 0) {
			req.mq_cert_files = certs;
			req.mq_ncert_files = ncerts;
		} else if (md != NULL) {
			req.mq_cert_files = (const char *const *)md->cmd_cert_files;
			req.mq_ncert_files = md->cmd_ncert_files;
		}
		(void)monitor_start(ce.ce_en, &req, time(NULL), monitorcmd_done, &slots[i]);
	}
	iv_main();
	for (i = 0; i < n; i++) {
		fputs(sbuf_str(&slots[i].ms_out), stdout);
		sbuf_free(&slots[i].ms_out);
		if (slots[i].ms_exit == 1)
			rc = 1;
		else if (slots[i].ms_exit != 0 && rc == 0)
			rc = slots[i].ms_exit;
	}
	fflush(stdout);
	cli_engine_stop(&ce);
	free(slots);
	free(certs);
	return rc;
}
