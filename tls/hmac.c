/*
 * NAME
 *	hmac - HMAC-SHA256 and a constant-time comparison
 * SYNOPSIS
 *	#include "tls/hmac.h"
 *
 *	bool hmac_sha256(const uint8_t *key, size_t keylen,
 *	    const uint8_t *msg, size_t msglen, uint8_t out[32]);
 *	bool hmac_equal(const uint8_t *a, const uint8_t *b, size_t n);
 *	void hmac_thread_done(void);
 * DESCRIPTION
 *	hmac_sha256() is OpenSSL's one-shot HMAC() with EVP_sha256();
 *	hmac_equal() is CRYPTO_memcmp(); hmac_thread_done() is
 *	OPENSSL_thread_stop(). They are here because tls/ is the
 *	only folder that includes OpenSSL.
 * DIAGNOSTICS
 *	hmac_sha256() returns false (and a zeroed out) when OpenSSL fails.
 */
#include "tls/hmac.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

bool
hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
    uint8_t out[HMAC_SHA256_LEN])
{
	unsigned int len = 0;

	if (keylen > (size_t)0x7fffffff ||
	    HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &len) == NULL ||
	    len != HMAC_SHA256_LEN) {
		memset(out, 0, HMAC_SHA256_LEN);
		return false;
	}
	return true;
}

void
hmac_thread_done(void)
{
	OPENSSL_thread_stop();
}

bool
hmac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
