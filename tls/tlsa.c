/*
 * tlsa.c: see tlsa.h.
 */
#include "tlsa.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

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

/* The DER the selector picks from x, in *buf (OpenSSL-allocated): its
 * length, or <= 0 for an unknown selector or an encoding failure. */
static int
tlsa_selected(X509 *x, uint8_t selector, unsigned char **buf)
{
	*buf = NULL;
	if (selector == TLSA_SELECTOR_CERT)
		return i2d_X509(x, buf);
	if (selector == TLSA_SELECTOR_SPKI)
		return i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), buf);
	return -1;
}

enum tlsa_data
tlsa_data_der(const uint8_t *cert_der, size_t cert_len, uint8_t selector,
    uint8_t mtype, uint8_t **out, size_t *outlen)
{
	const unsigned char *p = cert_der;
	unsigned char *buf = NULL;
	const EVP_MD *md = NULL;
	unsigned int dlen = 0;
	X509 *x;
	int len;

	*out = NULL;
	*outlen = 0;
	if (selector != TLSA_SELECTOR_CERT && selector != TLSA_SELECTOR_SPKI)
		return TLSA_DATA_BAD_PARAMS;
	if (mtype == TLSA_MTYPE_SHA256)
		md = EVP_sha256();
	else if (mtype == TLSA_MTYPE_SHA512)
		md = EVP_sha512();
	else if (mtype != TLSA_MTYPE_FULL)
		return TLSA_DATA_BAD_PARAMS;
	x = cert_len <= 0x7fffffff ? d2i_X509(NULL, &p, (long)cert_len) : NULL;
	if (x == NULL || p != cert_der + cert_len) {
		X509_free(x);
		return TLSA_DATA_BAD_CERT;
	}
	len = tlsa_selected(x, selector, &buf);
	X509_free(x);
	if (len <= 0)
		return TLSA_DATA_BAD_CERT;
	if (md == NULL) {
		*out = xmalloc((size_t)len);
		memcpy(*out, buf, (size_t)len);
		*outlen = (size_t)len;
	} else {
		*out = xmalloc(TLSA_DIGEST_MAX);
		if (EVP_Digest(buf, (size_t)len, *out, &dlen, md, NULL) != 1)
			log_abort("tlsa: EVP_Digest failed");
		*outlen = dlen;
	}
	OPENSSL_free(buf);
	return TLSA_DATA_OK;
}

enum tlsa_match
tlsa_match_der(const uint8_t *cert_der, size_t cert_len, uint8_t selector,
    uint8_t mtype, const uint8_t *data, size_t len)
{
	enum tlsa_match m;
	uint8_t *mine;
	size_t mlen;

	if (tlsa_data_der(cert_der, cert_len, selector, mtype, &mine, &mlen) != TLSA_DATA_OK)
		return TLSA_MATCH_ERROR;
	m = mlen == len && memcmp(mine, data, len) == 0 ? TLSA_MATCH : TLSA_NO_MATCH;
	free(mine);
	return m;
}
