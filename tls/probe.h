/*
 * probe.h: one SMTP STARTTLS probe of one MX address, verified with
 * OpenSSL's DANE API (RFC 7672) or with PKIX and the MX host name
 * (MTA-STS, RFC 8461), on the calling thread's ivykis loop.
 *
 * The probe connects (IPv4 or IPv6), reads the banner, says EHLO, asks for
 * STARTTLS, discards anything the server sent after its 220 (RFC 3207
 * command injection), and does the TLS handshake; then it records the
 * session (version, cipher, bits, the peer's chain) and the verdict:
 *   DANE: usages 2 and 3 only; SNI and first reference identifier = the
 *         TLSA base domain, the MX name (if different) and the next-hop
 *         domain (secure MX, RFC 7672 §3.2.2) as others;
 *         no name checks for DANE-EE, name checks for DANE-TA
 *         (X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
 *   PKIX: the CA file, SNI and name check = the MX host name;
 *   NONE: no verification (opportunistic TLS: facts only).
 * Every stage is bounded (pr_timeout_ms from connect to the end of the
 * handshake); nothing blocks. Failures carry an RFC 8460 result type.
 *
 * Ownership: probe_start() copies everything it needs from the request.
 * The result passed to the callback is borrowed (valid during the call).
 * The probe frees itself after the callback; probe_cancel() frees it
 * without calling back. With pr_logtag set, PowerMTA-style lines are
 * logged ("TAG: tls: TLSv1.3 connected with 256-bit ...").
 */
#ifndef DM_PROBE_H
#define DM_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/cert.h"
#include "tls/tlsa.h"

enum probe_mode {
	PROBE_DANE,
	PROBE_PKIX,
	PROBE_NONE
};

enum probe_status {
	PROBE_PASS,             /* verified under the mode (NONE: TLS established) */
	PROBE_FAIL,             /* a verification or STARTTLS failure: pr_reason */
	PROBE_ERROR             /* could not get that far: unreachable, refused, timeout
	                           before STARTTLS; says nothing about the TLS setup */
};

/* RFC 8460 §4.3 result types (the failure reasons a probe can find). */
enum probe_reason {
	PROBE_R_NONE,
	PROBE_R_STARTTLS_NOT_SUPPORTED,
	PROBE_R_CERT_HOST_MISMATCH,
	PROBE_R_CERT_EXPIRED,
	PROBE_R_CERT_NOT_TRUSTED,
	PROBE_R_VALIDATION_FAILURE,
	PROBE_R_TLSA_INVALID
};

struct probe_req {
	const char *pr_host;            /* the MX host name (PKIX name, logs) */
	const char *pr_addr;            /* IPv4 or IPv6 address, text */
	unsigned pr_port;               /* 25 */
	enum probe_mode pr_mode;
	const char *pr_tlsa_base;       /* DANE: TLSA base domain (SNI); NULL = pr_host */
	const char *pr_nexthop;         /* DANE-TA: the next-hop domain as a reference
	                                   identifier (secure MX only), or NULL */
	const char *pr_nexthop2;        /* its CNAME-expanded form, or NULL */
	const struct tlsa_rr *pr_tlsa;  /* DANE: the secure TLSA RRset (numbers and
	                                   data only: OpenSSL rates the records) */
	size_t pr_ntlsa;
	const char *pr_ca_file;         /* PKIX (and the informational verified=): CA bundle */
	const char *pr_helo;            /* our EHLO name */
	unsigned pr_timeout_ms;         /* the whole probe */
	const char *pr_logtag;          /* NULL: no log lines */
};

struct probe_result {
	enum probe_status ps_status;
	enum probe_reason ps_reason;
	const char *ps_detail;          /* human words: why, or what was seen */
	const char *ps_tls_version;     /* "" before the handshake */
	const char *ps_cipher;
	int ps_bits;
	const char *ps_subject;         /* leaf, OpenSSL one-line form, or "" */
	const char *ps_issuer;
	const char *ps_chain;           /* every certificate's subject, " | " between */
	bool ps_pkix_verified;          /* chain trusted by pr_ca_file and names pr_host */
	int ps_dane_depth;              /* DANE match depth, -1 when none */
	const char *ps_dane_match;      /* the matching record "3 1 1 HEX", or "" */
	unsigned ps_elapsed_ms;
	const struct cert_chain *ps_peer;       /* the certificates the server sent, DER,
	                                           [0] the leaf; empty (cc_n 0) before the
	                                           handshake; never NULL */
};

struct probe;
typedef void probe_done_fn(void *arg, const struct probe_result *res);

/* NULL (and done is never called) only when pr_addr is not an address. */
struct probe *probe_start(const struct probe_req *req, probe_done_fn *done, void *arg);
void probe_cancel(struct probe *p);

const char *probe_status_name(enum probe_status s);     /* "pass", "fail", "error" */
const char *probe_reason_name(enum probe_reason r);     /* "starttls-not-supported", ... ("" for none) */

/* "dane", "pkix", "none". */
const char *probe_mode_name(enum probe_mode m);

#endif
