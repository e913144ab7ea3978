/*
 * tlsa_test.c: which TLSA records are usable for SMTP, digest ranks, the
 * digest-agility rule (RFC 7671 §9) on whole RRsets, and digests of a certificate made here, checked against a second computation;
 * association data for every selector and matching type, matching, and
 * (tls/cert.c) certificate files and names.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include "tests/tap.h"
#include "tls/cert.h"
#include "tls/tlsa.h"

/* A throw-away self-signed EC certificate, DER-encoded (caller frees). */
static int
make_cert(uint8_t **der)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"mx.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, k, EVP_sha256());
	*der = NULL;
	len = i2d_X509(x, der);
	X509_free(x);
	EVP_PKEY_free(k);
	return len;
}

/* A self-signed EC certificate for cn with an optional subjectAltName
 * value ("DNS:a,DNS:b"); the caller frees it with X509_free(). */
static X509 *
make_x509(const char *cn, const char *san)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 2);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (san != NULL) {
		X509_EXTENSION *e;

		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, k, EVP_sha256());
	EVP_PKEY_free(k);
	return x;
}

static char tmp_paths[6][256];

/* Write text to a new temporary file; its path (tmp_paths[slot]). */
static const char *
tmpfile_with(int slot, const char *text, size_t len)
{
	char *path = tmp_paths[slot];
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int fd;

	snprintf(path, sizeof(tmp_paths[slot]), "%s/tlsa_test.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0 || write(fd, text, len) != (ssize_t)len) {
		perror("tlsa_test: temporary file");
		exit(1);
	}
	close(fd);
	return path;
}

/* The PEM text of x appended to a malloc'ed string (free it). */
static char *
pem_of(X509 *x, const char *before)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long len;

	PEM_write_bio_X509(b, x);
	len = BIO_get_mem_data(b, &data);
	out = malloc(strlen(before) + (size_t)len + 1);
	memcpy(out, before, strlen(before));
	memcpy(out + strlen(before), data, (size_t)len);
	out[strlen(before) + (size_t)len] = '\0';
	BIO_free(b);
	return out;
}

