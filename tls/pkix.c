/*
 * pkix.c: see pkix.h.
 */
#include "pkix.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

int
pkix_dns_id_only(void *ssl_ctx, const char *host)
{
	X509_VERIFY_PARAM *param = SSL_CTX_get0_param((SSL_CTX *)ssl_ctx);

	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return X509_VERIFY_PARAM_set1_host(param, host, 0) == 1 ? 0 : -1;
}
