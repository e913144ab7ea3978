/*
 * cli.c: see cli.h: what the command-line faces share: the configuration
 * file, and the engine a one-shot command (query, check, tlsa --verify)
 * runs on this thread's loop.
 */
#include <getopt.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "cli/cli.h"
#include "policy/cache.h"
#include "policy/engine.h"
#include "policy/generation.h"

struct cfg *
cli_load_config(const char *path)
{
	struct cfg *cfg;
	char *err = NULL;

	if (path == NULL) {
		if (access(CLI_DEFAULT_CONFIG, F_OK) != 0)
			return cfg_default();
		path = CLI_DEFAULT_CONFIG;
	}
	if ((cfg = cfg_load(path, &err)) == NULL) {
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
	}
	return cfg;
}

static void
cli_domain_usage(const char *name)
{
	fprintf(stderr, "usage: danemilter %s [-c FILE] [--json] [--log] DOMAIN...\n", name);
}

int
cli_domain_args(int argc, char **argv, const char *name, struct cli_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "log", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jlh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->ca_cfgpath = optarg; break;
		case 'j': a->ca_json = true; break;
		case 'l': a->ca_logall = true; break;
		case 'h': cli_domain_usage(name); return 0;
		default: cli_domain_usage(name); return EX_USAGE;
		}
	}
	if (optind >= argc) {
		cli_domain_usage(name);
		return EX_USAGE;
	}
	a->ca_domains = argv + optind;
	a->ca_ndomains = (size_t)(argc - optind);
	return -1;
}

int
cli_engine_start(struct cli_engine *ce, const char *name, const char *cfgpath, bool logall,
    bool with_cache, char *const *domains, size_t ndomains)
{
	char *err = NULL;
	size_t i;

	memset(ce, 0, sizeof(*ce));
	ce->ce_domains = xcalloc(ndomains ? ndomains : 1, sizeof(*ce->ce_domains));
	ce->ce_ndomains = ndomains;
	for (i = 0; i < ndomains; i++)
		if (engine_domain_key(domains[i], ce->ce_domains[i].cd_key,
		    sizeof(ce->ce_domains[i].cd_key)) == NULL) {
			fprintf(stderr, "danemilter %s: \"%s\" is not a valid domain name\n", name,
			    domains[i]);
			free(ce->ce_domains);
			return EX_USAGE;
		}
	if ((ce->ce_cfg = cli_load_config(cfgpath)) == NULL) {
		free(ce->ce_domains);
		return EX_CONFIG;
	}
	log_set_level(logall ? LOG_DEBUG : LOG_INFO);
	iv_init();
	if ((ce->ce_en = engine_new(ce->ce_cfg, logall, &err)) == NULL) {
		fprintf(stderr, "danemilter %s: %s\n", name, err);
		free(err);
		cfg_unref(ce->ce_cfg);
		iv_deinit();
		free(ce->ce_domains);
		return EX_CONFIG;
	}
	if (with_cache) {
		ce->ce_gen = generation_new(ce->ce_en);
		ce->ce_cache = cache_new(ce->ce_gen);
	}
	return 0;
}

void
cli_engine_stop(struct cli_engine *ce)
{
	if (ce->ce_cache != NULL)
		cache_free(ce->ce_cache);
	generation_free(ce->ce_gen);
	engine_unref(ce->ce_en);
	cfg_unref(ce->ce_cfg);
	iv_deinit();
	free(ce->ce_domains);
	memset(ce, 0, sizeof(*ce));
}
