/*
 * tlsa.c: see tlsa.h.
 */
#include "tlsa.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>

enum tlsa_check
tlsa_check(uint8_t usage, uint8_t selector, uint8_t mtype, const uint8_t *data, size_t len)
{
	const unsigned char *p = data;

	if (usage != TLSA_USAGE_DANE_TA && usage != TLSA_USAGE_DANE_EE)
		return TLSA_BAD_USAGE;
	if (selector != TLSA_SELECTOR_CERT && selector != TLSA_SELECTOR_SPKI)
		return TLSA_BAD_SELECTOR;
	switch (mtype) {
	case TLSA_MTYPE_SHA256:
		return len == 32 ? TLSA_USABLE : TLSA_BAD_LENGTH;
	case TLSA_MTYPE_SHA512:
		return len == 64 ? TLSA_USABLE : TLSA_BAD_LENGTH;
	case TLSA_MTYPE_FULL:
		if (len == 0 || len > 65535)
			return TLSA_BAD_LENGTH;
		if (selector == TLSA_SELECTOR_CERT) {
			X509 *x = d2i_X509(NULL, &p, (long)len);

			X509_free(x);
			return x != NULL && p == data + len ? TLSA_USABLE : TLSA_BAD_DATA;
		} else {
			EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);

			EVP_PKEY_free(k);
			return k != NULL && p == data + len ? TLSA_USABLE : TLSA_BAD_DATA;
		}
	default:
		return TLSA_BAD_MTYPE;
	}
}

const char *
tlsa_check_text(enum tlsa_check c)
{
	switch (c) {
	case TLSA_USABLE:       return "usable";
	case TLSA_BAD_USAGE:    return "usage not for SMTP (only 2 and 3)";
	case TLSA_BAD_SELECTOR: return "unknown selector";
	case TLSA_BAD_MTYPE:    return "unknown matching type";
	case TLSA_BAD_LENGTH:   return "wrong data length";
	case TLSA_BAD_DATA:     return "data is not a DER certificate or key";
	}
	return "?";
}

int
tlsa_mtype_rank(uint8_t mtype)
{
	switch (mtype) {
	case TLSA_MTYPE_FULL:   return 0;
	case TLSA_MTYPE_SHA256: return 1;
	case TLSA_MTYPE_SHA512: return 2;
	default:                return -1;
	}
}

size_t
tlsa_digest_der(const uint8_t *cert_der, size_t cert_len, uint8_t selector,
    uint8_t mtype, uint8_t *out)
{
	const unsigned char *p = cert_der;
	unsigned char *buf = NULL;
	unsigned int olen = 0;
	const EVP_MD *md;
	X509 *x;
	int len;

	if (mtype == TLSA_MTYPE_SHA256)
		md = EVP_sha256();
	else if (mtype == TLSA_MTYPE_SHA512)
		md = EVP_sha512();
	else
		return 0;
	if ((x = d2i_X509(NULL, &p, (long)cert_len)) == NULL)
		return 0;
	if (selector == TLSA_SELECTOR_CERT)
		len = i2d_X509(x, &buf);
	else if (selector == TLSA_SELECTOR_SPKI)
		len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &buf);
	else
		len = -1;
	X509_free(x);
	if (len <= 0)
		return 0;
	if (EVP_Digest(buf, (size_t)len, out, &olen, md, NULL) != 1)
		olen = 0;
	OPENSSL_free(buf);
	return olen;
}