/* tlsa_data_der / tlsa_match_der against direct OpenSSL computations. */
static void
test_data(void)
{
	X509 *x = make_x509("mx.test", NULL);
	uint8_t *der = NULL, *spki = NULL, *out, dg[EVP_MAX_MD_SIZE], junk[8] = { 0 };
	int dlen = i2d_X509(x, &der), slen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	unsigned int glen;
	size_t olen;

	tap_is_long(tlsa_data_der(der, (size_t)dlen, 0, 0, &out, &olen), TLSA_DATA_OK, "0 0: ok");
	tap_ok(olen == (size_t)dlen && memcmp(out, der, olen) == 0, "selector 0, type 0: the whole DER certificate");
	free(out);
	tap_is_long(tlsa_data_der(der, (size_t)dlen, 1, 0, &out, &olen), TLSA_DATA_OK, "1 0: ok");
	tap_ok(olen == (size_t)slen && memcmp(out, spki, olen) == 0, "selector 1, type 0: the SPKI DER");
	free(out);
	tap_is_long(tlsa_data_der(der, (size_t)dlen, 1, 1, &out, &olen), TLSA_DATA_OK, "1 1: ok");
	EVP_Digest(spki, (size_t)slen, dg, &glen, EVP_sha256(), NULL);
	tap_ok(olen == 32 && memcmp(out, dg, 32) == 0, "selector 1, type 1: SHA-256 of the SPKI");
	tap_is_long(tlsa_match_der(der, (size_t)dlen, 1, 1, dg, 32), TLSA_MATCH, "1 1: the digest matches");
	dg[31] ^= 1;
	tap_is_long(tlsa_match_der(der, (size_t)dlen, 1, 1, dg, 32), TLSA_NO_MATCH, "1 1: one bit off: no match");
	tap_is_long(tlsa_match_der(der, (size_t)dlen, 1, 1, out, 31), TLSA_NO_MATCH, "1 1: truncated: no match");
	tap_is_long(tlsa_match_der(der, (size_t)dlen, 1, 2, out, 32), TLSA_NO_MATCH, "SHA-256 data as type 2: no match");
	free(out);
	tap_is_long(tlsa_data_der(der, (size_t)dlen, 0, 2, &out, &olen), TLSA_DATA_OK, "0 2: ok");
	EVP_Digest(der, (size_t)dlen, dg, &glen, EVP_sha512(), NULL);
	tap_ok(olen == 64 && memcmp(out, dg, 64) == 0, "selector 0, type 2: SHA-512 of the certificate");
	tap_is_long(tlsa_match_der(der, (size_t)dlen, 0, 0, der, (size_t)dlen), TLSA_MATCH, "0 0: the certificate matches itself");
	free(out);
	tap_is_long(tlsa_data_der(der, (size_t)dlen, 2, 1, &out, &olen), TLSA_DATA_BAD_PARAMS, "selector 2: bad params");
	tap_ok(out == NULL && olen == 0, "bad params: nothing returned");
	tap_is_long(tlsa_data_der(der, (size_t)dlen, 1, 3, &out, &olen), TLSA_DATA_BAD_PARAMS, "matching type 3: bad params");
	tap_is_long(tlsa_data_der(junk, sizeof(junk), 1, 1, &out, &olen), TLSA_DATA_BAD_CERT, "garbage: bad cert");
	tap_is_long(tlsa_data_der(der, (size_t)dlen - 1, 1, 1, &out, &olen), TLSA_DATA_BAD_CERT, "truncated DER: bad cert");
	tap_is_long(tlsa_match_der(junk, sizeof(junk), 1, 1, junk, 8), TLSA_MATCH_ERROR, "garbage certificate: match error");
	OPENSSL_free(der);
	OPENSSL_free(spki);
	X509_free(x);
}

/*
 * Digest agility (RFC 7671 §9): each case is an RRset, written one record
 * per "U S M" triple (digests of the right length, a whole DER certificate
 * for Full(0) (used with selector 0 only), a byte short where the triple
 * ends in "!"), and the records that must be ignored; tlsa_rrs_rate() rates the set, tlsa_agility_mark() alone is then
 * run on it again and must agree.
 */
