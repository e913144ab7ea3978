/*
 * cmd.h: danemilter's command-line faces and their shared exit codes.
 * Each cmd_* takes the arguments after its name (argv[0] = the command).
 */
#ifndef DM_CMD_H
#define DM_CMD_H

#include <sysexits.h>

#include "policy/cfg.h"

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

#endif
