/*
 * rdata.c: see rdata.h. Names and rdata by hand (small, bounds-checked);
 * whole packets with ldns, which handles compression and every RR type.
 */
#include "rdata.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

enum rdata_status
rdata_name(const uint8_t *wire, size_t len, size_t *used, char *out, size_t outlen)
{
	size_t pos = 0, o = 0;
	int labels = 0;

	if (outlen < 2)
		return RDATA_MALFORMED;
	for (;;) {
		uint8_t ll;
		size_t i;

		if (pos >= len)
			return RDATA_MALFORMED;
		ll = wire[pos++];
		if (ll == 0)
			break;
		if (ll > 63 || pos + ll > len || pos + ll > 255)
			return RDATA_MALFORMED;      /* compression pointers too */
		if (labels++ > 0) {
			if (o + 1 >= outlen)
				return RDATA_MALFORMED;
			out[o++] = '.';
		}
		for (i = 0; i < ll; i++) {
			unsigned char c = (unsigned char)tolower(wire[pos + i]);
			char esc[8];
			size_t n;

			if (isalnum(c) || c == '-' || c == '_') {
				esc[0] = (char)c;
				n = 1;
			} else if (c == '.' || c == '\\') {
				esc[0] = '\\';
				esc[1] = (char)c;
				n = 2;
			} else {
				snprintf(esc, sizeof(esc), "\\%03u", c);
				n = 4;
			}
			if (o + n >= outlen)
				return RDATA_MALFORMED;
			memcpy(out + o, esc, n);
			o += n;
		}
		pos += ll;
	}
	if (labels == 0)
		out[o++] = '.';
	out[o] = '\0';
	if (used)
		*used = pos;
	return RDATA_OK;
}

int
rdata_name_is_hostname(const char *name)
{
	size_t label = 0, total = 0;
	const char *p;

	if (strcmp(name, ".") == 0 || *name == '\0')
		return 0;
	for (p = name; *p; p++, total++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && total <= 253;
}

enum rdata_status
rdata_mx(const uint8_t *rd, size_t len, uint16_t *pref, char *host, size_t hostlen)
{
	size_t used;

	if (len < 3)
		return RDATA_MALFORMED;
	*pref = (uint16_t)(rd[0] << 8 | rd[1]);
	if (rdata_name(rd + 2, len - 2, &used, host, hostlen) != RDATA_OK)
		return RDATA_MALFORMED;
	return used == len - 2 ? RDATA_OK : RDATA_MALFORMED;
}

enum rdata_status
rdata_tlsa(const uint8_t *rd, size_t len, struct rdata_tlsa *out)
{
	if (len < 3)
		return RDATA_MALFORMED;
	out->rt_usage = rd[0];
	out->rt_selector = rd[1];
	out->rt_mtype = rd[2];
	out->rt_data = rd + 3;
	out->rt_len = len - 3;
	return RDATA_OK;
}

enum rdata_status
rdata_addr(uint16_t type, const uint8_t *rd, size_t len, char *out, size_t outlen)
{
	if (type == LDNS_RR_TYPE_A && len == 4)
		return inet_ntop(AF_INET, rd, out, (socklen_t)outlen) ? RDATA_OK : RDATA_MALFORMED;
	if (type == LDNS_RR_TYPE_AAAA && len == 16)
		return inet_ntop(AF_INET6, rd, out, (socklen_t)outlen) ? RDATA_OK : RDATA_MALFORMED;
	return RDATA_MALFORMED;
}

enum rdata_status
rdata_txt(const uint8_t *rd, size_t len, char *out, size_t outlen, int *truncated)
{
	size_t pos = 0, o = 0;

	*truncated = 0;
	if (outlen == 0 || len == 0)
		return RDATA_MALFORMED;
	while (pos < len) {
		size_t sl = rd[pos++], i;

		if (pos + sl > len)
			return RDATA_MALFORMED;
		for (i = 0; i < sl; i++) {
			if (rd[pos + i] == '\0')
				return RDATA_MALFORMED;
			if (o + 1 < outlen)
				out[o++] = (char)rd[pos + i];
			else
				*truncated = 1;
		}
		pos += sl;
	}
	out[o] = '\0';
	return RDATA_OK;
}

void
rdata_hex(const uint8_t *data, size_t len, char *out)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hx[data[i] >> 4];
		out[2 * i + 1] = hx[data[i] & 15];
	}
	out[2 * len] = '\0';
}

/* ldns prints "owner.\tTTL\tIN\tTYPE\trdata\n": one line, single spaces,
 * TLSA digests in upper case as dig and PowerMTA show them. */
static char *
rdata_rr_line(const ldns_rr *rr)
{
	char *s = ldns_rr2str(rr), *p, *line;
	size_t n;

	if (s == NULL)
		return NULL;
	for (p = s; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TLSA) {
		p = strstr(s, " TLSA ");
		for (p = p ? p + 6 : s + n; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	}
	line = xstrdup(s);
	LDNS_FREE(s);
	return line;
}

enum rdata_status
rdata_answer_parse(const uint8_t *pkt, size_t len, struct rdata_answer *out)
{
	ldns_pkt *p = NULL;
	ldns_rr_list *ans, *auth;
	uint8_t *copy = NULL;
	ldns_status st;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (pkt == NULL || len == 0)
		return RDATA_MALFORMED;
	/*
	 * Only the answer and authority sections are read: parse a copy whose
	 * ARCOUNT is 0, so that ldns never reads the additional section.
	 * ldns_wire2pkt() (1.8.3, and 1.9.2: NLnetLabs/ldns issue 317) leaks
	 * each TSIG record of the additional section that a later one
	 * replaces (fuzz/corpus/rdata/leak-two-tsig.bin).
	 */
	if (len >= 12 && (pkt[10] != 0 || pkt[11] != 0)) {
		copy = xmalloc(len);
		memcpy(copy, pkt, len);
		copy[10] = copy[11] = 0;
		pkt = copy;
	}
	st = ldns_wire2pkt(&p, pkt, len);
	free(copy);
	if (st != LDNS_STATUS_OK)
		return RDATA_MALFORMED;
	ans = ldns_pkt_answer(p);
	if (ans != NULL && ldns_rr_list_rr_count(ans) > 0) {
		out->ra_lines = xcalloc(ldns_rr_list_rr_count(ans), sizeof(char *));
		for (i = 0; i < ldns_rr_list_rr_count(ans); i++) {
			ldns_rr *rr = ldns_rr_list_rr(ans, i);
			char *line;

			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG)
				continue;
			if ((line = rdata_rr_line(rr)) != NULL)
				out->ra_lines[out->ra_nlines++] = line;
		}
	}
	auth = ldns_pkt_authority(p);
	for (i = 0; auth != NULL && i < ldns_rr_list_rr_count(auth); i++) {
		ldns_rr *rr = ldns_rr_list_rr(auth, i);
		ldns_rdf *min;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7)
			continue;
		min = ldns_rr_rdf(rr, 6);
		if (min == NULL || ldns_rdf_size(min) != 4)
			continue;
		out->ra_have_soa = 1;
		out->ra_neg_ttl = ldns_rdf2native_int32(min);
		if (ldns_rr_ttl(rr) < out->ra_neg_ttl)
			out->ra_neg_ttl = ldns_rr_ttl(rr);
		break;
	}
	ldns_pkt_free(p);
	return RDATA_OK;
}

void
rdata_answer_free(struct rdata_answer *a)
{
	size_t i;

	for (i = 0; i < a->ra_nlines; i++)
		free(a->ra_lines[i]);
	free(a->ra_lines);
	memset(a, 0, sizeof(*a));
}
