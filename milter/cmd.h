/*
 * cmd.h: danemilter's command-line faces and their shared exit codes.
 * Each cmd_* takes the arguments after its name (argv[0] = the command).
 * What they share (the configuration file, the engine of a one-shot
 * command) is in cmd.c.
 */
#ifndef DM_CMD_H
#define DM_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sysexits.h>

#include "policy/cfg.h"

struct cache;
struct engine;

/* The configuration file used when -c is not given. */
#define CMD_DEFAULT_CONFIG SYSCONFDIR "/danemilter.conf"

int cmd_query(int argc, char **argv);
int cmd_check(int argc, char **argv);
/* `tlsa`: TLSA records for a certificate file, or --verify them (cmd_tlsa.c). */
int cmd_tlsa(int argc, char **argv);
/* `doctor`: what Postfix still needs for DANE with danemilter (cmd_doctor.c). */
int cmd_doctor(int argc, char **argv);
/* The daemon (daemon.c): returns the exit code. */
int daemon_main(int argc, char **argv);

/*
 * Load path, or the default file when path is NULL (built-in defaults
 * when that file does not exist). NULL after printing the error.
 */
struct cfg *cmd_load_config(const char *path);

/* The options of the commands on DOMAIN arguments (query, check). */
struct cmd_args {
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
int cmd_domain_args(int argc, char **argv, const char *name, struct cmd_args *a);

/* One DOMAIN argument as the engine's key for it (engine_domain_key()). */
struct cmd_domain {
	char cd_key[256];
};

/* The engine of a one-shot command, on this thread's ivykis loop. */
struct cmd_engine {
	struct cfg *ce_cfg;
	struct engine *ce_en;
	struct cache *ce_cache;         /* with_cache, else NULL */
	struct cmd_domain *ce_domains;  /* the domains given, in order */
	size_t ce_ndomains;
};

/*
 * Set up the command name ("query", "check", "tlsa": its messages start
 * "danemilter NAME: "): check that each of domains[0..ndomains) is a
 * domain name and keep its key, load the configuration (cmd_load_config),
 * log at debug level with logall (else info), iv_init() this thread, and
 * start the engine (its resolution logged with logall) and, with_cache,
 * a verdict cache on it. Returns 0 with *ce filled in; EX_USAGE after
 * printing which domain is not valid; EX_CONFIG after printing why the
 * configuration or the engine failed. Nothing is left to undo on error.
 */
int cmd_engine_start(struct cmd_engine *ce, const char *name, const char *cfgpath,
    bool logall, bool with_cache, char *const *domains, size_t ndomains);
/* Undo cmd_engine_start() (after 0): cache, engine, configuration, loop. */
void cmd_engine_stop(struct cmd_engine *ce);

#endif
