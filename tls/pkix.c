/*
 * pkix.c: see pkix.h.
 */
#include "pkix.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <string.h>

int
pkix_dns_id_only(void *ssl_ctx, const char *host)
{
	X509_VERIFY_PARAM *param = SSL_CTX_get0_param((SSL_CTX *)ssl_ctx);

	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return X509_VERIFY_PARAM_set1_host(param, host, 0) == 1 ? 0 : -1;
}

static int pkix_expiry_idx = -1;
static pthread_once_t pkix_expiry_once = PTHREAD_ONCE_INIT;

static void
pkix_expiry_init(void)
{
	pkix_expiry_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* The verify callback: note the leaf's notAfter, change nothing. */
static int
pkix_expiry_cb(int ok, X509_STORE_CTX *sc)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sc, SSL_get_ex_data_X509_STORE_CTX_idx());
	X509 *x = X509_STORE_CTX_get_current_cert(sc);
	time_t *out;
	struct tm tm;

	if (ssl == NULL || x == NULL || X509_STORE_CTX_get_error_depth(sc) != 0)
		return ok;
	out = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pkix_expiry_idx);
	memset(&tm, 0, sizeof(tm));
	if (out != NULL && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		*out = timegm(&tm);
	return ok;
}

int
pkix_record_expiry(void *ssl_ctx, time_t *not_after)
{
	SSL_CTX *ctx = ssl_ctx;

	pthread_once(&pkix_expiry_once, pkix_expiry_init);
	if (pkix_expiry_idx < 0 || SSL_CTX_set_ex_data(ctx, pkix_expiry_idx, not_after) != 1)
		return -1;
	SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), pkix_expiry_cb);
	return 0;
}
