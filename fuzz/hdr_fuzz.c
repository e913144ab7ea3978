/*
 * hdr_fuzz.c: libFuzzer target for what the milter writes from text it
 * is given by the MTA and the client: the X-DANE-* header values of
 * milter/hdr.c, the per-message summary line of milter/summary.c (text
 * and JSON), and the domain milter/addr.c takes from an envelope address.
 *
 * The first input byte holds switches (which authserv-id, why a verdict
 * is missing, a null sender, how many recipient domains were left out);
 * the rest, split at NUL bytes, gives the macros and values: TLS version,
 * cipher, bits, cert subject, cert issuer, {verify}, client name, client
 * address, sender domain, violation, probe, probe reason, queue id, and
 * an envelope address. A field the input does not reach is NULL (macro
 * absent). Verdicts are left out: their keys come from the engine's own
 * names, not from the network.
 *
 * Invariants (product.md "Headers added by the milter", hdr.h, addr.h),
 * each checked with abort():
 *   - a header value is one logical line: no CR, no NUL, and every LF is
 *     a fold ";" LF TAB; no line longer than HDR_LINE_MAX, and the first
 *     line with "X-DANE-Recipient: " in front of it within RFC 5322's 998;
 *   - unfolded it is "AUTHSERV-ID" then "; key=value" pairs, exactly the
 *     keys expected for these inputs, in order; a value is never empty
 *     and holds no space, control character, byte above 0x7e, ';', quote
 *     or parenthesis, and '%' only as %XX (upper-case hex);
 *   - hdr_token() is lossless where hdr.h says so: each value from a
 *     macro decodes back to the macro, or to its start when the token
 *     reached HDR_TOKEN_MAX; no token is longer than HDR_TOKEN_MAX + 2;
 *     NULL and "" give "none";
 *   - the summary (with the domain addr_domain() found, as milter/filter.c
 *     gives it): the text line holds no CR, LF or NUL; the JSON line no
 *     byte below 0x20, and jansson parses it back to the summary object
 *     whose reason and client_addr are the inputs (U+FFFD for bytes that
 *     are not UTF-8, common/jsonout.h);
 *   - addr_domain(): buf untouched unless ADDR_DOMAIN; a domain found is
 *     lower case, a host name (labels of 1-63 [a-z0-9_-] bytes, at most
 *     253 bytes: RFC 1035, with rdata.h's underscore), not the special-use
 *     "invalid" or under it; for a plain local@domain or <local@domain>
 *     with a dot-atom local part and an ASCII domain it is that domain
 *     lower-cased without one trailing dot when that is a host name, and
 *     ADDR_INVALID when not; a buffer one byte too short gives
 *     ADDR_INVALID and stays untouched.
 * Seeds live in fuzz/corpus/hdr/.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "milter/addr.h"
#include "milter/hdr.h"
#include "milter/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	F_TLS, F_CIPHER, F_BITS, F_SUBJECT, F_ISSUER, F_VERIFY, F_CLIENT, F_ADDR,
	F_DOMAIN, F_VIOLATION, F_PROBE, F_REASON, F_QID, F_ENVELOPE, F_N
};

#define FUZZ_RFC5322_LINE       998
#define FUZZ_KEYS_MAX           16

/* One expected key: its value is lit (a fixed word), or the token of raw. */
struct fuzz_kv {
	const char *key;
	const char *lit;
	const char *raw;
	bool is_raw;
};

struct fuzz_want {
	struct fuzz_kv kv[FUZZ_KEYS_MAX];
	size_t n;
};

static void
want_lit(struct fuzz_want *w, const char *key, const char *lit)
{
	w->kv[w->n].key = key;
	w->kv[w->n].lit = lit;
	w->kv[w->n].is_raw = false;
	w->n++;
}

static void
want_raw(struct fuzz_want *w, const char *key, const char *raw)
{
	w->kv[w->n].key = key;
	w->kv[w->n].raw = raw;
	w->kv[w->n].is_raw = true;
	w->n++;
}

static int
fuzz_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;          /* lower case is not what hdr.h writes */
}

