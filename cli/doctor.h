/*
 * doctor.h: the rules of `danemilter doctor`: what Postfix must be told for
 * DANE with danemilter, checked against Postfix's effective configuration
 * (as postconf prints it, parsed by cli/postconf.h) and danemilter's own.
 *
 * Pure: no processes, no sockets; the caller (doctorcmd.c) runs postconf
 * and reads resolv.conf, parses the text with postconf_parse_*() into a
 * struct postconf, and gets back a list of findings, each one complete
 * output line. A struct doctor_report owns its findings
 * (doctor_report_free()); it keeps no pointer to the cfg, the struct
 * postconf or the texts.
 */
#ifndef DM_DOCTOR_H
#define DM_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/postconf.h"
#include "config/cfg.h"

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
 *   master.cf overrides of these; unix sockets and chroot; cache.shared
 *   without cache.shared_key_file (warning); the nameservers of
 *   resolv_name; dns.forward.
 */
void doctor_check(const struct postconf *pf, const struct cfg *cfg,
    const char *resolv_name, const char *resolv_text, const char *resolv_err,
    struct doctor_report *out);

/* The last line: "doctor: all good", "doctor: no problems, 1 warning",
 * "doctor: 2 problems" or "doctor: 1 problem, 2 warnings". Malloc'ed. */
/*
 * One of danemilter's unix sockets as found on disk (doctorcmd.c stats
 * it), and who Postfix's processes run as (mail_owner: smtp(8) and
 * smtpd(8), chrooted or not, connect as that user).
 */
struct doctor_socket {
	const char *ds_what;            /* "socketmap.listen", "milter.socket" */
	const char *ds_path;
	int ds_errno;                   /* 0: stat(2) worked; else its errno */
	bool ds_is_socket;
	unsigned ds_mode;               /* permission bits */
	unsigned ds_uid, ds_gid;
	const char *ds_owner, *ds_group;        /* names for messages */
};
struct doctor_user {
	const char *du_name;            /* mail_owner */
	unsigned du_uid;
	const unsigned *du_groups;      /* every group of the user, primary included */
	size_t du_ngroups;
};

/*
 * Can du connect to ds (write permission on the socket file, as the
 * kernel decides for a unix socket)? Appends to out: a problem when it
 * cannot (with the owner, group and mode and the settings to change), a
 * warning when the socket is not there or cannot be examined, nothing
 * when all is well. cfgname names danemilter's configuration.
 */
void doctor_check_socket(const struct doctor_socket *ds, const struct doctor_user *du,
    const char *cfgname, struct doctor_report *out);

char *doctor_summary(const struct doctor_report *r);
void doctor_report_free(struct doctor_report *r);

#endif
