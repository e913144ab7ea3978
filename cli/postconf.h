/*
 * postconf.h: Postfix's effective configuration, parsed from what
 * postconf(1) prints: main.cf parameters (`postconf -x`), master.cf
 * services (`postconf -M -x`) and master.cf "-o" overrides (`postconf -P
 * -x`); and the syntax of the values `danemilter doctor` reads (lists,
 * smtpd_milters entries). Endpoints inside values ("inet:HOST:PORT",
 * "unix:PATH") are read with endpoint_parse() (common/endpoint.h,
 * ENDPOINT_POSTFIX).
 *
 * Pure: no processes, no files; the caller (cli/doctorcmd.c) runs postconf
 * and hands over its output. A struct postconf owns copies of every
 * string and keeps no pointer to the texts (postconf_free()).
 */
#ifndef DM_POSTCONF_H
#define DM_POSTCONF_H

#include <stdbool.h>
#include <stddef.h>

/* One main.cf parameter as `postconf -x` prints it ("name = value"). */
struct postconf_param {
	char *pcp_name;
	char *pcp_value;                /* "" when empty */
};

/* One master.cf service as `postconf -M -x` prints it. */
struct postconf_service {
	char *pcs_name;                 /* "smtp", "127.0.0.1:25", "relay" */
	char *pcs_type;                 /* "inet", "unix", "pass", ... */
	bool pcs_chroot;                /* chroot column "y" ("-" is "n" since Postfix 3.0) */
	char *pcs_command;              /* the program: "smtpd", "smtp", "postscreen", ... */
};

/* One master.cf "-o name=value" as `postconf -P -x` prints it. */
struct postconf_override {
	char *pco_service;
	char *pco_type;
	char *pco_name;
	char *pco_value;
};

/* Postfix's effective configuration. Zero-initialise (or POSTCONF_INIT). */
struct postconf {
	struct postconf_param *pc_params;
	size_t pc_nparams;
	struct postconf_service *pc_services;
	size_t pc_nservices;
	struct postconf_override *pc_overrides;
	size_t pc_noverrides;
};

#define POSTCONF_INIT { NULL, 0, NULL, 0, NULL, 0 }

/*
 * Add the lines of `postconf -x` (main), `postconf -M -x` (master) or
 * `postconf -P -x` (overrides) to pc. Empty lines are skipped. Returns
 * false with *errp (malloc'ed, free it) naming the first line that does
 * not have the expected form; lines before it are kept.
 */
bool postconf_parse_main(struct postconf *pc, const char *text, char **errp);
bool postconf_parse_master(struct postconf *pc, const char *text, char **errp);
bool postconf_parse_overrides(struct postconf *pc, const char *text, char **errp);
void postconf_free(struct postconf *pc);

/*
 * The value of a main.cf parameter (the last one when given twice), or
 * NULL when postconf did not print it (a parameter this Postfix does not
 * know). Points into pc.
 */
const char *postconf_param(const struct postconf *pc, const char *name);

/* The master.cf service "name/type", or NULL when there is none. Points into pc. */
const struct postconf_service *postconf_service(const struct postconf *pc,
    const char *name, const char *type);

/* The service "name/type" if it runs command, else the first service
 * that runs command, else NULL. Points into pc. */
const struct postconf_service *postconf_service_running(const struct postconf *pc,
    const char *name, const char *type, const char *command);

/*
 * The resolver configuration smtp(8) reads: queue_directory +
 * "/etc/resolv.conf" when master.cf runs it chrooted (Debian copies
 * /etc/resolv.conf there when Postfix starts), else "/etc/resolv.conf".
 * Malloc'ed.
 */
char *postconf_resolv_path(const struct postconf *pc);

/*
 * The next element of a Postfix list value at *pp: elements are separated
 * by ", \t\r\n" outside braces, "{...}" (nested) stays inside one element.
 * Returns true with *start and *len naming it (pointing into the value)
 * and *pp moved past it, false at the end.
 */
bool postconf_list_next(const char **pp, const char **start, size_t *len);

/* Does the list value hold word (case-insensitive)? */
bool postconf_list_has(const char *list, const char *word);

/*
 * An smtpd_milters element s[0..n), "{ ADDR, attr=value ... }" or ADDR:
 * *addr its address ("" when the braces hold nothing) and *action its
 * default_action attribute, or NULL when it has none. Both malloc'ed.
 */
void postconf_milter_entry(const char *s, size_t n, char **addr, char **action);

#endif