/* A value as the contract allows it; its %XX-decoded text into out. */
static void
fuzz_check_token(const char *v, size_t n, char *out, size_t *outlen)
{
	size_t i, o = 0;

	if (n == 0)
		abort();
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= ' ' || c >= 0x7f || c == ';' || c == '"' || c == '\'' || c == '(' ||
		    c == ')')
			abort();
		if (c == '%') {
			if (i + 2 >= n)
				abort();
			if (fuzz_hex(v[i + 1]) < 0 || fuzz_hex(v[i + 2]) < 0)
				abort();
			out[o++] = (char)(fuzz_hex(v[i + 1]) << 4 | fuzz_hex(v[i + 2]));
			i += 2;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	*outlen = o;
}

/* Is v (n bytes, unfolded) the token of raw? */
static void
fuzz_check_lossless(const char *v, size_t n, const char *raw)
{
	char dec[HDR_TOKEN_MAX + 8];
	size_t dn, rn;

	if (n > HDR_TOKEN_MAX + 2)
		abort();
	fuzz_check_token(v, n, dec, &dn);
	if (raw == NULL || *raw == '\0') {
		if (n != 4 || memcmp(v, "none", 4) != 0)
			abort();
		return;
	}
	rn = strlen(raw);
	if (dn > rn || memcmp(dec, raw, dn) != 0)
		abort();
	if (dn < rn && n < HDR_TOKEN_MAX)
		abort();            /* cut before the bound */
}

/* Check one header value against the expected keys. */
static void
fuzz_check_value(const struct sbuf *sb, const char *name, const char *authserv,
    const struct fuzz_want *w)
{
	const char *s = sbuf_str(sb), *p, *line;
	char *flat;
	size_t len = sb->sb_len, i, o, k, alen = strlen(authserv);

	if (strlen(s) != len || memchr(s, '\r', len) != NULL)
		abort();
	/* Lines and folds. */
	for (line = s;; line = p + 1) {
		p = memchr(line, '\n', len - (size_t)(line - s));
		i = p != NULL ? (size_t)(p - line) : len - (size_t)(line - s);
		if (i > HDR_LINE_MAX)
			abort();
		if (line == s && strlen(name) + 2 + i > FUZZ_RFC5322_LINE)
			abort();
		if (p == NULL)
			break;
		if (p == s || p[-1] != ';' || p[1] != '\t')
			abort();
	}
	/* Unfold: ";\n\t" -> "; ". */
	flat = xmalloc(len + 1);
	for (i = o = 0; i < len; i++) {
		if (s[i] == '\n') {
			flat[o++] = ' ';
			i++;            /* the TAB */
			continue;
		}
		flat[o++] = s[i];
	}
	flat[o] = '\0';
	if (strncmp(flat, authserv, alen) != 0)
		abort();
	p = flat + alen;
	for (k = 0; k < w->n; k++) {
		const struct fuzz_kv *kv = &w->kv[k];
		size_t kl = strlen(kv->key), vl;

		if (p[0] != ';' || p[1] != ' ' || strncmp(p + 2, kv->key, kl) != 0 || p[2 + kl] != '=')
			abort();
		p += 2 + kl + 1;
		vl = strcspn(p, ";");
		if (kv->is_raw) {
			fuzz_check_lossless(p, vl, kv->raw);
		} else {
			char dec[HDR_TOKEN_MAX + 8];
			size_t dn;

			if (vl > HDR_TOKEN_MAX + 2)
				abort();
			fuzz_check_token(p, vl, dec, &dn);
			if (kv->lit != NULL && (strlen(kv->lit) != vl || memcmp(kv->lit, p, vl) != 0))
				abort();
		}
		p += vl;
	}
	if (*p != '\0')
		abort();                /* a key more than expected */
	free(flat);
}

static bool
fuzz_empty(const char *s)
{
	return s == NULL || *s == '\0';
}