static void
test_agility(void)
{
	static const uint8_t d64[64];
	static const struct {
		const char *desc;
		const char *rrs[5];             /* "U S M", "U S M!" = wrong length */
		const char *want_ignored;       /* one char per record: 'i' ignored, '.' not */
		size_t want_in_force;
	} t[] = {
		{ "one SHA2-256", { "3 1 1" }, ".", 1 },
		{ "SHA2-256 with SHA2-512: 256 ignored", { "3 1 1", "3 1 2" }, "i.", 1 },
		{ "order does not matter", { "3 1 2", "3 1 1" }, ".i", 1 },
		{ "two SHA2-256 and a SHA2-512", { "3 1 1", "3 1 2", "3 1 1" }, "i.i", 1 },
		{ "two SHA2-256 alone: both kept", { "3 1 1", "3 1 1" }, "..", 2 },
		{ "other selector: kept", { "3 1 1", "3 0 2" }, "..", 2 },
		{ "other usage: kept", { "3 1 1", "2 1 2" }, "..", 2 },
		{ "per (usage, selector)", { "3 1 1", "3 1 2", "2 0 1", "2 0 2", "2 1 1" }, "i.i..", 3 },
		{ "Full(0) is not a digest: never ignored", { "3 0 0", "3 0 1", "3 0 2" }, ".i.", 2 },
		{ "Full(0) ignores no digest", { "3 0 0", "3 0 1" }, "..", 2 },
		{ "an unusable SHA2-512 ignores nothing", { "3 1 1", "3 1 2!" }, "..", 1 },
		{ "an unusable SHA2-256 is not 'ignored'", { "3 1 1!", "3 1 2" }, "..", 1 },
		{ "unknown matching type ignores nothing", { "3 1 1", "3 1 7" }, "..", 1 },
		{ "PKIX-EE SHA2-512 ignores nothing", { "3 1 1", "1 1 2" }, "..", 1 },
		{ "PKIX-EE records are unusable, not ignored", { "1 1 1", "1 1 2" }, "..", 0 },
		{ "empty RRset", { NULL }, "", 0 },
	};
	uint8_t *der = NULL;
	int derlen = make_cert(&der);
	size_t i, j, n, in_force;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tlsa_rr rrs[5];
		char got[6], again[6], desc[160];
		unsigned u, s, m;

		for (n = 0; n < 5 && t[i].rrs[n] != NULL; n++) {
			const uint8_t *data = d64;
			size_t len = 32;

			if (sscanf(t[i].rrs[n], "%u %u %u", &u, &s, &m) != 3)
				abort();
			if (m == TLSA_MTYPE_SHA512)
				len = 64;
			else if (m == TLSA_MTYPE_FULL)
				data = der, len = (size_t)derlen;
			if (strchr(t[i].rrs[n], '!') != NULL)
				len--;
			tlsa_rr_set(&rrs[n], (uint8_t)u, (uint8_t)s, (uint8_t)m, data, len);
		}
		in_force = tlsa_rrs_rate(rrs, n);
		for (j = 0; j < n; j++)
			got[j] = rrs[j].tr_agility_ignored ? 'i' : '.';
		got[n] = '\0';
		tlsa_agility_mark(rrs, n);
		for (j = 0; j < n; j++)
			again[j] = rrs[j].tr_agility_ignored ? 'i' : '.';
		again[n] = '\0';
		snprintf(desc, sizeof(desc), "agility: %s: ignored records", t[i].desc);
		tap_is_str(got, t[i].want_ignored, desc);
		snprintf(desc, sizeof(desc), "agility: %s: records in force", t[i].desc);
		tap_is_long((long)in_force, (long)t[i].want_in_force, desc);
		snprintf(desc, sizeof(desc), "agility: %s: tlsa_agility_mark alone agrees", t[i].desc);
		tap_is_str(again, got, desc);
		for (j = 0; j < n; j++)
			free(rrs[j].tr_data);
	}
	OPENSSL_free(der);
}

/* tlsa_rrs_dup: a deep copy, freed with tlsa_rrs_free. */
static void
test_rrs_dup(void)
{
	static const uint8_t d[3] = { 1, 2, 3 };
	struct tlsa_rr *rrs = calloc(2, sizeof(*rrs)), *copy;

	tlsa_rr_set(&rrs[0], 3, 1, 1, d, sizeof(d));
	tlsa_rr_set(&rrs[1], 2, 0, 0, d, 0);
	copy = tlsa_rrs_dup(rrs, 2);
	tap_ok(copy[0].tr_usage == 3 && copy[0].tr_selector == 1 && copy[0].tr_mtype == 1 &&
	    copy[0].tr_len == 3 && memcmp(copy[0].tr_data, d, 3) == 0 && copy[0].tr_data != rrs[0].tr_data,
	    "dup: numbers and data copied, not shared");
	tap_ok(copy[1].tr_len == 0 && copy[1].tr_data != NULL, "dup: empty data is an allocation of its own");
	tlsa_rrs_free(rrs, 2);
	tlsa_rrs_free(copy, 2);
	tlsa_rrs_free(tlsa_rrs_dup(NULL, 0), 0);
	tlsa_rrs_free(NULL, 0);
	tap_ok(1, "dup of nothing, free of NULL: fine");
}

