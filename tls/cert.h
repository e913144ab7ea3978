/*
 * cert.h: certificate files and certificate facts, read with OpenSSL.
 *
 * cert_chain_load() reads a PEM file (a leaf, then optionally its chain)
 * into DER copies; cert_names() extracts the names an operator derives a
 * TLSA owner from. Both hand back memory the caller owns: a struct
 * cert_chain is freed with cert_chain_free(), a struct cert_names with
 * cert_names_free(); the error text *errp (when set) with free().
 */
#ifndef DM_CERT_H
#define DM_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Largest certificate file read (bytes); a longer one is CERT_LOAD_BAD. */
#define CERT_FILE_MAX   (1024 * 1024)

enum cert_load {
	CERT_LOAD_OK,           /* >= 1 certificate */
	CERT_LOAD_NONE,         /* readable, but no PEM certificate in it */
	CERT_LOAD_UNREADABLE,   /* cannot open or read the file (errno text in *errp) */
	CERT_LOAD_BAD           /* a PEM certificate block that does not decode, or too large */
};

struct cert_der {
	uint8_t *cd_der;
	size_t cd_len;
};

struct cert_chain {
	struct cert_der *cc_certs;      /* in file order: [0] the leaf, the last the top CA */
	size_t cc_n;
};

/*
 * Read every "CERTIFICATE" PEM block of path, in order; other PEM blocks
 * (private keys, parameters) are skipped. CERT_LOAD_OK fills *out. Any
 * other status leaves *out empty and sets *errp to a malloc'ed sentence
 * naming the file ("FILE: no certificate found"); never both.
 */
enum cert_load cert_chain_load(const char *path, struct cert_chain *out, char **errp);
void cert_chain_free(struct cert_chain *c);
/* Make *dst a deep copy of src[0..n) (n may be 0: an empty chain). *dst
 * must be empty or freed; free the copy with cert_chain_free(). */
void cert_chain_copy(struct cert_chain *dst, const struct cert_der *src, size_t n);

/*
 * The validity period of a DER certificate: 0 with *not_before and
 * *not_after set (UTC seconds since the epoch); -1 when der is not a
 * certificate or its times do not convert (both then left alone).
 */
int cert_validity(const uint8_t *der, size_t len, time_t *not_before, time_t *not_after);

enum cert_names_status {
	CERT_NAMES_OK,
	CERT_NAMES_BAD          /* not a DER certificate */
};

struct cert_names {
	char **cnm_dns;         /* subjectAltName dNSName entries, in certificate order;
	                           only non-empty printable ASCII without spaces is kept */
	size_t cnm_ndns;
	char *cnm_cn;           /* the (last) subject commonName, same rule; else NULL */
	char *cnm_subject;      /* the subject, RFC 2253 form ("CN=mx.example,O=..."); "" when empty */
};

/* The names of a DER certificate. CERT_NAMES_OK fills *out (free it with
 * cert_names_free()); CERT_NAMES_BAD leaves it zeroed. */
enum cert_names_status cert_names(const uint8_t *der, size_t len, struct cert_names *out);
void cert_names_free(struct cert_names *n);

#endif
