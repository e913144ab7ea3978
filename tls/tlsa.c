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

void
tlsa_rr_set(struct tlsa_rr *rr, uint8_t usage, uint8_t selector, uint8_t mtype,
    const uint8_t *data, size_t len)
{
	rr->tr_usage = usage;
	rr->tr_selector = selector;
	rr->tr_mtype = mtype;
	rr->tr_data = xmalloc(len ? len : 1);
	if (len > 0)
		memcpy(rr->tr_data, data, len);
	rr->tr_len = len;
	rr->tr_check = TLSA_USABLE;
	rr->tr_agility_ignored = false;
}

struct tlsa_rr *
tlsa_rrs_dup(const struct tlsa_rr *rrs, size_t n)
{
	struct tlsa_rr *copy = xcalloc(n ? n : 1, sizeof(*copy));
	size_t i;

	for (i = 0; i < n; i++) {
		copy[i] = rrs[i];
		copy[i].tr_data = xmalloc(rrs[i].tr_len ? rrs[i].tr_len : 1);
		if (rrs[i].tr_len > 0)
			memcpy(copy[i].tr_data, rrs[i].tr_data, rrs[i].tr_len);
	}
	return copy;
}

void
tlsa_rrs_free(struct tlsa_rr *rrs, size_t n)
{
	size_t i;

	if (rrs == NULL)
		return;
	for (i = 0; i < n; i++)
		free(rrs[i].tr_data);
	free(rrs);
}

void
tlsa_agility_mark(struct tlsa_rr *rrs, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		struct tlsa_rr *t = &rrs[i];

		t->tr_agility_ignored = false;
		if (t->tr_check != TLSA_USABLE || t->tr_mtype == TLSA_MTYPE_FULL)
			continue;
		for (j = 0; j < n && !t->tr_agility_ignored; j++) {
			const struct tlsa_rr *o = &rrs[j];

			if (o->tr_check == TLSA_USABLE && o->tr_usage == t->tr_usage &&
			    o->tr_selector == t->tr_selector &&
			    tlsa_mtype_rank(o->tr_mtype) > tlsa_mtype_rank(t->tr_mtype))
				t->tr_agility_ignored = true;
		}
	}
}

size_t
tlsa_rrs_rate(struct tlsa_rr *rrs, size_t n)
{
	size_t i, in_force = 0;

	for (i = 0; i < n; i++)
		rrs[i].tr_check = tlsa_check(rrs[i].tr_usage, rrs[i].tr_selector, rrs[i].tr_mtype,
		    rrs[i].tr_data, rrs[i].tr_len);
	tlsa_agility_mark(rrs, n);
	for (i = 0; i < n; i++)
		if (rrs[i].tr_check == TLSA_USABLE && !rrs[i].tr_agility_ignored)
			in_force++;
	return in_force;
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

int
tlsa_match_chain(const struct tlsa_rr *rr, const struct cert_der *certs, size_t n)
{
	size_t i;

	if (n == 0)
		return -1;
	if (rr->tr_usage == TLSA_USAGE_DANE_EE)
		return tlsa_match_der(certs[0].cd_der, certs[0].cd_len, rr->tr_selector,
		    rr->tr_mtype, rr->tr_data, rr->tr_len) == TLSA_MATCH ? 0 : -1;
	if (rr->tr_usage != TLSA_USAGE_DANE_TA)
		return -1;
	for (i = 1; i < n; i++)
		if (tlsa_match_der(certs[i].cd_der, certs[i].cd_len, rr->tr_selector, rr->tr_mtype,
		    rr->tr_data, rr->tr_len) == TLSA_MATCH)
			return (int)i;
	return -1;
}