static void
fuzz_inbound(const char *authserv, const struct hdr_inbound *in, const char *verify)
{
	struct sbuf sb = SBUF_INIT;
	struct fuzz_want w = { .n = 0 };
	const char *cn = in->hi_client_name;
	char vbuf[32];
	const char *cc;

	hdr_inbound_value(&sb, authserv, in);
	if (fuzz_empty(in->hi_tls_version)) {
		want_lit(&w, "tls", "none");
	} else {
		want_raw(&w, "tls", in->hi_tls_version);
		want_raw(&w, "cipher", in->hi_cipher);
		want_raw(&w, "bits", in->hi_bits);
		cc = hdr_client_cert(in, vbuf, sizeof(vbuf));
		/* a fixed word, or the {verify} word lower-cased */
		if (strcmp(cc, "verified") != 0 && strcmp(cc, "none") != 0 && strcmp(cc, "fail") != 0) {
			size_t i;

			if (verify == NULL || strlen(cc) >= sizeof(vbuf) ||
			    strncasecmp(cc, verify, strlen(cc)) != 0)
				abort();
			for (i = 0; cc[i] != '\0'; i++)
				if (isupper((unsigned char)cc[i]))
					abort();
		}
		want_raw(&w, "client-cert", cc);
		if (strcmp(cc, "verified") == 0 && !fuzz_empty(in->hi_cert_subject)) {
			want_raw(&w, "cert-subject", in->hi_cert_subject);
			if (!fuzz_empty(in->hi_cert_issuer))
				want_raw(&w, "cert-issuer", in->hi_cert_issuer);
		}
	}
	if (fuzz_empty(cn) || cn[0] == '[' || strcasecmp(cn, "unknown") == 0)
		want_lit(&w, "client", "unknown");
	else
		want_raw(&w, "client", cn);
	want_raw(&w, "addr", in->hi_client_addr);
	fuzz_check_value(&sb, HDR_INBOUND, authserv, &w);
	sbuf_free(&sb);
}

static void
fuzz_domain_keys(struct fuzz_want *w, const char *domain, enum hdr_missing why)
{
	if (why == HDR_INVALID) {
		want_lit(w, "domain", "invalid");
		return;
	}
	want_raw(w, "domain", domain);
	want_lit(w, "policy", "temperror");
	want_lit(w, "reason", why == HDR_TIMEOUT ? "timeout" : "unavailable");
}

static void
fuzz_sender(const char *authserv, const char *domain, enum hdr_missing why,
    const char *violation)
{
	struct sbuf sb = SBUF_INIT;
	struct fuzz_want w = { .n = 0 };

	hdr_sender_value(&sb, authserv, domain, NULL, why, violation);
	if (domain == NULL) {
		want_lit(&w, "domain", "none");
	} else {
		fuzz_domain_keys(&w, domain, why);
		if (violation != NULL)
			want_raw(&w, "violation", violation);
	}
	fuzz_check_value(&sb, HDR_SENDER, authserv, &w);
	sbuf_free(&sb);
}

static void
fuzz_recipient(const char *authserv, const char *domain, enum hdr_missing why,
    const char *probe, const char *reason, unsigned more)
{
	struct sbuf sb = SBUF_INIT;
	struct fuzz_want w = { .n = 0 };
	char n[16];

	hdr_recipient_value(&sb, authserv, domain, NULL, why, probe, reason, more);
	fuzz_domain_keys(&w, domain, why);
	if (probe != NULL) {
		want_raw(&w, "probe", probe);
		if (!fuzz_empty(reason))
			want_raw(&w, "probe-reason", reason);
	}
	if (more > 0) {
		snprintf(n, sizeof(n), "%u", more);
		want_lit(&w, "more", n);
	}
	fuzz_check_value(&sb, HDR_RECIPIENT, authserv, &w);
	sbuf_free(&sb);
}

/*
 * want: the text the JSON field holds: the input itself when it is UTF-8
 * jansson takes, else not empty and with a U+FFFD for the bytes it
 * refused (common/jsonout.h); NULL input: null.
 */
