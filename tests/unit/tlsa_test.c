/*
 * tlsa_test.c: which TLSA records are usable for SMTP, digest ranks, and
 * digests of a certificate made here, checked against a second computation.
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include "tests/tap.h"
#include "tls/tlsa.h"

/* A throw-away self-signed EC certificate, DER-encoded (caller frees). */
static int
make_cert(uint8_t **der)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"mx.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, k, EVP_sha256());
	*der = NULL;
	len = i2d_X509(x, der);
	X509_free(x);
	EVP_PKEY_free(k);
	return len;
}

int
main(void)
{
	static const uint8_t d32[32], d64[64], d31[31];
	static const struct {
		uint8_t u, s, m; const uint8_t *d; size_t len; enum tlsa_check want; const char *desc;
	} t[] = {
		{ 3, 1, 1, d32, 32, TLSA_USABLE, "3 1 1 usable" },
		{ 2, 0, 2, d64, 64, TLSA_USABLE, "2 0 2 usable" },
		{ 0, 1, 1, d32, 32, TLSA_BAD_USAGE, "PKIX-TA not for SMTP" },
		{ 1, 1, 1, d32, 32, TLSA_BAD_USAGE, "PKIX-EE not for SMTP" },
		{ 255, 1, 1, d32, 32, TLSA_BAD_USAGE, "PrivCert usage" },
		{ 3, 9, 1, d32, 32, TLSA_BAD_SELECTOR, "unknown selector" },
		{ 3, 1, 255, d32, 32, TLSA_BAD_MTYPE, "PrivMatch type" },
		{ 3, 1, 1, d31, 31, TLSA_BAD_LENGTH, "31-byte SHA-256" },
		{ 3, 1, 2, d32, 32, TLSA_BAD_LENGTH, "32-byte SHA-512" },
		{ 3, 1, 0, d32, 32, TLSA_BAD_DATA, "full SPKI that is not DER" },
		{ 3, 0, 0, d32, 0, TLSA_BAD_LENGTH, "empty full data" },
	};
	uint8_t *der, dg[TLSA_DIGEST_MAX], dg2[TLSA_DIGEST_MAX];
	unsigned int l2;
	size_t i;
	int len;

	tap_watchdog(10);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		tap_is_long(tlsa_check(t[i].u, t[i].s, t[i].m, t[i].d, t[i].len), t[i].want, t[i].desc);
	tap_ok(tlsa_mtype_rank(2) > tlsa_mtype_rank(1) && tlsa_mtype_rank(1) > tlsa_mtype_rank(0) &&
	    tlsa_mtype_rank(7) < 0, "digest ranks: sha512 > sha256 > full, unknown < 0");

	len = make_cert(&der);
	tap_ok(len > 0, "test certificate made");
	tap_is_long(tlsa_check(3, 0, 0, der, (size_t)len), TLSA_USABLE, "3 0 0 with a real DER certificate");
	tap_is_long(tlsa_check(3, 0, 0, der, (size_t)len - 1), TLSA_BAD_DATA, "truncated DER certificate");
	tap_is_long((long)tlsa_digest_der(der, (size_t)len, 0, 1, dg), 32, "3 0 1 digest length");
	EVP_Digest(der, (size_t)len, dg2, &l2, EVP_sha256(), NULL);
	tap_ok(memcmp(dg, dg2, 32) == 0, "selector 0 digest = SHA-256 over the whole DER certificate");
	tap_is_long((long)tlsa_digest_der(der, (size_t)len, 1, 2, dg), 64, "3 1 2 digest length");
	tap_is_long((long)tlsa_digest_der(der, (size_t)len, 1, 0, dg), 0, "matching type 0 is not a digest");
	tap_is_long((long)tlsa_digest_der(der, 10, 1, 1, dg), 0, "garbage certificate gives 0");
	OPENSSL_free(der);
	return tap_done();
}
