/*
 * hmac.h: HMAC-SHA256 (RFC 2104, FIPS 180-4) for the fleet's shared cache
 * (policy/shared.c signs and verifies its Redis values with it). tls/ is
 * the only OpenSSL code; this module owns no state.
 */
#ifndef DM_HMAC_H
#define DM_HMAC_H

#include <stdbool.h>
#include <stddef.h>

#define HMAC_SHA256_LEN         32
#define HMAC_SHA256_HEXLEN      (2 * HMAC_SHA256_LEN)

/*
 * The HMAC-SHA256 of the concatenation of the n parts (part[i], len[i]
 * bytes) under key (keylen bytes), as 64 lower-case hex digits and a NUL
 * into hex. Out of memory or an OpenSSL failure aborts.
 */
void hmac_sha256_hex(const void *key, size_t keylen, const void *const *part,
    const size_t *len, size_t n, char hex[HMAC_SHA256_HEXLEN + 1]);

/* Are the NUL-terminated hex strings a and b equal, in a time that does
 * not depend on where they differ (CRYPTO_memcmp)? False when either is
 * not HMAC_SHA256_HEXLEN long. */
bool hmac_hex_equal(const char *a, const char *b);

#endif
