/*
 * cmd_query.c: `danemilter query [-c FILE] [--json] [--log] DOMAIN...`
 *
 * Runs the engine in-process on this thread's loop: every domain's lookup in
 * parallel, results printed in argument order. Exit 0 when every domain got
 * a verdict, EX_TEMPFAIL (75) when one ended in a temporary error (bogus or
 * temperror), EX_USAGE (64), EX_CONFIG (78).
 */
#include <getopt.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "milter/cmd.h"
#include "policy/engine.h"
#include "policy/report.h"

struct query_slot {
	char qs_domain[256];
	struct dane_result *qs_res;
};

static size_t query_pending;

static void
query_done(void *arg, struct dane_result *res)
{
	struct query_slot *s = arg;

	s->qs_res = res;
	if (--query_pending == 0)
		iv_quit();
}

static void
query_usage(void)
{
	fprintf(stderr, "usage: danemilter query [-c FILE] [--json] [--log] DOMAIN...\n");
}

int
cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "log", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = NULL;
	bool json = false, logall = false;
	struct query_slot *slots;
	struct engine *en;
	struct cfg *cfg;
	char *err = NULL;
	int c, i, n, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jlh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'j': json = true; break;
		case 'l': logall = true; break;
		case 'h': query_usage(); return 0;
		default: query_usage(); return EX_USAGE;
		}
	}
	n = argc - optind;
	if (n <= 0) {
		query_usage();
		return EX_USAGE;
	}
	slots = xcalloc((size_t)n, sizeof(*slots));
	for (i = 0; i < n; i++)
		if (engine_domain_key(argv[optind + i], slots[i].qs_domain,
		    sizeof(slots[i].qs_domain)) == NULL) {
			fprintf(stderr, "danemilter query: \"%s\" is not a valid domain name\n",
			    argv[optind + i]);
			free(slots);
			return EX_USAGE;
		}
	if ((cfg = cmd_load_config(cfgpath)) == NULL) {
		free(slots);
		return EX_CONFIG;
	}
	log_set_level(logall ? LOG_DEBUG : LOG_INFO);
	iv_init();
	if ((en = engine_new(cfg, logall, &err)) == NULL) {
		fprintf(stderr, "danemilter query: resolver: %s\n", err);
		free(err);
		cfg_unref(cfg);
		iv_deinit();
		free(slots);
		return EX_CONFIG;
	}
	query_pending = (size_t)n;
	for (i = 0; i < n; i++)
		engine_dane(en, slots[i].qs_domain, query_done, &slots[i]);
	iv_main();
	for (i = 0; i < n; i++) {
		struct sbuf sb = SBUF_INIT;
		struct dane_result *res = slots[i].qs_res;

		if (json) {
			report_json(&sb, res);
			sbuf_appendc(&sb, '\n');
		} else {
			report_text(&sb, res);
		}
		fputs(sbuf_str(&sb), stdout);
		sbuf_free(&sb);
		if (res->dr_policy == DANE_POLICY_TEMP)
			rc = EX_TEMPFAIL;
		dane_result_free(res);
	}
	fflush(stdout);
	engine_free(en);
	cfg_unref(cfg);
	iv_deinit();
	free(slots);
	return rc;
}
