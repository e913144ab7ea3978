/*
 * probe.c: see probe.h.
 *
 * A small state machine on one non-blocking socket:
 *   CONNECT   -> (writable, SO_ERROR 0)
 *   BANNER    220 expected
 *   EHLO      250; STARTTLS must be among the keywords
 *             (each reply parsed by tls/smtpreply.h)
 *   STARTTLS  220; bytes already received after it are dropped
 *   HANDSHAKE SSL_connect, in/out handlers switched on WANT_READ/WRITE
 *             (ivykis is level-triggered: only the handler needed is set)
 * then the facts and the verdict, a best-effort QUIT, close. One timer
 * bounds the whole probe.
 *
 * Verification: DANE through OpenSSL (SSL_dane_enable, SSL_dane_tlsa_add,
 * SSL_VERIFY_NONE so the handshake completes and the outcome is read from
 * SSL_get_verify_result); PKIX (and the informational verified= of the
 * log) with X509_verify_cert against the CA file and the MX host name.
 * The CA store and the SSL_CTX are cached for the thread that probes (one
 * loop thread at a time uses this module).
 */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <iv.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "tls/smtpreply.h"

enum probe_stage {
	ST_CONNECT,
	ST_BANNER,
	ST_EHLO,
	ST_STARTTLS,
	ST_HANDSHAKE,
	ST_DONE
};

static const char *const probe_stage_names[] = {
	"connecting", "waiting for the banner", "waiting for the EHLO reply",
	"waiting for the STARTTLS reply", "in the TLS handshake", "done"
};

struct probe {
	struct iv_fd p_fd;
	struct iv_timer p_timer;
	enum probe_stage p_stage;
	char p_in[SMTPREPLY_MAX];       /* one reply at most (tls/smtpreply.h) */
	size_t p_inlen;
	char p_out[1100];
	size_t p_outlen, p_outoff;
	bool p_starttls;                /* offered in the EHLO reply */
	int p_err;                      /* socket()/connect() errno, reported from the loop */
	int p_bits;
	SSL *p_ssl;
	struct timespec p_t0;
	/* copies of the request */
	char *p_host, *p_addr, *p_base, *p_helo, *p_tag, *p_ca_file;
	char *p_nexthop, *p_nexthop2;
	unsigned p_port;
	enum probe_mode p_mode;
	struct tlsa_rr *p_tlsa;
	size_t p_ntlsa;
	/* result text */
	char p_version[32], p_cipher[96], p_detail[512];
	char *p_subject, *p_issuer, *p_chain, *p_match;
	struct cert_chain p_peer;       /* the server's certificates, DER */
	probe_done_fn *p_done;
	void *p_arg;
};

const char *
probe_mode_name(enum probe_mode m)
{
	switch (m) {
	case PROBE_DANE: return "dane";
	case PROBE_PKIX: return "pkix";
	case PROBE_NONE: return "none";
	}
	return "?";
}

/* ------------------------------------------------------------- names */

const char *
probe_status_name(enum probe_status s)
{
	switch (s) {
	case PROBE_PASS: return "pass";
	case PROBE_FAIL: return "fail";
	case PROBE_ERROR: return "error";
	}
	return "?";
}

const char *
probe_reason_name(enum probe_reason r)
{
	switch (r) {
	case PROBE_R_NONE: return "";
	case PROBE_R_STARTTLS_NOT_SUPPORTED: return "starttls-not-supported";
	case PROBE_R_CERT_HOST_MISMATCH: return "certificate-host-mismatch";
	case PROBE_R_CERT_EXPIRED: return "certificate-expired";
	case PROBE_R_CERT_NOT_TRUSTED: return "certificate-not-trusted";
	case PROBE_R_VALIDATION_FAILURE: return "validation-failure";
	case PROBE_R_TLSA_INVALID: return "tlsa-invalid";
	}
	return "?";
}

/* ------------------------------------------------ per-thread OpenSSL state */

