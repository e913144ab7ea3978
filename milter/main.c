/*
 * main.c: danemilter's entry point: dispatches to the command-line faces
 * and checks configuration files (-n).
 *
 *   danemilter query [-c FILE] [--json] [--log] DOMAIN...
 *   danemilter -n [-c FILE]         check a configuration file
 *   danemilter -V                   version
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "milter/cmd.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

struct cfg *
cmd_load_config(const char *path)
{
	struct cfg *cfg;
	char *err = NULL;

	if (path == NULL) {
		if (access(CMD_DEFAULT_CONFIG, F_OK) != 0)
			return cfg_default();
		path = CMD_DEFAULT_CONFIG;
	}
	if ((cfg = cfg_load(path, &err)) == NULL) {
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
	}
	return cfg;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: danemilter query [-c FILE] [--json] [--log] DOMAIN...\n"
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
	if (argc >= 2 && strcmp(argv[1], "query") == 0)
		return cmd_query(argc - 1, argv + 1);
	while ((c = getopt(argc, argv, "c:nVh")) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'n': check = 1; break;
		case 'V': printf("danemilter %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(); return 0;
		default: usage(); return EX_USAGE;
		}
	}
	if (!check || optind != argc) {
		usage();
		return EX_USAGE;
	}
	if ((cfg = cmd_load_config(cfgpath)) == NULL)
		return EX_CONFIG;
	printf("%s: configuration OK\n", cfgpath ? cfgpath : CMD_DEFAULT_CONFIG);
	cfg_unref(cfg);
	return 0;
}
