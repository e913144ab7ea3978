/*
 * hmac.c: see hmac.h. HMAC through OpenSSL's EVP_MAC, comparisons through
 * CRYPTO_memcmp.
 */
#include "tls/hmac.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/log.h"

bool
hmac_sha256_parts(const void *key, size_t keylen, const void *const *part,
    const size_t *len, size_t n, uint8_t out[HMAC_SHA256_LEN])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	OSSL_PARAM params[2];
	EVP_MAC_CTX *mc = NULL;
	EVP_MAC *m;
	size_t i, outl = 0;
	bool ok = false;

	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL && (mc = EVP_MAC_CTX_new(m)) != NULL) {
		params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
		params[1] = OSSL_PARAM_construct_end();
		ok = EVP_MAC_init(mc, key, keylen, params) == 1;
		for (i = 0; ok && i < n; i++)
			ok = EVP_MAC_update(mc, part[i], len[i]) == 1;
		ok = ok && EVP_MAC_final(mc, mac, &outl, sizeof(mac)) == 1 &&
		    outl == HMAC_SHA256_LEN;
	}
	EVP_MAC_CTX_free(mc);
	EVP_MAC_free(m);
	if (ok)
		memcpy(out, mac, HMAC_SHA256_LEN);
	else
		memset(out, 0, HMAC_SHA256_LEN);
	return ok;
}

bool
hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
    uint8_t out[HMAC_SHA256_LEN])
{
	const void *part[1] = { msg };
	size_t len[1] = { msglen };

	return hmac_sha256_parts(key, keylen, part, len, 1, out);
}

void
hmac_sha256_hex(const void *key, size_t keylen, const void *const *part,
    const size_t *len, size_t n, char hex[HMAC_SHA256_HEXLEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t mac[HMAC_SHA256_LEN];
	size_t i;

	if (!hmac_sha256_parts(key, keylen, part, len, n, mac))
		log_abort("hmac: OpenSSL cannot compute HMAC-SHA256");
	for (i = 0; i < HMAC_SHA256_LEN; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 0xf];
	}
	hex[HMAC_SHA256_HEXLEN] = '\0';
}

bool
hmac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool
hmac_hex_equal(const char *a, const char *b)
{
	if (strlen(a) != HMAC_SHA256_HEXLEN || strlen(b) != HMAC_SHA256_HEXLEN)
		return false;
	return hmac_equal((const uint8_t *)a, (const uint8_t *)b, HMAC_SHA256_HEXLEN);
}

void
hmac_thread_done(void)
{
	OPENSSL_thread_stop();
}