static __thread SSL_CTX *probe_ctx;             /* DANE-enabled, no CA store */
static __thread X509_STORE *probe_store;        /* the CA file's roots */
static __thread char *probe_store_path;

static SSL_CTX *
probe_ssl_ctx(void)
{
	if (probe_ctx != NULL)
		return probe_ctx;
	if ((probe_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		log_abort("probe: SSL_CTX_new failed");
	if (SSL_CTX_dane_enable(probe_ctx) <= 0)
		log_abort("probe: SSL_CTX_dane_enable failed");
	SSL_CTX_set_verify(probe_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(probe_ctx, SSL_SESS_CACHE_OFF);
	return probe_ctx;
}

/* The store for path (NULL: the system default paths), or NULL. */
static X509_STORE *
probe_ca_store(const char *path)
{
	const char *key = path ? path : "";

	if (probe_store != NULL && strcmp(probe_store_path, key) == 0)
		return probe_store;
	X509_STORE_free(probe_store);
	free(probe_store_path);
	probe_store = X509_STORE_new();
	probe_store_path = xstrdup(key);
	if (probe_store == NULL)
		return NULL;
	if ((path ? X509_STORE_load_file(probe_store, path) :
	    X509_STORE_set_default_paths(probe_store)) != 1) {
		log_warnx("probe: cannot load the CA certificates from %s",
		    path ? path : "the system default paths");
		ERR_clear_error();
	}
	return probe_store;
}

/* ----------------------------------------------------------- helpers */

static unsigned
probe_elapsed(const struct probe *p)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned)((t.tv_sec - p->p_t0.tv_sec) * 1000 +
	    (t.tv_nsec - p->p_t0.tv_nsec) / 1000000);
}

static char *
probe_name(X509_NAME *n)
{
	char *s = X509_NAME_oneline(n, NULL, 0);
	char *r = xstrdup(s ? s : "");

	OPENSSL_free(s);
	return r;
}

static void
probe_log(const struct probe *p, const char *fmt, ...) DM_PRINTF(2, 3);

static void
probe_log(const struct probe *p, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (p->p_tag == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_info("%s: tls: %s", p->p_tag, line);
}

static void
probe_free(struct probe *p)
{
	if (iv_fd_registered(&p->p_fd))
		iv_fd_unregister(&p->p_fd);
	if (p->p_fd.fd >= 0)
		close(p->p_fd.fd);
	if (iv_timer_registered(&p->p_timer))
		iv_timer_unregister(&p->p_timer);
	SSL_free(p->p_ssl);
	free(p->p_host);
	free(p->p_addr);
	free(p->p_base);
	free(p->p_helo);
	free(p->p_tag);
	free(p->p_ca_file);
	free(p->p_nexthop);
	free(p->p_nexthop2);
	tlsa_rrs_free(p->p_tlsa, p->p_ntlsa);
	free(p->p_subject);
	free(p->p_issuer);
	free(p->p_chain);
	free(p->p_match);
	cert_chain_free(&p->p_peer);
	free(p);
}

/* The end: report, then free. */
static void
probe_finish(struct probe *p, enum probe_status st, enum probe_reason why,
    bool pkix_ok, int depth, const char *fmt, ...) DM_PRINTF(6, 7);

static void
probe_finish(struct probe *p, enum probe_status st, enum probe_reason why,
    bool pkix_ok, int depth, const char *fmt, ...)
{
	struct probe_result r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->p_detail, sizeof(p->p_detail), fmt, ap);
	va_end(ap);
	p->p_stage = ST_DONE;
	memset(&r, 0, sizeof(r));
	r.ps_status = st;
	r.ps_reason = why;
	r.ps_detail = p->p_detail;
	r.ps_tls_version = p->p_version;
	r.ps_cipher = p->p_cipher;
	r.ps_bits = p->p_bits;
	r.ps_subject = p->p_subject ? p->p_subject : "";
	r.ps_issuer = p->p_issuer ? p->p_issuer : "";
	r.ps_chain = p->p_chain ? p->p_chain : "";
	r.ps_pkix_verified = pkix_ok;
	r.ps_dane_depth = depth;
	r.ps_dane_match = p->p_match ? p->p_match : "";
	r.ps_elapsed_ms = probe_elapsed(p);
	r.ps_peer = &p->p_peer;
	if (st != PROBE_PASS)
		probe_log(p, "%s %s[%s]:%u: %s%s%s (%u ms)", st == PROBE_FAIL ? "failed:" : "error:",
		    p->p_host, p->p_addr, p->p_port, why != PROBE_R_NONE ? probe_reason_name(why) : "",
		    why != PROBE_R_NONE ? ": " : "", p->p_detail, r.ps_elapsed_ms);
	p->p_done(p->p_arg, &r);
	probe_free(p);
}

/* ----------------------------------------------------------- the wire */

static void probe_io(void *cookie);
static void probe_handshake(void *cookie);

/* Watch for input only (or output only while a write is pending). */
static void
probe_want(struct probe *p, void (*in)(void *), void (*out)(void *))
{
	iv_fd_set_handler_in(&p->p_fd, in);
	iv_fd_set_handler_out(&p->p_fd, out);
}

static bool
probe_flush(struct probe *p)
{
	ssize_t n;

	while (p->p_outoff < p->p_outlen) {
		n = write(p->p_fd.fd, p->p_out + p->p_outoff, p->p_outlen - p->p_outoff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			probe_want(p, NULL, probe_io);
			return true;
		}
		if (n <= 0) {
			probe_finish(p, PROBE_ERROR, PROBE_R_NONE, false, -1,
			    "write failed %s: %s", probe_stage_names[p->p_stage],
			    n < 0 ? strerror(errno) : "connection closed");
			return false;
		}
		p->p_outoff += (size_t)n;
	}
	probe_want(p, probe_io, NULL);
	return true;
}

/* A best-effort QUIT before giving up on the server (errors ignored). */
static void
probe_quit(struct probe *p)
{
	static const char quit[] = "QUIT\r\n";

	if (write(p->p_fd.fd, quit, sizeof(quit) - 1) < 0) {
		/* nothing to do: the connection is closed right after */
	}
}

static bool
probe_send(struct probe *p, const char *cmd)
{
	p->p_outlen = (size_t)snprintf(p->p_out, sizeof(p->p_out), "%s\r\n", cmd);
	p->p_outoff = 0;
	return probe_flush(p);
}

static void
probe_start_tls(struct probe *p)
{
	SSL_CTX *ctx = probe_ssl_ctx();
	size_t i, usable = 0;

	if ((p->p_ssl = SSL_new(ctx)) == NULL || SSL_set_fd(p->p_ssl, p->p_fd.fd) != 1) {
		probe_finish(p, PROBE_ERROR, PROBE_R_NONE, false, -1, "cannot set up TLS");
		return;
	}
	if (p->p_mode == PROBE_DANE) {
		if (SSL_dane_enable(p->p_ssl, p->p_base) <= 0) {
			probe_finish(p, PROBE_ERROR, PROBE_R_NONE, false, -1, "cannot enable DANE");
			return;
		}
		SSL_dane_set_flags(p->p_ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
		SSL_set_hostflags(p->p_ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		/* DANE-TA reference identifiers (RFC 7672 §3.2.2, as Postfix):
		 * the TLSA base domain (set by SSL_dane_enable) and, with a
		 * secure MX RRset, the next-hop domain and its CNAME expansion.
		 * Not the unexpanded MX name when the base is its CNAME target. */
		if (p->p_nexthop != NULL)
			SSL_add1_host(p->p_ssl, p->p_nexthop);
		if (p->p_nexthop2 != NULL)
			SSL_add1_host(p->p_ssl, p->p_nexthop2);
		for (i = 0; i < p->p_ntlsa; i++) {
			const struct tlsa_rr *t = &p->p_tlsa[i];

			/* RFC 7672 §3.1.3: PKIX usages 0 and 1 are not for SMTP */
			if (t->tr_usage != 2 && t->tr_usage != 3)
				continue;
			if (SSL_dane_tlsa_add(p->p_ssl, t->tr_usage, t->tr_selector, t->tr_mtype,
			    t->tr_data, t->tr_len) > 0)
				usable++;
		}
		ERR_clear_error();
		if (usable == 0) {
			probe_finish(p, PROBE_FAIL, PROBE_R_TLSA_INVALID, false, -1,
			    "none of the %zu TLSA records is usable", p->p_ntlsa);
			return;
		}
	} else {
		SSL_set_tlsext_host_name(p->p_ssl, p->p_host);
	}
	p->p_stage = ST_HANDSHAKE;
	probe_handshake(p);
}

static void
probe_got_reply(struct probe *p, int code)
{
	switch (p->p_stage) {
	case ST_BANNER:
		if (code != 220) {
			probe_finish(p, PROBE_ERROR, PROBE_R_NONE, false, -1,
			    "the server greets with %d", code);
			return;
		}
		{
			char ehlo[300];

			snprintf(ehlo, sizeof(ehlo), "EHLO %s", p->p_helo);
			p->p_stage = ST_EHLO;
			probe_send(p, ehlo);
		}
		return;
	case ST_EHLO:
		if (code != 250) {
			probe_finish(p, PROBE_ERROR, PROBE_R_NONE, false, -1,
			    "EHLO answered with %d", code);
			return;
		}
		if (!p->p_starttls) {
			probe_log(p, "STARTTLS not offered by %s[%s]", p->p_host, p->p_addr);
			probe_quit(p);
			probe_finish(p, p->p_mode == PROBE_NONE ? PROBE_PASS : PROBE_FAIL,
			    p->p_mode == PROBE_NONE ? PROBE_R_NONE : PROBE_R_STARTTLS_NOT_SUPPORTED,
			    false, -1, "the EHLO reply does not offer STARTTLS");
			return;
		}
		p->p_stage = ST_STARTTLS;
		probe_send(p, "STARTTLS");
		return;
	case ST_STARTTLS:
		if (code != 220) {
			probe_finish(p, p->p_mode == PROBE_NONE ? PROBE_PASS : PROBE_FAIL,
			    p->p_mode == PROBE_NONE ? PROBE_R_NONE : PROBE_R_STARTTLS_NOT_SUPPORTED,
			    false, -1, "STARTTLS answered with %d", code);
			return;
		}
		/* RFC 3207 §5: nothing received before the handshake counts */
		p->p_inlen = 0;
		probe_start_tls(p);
		return;
	default:
		log_abort("probe: reply in stage %d", (int)p->p_stage);
	}
}

static void
probe_io(void *cookie)
{
	struct probe *p = cookie;
	struct smtpreply rep;
	ssize_t n;

	if (p->p_outoff < p->p_outlen) {
		(void)probe_flush(p);
		return;
	}
	n = read(p->p_fd.fd, p->p_in + p->p_inlen, sizeof(p->p_in) - p->p_inlen);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		probe_finish(p, PROBE_ERROR, PROBE_R_NONE, false, -1, "connection %s %s",
		    n < 0 ? strerror(errno) : "closed by the server", probe_stage_names[p->p_stage]);
		return;
	}
	p->p_inlen += (size_t)n;
	switch (smtpreply_parse(p->p_in, p->p_inlen, &rep)) {
	case SMTPREPLY_BAD:
		probe_finish(p, PROBE_ERROR, PROBE_R_NONE, false, -1,
		    "not an SMTP reply %s", probe_stage_names[p->p_stage]);
		return;
	case SMTPREPLY_INCOMPLETE:
		return;
	case SMTPREPLY_DONE:
		break;
	}
	if (p->p_stage == ST_EHLO)
		p->p_starttls = rep.sr_starttls;
	memmove(p->p_in, p->p_in + rep.sr_len, p->p_inlen - rep.sr_len);
	p->p_inlen -= rep.sr_len;
	probe_got_reply(p, rep.sr_code);
}

static void
probe_connected(void *cookie)
{
	struct probe *p = cookie;
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(p->p_fd.fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
		err = errno;
	if (err != 0) {
		probe_finish(p, PROBE_ERROR, PROBE_R_NONE, false, -1, "connect: %s", strerror(err));
		return;
	}
	p->p_stage = ST_BANNER;
	probe_want(p, probe_io, NULL);
}

/* ------------------------------------------------------ after the handshake */

static enum probe_reason
probe_x509_reason(long err)
{
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return PROBE_R_CERT_EXPIRED;
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return PROBE_R_CERT_HOST_MISMATCH;
	case X509_V_ERR_DANE_NO_MATCH:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		return PROBE_R_CERT_NOT_TRUSTED;
	default:
		return PROBE_R_VALIDATION_FAILURE;
	}
}

/* PKIX: the peer chain against the CA store, with the MX name. */
static long
probe_pkix(struct probe *p, X509 *leaf, STACK_OF(X509) *chain)
{
	X509_STORE *store = probe_ca_store(p->p_ca_file);
	X509_STORE_CTX *sc;
	X509_VERIFY_PARAM *vp;
	long err;

	if (store == NULL || leaf == NULL || (sc = X509_STORE_CTX_new()) == NULL)
		return X509_V_ERR_UNSPECIFIED;
	if (X509_STORE_CTX_init(sc, store, leaf, chain) != 1) {
		X509_STORE_CTX_free(sc);
		return X509_V_ERR_UNSPECIFIED;
	}
	vp = X509_STORE_CTX_get0_param(sc);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	X509_VERIFY_PARAM_set1_host(vp, p->p_host, 0);
	X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
	err = X509_verify_cert(sc) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(sc);
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	return err;
}

static void
probe_record_tlsa(struct probe *p)
{
	uint8_t u, s, m;
	unsigned const char *data;
	size_t dlen, i;
	struct sbuf sb = SBUF_INIT;

	if (SSL_get0_dane_tlsa(p->p_ssl, &u, &s, &m, &data, &dlen) < 0)
		return;
	sbuf_printf(&sb, "%u %u %u ", u, s, m);
	for (i = 0; i < dlen; i++)
		sbuf_printf(&sb, "%02X", data[i]);
	p->p_match = sbuf_steal(&sb);
}

/* Keep DER copies of what the server sent (the leaf first). */
static void
probe_keep_peer(struct probe *p, X509 *leaf, STACK_OF(X509) *chain)
{
	int i, n = chain != NULL ? sk_X509_num(chain) : 0;
	X509 *x;

	p->p_peer.cc_certs = xcalloc((size_t)n + 1, sizeof(*p->p_peer.cc_certs));
	for (i = -1; i < n; i++) {
		unsigned char *der = NULL;
		int len;

		x = i < 0 ? leaf : sk_X509_value(chain, i);
		/* the client's peer chain starts with the leaf: not twice */
		if (i >= 0 && X509_cmp(x, leaf) == 0)
			continue;
		if ((len = i2d_X509(x, &der)) <= 0)
			continue;
		p->p_peer.cc_certs[p->p_peer.cc_n].cd_der = xmalloc((size_t)len);
		memcpy(p->p_peer.cc_certs[p->p_peer.cc_n].cd_der, der, (size_t)len);
		p->p_peer.cc_certs[p->p_peer.cc_n++].cd_len = (size_t)len;
		OPENSSL_free(der);
	}
	ERR_clear_error();
}

static void
probe_verdict(struct probe *p)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(p->p_ssl);
	X509 *leaf = SSL_get0_peer_certificate(p->p_ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(p->p_ssl);
	X509 *mcert = NULL;
	long pkix_err, dane_err;
	int bits = 0, depth = -1, i;
	bool pkix_ok;
	struct sbuf sb = SBUF_INIT;
	char *msub, *miss;

	snprintf(p->p_version, sizeof(p->p_version), "%s", SSL_get_version(p->p_ssl));
	snprintf(p->p_cipher, sizeof(p->p_cipher), "%s", c ? SSL_CIPHER_get_name(c) : "");
	if (c != NULL)
		(void)SSL_CIPHER_get_bits(c, &bits);
	p->p_bits = bits;
	probe_log(p, "%s connected with %d-bit %s", p->p_version, bits, p->p_cipher);
	if (leaf == NULL) {
		probe_finish(p, p->p_mode == PROBE_NONE ? PROBE_PASS : PROBE_FAIL,
		    p->p_mode == PROBE_NONE ? PROBE_R_NONE : PROBE_R_CERT_NOT_TRUSTED,
		    false, -1, "the server sent no certificate");
		return;
	}
	p->p_subject = probe_name(X509_get_subject_name(leaf));
	p->p_issuer = probe_name(X509_get_issuer_name(leaf));
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		char *n = probe_name(X509_get_subject_name(sk_X509_value(chain, i)));

		sbuf_printf(&sb, "%s%s", i ? " | " : "", n);
		free(n);
	}
	p->p_chain = sbuf_steal(&sb);
	probe_keep_peer(p, leaf, chain);
	pkix_err = probe_pkix(p, leaf, chain);
	pkix_ok = pkix_err == X509_V_OK;
	probe_log(p, "cert: %s; issuer=%s; verified=%s", p->p_subject, p->p_issuer,
	    pkix_ok ? "yes" : "no");

	switch (p->p_mode) {
	case PROBE_NONE:
		probe_finish(p, PROBE_PASS, PROBE_R_NONE, pkix_ok, -1,
		    "TLS without authentication (no policy)");
		return;
	case PROBE_PKIX:
		if (pkix_ok)
			probe_finish(p, PROBE_PASS, PROBE_R_NONE, true, -1,
			    "certificate trusted and matches %s", p->p_host);
		else
			probe_finish(p, PROBE_FAIL, probe_x509_reason(pkix_err), false, -1,
			    "%s", X509_verify_cert_error_string(pkix_err));
		return;
	case PROBE_DANE:
		break;
	}
	dane_err = SSL_get_verify_result(p->p_ssl);
	depth = SSL_get0_dane_authority(p->p_ssl, &mcert, NULL);
	if (dane_err == X509_V_OK && depth >= 0) {
		probe_record_tlsa(p);
		if (mcert != NULL) {
			msub = probe_name(X509_get_subject_name(mcert));
			miss = probe_name(X509_get_issuer_name(mcert));
		} else {        /* a bare public key matched (RPK) */
			msub = xstrdup(p->p_subject);
			miss = xstrdup(p->p_issuer);
		}
		probe_log(p, "DANE match: %s; issuer=%s; depth=%d", msub, miss, depth);
		free(msub);
		free(miss);
		probe_finish(p, PROBE_PASS, PROBE_R_NONE, pkix_ok, depth,
		    "DANE %s match at depth %d (%s)", depth == 0 && p->p_match &&
		    p->p_match[0] == '3' ? "EE" : "TA", depth, p->p_match ? p->p_match : "");
		return;
	}
	if (dane_err == X509_V_ERR_DANE_NO_MATCH)
		probe_log(p, "DANE mismatch: no TLSA record matched %s; issuer=%s", p->p_subject,
		    p->p_issuer);
	probe_finish(p, PROBE_FAIL, probe_x509_reason(dane_err), pkix_ok, -1, "%s",
	    dane_err == X509_V_ERR_DANE_NO_MATCH ? "no TLSA record matched the certificate chain" :
	    X509_verify_cert_error_string(dane_err));
}

static void
probe_handshake(void *cookie)
{
	struct probe *p = cookie;
	unsigned long e;
	char buf[256];
	int r;

	ERR_clear_error();
	r = SSL_connect(p->p_ssl);
	if (r == 1) {
		probe_want(p, NULL, NULL);
		probe_verdict(p);
		return;
	}
	switch (SSL_get_error(p->p_ssl, r)) {
	case SSL_ERROR_WANT_READ:
		probe_want(p, probe_handshake, NULL);
		return;
	case SSL_ERROR_WANT_WRITE:
		probe_want(p, NULL, probe_handshake);
		return;
	default:
		e = ERR_get_error();
		if (e != 0)
			ERR_error_string_n(e, buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "%s", errno ? strerror(errno) : "connection closed");
		ERR_clear_error();
		probe_finish(p, PROBE_FAIL, PROBE_R_VALIDATION_FAILURE, false, -1,
		    "TLS handshake failed: %s", buf);
		return;
	}
}

static void
probe_timeout(void *cookie)
{
	struct probe *p = cookie;
	enum probe_stage st = p->p_stage;

	if (p->p_err != 0) {
		probe_finish(p, PROBE_ERROR, PROBE_R_NONE, false, -1, "connect: %s",
		    strerror(p->p_err));
		return;
	}
	/* Before STARTTLS was accepted nothing is known about TLS. */
	probe_finish(p, st == ST_HANDSHAKE ? PROBE_FAIL : PROBE_ERROR,
	    st == ST_HANDSHAKE ? PROBE_R_VALIDATION_FAILURE : PROBE_R_NONE, false, -1,
	    "timeout %s", probe_stage_names[st]);
}

/* ------------------------------------------------------------- start */

struct probe *
probe_start(const struct probe_req *req, probe_done_fn *done, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct probe *p;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, req->pr_addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)req->pr_port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, req->pr_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)req->pr_port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		return NULL;
	}

	p = xcalloc(1, sizeof(*p));
	p->p_host = xstrdup(req->pr_host);
	p->p_addr = xstrdup(req->pr_addr);
	p->p_base = xstrdup(req->pr_tlsa_base ? req->pr_tlsa_base : req->pr_host);
	p->p_helo = xstrdup(req->pr_helo ? req->pr_helo : "localhost");
	p->p_tag = req->pr_logtag ? xstrdup(req->pr_logtag) : NULL;
	p->p_ca_file = req->pr_ca_file ? xstrdup(req->pr_ca_file) : NULL;
	p->p_nexthop = req->pr_nexthop ? xstrdup(req->pr_nexthop) : NULL;
	p->p_nexthop2 = req->pr_nexthop2 ? xstrdup(req->pr_nexthop2) : NULL;
	p->p_port = req->pr_port;
	p->p_mode = req->pr_mode;
	p->p_ntlsa = req->pr_ntlsa;
	p->p_tlsa = tlsa_rrs_dup(req->pr_tlsa, p->p_ntlsa);
	p->p_done = done;
	p->p_arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &p->p_t0);

	IV_FD_INIT(&p->p_fd);
	p->p_fd.fd = -1;
	p->p_fd.cookie = p;
	IV_TIMER_INIT(&p->p_timer);
	p->p_timer.cookie = p;
	p->p_timer.handler = probe_timeout;
	iv_validate_now();
	p->p_timer.expires = iv_now;
	deadline_add_ms(&p->p_timer.expires, req->pr_timeout_ms);
	iv_timer_register(&p->p_timer);

	p->p_stage = ST_CONNECT;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		p->p_err = errno;       /* reported from the loop, never from here */
		iv_timer_unregister(&p->p_timer);
		p->p_timer.expires = iv_now;
		iv_timer_register(&p->p_timer);
		return p;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->p_fd.fd = fd;
	iv_fd_register(&p->p_fd);       /* makes it non-blocking */
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 && errno != EINPROGRESS) {
		p->p_err = errno;       /* e.g. ECONNREFUSED at once on loopback */
		iv_timer_unregister(&p->p_timer);
		p->p_timer.expires = iv_now;
		iv_timer_register(&p->p_timer);
		return p;
	}
	probe_want(p, NULL, probe_connected);
	return p;
}

void
probe_cancel(struct probe *p)
{
	if (p != NULL)
		probe_free(p);
}