static void
fuzz_check_field(json_t *o, const char *key, const char *in)
{
	json_t *v = json_object_get(o, key), *ref;

	if (in == NULL) {
		if (!json_is_null(v))
			abort();
		return;
	}
	if (!json_is_string(v))
		abort();
	ref = json_string(in);
	if (ref != NULL ? strcmp(json_string_value(v), in) != 0 :
	    strstr(json_string_value(v), "\xef\xbf\xbd") == NULL)
		abort();
	json_decref(ref);
}

/* A JSON line: no raw control byte; jansson parses it back into the
 * summary object with the reason and the client address it was given. */
static void
fuzz_check_json(const char *s, size_t len, const char *reason, const char *addr)
{
	json_error_t err;
	json_t *o;
	size_t i;

	if (strlen(s) != len)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20)
			abort();
	o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(o) || strcmp(json_string_value(json_object_get(o, "event")), "summary") != 0)
		abort();
	fuzz_check_field(o, "reason", reason);
	fuzz_check_field(o, "client_addr", addr);
	json_decref(o);
}

/* domain: what addr_domain() found (NULL: none), as milter/filter.c
 * gives the summary its domains. */
static void
fuzz_summary(const struct hdr_inbound *in, const char *qid, bool null_sender,
    enum hdr_missing why, const char *domain, const char *reason)
{
	struct summary_rcpt r[2];
	struct summary s;
	struct sbuf qtok = SBUF_INIT, sb = SBUF_INIT;

	/* The queue id as milter/filter.c keeps it: a header token. */
	if (qid != NULL)
		hdr_token(&qtok, qid);
	memset(r, 0, sizeof(r));
	r[0].sr_domain = domain != NULL ? domain : "";
	r[0].sr_missing = domain != NULL ? why : HDR_INVALID;
	r[0].sr_action = "accept";
	r[0].sr_count = 1;
	r[1].sr_domain = "example.org";
	r[1].sr_missing = HDR_INVALID;
	r[1].sr_action = "tempfail";
	r[1].sr_count = 2;
	memset(&s, 0, sizeof(s));
	s.s_qid = qid != NULL ? sbuf_str(&qtok) : NULL;
	s.s_in = in;
	s.s_sender = null_sender ? NULL : domain != NULL ? domain : "";
	s.s_sender_missing = domain != NULL ? why : HDR_INVALID;
	s.s_rcpts = r;
	s.s_nrcpts = 2;
	s.s_action = "accept";
	s.s_reason = reason;
	summary_text(&sb, &s);
	if (strlen(sbuf_str(&sb)) != sb.sb_len || memchr(sb.sb_buf, '\n', sb.sb_len) != NULL ||
	    memchr(sb.sb_buf, '\r', sb.sb_len) != NULL)
		abort();
	sbuf_reset(&sb);
	summary_json(&sb, &s);
	fuzz_check_json(sbuf_str(&sb), sb.sb_len, reason, in->hi_client_addr);
	sbuf_free(&sb);
	sbuf_free(&qtok);
}

/* RFC 1035 host name with rdata.h's underscore, lower case. */
static bool
fuzz_hostname(const char *s)
{
	size_t label = 0, n = strlen(s), i;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static bool
fuzz_invalid_tld(const char *d)
{
	size_t n = strlen(d);

	return strcmp(d, "invalid") == 0 || (n > 8 && strcmp(d + n - 8, ".invalid") == 0);
}

/* RFC 5322 atext and '.', for a plain local part. */
static bool
fuzz_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("!#$%&'*+-/=?^_`{|}~.", s[i]) == NULL)
			return false;
	return true;
}

