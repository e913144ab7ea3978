/*
 * hdr.h: the text of the X-DANE-Inbound, X-DANE-Sender and
 * X-DANE-Recipient header values (product.md "Headers added by the
 * milter"), and the token sanitizer every value goes through.
 *
 * A value is "AUTHSERV-ID; key=value; key=value ...": lower-case keys,
 * values without spaces, ';', quotes, parentheses, '%', CR/LF or other
 * control characters: anything else is written as %XX, so text from the
 * network (macros, certificate names) can never add a key, a header or a
 * line. Functions append to a caller-owned struct sbuf; nothing else is
 * allocated. Pure functions: any thread.
 */
#ifndef DM_HDR_H
#define DM_HDR_H

#include <stdbool.h>

#include "common/sbuf.h"
#include "policy/verdict.h"

/* Longest token hdr_token() writes before it stops: the last byte may be
 * a %XX escape, so a token is at most HDR_TOKEN_MAX + 2 bytes. */
#define HDR_TOKEN_MAX   200
/* Longest line of a value: a key=value that would pass it starts a new
 * line ("\n\t", folded as libmilter wants), so no header line passes
 * RFC 5322's 998 bytes with the header name in front of the first line
 * (the authserv-id at its start is at most 255 bytes: config/cfg_schema.c). */
#define HDR_LINE_MAX    900

#define HDR_INBOUND     "X-DANE-Inbound"
#define HDR_SENDER      "X-DANE-Sender"
#define HDR_RECIPIENT   "X-DANE-Recipient"

/* The inbound hop as the MTA's macros describe it (NULL = macro absent). */
struct hdr_inbound {
	const char *hi_tls_version;     /* {tls_version}; absent or "" = plaintext */
	const char *hi_cipher;          /* {cipher} */
	const char *hi_bits;            /* {cipher_bits} */
	const char *hi_cert_subject;    /* {cert_subject}: Postfix: CN of a trusted cert */
	const char *hi_cert_issuer;     /* {cert_issuer} */
	const char *hi_verify;          /* {verify} (Sendmail only) */
	const char *hi_client_name;     /* verified name, or NULL/"unknown"/"[addr]" */
	const char *hi_client_addr;     /* printable address */
};

/* Why a domain has no verdict in the header. */
enum hdr_missing {
	HDR_TIMEOUT,            /* not ready within milter.timeout_ms */
	HDR_UNAVAILABLE,        /* the engine is shutting down */
	HDR_INVALID             /* the address has no usable domain (milter/addr.h):
	                           nothing was looked up; "domain=invalid" and
	                           no policy keys */
};

/*
 * Append v to sb as a header token (see above); NULL and "" become "none".
 * Lossless otherwise up to HDR_TOKEN_MAX bytes: decoding the %XX escapes
 * gives v back, or, when the token reached HDR_TOKEN_MAX bytes, the start
 * of v.
 */
void hdr_token(struct sbuf *sb, const char *v);
/* True when the inbound hop used TLS. */
bool hdr_inbound_tls(const struct hdr_inbound *in);
/* The client-cert= value: verified | none | fail | a lower-cased
 * Sendmail {verify} word. Static string or one of the macro's own. */
const char *hdr_client_cert(const struct hdr_inbound *in, char *buf, size_t buflen);

void hdr_inbound_value(struct sbuf *sb, const char *authserv, const struct hdr_inbound *in);
/*
 * X-DANE-Sender: domain NULL = the null sender (domain=none); v NULL = no
 * verdict (why says which; HDR_INVALID: domain=invalid whatever domain
 * says); violation NULL or a token such as "plaintext" (violation=...).
 * Both values carry mx-tlsa=usable after dane=insecure when a host of the
 * unsigned MX RRset has a secure, usable TLSA RRset (the policy is then
 * dane, or the MTA-STS policy in enforce mode, which wins).
 */
void hdr_sender_value(struct sbuf *sb, const char *authserv, const char *domain,
    const struct verdict *v, enum hdr_missing why, const char *violation);
/* X-DANE-Recipient (v NULL with HDR_INVALID: domain=invalid); probe
 * (NULL: no probe result) adds probe=... and,
 * when probe_reason is not empty, probe-reason=...; more > 0 appends
 * more=N (recipient domains left out). */
void hdr_recipient_value(struct sbuf *sb, const char *authserv, const char *domain,
    const struct verdict *v, enum hdr_missing why, const char *probe,
    const char *probe_reason, unsigned more);

#endif
