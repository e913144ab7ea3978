/*
 * doctor.h: the rules of `danemilter doctor`: what Postfix must be told for
 * DANE with danemilter, checked against Postfix's effective configuration
 * (as postconf prints it) and danemilter's own.
 *
 * Pure: no processes, no sockets; the caller (doctorcmd.c) runs postconf
 * and reads resolv.conf, parses the text with doctor_parse_*() into a
 * struct doctor_postfix, and gets back a list of findings, each one
 * complete output line. A struct doctor_postfix owns copies of every string
 * (doctor_postfix_free()); a struct doctor_report owns its findings
 * (doctor_report_free()). Neither keeps a pointer to the cfg or the texts.
 */
#ifndef DM_DOCTOR_H
#define DM_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "config/cfg.h"

/* One main.cf parameter as `postconf -x` prints it ("name = value"). */
struct doctor_param {
	char *dpa_name;
	char *dpa_value;                /* "" when empty */
};

/* One master.cf service as `postconf -M -x` prints it. */
struct doctor_service {
	char *dsv_name;                 /* "smtp", "127.0.0.1:25", "relay" */
	char *dsv_type;                 /* "inet", "unix", "pass", ... */
	bool dsv_chroot;                /* chroot column "y" ("-" is "n" since Postfix 3.0) */
	char *dsv_command;              /* the program: "smtpd", "smtp", "postscreen", ... */
};

/* One master.cf "-o name=value" as `postconf -P -x` prints it. */
struct doctor_override {
	char *dov_service;
	char *dov_type;
	char *dov_name;
	char *dov_value;
};

/* Postfix's effective configuration. Zero-initialise (or DOCTOR_POSTFIX_INIT). */
struct doctor_postfix {
	struct doctor_param *dpf_params;
	size_t dpf_nparams;
	struct doctor_service *dpf_services;
	size_t dpf_nservices;
	struct doctor_override *dpf_overrides;
	size_t dpf_noverrides;
};

#define DOCTOR_POSTFIX_INIT { NULL, 0, NULL, 0, NULL, 0 }

/*
 * Add the lines of `postconf -x` (main), `postconf -M -x` (master) or
 * `postconf -P -x` (overrides) to pf. Empty lines are skipped. Returns
 * false with *errp (malloc'ed, free it) naming the first line that does
 * not have the expected form; lines before it are kept.
 */
bool doctor_parse_main(struct doctor_postfix *pf, const char *text, char **errp);
bool doctor_parse_master(struct doctor_postfix *pf, const char *text, char **errp);
bool doctor_parse_overrides(struct doctor_postfix *pf, const char *text, char **errp);
void doctor_postfix_free(struct doctor_postfix *pf);

/*
 * The value of a main.cf parameter (the last one when given twice), or
 * NULL when postconf did not print it (a parameter this Postfix does not
 * know). Points into pf.
 */
const char *doctor_param(const struct doctor_postfix *pf, const char *name);

/*
 * The resolver configuration smtp(8) reads: queue_directory +
 * "/etc/resolv.conf" when master.cf runs it chrooted (Debian copies
 * /etc/resolv.conf there when Postfix starts), else "/etc/resolv.conf".
 * Malloc'ed.
 */
char *doctor_resolv_path(const struct doctor_postfix *pf);

enum doctor_severity {
	DOCTOR_NOTE,            /* information: "doctor: note: ..." */
	DOCTOR_WARNING,         /* probably unwanted, may be deliberate: "doctor: warning: ..." */
	DOCTOR_PROBLEM          /* DANE or danemilter does not work as configured: "doctor: ..." */
};

struct doctor_finding {
	enum doctor_severity df_severity;
	char *df_line;          /* the whole output line, "doctor: ...", no newline */
};

struct doctor_report {
	struct doctor_finding *drp_findings;    /* in check order */
	size_t drp_n;
	unsigned drp_problems;
	unsigned drp_warnings;
};

#define DOCTOR_REPORT_INIT { NULL, 0, 0, 0 }

/*
 * Check pf against cfg; append the findings to out (zero-initialised by
 * the caller). resolv_name is the resolver configuration's file name as
 * shown in findings ("/etc/resolv.conf"); resolv_text its contents, or
 * NULL when it could not be read, with resolv_err saying why.
 * The rules, in order (each is documented at its function in doctor.c):
 *   smtp_dns_support_level = dnssec; smtp_host_lookup includes dns;
 *   smtp_tls_security_level = dane or dane-only; smtp_tls_policy_maps
 *   holds a socketmap at one of socketmap.listen; TLSRPT replies only for
 *   Postfix >= 3.10; smtpd_milters holds milter.socket; the default
 *   action for danemilter's milter; smtp_tls_dane_insecure_mx_policy;
 *   master.cf overrides of these; unix sockets and chroot; the nameservers
 *   of resolv_name; dns.forward.
 */
void doctor_check(const struct doctor_postfix *pf, const struct cfg *cfg,
    const char *resolv_name, const char *resolv_text, const char *resolv_err,
    struct doctor_report *out);

/* The last line: "doctor: all good", "doctor: no problems, 1 warning",
 * "doctor: 2 problems" or "doctor: 1 problem, 2 warnings". Malloc'ed. */
char *doctor_summary(const struct doctor_report *r);
void doctor_report_free(struct doctor_report *r);

#endif
