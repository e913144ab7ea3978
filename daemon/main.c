/*
 * main.c: danemilter's entry point: the daemon, the command-line faces,
 * and the configuration check (-n).
 *
 *   danemilter [-c FILE] [-f] [-p PIDFILE]   the daemon (daemon.c)
 *   danemilter query [-c FILE] [--json] [--log] DOMAIN...
 *   danemilter doctor [-c FILE] [--postfix-config DIR] [--resolv-conf FILE]
 *                                            Postfix's DANE settings (doctorcmd.c)
 *   danemilter check [-c FILE] [--json] [--log] DOMAIN...
 *   danemilter ctl [-c FILE] [-s SOCKET] query DOMAIN | dump [--json] |
 *       purge DOMAIN | purge --all | reload | stats   (ctl.c)
 *   danemilter tlsa [-c FILE] [--usage N] [--selector N] [--mtype N]
 *       [--host H] [--port P] [--verify] CERT.pem   (tlsacmd.c)
 *   danemilter monitor [-c FILE] [--json] [--log] [--cert FILE]... DOMAIN...
 *                                            the operator's own domains (monitorcmd.c)
 *   danemilter -n [-c FILE]                  check a configuration file
 *   danemilter -V                            version
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "cli/cli.h"
#include "daemon/daemon.h"
#include "policy/overrides.h"
#include "policy/stsfetch.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

static void
usage(void)
{
	fprintf(stderr,
	    "usage: danemilter [-c FILE] [-f] [-p PIDFILE]   run the daemon\n"
	    "       danemilter query [-c FILE] [--json] [--log] DOMAIN...\n"
	    "       danemilter doctor [-c FILE] [--postfix-config DIR] [--resolv-conf FILE]\n"
	    "       danemilter check [-c FILE] [--json] [--log] DOMAIN...\n"
	    "       danemilter ctl [-c FILE] [-s SOCKET] query DOMAIN | dump [--json] | purge DOMAIN | purge --all | reload | stats\n"
	    "       danemilter tlsa [-c FILE] [--usage N] [--selector N] [--mtype N] [--host H] [--port P] [--verify] CERT.pem\n"
	    "       danemilter monitor [-c FILE] [--json] [--log] [--cert FILE]... DOMAIN...\n"
	    "       danemilter havedane records [-c FILE] --cert FILE [--addr IP]...\n"
	    "       danemilter -n [-c FILE]   check the configuration and exit\n"
	    "       danemilter -V             print the version\n");
}

int
main(int argc, char **argv)
{
	const char *cfgpath = NULL;
	int c, check = 0;
	struct cfg *cfg;

	log_init(LOG_DEST_STDERR, "danemilter", LOG_MAIL, LOG_INFO);
	/* Once, before any thread: libcurl's global state (MTA-STS fetches). */
	if (stsfetch_global_init() != 0) {
		fprintf(stderr, "danemilter: libcurl initialization failed\n");
		return EX_SOFTWARE;
	}
	if (argc >= 2 && strcmp(argv[1], "query") == 0)
		return query_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "doctor") == 0)
		return doctorcmd_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return check_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "tlsa") == 0)
		return tlsacmd_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "monitor") == 0)
		return monitorcmd_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "havedane") == 0)
		return havedanecmd_main(argc - 1, argv + 1);
	opterr = 0;
	while ((c = getopt(argc, argv, "c:fnp:Vh")) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'n': check = 1; break;
		case 'V': printf("danemilter %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(); return 0;
		case 'f': case 'p': break;
		default: usage(); return EX_USAGE;
		}
	}
	if (!check)
		return daemon_main(argc, argv);
	if (optind != argc) {
		usage();
		return EX_USAGE;
	}
	if ((cfg = cli_load_config(cfgpath)) == NULL)
		return EX_CONFIG;
	if (*cfg->c_overrides_file != '\0') {
		struct overrides *ov;
		char *err = NULL;

		if ((ov = overrides_load(cfg->c_overrides_file, &err)) == NULL) {
			fprintf(stderr, "danemilter: overrides: %s\n", err);
			free(err);
			cfg_unref(cfg);
			return EX_CONFIG;
		}
		printf("%s: %zu overrides OK\n", ov->ov_file, ov->ov_n);
		overrides_unref(ov);
	}
	printf("%s: configuration OK\n", cfgpath ? cfgpath : CLI_DEFAULT_CONFIG);
	cfg_unref(cfg);
	return 0;
}
