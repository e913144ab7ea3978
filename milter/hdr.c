/*
 * hdr.c: see hdr.h.
 */
#include "hdr.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/dane.h"

static bool
hdr_safe(unsigned char c)
{
	if (c <= ' ' || c >= 0x7f)
		return false;
	return strchr(";\"'()\\%<>", c) == NULL;
}

void
hdr_token(struct sbuf *sb, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t out = 0;

	if (v == NULL || *v == '\0') {
		sbuf_append(sb, "none");
		return;
	}
	for (p = (const unsigned char *)v; *p != '\0' && out < HDR_TOKEN_MAX; p++) {
		if (hdr_safe(*p)) {
			sbuf_appendc(sb, (char)*p);
			out++;
		} else {
			sbuf_appendc(sb, '%');
			sbuf_appendc(sb, hex[*p >> 4]);
			sbuf_appendc(sb, hex[*p & 15]);
			out += 3;
		}
	}
}

/*
 * Append "; key=value", folding ("\n\t", as libmilter wants) before a key
 * that would take the line past HDR_LINE_MAX (hdr.h): a header line never
 * exceeds RFC 5322's 998 bytes, whatever the authserv-id and the macros
 * hold. The margin leaves room for the header name in front of the first
 * line.
 */
static void
hdr_kv(struct sbuf *sb, const char *key, const char *val)
{
	struct sbuf tok = SBUF_INIT;
	const char *nl;
	size_t line;

	hdr_token(&tok, val);
	nl = sb->sb_len ? memrchr(sb->sb_buf, '\n', sb->sb_len) : NULL;
	line = nl ? sb->sb_len - (size_t)(nl + 1 - sb->sb_buf) : sb->sb_len;
	/* "; key=value" and the ';' that a fold before the next key leaves
	 * on this line */
	sbuf_append(sb, line + 2 + strlen(key) + 1 + tok.sb_len + 1 > HDR_LINE_MAX ?
	    ";\n\t" : "; ");
	sbuf_append(sb, key);
	sbuf_appendc(sb, '=');
	sbuf_appendn(sb, sbuf_str(&tok), tok.sb_len);
	sbuf_free(&tok);
}

bool
hdr_inbound_tls(const struct hdr_inbound *in)
{
	return in->hi_tls_version != NULL && *in->hi_tls_version != '\0';
}

const char *
hdr_client_cert(const struct hdr_inbound *in, char *buf, size_t buflen)
{
	size_t i;

	if (!hdr_inbound_tls(in))
		return "none";
	if (in->hi_verify != NULL && *in->hi_verify != '\0') {
		/* Sendmail: the outcome of the client certificate check. */
		if (strcasecmp(in->hi_verify, "OK") == 0 ||
		    strcasecmp(in->hi_verify, "TRUSTED") == 0)
			return "verified";
		if (strcasecmp(in->hi_verify, "FAIL") == 0)
			return "fail";
		if (strcasecmp(in->hi_verify, "NO") == 0 ||
		    strcasecmp(in->hi_verify, "NOT") == 0 ||
		    strcasecmp(in->hi_verify, "NONE") == 0 ||
		    strcasecmp(in->hi_verify, "CLEAR") == 0)
			return "none";
		for (i = 0; i + 1 < buflen && in->hi_verify[i] != '\0'; i++)
			buf[i] = (char)tolower((unsigned char)in->hi_verify[i]);
		buf[i] = '\0';
		return buf;
	}
	/* Postfix sets {cert_subject} only for a trusted client certificate. */
	if (in->hi_cert_subject != NULL && *in->hi_cert_subject != '\0')
		return "verified";
	return "none";
}

/* A client name worth showing: not Postfix's "unknown", not Sendmail's
 * "[address]". */
static const char *
hdr_client_name(const char *name)
{
	if (name == NULL || *name == '\0' || *name == '[' ||
	    strcasecmp(name, "unknown") == 0)
		return "unknown";
	return name;
}

void
hdr_inbound_value(struct sbuf *sb, const char *authserv, const struct hdr_inbound *in)
{
	char vbuf[32];
	const char *cc;

	sbuf_append(sb, authserv);
	if (!hdr_inbound_tls(in)) {
		hdr_kv(sb, "tls", "none");
	} else {
		hdr_kv(sb, "tls", in->hi_tls_version);
		hdr_kv(sb, "cipher", in->hi_cipher);
		hdr_kv(sb, "bits", in->hi_bits);
		cc = hdr_client_cert(in, vbuf, sizeof(vbuf));
		hdr_kv(sb, "client-cert", cc);
		if (strcmp(cc, "verified") == 0 && in->hi_cert_subject != NULL &&
		    *in->hi_cert_subject != '\0') {
			hdr_kv(sb, "cert-subject", in->hi_cert_subject);
			if (in->hi_cert_issuer != NULL && *in->hi_cert_issuer != '\0')
				hdr_kv(sb, "cert-issuer", in->hi_cert_issuer);
		}
	}
	hdr_kv(sb, "client", hdr_client_name(in->hi_client_name));
	hdr_kv(sb, "addr", in->hi_client_addr);
}

/* "; domain=D" and, without a verdict, why (nothing more for an
 * invalid domain: there is no policy to speak of). */
static void
hdr_domain(struct sbuf *sb, const char *domain, const struct verdict *v,
    enum hdr_missing why)
{
	if (v == NULL && why == HDR_INVALID) {
		hdr_kv(sb, "domain", "invalid");
		return;
	}
	hdr_kv(sb, "domain", domain);
	if (v == NULL) {
		hdr_kv(sb, "policy", "temperror");
		hdr_kv(sb, "reason", why == HDR_TIMEOUT ? "timeout" : "unavailable");
	}
}

void
hdr_sender_value(struct sbuf *sb, const char *authserv, const char *domain,
    const struct verdict *v, enum hdr_missing why, const char *violation)
{
	sbuf_append(sb, authserv);
	if (domain == NULL) {
		hdr_kv(sb, "domain", "none");
		return;
	}
	hdr_domain(sb, domain, v, why);
	if (v != NULL) {
		hdr_kv(sb, "policy", v->v_level);
		hdr_kv(sb, "dane", dane_verdict_name(v->v_dane->dr_verdict));
		if (dane_insecure_mx_usable(v->v_dane))
			hdr_kv(sb, "mx-tlsa", "usable");
		hdr_kv(sb, "mta-sts", verdict_sts_name(v->v_sts));
	}
	if (violation != NULL)
		hdr_kv(sb, "violation", violation);
}

void
hdr_recipient_value(struct sbuf *sb, const char *authserv, const char *domain,
    const struct verdict *v, enum hdr_missing why, const char *probe,
    const char *probe_reason, unsigned more)
{
	char n[16];

	sbuf_append(sb, authserv);
	hdr_domain(sb, domain, v, why);
	if (v != NULL) {
		hdr_kv(sb, "policy", v->v_level);
		hdr_kv(sb, "source", verdict_source_name(v->v_source));
		hdr_kv(sb, "dane", dane_verdict_name(v->v_dane->dr_verdict));
		if (dane_insecure_mx_usable(v->v_dane))
			hdr_kv(sb, "mx-tlsa", "usable");
		hdr_kv(sb, "mta-sts", verdict_sts_name(v->v_sts));
	}
	if (probe != NULL) {
		hdr_kv(sb, "probe", probe);
		if (probe_reason != NULL && *probe_reason != '\0')
			hdr_kv(sb, "probe-reason", probe_reason);
	}
	if (more > 0) {
		snprintf(n, sizeof(n), "%u", more);
		hdr_kv(sb, "more", n);
	}
}
