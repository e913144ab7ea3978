/*
 * cert.c: see cert.h. The file is read whole (bounded), then walked one
 * PEM block at a time with PEM_read_bio(), so a block that does not decode
 * is told apart from the end of the file (PEM_R_NO_START_LINE).
 */
#include "cert.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

/* Read the whole file into *buf (malloc'ed). 0, -1 with errno set, or
 * -2 when it is larger than CERT_FILE_MAX. */
static int
cert_read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 4096, got;
	uint8_t *b;
	int saved;

	if (f == NULL)
		return -1;
	b = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > CERT_FILE_MAX) {
				free(b);
				fclose(f);
				return -2;
			}
			cap *= 2;
			b = xreallocarray(b, cap, 1);
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		saved = errno;
		free(b);
		fclose(f);
		errno = saved;
		return -1;
	}
	fclose(f);
	if (n > CERT_FILE_MAX) {
		free(b);
		return -2;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* The last OpenSSL error as text, and clear the queue. */
static const char *
cert_ssl_error(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : "unknown error";
}

static bool
cert_is_cert_block(const char *name)
{
	return strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0 ||
	    strcmp(name, PEM_STRING_X509_TRUSTED) == 0;
}

/* One certificate block's DER (the certificate alone, without the
 * "TRUSTED CERTIFICATE" trust settings) appended to c; false when it does
 * not decode as exactly one certificate. */
static bool
cert_add_block(struct cert_chain *c, const char *name, const unsigned char *data, long len)
{
	const unsigned char *p = data;
	bool trusted = strcmp(name, PEM_STRING_X509_TRUSTED) == 0;
	X509 *x = trusted ? d2i_X509_AUX(NULL, &p, len) : d2i_X509(NULL, &p, len);
	unsigned char *der = NULL;
	int dlen;

	if (x == NULL || p != data + len) {
		X509_free(x);
		return false;
	}
	dlen = i2d_X509(x, &der);
	X509_free(x);
	if (dlen <= 0)
		return false;
	c->cc_certs = xreallocarray(c->cc_certs, c->cc_n + 1, sizeof(*c->cc_certs));
	c->cc_certs[c->cc_n].cd_der = xmalloc((size_t)dlen);
	memcpy(c->cc_certs[c->cc_n].cd_der, der, (size_t)dlen);
	c->cc_certs[c->cc_n].cd_len = (size_t)dlen;
	c->cc_n++;
	OPENSSL_free(der);
	return true;
}

enum cert_load
cert_chain_load(const char *path, struct cert_chain *out, char **errp)
{
	struct cert_chain c = { NULL, 0 };
	enum cert_load st = CERT_LOAD_OK;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	size_t flen = 0, blocks = 0;
	uint8_t *file = NULL;
	unsigned long e;
	long len = 0;
	BIO *bio;
	int r;

	memset(out, 0, sizeof(*out));
	*errp = NULL;
	if ((r = cert_read_file(path, &file, &flen)) != 0) {
		if (r == -1) {
			*errp = xasprintf("%s: %s", path, strerror(errno));
			return CERT_LOAD_UNREADABLE;
		}
		*errp = xasprintf("%s: larger than %d bytes: not a certificate file", path, CERT_FILE_MAX);
		return CERT_LOAD_BAD;
	}
	if ((bio = BIO_new_mem_buf(file, (int)flen)) == NULL)
		log_abort("cert: BIO_new_mem_buf failed");
	ERR_clear_error();
	while (PEM_read_bio(bio, &name, &header, &data, &len) == 1) {
		blocks++;
		if (cert_is_cert_block(name) && !cert_add_block(&c, name, data, len)) {
			*errp = xasprintf("%s: PEM block %zu (%s) is not a valid certificate", path,
			    blocks, name);
			st = CERT_LOAD_BAD;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
		if (st != CERT_LOAD_OK)
			break;
	}
	if (st == CERT_LOAD_OK) {
		e = ERR_peek_last_error();
		if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
			*errp = xasprintf("%s: malformed PEM block %zu: %s", path, blocks + 1,
			    cert_ssl_error());
			st = CERT_LOAD_BAD;
		} else if (c.cc_n == 0) {
			*errp = xasprintf("%s: no PEM certificate found", path);
			st = CERT_LOAD_NONE;
		}
	}
	ERR_clear_error();
	BIO_free(bio);
	free(file);
	if (st != CERT_LOAD_OK)
		cert_chain_free(&c);
	else
		*out = c;
	return st;
}

void
cert_chain_free(struct cert_chain *c)
{
	size_t i;

	for (i = 0; i < c->cc_n; i++)
		free(c->cc_certs[i].cd_der);
	free(c->cc_certs);
	c->cc_certs = NULL;
	c->cc_n = 0;
}

/* A copy of s when it is a non-empty run of printable ASCII, else NULL. */
static char *
cert_printable(const unsigned char *s, int len)
{
	int i;

	if (len <= 0)
		return NULL;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return NULL;
	return xstrndup((const char *)s, (size_t)len);
}

enum cert_names_status
cert_names(const uint8_t *der, size_t len, struct cert_names *out)
{
	const unsigned char *p = der;
	GENERAL_NAMES *gens;
	X509_NAME *subj;
	BIO *mem;
	X509 *x;
	int i, n;

	memset(out, 0, sizeof(*out));
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return CERT_NAMES_BAD;
	}
	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL)) != NULL) {
		n = sk_GENERAL_NAME_num(gens);
		out->cnm_dns = xcalloc((size_t)n + 1, sizeof(*out->cnm_dns));
		for (i = 0; i < n; i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
			char *s;

			if (g->type != GEN_DNS)
				continue;
			s = cert_printable(ASN1_STRING_get0_data(g->d.dNSName),
			    ASN1_STRING_length(g->d.dNSName));
			if (s != NULL)
				out->cnm_dns[out->cnm_ndns++] = s;
		}
		GENERAL_NAMES_free(gens);
	}
	subj = X509_get_subject_name(x);
	for (i = -1; (n = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0; i = n)
		;
	if (i >= 0) {
		unsigned char *utf8 = NULL;
		int ulen = ASN1_STRING_to_UTF8(&utf8,
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));

		if (ulen > 0)
			out->cnm_cn = cert_printable(utf8, ulen);
		OPENSSL_free(utf8);
	}
	if ((mem = BIO_new(BIO_s_mem())) == NULL)
		log_abort("cert: BIO_new failed");
	if (X509_NAME_print_ex(mem, subj, 0, XN_FLAG_RFC2253) >= 0) {
		char *text;
		long tlen = BIO_get_mem_data(mem, &text);

		out->cnm_subject = xstrndup(tlen > 0 ? text : "", tlen > 0 ? (size_t)tlen : 0);
	} else {
		out->cnm_subject = xstrdup("");
	}
	BIO_free(mem);
	X509_free(x);
	ERR_clear_error();
	return CERT_NAMES_OK;
}

