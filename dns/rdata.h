/*
 * rdata.h: decoding of DNS data received from the network (untrusted).
 *
 * The rdata as libunbound hands it over (wire format, names uncompressed)
 * and whole answer packets (names compressed, parsed with ldns) become
 * plain C values and presentation-form text. Every function checks lengths
 * and returns RDATA_MALFORMED rather than reading past its input. Nothing
 * here allocates except rdata_answer_parse(), whose result the caller frees
 * with rdata_answer_free().
 */
#ifndef DM_RDATA_H
#define DM_RDATA_H

#include <stddef.h>
#include <stdint.h>

enum rdata_status {
	RDATA_OK,
	RDATA_MALFORMED
};

/* Longest presentation name we produce, NUL included. */
#define RDATA_NAME_MAX 1025

/*
 * Decode the uncompressed wire name at wire[0..len) into presentation form
 * in out (lower-cased, no trailing dot, "." for the root). Bytes outside
 * [a-z0-9_-] are written as \DDD, a literal dot in a label as "\.", so the
 * text round-trips. *used (if not NULL) receives the name's wire length.
 */
enum rdata_status rdata_name(const uint8_t *wire, size_t len, size_t *used,
    char *out, size_t outlen);
/* True when name is a host name we will look up: LDH/underscore labels. */
int rdata_name_is_hostname(const char *name);

/* MX rdata: preference then a name ("." for a null MX). */
enum rdata_status rdata_mx(const uint8_t *rd, size_t len, uint16_t *pref,
    char *host, size_t hostlen);

struct rdata_tlsa {
	uint8_t rt_usage;
	uint8_t rt_selector;
	uint8_t rt_mtype;
	const uint8_t *rt_data;         /* points into the input */
	size_t rt_len;
};
/* TLSA rdata: three octets then the association data (may be empty). */
enum rdata_status rdata_tlsa(const uint8_t *rd, size_t len, struct rdata_tlsa *out);

/* A/AAAA rdata to text ("192.0.2.1", "2001:db8::1"); out >= 46 bytes. */
enum rdata_status rdata_addr(uint16_t type, const uint8_t *rd, size_t len,
    char *out, size_t outlen);

/* TXT rdata: the character-strings concatenated without separators
 * (RFC 8461 §3.1). out gets at most outlen-1 bytes; *truncated set when it
 * did not fit. Embedded NULs are malformed. */
enum rdata_status rdata_txt(const uint8_t *rd, size_t len, char *out,
    size_t outlen, int *truncated);

/* An answer packet, summarized for logs and TTLs. */
struct rdata_answer {
	char **ra_lines;        /* answer-section RRs in presentation form, RRSIGs left out */
	size_t ra_nlines;
	int ra_have_soa;        /* authority section holds an SOA */
	uint32_t ra_neg_ttl;    /* min(SOA TTL, SOA minimum) when ra_have_soa */
};
/* A whole DNS answer packet (its additional section is not read):
 * RDATA_OK with *out filled, or RDATA_MALFORMED with *out empty. */
enum rdata_status rdata_answer_parse(const uint8_t *pkt, size_t len, struct rdata_answer *out);
void rdata_answer_free(struct rdata_answer *a);

/* Upper-case hex of data into out (2*len+1 bytes). */
void rdata_hex(const uint8_t *data, size_t len, char *out);

#endif