/* cert_chain_load and cert_names. */
static void
test_cert(void)
{
	X509 *leaf = make_x509("mx.test", "DNS:*.wild.test,IP:192.0.2.1,DNS:mx.test"), *ca = make_x509("Test CA", NULL);
	char *chain = pem_of(ca, ""), *both, *keyed;
	uint8_t *lder = NULL, *cader = NULL;
	int llen = i2d_X509(leaf, &lder), calen = i2d_X509(ca, &cader);
	struct cert_chain c;
	struct cert_names n;
	char *err;
	static const char b64[] = "-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n";
	static const char notder[] = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";

	both = pem_of(leaf, "");
	both = realloc(both, strlen(both) + strlen(chain) + 1);
	strcat(both, chain);
	keyed = malloc(strlen(both) + 100);
	strcpy(keyed, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\nsome text\n");
	strcat(keyed, both);

	tap_is_long(cert_chain_load(tmpfile_with(0, both, strlen(both)), &c, &err), CERT_LOAD_OK, "leaf + CA: ok");
	tap_ok(err == NULL, "ok: no error text");
	tap_is_long((long)c.cc_n, 2, "leaf + CA: two certificates");
	tap_ok(c.cc_n == 2 && c.cc_certs[0].cd_len == (size_t)llen && memcmp(c.cc_certs[0].cd_der, lder, (size_t)llen) == 0 &&
	    c.cc_certs[1].cd_len == (size_t)calen && memcmp(c.cc_certs[1].cd_der, cader, (size_t)calen) == 0,
	    "file order kept, DER as encoded");
	cert_chain_free(&c);
	tap_is_long(cert_chain_load(tmpfile_with(1, keyed, strlen(keyed)), &c, &err), CERT_LOAD_OK, "key block and text first: ok");
	tap_is_long((long)c.cc_n, 2, "other PEM blocks skipped");
	cert_chain_free(&c);
	tap_is_long(cert_chain_load(tmpfile_with(2, "", 0), &c, &err), CERT_LOAD_NONE, "empty file: none");
	tap_ok(err != NULL && strstr(err, "no PEM certificate") != NULL && c.cc_n == 0, "none: says so, nothing returned");
	free(err);
	tap_is_long(cert_chain_load(tmpfile_with(3, "hello\n", 6), &c, &err), CERT_LOAD_NONE, "text: none");
	free(err);
	tap_is_long(cert_chain_load(tmpfile_with(4, b64, strlen(b64)), &c, &err), CERT_LOAD_BAD, "bad base64: bad");
	tap_ok(err != NULL && strstr(err, "malformed PEM block 1") != NULL, "bad: names the block");
	free(err);
	tap_is_long(cert_chain_load(tmpfile_with(5, notder, strlen(notder)), &c, &err), CERT_LOAD_BAD, "base64 of no DER: bad");
	free(err);
	tap_is_long(cert_chain_load("/nonexistent/cert.pem", &c, &err), CERT_LOAD_UNREADABLE, "missing file: unreadable");
	tap_ok(err != NULL && strstr(err, "No such file") != NULL, "unreadable: errno text");
	free(err);
	for (int i = 0; i < 6; i++)
		unlink(tmp_paths[i]);
	tap_is_long(cert_names(lder, (size_t)llen, &n), CERT_NAMES_OK, "names: ok");
	tap_is_long((long)n.cnm_ndns, 2, "names: the two DNS SANs (the IP left out)");
	tap_is_str(n.cnm_ndns > 0 ? n.cnm_dns[0] : NULL, "*.wild.test", "names: first SAN in certificate order");
	tap_is_str(n.cnm_ndns > 1 ? n.cnm_dns[1] : NULL, "mx.test", "names: second SAN");
	tap_is_str(n.cnm_cn, "mx.test", "names: CN");
	tap_is_str(n.cnm_subject, "CN=mx.test", "names: subject in RFC 2253 form");
	cert_names_free(&n);
	tap_is_long(cert_names(cader, (size_t)calen, &n), CERT_NAMES_OK, "CA names: ok");
	tap_ok(n.cnm_ndns == 0 && n.cnm_cn == NULL, "CA: no SAN; a CN with a space is not a name");
	tap_is_str(n.cnm_subject, "CN=Test CA", "CA: subject");
	cert_names_free(&n);
	tap_is_long(cert_names(lder, 10, &n), CERT_NAMES_BAD, "names of garbage: bad");
	free(chain);
	free(both);
	free(keyed);
	OPENSSL_free(lder);
	OPENSSL_free(cader);
	X509_free(leaf);
	X509_free(ca);
}

int
main(void)
{
	static const uint8_t d32[32], d64[64], d31[31];
	static const struct {
		uint8_t u, s, m; const uint8_t *d; size_t len; enum tlsa_check want; const char *desc;
	} t[] = {
		{ 3, 1, 1, d32, 32, TLSA_USABLE, "3 1 1 usable" },
		{ 2, 0, 2, d64, 64, TLSA_USABLE, "2 0 2 usable" },
		{ 0, 1, 1, d32, 32, TLSA_BAD_USAGE, "PKIX-TA not for SMTP" },
		{ 1, 1, 1, d32, 32, TLSA_BAD_USAGE, "PKIX-EE not for SMTP" },
		{ 255, 1, 1, d32, 32, TLSA_BAD_USAGE, "PrivCert usage" },
		{ 3, 9, 1, d32, 32, TLSA_BAD_SELECTOR, "unknown selector" },
		{ 3, 1, 255, d32, 32, TLSA_BAD_MTYPE, "PrivMatch type" },
		{ 3, 1, 1, d31, 31, TLSA_BAD_LENGTH, "31-byte SHA-256" },
		{ 3, 1, 2, d32, 32, TLSA_BAD_LENGTH, "32-byte SHA-512" },
		{ 3, 1, 0, d32, 32, TLSA_BAD_DATA, "full SPKI that is not DER" },
		{ 3, 0, 0, d32, 0, TLSA_BAD_LENGTH, "empty full data" },
	};
	uint8_t *der, dg[TLSA_DIGEST_MAX], dg2[TLSA_DIGEST_MAX];
	unsigned int l2;
	size_t i;
	int len;

	tap_watchdog(10);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		tap_is_long(tlsa_check(t[i].u, t[i].s, t[i].m, t[i].d, t[i].len), t[i].want, t[i].desc);
	tap_ok(tlsa_mtype_rank(2) > tlsa_mtype_rank(1) && tlsa_mtype_rank(1) > tlsa_mtype_rank(0) &&
	    tlsa_mtype_rank(7) < 0, "digest ranks: sha512 > sha256 > full, unknown < 0");

	len = make_cert(&der);
	tap_ok(len > 0, "test certificate made");
	tap_is_long(tlsa_check(3, 0, 0, der, (size_t)len), TLSA_USABLE, "3 0 0 with a real DER certificate");
	tap_is_long(tlsa_check(3, 0, 0, der, (size_t)len - 1), TLSA_BAD_DATA, "truncated DER certificate");
	tap_is_long((long)tlsa_digest_der(der, (size_t)len, 0, 1, dg), 32, "3 0 1 digest length");
	EVP_Digest(der, (size_t)len, dg2, &l2, EVP_sha256(), NULL);
	tap_ok(memcmp(dg, dg2, 32) == 0, "selector 0 digest = SHA-256 over the whole DER certificate");
	tap_is_long((long)tlsa_digest_der(der, (size_t)len, 1, 2, dg), 64, "3 1 2 digest length");
	tap_is_long((long)tlsa_digest_der(der, (size_t)len, 1, 0, dg), 0, "matching type 0 is not a digest");
	tap_is_long((long)tlsa_digest_der(der, 10, 1, 1, dg), 0, "garbage certificate gives 0");
	OPENSSL_free(der);
	test_data();
	test_agility();
	test_rrs_dup();
	test_cert();
	return tap_done();
}
