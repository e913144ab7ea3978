/*
 * cli.h: danemilter's command-line faces and their shared exit codes.
 * Each NAME_main takes the arguments after its name (argv[0] = the command);
 * query_main (query.c), check_main (check.c), tlsacmd_main (tlsacmd.c),
 * doctorcmd_main (doctorcmd.c), monitorcmd_main (monitorcmd.c),
 * havedanecmd_main (havedanecmd.c).
 * What they share (the configuration file, the engine of a one-shot
 * command) is in cli.c.
 */
#ifndef DM_CLI_H
#define DM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <sysexits.h>

#include "config/cfg.h"

struct cache;
struct engine;

/* The configuration file used when -c is not given. */
#define CLI_DEFAULT_CONFIG SYSCONFDIR "/danemilter.conf"

/* `query`: the verdict for each DOMAIN (query.c). */
int query_main(int argc, char **argv);
/* `check`: the verdict plus a TLS probe of every MX address (check.c). */
int check_main(int argc, char **argv);
/* `tlsa`: TLSA records for a certificate file, or --verify them (tlsacmd.c). */
int tlsacmd_main(int argc, char **argv);
/* `ctl`: one request to the running daemon's control socket (ctl.c). */
int ctl_main(int argc, char **argv);
/* `doctor`: what Postfix still needs for DANE with danemilter (doctorcmd.c). */
int doctorcmd_main(int argc, char **argv);
/* `monitor`: the checks of the operator's own domains (monitorcmd.c). */
int monitorcmd_main(int argc, char **argv);
/* `havedane records`: the zone records of a HaveDane service (havedanecmd.c). */
int havedanecmd_main(int argc, char **argv);

/*
 * Load path, or the default file when path is NULL (built-in defaults
 * when that file does not exist). NULL after printing the error.
 */
struct cfg *cli_load_config(const char *path);

/* The options of the commands on DOMAIN arguments (query, check). */
struct cli_args {
	const char *ca_cfgpath;         /* -c FILE, or NULL */
	bool ca_json;                   /* --json */
	bool ca_logall;                 /* --log */
	char **ca_domains;              /* the DOMAIN arguments (in argv) */
	size_t ca_ndomains;             /* at least one */
};

/*
 * Parse "danemilter NAME [-c FILE] [--json] [--log] DOMAIN..." (argv[0] =
 * NAME). -1 with *a filled in; else the exit code after printing the usage
 * on stderr: 0 for --help, EX_USAGE for a bad option or no DOMAIN.
 */
int cli_domain_args(int argc, char **argv, const char *name, struct cli_args *a);

/* One DOMAIN argument as the engine's key for it (engine_domain_key()). */
struct cli_domain {
	char cd_key[256];
};

/* The engine of a one-shot command, on this thread's ivykis loop. */
struct cli_engine {
	struct cfg *ce_cfg;
	struct engine *ce_en;
	struct generation *ce_gen;      /* with_cache: holds ce_en for the cache */
	struct cache *ce_cache;         /* with_cache, else NULL */
	struct cli_domain *ce_domains;  /* the domains given, in order */
	size_t ce_ndomains;
};

/*
 * Set up the command name ("query", "check", "tlsa": its messages start
 * "danemilter NAME: "): check that each of domains[0..ndomains) is a
 * domain name and keep its key, load the configuration (cli_load_config),
 * log at debug level with logall (else info), iv_init() this thread, and
 * start the engine (its resolution logged with logall) and, with_cache,
 * a verdict cache on it. Returns 0 with *ce filled in; EX_USAGE after
 * printing which domain is not valid; EX_CONFIG after printing why the
 * configuration or the engine failed. Nothing is left to undo on error.
 */
int cli_engine_start(struct cli_engine *ce, const char *name, const char *cfgpath,
    bool logall, bool with_cache, char *const *domains, size_t ndomains);
/* Undo cli_engine_start() (after 0): cache, engine, configuration, loop. */
void cli_engine_stop(struct cli_engine *ce);

#endif
