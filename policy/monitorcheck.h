/*
 * monitorcheck.h: the checks of `danemilter monitor` and of the daemon's
 * scheduled monitor, as pure judgements over facts already gathered (the
 * DANE result, the STARTTLS probes with the certificates the servers
 * sent, the next certificate files, the MTA-STS result, the TLSRPT TXT
 * records): no DNS, no network, no clock. policy/monitor.c gathers the
 * facts on the engine's loop and calls monitorcheck_run().
 *
 * One line per check, in this order: dnssec, tlsa-published, tlsa-match,
 * tlsa-rollover, tlsa-stale, cert-expiry, mta-sts, tlsrpt. Each has a
 * state and a detail; the detail of a failure says what to do (the exact
 * record to publish or remove). A check that could not be done because a
 * lookup failed is MONITORCHECK_ERROR (never read as pass or fail).
 *
 * Ownership: monitorcheck_run() fills a struct monitorcheck_result whose
 * details are malloc'ed; free them with monitorcheck_result_free(). The
 * input is only read. Any thread.
 */
#ifndef DM_MONITORCHECK_H
#define DM_MONITORCHECK_H

#include <stddef.h>
#include <time.h>

#include "dns/dns.h"
#include "policy/dane.h"
#include "policy/mtasts.h"
#include "policy/probeset.h"
#include "tls/cert.h"

enum monitorcheck_id {
	MONITORCHECK_DNSSEC,
	MONITORCHECK_TLSA_PUBLISHED,
	MONITORCHECK_TLSA_MATCH,
	MONITORCHECK_TLSA_ROLLOVER,
	MONITORCHECK_TLSA_STALE,
	MONITORCHECK_CERT_EXPIRY,
	MONITORCHECK_MTA_STS,
	MONITORCHECK_TLSRPT
};
#define MONITORCHECK_N  (MONITORCHECK_TLSRPT + 1)

/* Ordered by severity: a line's state is the worst of its findings. */
enum monitorcheck_state {
	MONITORCHECK_PASS,
	MONITORCHECK_WARN,
	MONITORCHECK_ERROR,     /* could not be checked: a lookup failed */
	MONITORCHECK_FAIL
};

/* A next certificate file (--cert, monitor.domains cert_files). */
struct monitorcheck_file {
	const char *mf_path;
	const struct cert_chain *mf_chain;      /* NULL when it could not be read */
	const char *mf_error;                   /* why not (with mf_chain NULL) */
};

/* The TXT lookup at _smtp._tls.DOMAIN (RFC 8460 §3). */
struct monitorcheck_tlsrpt {
	enum dns_status mt_status;
	enum dns_security mt_security;
	const char *mt_why;                     /* the lookup error, or NULL */
	char *const *mt_txt;                    /* each record's strings concatenated */
	size_t mt_ntxt;
};

struct monitorcheck_in {
	const char *mi_domain;
	time_t mi_now;
	unsigned mi_warn_days;                  /* expiry_warn_days */
	const struct dane_result *mi_dane;      /* with hosts (not dr_no_detail) */
	const struct probeset_result *mi_probe; /* NULL: nothing was probed */
	const struct monitorcheck_file *mi_files;
	size_t mi_nfiles;
	const struct mtasts_result *mi_sts;     /* NULL: MTA-STS disabled */
	const struct monitorcheck_tlsrpt *mi_tlsrpt;
};

struct monitorcheck_result {
	enum monitorcheck_state mr_state[MONITORCHECK_N];
	char *mr_detail[MONITORCHECK_N];        /* malloc'ed, never NULL after run */
};

/* Judge every check from in into *out (overwritten). */
void monitorcheck_run(const struct monitorcheck_in *in, struct monitorcheck_result *out);
/* Free the details; r may be zeroed. */
void monitorcheck_result_free(struct monitorcheck_result *r);

/*
 * The exit code of a run over these results: 1 when a check fails, else
 * 75 (EX_TEMPFAIL) when one could not be done, else 0 (warnings pass).
 */
int monitorcheck_exit(const struct monitorcheck_result *r);

/* "dnssec", "tlsa-published", ...; "?" out of range. */
const char *monitorcheck_name(enum monitorcheck_id c);
/* "pass", "warn", "error", "fail"; "?" out of range. */
const char *monitorcheck_state_name(enum monitorcheck_state s);

enum monitorcheck_tlsrpt_parse {
	MONITORCHECK_TLSRPT_OK,         /* a valid v=TLSRPTv1 record */
	MONITORCHECK_TLSRPT_OTHER,      /* not a TLSRPT record (does not start v=TLSRPTv1) */
	MONITORCHECK_TLSRPT_INVALID     /* starts v=TLSRPTv1, does not parse */
};

/*
 * One TXT record's text against RFC 8460 §3: "v=TLSRPTv1", then fields
 * separated by *WSP ";" *WSP (a trailing ";" allowed): exactly one
 * "rua=" with comma-separated mailto: or https: URIs, and extensions
 * NAME=VALUE. INVALID sets *why to a malloc'ed sentence (the caller frees
 * it); the other results leave *why NULL.
 */
enum monitorcheck_tlsrpt_parse monitorcheck_tlsrpt_parse(const char *txt, char **why);

#endif
