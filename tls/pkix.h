/*
 * pkix.h: PKIX name checking for HTTPS clients that hand us their OpenSSL
 * SSL_CTX (libcurl's CURLOPT_SSL_CTX_FUNCTION). Owns no state.
 */
#ifndef DM_PKIX_H
#define DM_PKIX_H

#include <time.h>

/*
 * Make the handshake's chain verification also require host as a DNS-ID
 * in the certificate's subjectAltName, never the subject CN (RFC 8461
 * §3.3, RFC 6125). ssl_ctx is an SSL_CTX *. 0, or -1 when OpenSSL refused.
 */
int pkix_dns_id_only(void *ssl_ctx, const char *host);

/*
 * Record the notAfter time of the leaf certificate the server presents in
 * handshakes made with ssl_ctx (an SSL_CTX * without a verify callback of
 * its own; the verify mode is kept) into *not_after (UTC seconds), which
 * must outlive them; it stays as it was (the caller sets 0) until a leaf
 * is seen. Verification is unchanged. 0, or -1 when OpenSSL refused.
 */
int pkix_record_expiry(void *ssl_ctx, time_t *not_after);

#endif
