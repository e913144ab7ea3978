/*
 * hmac.h: HMAC-SHA256 (RFC 2104, FIPS 180-4) with OpenSSL, and the
 * constant-time comparison a MAC check needs. The HaveDane tokens
 * (policy/hdtoken.h) are its user. Owns no state; any thread.
 */
#ifndef DM_HMAC_H
#define DM_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_LEN 32

/*
 * out[0..HMAC_SHA256_LEN) = HMAC-SHA256(key[0..keylen), msg[0..msglen)).
 * Returns true; false only when OpenSSL fails (out is then zeroed).
 */
bool hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
    uint8_t out[HMAC_SHA256_LEN]);

/* Do a[0..n) and b[0..n) hold the same bytes? Time independent of where
 * they differ. */
bool hmac_equal(const uint8_t *a, const uint8_t *b, size_t n);

/*
 * Free the calling thread's OpenSSL state (its error queue), as OpenSSL
 * does when a thread ends: for threads that may still be running when the
 * process exits (libmilter's), which would otherwise leave it behind. The
 * next OpenSSL call on the thread makes it again.
 */
void hmac_thread_done(void);

#endif