void
cert_names_free(struct cert_names *n)
{
	size_t i;

	for (i = 0; i < n->cnm_ndns; i++)
		free(n->cnm_dns[i]);
	free(n->cnm_dns);
	free(n->cnm_cn);
	free(n->cnm_subject);
	memset(n, 0, sizeof(*n));
}

void
cert_chain_copy(struct cert_chain *dst, const struct cert_der *src, size_t n)
{
	size_t i;

	dst->cc_certs = xcalloc(n ? n : 1, sizeof(*dst->cc_certs));
	dst->cc_n = n;
	for (i = 0; i < n; i++) {
		dst->cc_certs[i].cd_der = xmalloc(src[i].cd_len ? src[i].cd_len : 1);
		memcpy(dst->cc_certs[i].cd_der, src[i].cd_der, src[i].cd_len);
		dst->cc_certs[i].cd_len = src[i].cd_len;
	}
}

/* An ASN1_TIME as seconds since the epoch (UTC); -1 when it does not convert. */
static int
cert_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

int
cert_validity(const uint8_t *der, size_t len, time_t *not_before, time_t *not_after)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	time_t nb, na;
	int rc = -1;

	if (x != NULL && cert_time(X509_get0_notBefore(x), &nb) == 0 &&
	    cert_time(X509_get0_notAfter(x), &na) == 0) {
		*not_before = nb;
		*not_after = na;
		rc = 0;
	}
	X509_free(x);
	ERR_clear_error();
	return rc;
}
