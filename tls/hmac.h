/*
 * hmac.h: HMAC-SHA256 (RFC 2104, FIPS 180-4) with OpenSSL, and the
 * constant-time comparison a MAC check needs. Its users: the fleet's
 * shared cache (policy/shared.c signs and verifies its Redis values) and
 * the HaveDane tokens (policy/hdtoken.c). tls/ is the only folder that
 * includes OpenSSL. Owns no state; any thread.
 */
#ifndef DM_HMAC_H
#define DM_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_LEN         32
#define HMAC_SHA256_HEXLEN      (2 * HMAC_SHA256_LEN)

/*
 * out[0..HMAC_SHA256_LEN) = HMAC-SHA256 under key[0..keylen) of the
 * concatenation of the n parts (part[i], len[i] bytes). Returns true;
 * false only when OpenSSL fails (out is then zeroed).
 */
bool hmac_sha256_parts(const void *key, size_t keylen, const void *const *part,
    const size_t *len, size_t n, uint8_t out[HMAC_SHA256_LEN]);
/* The same for one message. */
bool hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
    uint8_t out[HMAC_SHA256_LEN]);
/* The same as 64 lower-case hex digits and a NUL; an OpenSSL failure aborts. */
void hmac_sha256_hex(const void *key, size_t keylen, const void *const *part,
    const size_t *len, size_t n, char hex[HMAC_SHA256_HEXLEN + 1]);

/* Do a[0..n) and b[0..n) hold the same bytes? Time independent of where
 * they differ (CRYPTO_memcmp). */
bool hmac_equal(const uint8_t *a, const uint8_t *b, size_t n);
/* The same for two NUL-terminated hex MACs; false when either is not
 * HMAC_SHA256_HEXLEN long. */
bool hmac_hex_equal(const char *a, const char *b);

/*
 * Free the calling thread's OpenSSL state (its error queue), as OpenSSL
 * does when a thread ends: for threads that may still be running when the
 * process exits (libmilter's), which would otherwise leave it behind. The
 * next OpenSSL call on the thread makes it again.
 */
void hmac_thread_done(void);

#endif
