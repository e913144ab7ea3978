/*
 * hmac.c: see hmac.h.
 */
#include "hmac.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/log.h"

void
hmac_sha256_hex(const void *key, size_t keylen, const void *const *part,
    const size_t *len, size_t n, char hex[HMAC_SHA256_HEXLEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	OSSL_PARAM params[2];
	EVP_MAC_CTX *mc;
	EVP_MAC *m;
	size_t i, outl = 0;

	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL || (mc = EVP_MAC_CTX_new(m)) == NULL)
		log_abort("hmac: OpenSSL has no HMAC");
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(mc, key, keylen, params) != 1)
		log_abort("hmac: EVP_MAC_init failed");
	for (i = 0; i < n; i++)
		if (EVP_MAC_update(mc, part[i], len[i]) != 1)
			log_abort("hmac: EVP_MAC_update failed");
	if (EVP_MAC_final(mc, mac, &outl, sizeof(mac)) != 1 || outl != HMAC_SHA256_LEN)
		log_abort("hmac: EVP_MAC_final failed");
	EVP_MAC_CTX_free(mc);
	EVP_MAC_free(m);
	for (i = 0; i < outl; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 0xf];
	}
	hex[2 * outl] = '\0';
}

bool
hmac_hex_equal(const char *a, const char *b)
{
	if (strlen(a) != HMAC_SHA256_HEXLEN || strlen(b) != HMAC_SHA256_HEXLEN)
		return false;
	return CRYPTO_memcmp(a, b, HMAC_SHA256_HEXLEN) == 0;
}
