/*
 * tlsa.h: TLSA records (RFC 6698) checked and computed with OpenSSL: the
 * one record type (struct tlsa_rr) and the one digest-agility rule
 * (RFC 7671 §9) of danemilter; the DANE engine, the probe and
 * `danemilter tlsa` all use these.
 *
 * Owns no state. A struct tlsa_rr owns its tr_data: records are filled by
 * tlsa_rr_set() or tlsa_rrs_dup() and an array of them is freed with
 * tlsa_rrs_free(). The data of tlsa_data_der() is freed by the caller with
 * free(). Any thread.
 */
#ifndef DM_TLSA_H
#define DM_TLSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/cert.h"

#define TLSA_USAGE_PKIX_TA      0
#define TLSA_USAGE_PKIX_EE      1
#define TLSA_USAGE_DANE_TA      2
#define TLSA_USAGE_DANE_EE      3
#define TLSA_SELECTOR_CERT      0
#define TLSA_SELECTOR_SPKI      1
#define TLSA_MTYPE_FULL         0
#define TLSA_MTYPE_SHA256       1
#define TLSA_MTYPE_SHA512       2

#define TLSA_DIGEST_MAX         64

enum tlsa_check {
	TLSA_USABLE,            /* usage 2/3, known selector and type, sound data */
	TLSA_BAD_USAGE,         /* PKIX-TA/PKIX-EE (not for SMTP) or unknown usage */
	TLSA_BAD_SELECTOR,
	TLSA_BAD_MTYPE,
	TLSA_BAD_LENGTH,        /* digest of the wrong length */
	TLSA_BAD_DATA           /* full data that is not a DER certificate / SPKI */
};

/* Is this record usable for SMTP DANE (RFC 7672 §3.1)? */
enum tlsa_check tlsa_check(uint8_t usage, uint8_t selector, uint8_t mtype,
    const uint8_t *data, size_t len);
/* Short reason for a check result ("usable", "usage 1 is not for SMTP", ...). */
const char *tlsa_check_text(enum tlsa_check c);

/*
 * Digest strength rank for digest agility (RFC 7671 §9): Full(0) = 0,
 * SHA2-256 = 1, SHA2-512 = 2; higher is stronger; -1 for unknown types.
 */
int tlsa_mtype_rank(uint8_t mtype);

/* One published TLSA record. */
struct tlsa_rr {
	uint8_t tr_usage;
	uint8_t tr_selector;
	uint8_t tr_mtype;
	uint8_t *tr_data;               /* the association data (malloc'ed, the record's) */
	size_t tr_len;
	enum tlsa_check tr_check;       /* TLSA_USABLE or why not (tlsa_rrs_rate) */
	bool tr_agility_ignored;        /* usable, but a stronger digest of the same
	                                   usage and selector exists (RFC 7671 §9) */
};

/* Fill *rr with the numbers and a copy of data[0..len); tr_check is
 * TLSA_USABLE and tr_agility_ignored false until tlsa_rrs_rate() runs. */
void tlsa_rr_set(struct tlsa_rr *rr, uint8_t usage, uint8_t selector, uint8_t mtype,
    const uint8_t *data, size_t len);
/* A deep copy of rrs[0..n) (never NULL, even for n = 0); free it with
 * tlsa_rrs_free(copy, n). */
struct tlsa_rr *tlsa_rrs_dup(const struct tlsa_rr *rrs, size_t n);
/* Free the data of rrs[0..n) and the array itself; rrs may be NULL. */
void tlsa_rrs_free(struct tlsa_rr *rrs, size_t n);

/*
 * Digest agility (RFC 7671 §9), from tr_check: set tr_agility_ignored on
 * every usable record whose matching type is a digest (not Full(0)) weaker
 * than that of another usable record of the same usage and selector;
 * clear it on every other record. Unusable records neither are ignored nor
 * make others ignored; Full(0) records are never ignored.
 */
void tlsa_agility_mark(struct tlsa_rr *rrs, size_t n);

/*
 * Set tr_check of each of rrs[0..n) (tlsa_check()), then apply
 * tlsa_agility_mark(). Returns the number of records in force: usable and
 * not ignored for digest agility (0: the RRset is unusable).
 */
size_t tlsa_rrs_rate(struct tlsa_rr *rrs, size_t n);

/*
 * The association data for a DER certificate: selector 0 (whole cert) or 1
 * (its SubjectPublicKeyInfo), matching type 1 or 2. out must hold
 * TLSA_DIGEST_MAX bytes. Returns the digest length, or 0 when the
 * certificate cannot be parsed or the arguments are unknown.
 */
size_t tlsa_digest_der(const uint8_t *cert_der, size_t cert_len, uint8_t selector,
    uint8_t mtype, uint8_t *out);

enum tlsa_data {
	TLSA_DATA_OK,
	TLSA_DATA_BAD_CERT,     /* cert_der is not a DER certificate */
	TLSA_DATA_BAD_PARAMS    /* selector or matching type unknown */
};

/*
 * The association data a record (selector, mtype) holds for a DER
 * certificate, for any selector (0 whole certificate, 1 SPKI) and matching
 * type (0 the selected DER itself, 1 SHA2-256, 2 SHA2-512). TLSA_DATA_OK
 * sets *out (malloc'ed; the caller frees it) and *outlen; any other status
 * leaves them NULL / 0.
 */
enum tlsa_data tlsa_data_der(const uint8_t *cert_der, size_t cert_len, uint8_t selector,
    uint8_t mtype, uint8_t **out, size_t *outlen);

enum tlsa_match {
	TLSA_MATCH,             /* the certificate's data equals the record's */
	TLSA_NO_MATCH,          /* it does not */
	TLSA_MATCH_ERROR        /* cannot tell: not a certificate, or unknown selector/mtype */
};

/* Does the record (selector, mtype, data[0..len)) match the DER certificate?
 * The usage is the caller's business (which certificate to compare). */
enum tlsa_match tlsa_match_der(const uint8_t *cert_der, size_t cert_len, uint8_t selector,
    uint8_t mtype, const uint8_t *data, size_t len);

/*
 * Which certificate of a chain (DER, certs[0] the leaf, then its CAs, as
 * a server sends them or a certificate file holds them) does the record
 * name, by its usage: DANE-EE (3) the leaf only, DANE-TA (2) one of the
 * CA certificates certs[1..n). Returns the index of the matching
 * certificate, or -1 (no match, another usage, n == 0). The one place of
 * that rule: `danemilter tlsa --verify` and the monitor use it.
 */
int tlsa_match_chain(const struct tlsa_rr *rr, const struct cert_der *certs, size_t n);

#endif