/* The domain found (a static buffer), or NULL. */
static const char *
fuzz_addr(const char *a)
{
	static char buf[256];
	char copy[256], want[256];
	enum addr_status st;
	const char *at, *dom, *inner = a;
	size_t n, dn, i;

	memset(buf, 'Z', sizeof(buf));
	st = addr_domain(a, buf, sizeof(buf));
	if (st != ADDR_DOMAIN) {
		for (i = 0; i < sizeof(buf); i++)
			if (buf[i] != 'Z')
				abort();
	} else {
		if (memchr(buf, '\0', sizeof(buf)) == NULL || !fuzz_hostname(buf) ||
		    fuzz_invalid_tld(buf))
			abort();
		/* One byte too short: invalid, untouched. */
		n = strlen(buf);
		memset(copy, 'Y', sizeof(copy));
		if (addr_domain(a, copy, n) != ADDR_INVALID)
			abort();
		for (i = 0; i < sizeof(copy); i++)
			if (copy[i] != 'Y')
				abort();
		if (addr_domain(a, copy, n + 1) != ADDR_DOMAIN || strcmp(copy, buf) != 0)
			abort();
	}
	/* local@domain or <local@domain>, dot-atom local part, ASCII domain. */
	n = strlen(a);
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		inner = a + 1;
		n -= 2;
	}
	at = memchr(inner, '@', n);
	if (at == NULL || !fuzz_dot_atom(inner, (size_t)(at - inner)))
		return st == ADDR_DOMAIN ? buf : NULL;
	dom = at + 1;
	dn = n - (size_t)(dom - inner);
	if (dn == 0 || dn >= sizeof(want))
		return st == ADDR_DOMAIN ? buf : NULL;
	for (i = 0; i < dn; i++)
		if (!isalnum((unsigned char)dom[i]) && dom[i] != '.' && dom[i] != '-' && dom[i] != '_')
			return st == ADDR_DOMAIN ? buf : NULL;
	for (i = 0; i < dn; i++)
		want[i] = (char)tolower((unsigned char)dom[i]);
	want[dn] = '\0';
	if (dn > 0 && want[dn - 1] == '.')
		want[dn - 1] = '\0';
	if (fuzz_hostname(want) && !fuzz_invalid_tld(want)) {
		if (st != ADDR_DOMAIN || strcmp(buf, want) != 0)
			abort();
	} else if (st != ADDR_INVALID) {
		abort();
	}
	return st == ADDR_DOMAIN ? buf : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char long_id[256];
	char *f[F_N], *copy;
	const char *authserv, *dom;
	struct hdr_inbound in;
	enum hdr_missing why;
	size_t i, nf = 0, start = 0;
	unsigned flags;

	if (size < 1)
		return 0;
	if (long_id[0] == '\0')
		memset(long_id, 'a', sizeof(long_id) - 1);     /* 255: the config's longest */
	flags = data[0];
	data++;
	size--;
	memset(f, 0, sizeof(f));
	/* Fields split at NUL, each in a heap block of its own size. */
	for (i = 0; i <= size && nf < F_N; i++) {
		if (i == size || data[i] == '\0') {
			copy = xmalloc(i - start + 1);
			memcpy(copy, data + start, i - start);
			copy[i - start] = '\0';
			f[nf++] = copy;
			start = i + 1;
		}
	}
	authserv = flags & 1 ? long_id : "mx.example.net";
	why = (enum hdr_missing)((flags >> 1) % 3);

	memset(&in, 0, sizeof(in));
	in.hi_tls_version = f[F_TLS];
	in.hi_cipher = f[F_CIPHER];
	in.hi_bits = f[F_BITS];
	in.hi_cert_subject = f[F_SUBJECT];
	in.hi_cert_issuer = f[F_ISSUER];
	in.hi_verify = f[F_VERIFY];
	in.hi_client_name = f[F_CLIENT];
	in.hi_client_addr = f[F_ADDR];
	fuzz_inbound(authserv, &in, f[F_VERIFY]);
	fuzz_sender(authserv, flags & 8 ? NULL : f[F_DOMAIN] ? f[F_DOMAIN] : "", why, f[F_VIOLATION]);
	fuzz_recipient(authserv, f[F_DOMAIN] ? f[F_DOMAIN] : "", why, f[F_PROBE], f[F_REASON],
	    flags >> 4);
	dom = fuzz_addr(f[F_ENVELOPE] != NULL ? f[F_ENVELOPE] : (nf > 0 ? f[0] : ""));
	fuzz_summary(&in, f[F_QID], flags & 8, why, dom, f[F_REASON]);
	for (i = 0; i < nf; i++)
		free(f[i]);
	return 0;
}
