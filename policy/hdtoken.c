/*
 * NAME
 *	hdtoken - HaveDane tokens: issue, check, find in an address
 * SYNOPSIS
 *	#include "policy/hdtoken.h"
 * DESCRIPTION
 *	See hdtoken.h for the token's layout. hdtoken_make() writes the
 *	hex of time || nonce || HMAC-SHA256(key, time || nonce)[0..10);
 *	hdtoken_check() decodes, recomputes the MAC (tls/hmac.h), compares
 *	it in constant time and only then looks at the time, so a forged
 *	token is "forged" whatever time it claims.
 *
 *	hdtoken_rcpt() takes the last '@' of the address: the test
 *	addresses never have a quoted local part, and an address whose
 *	domain is not one of the three is no HaveDane address at all.
 * DIAGNOSTICS
 *	hdtoken_key_load() names the file and what is wrong with it.
 */
#include "policy/hdtoken.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tls/hmac.h"

#define HDTOKEN_BYTES   20
#define HDTOKEN_MACLEN  10

bool
hdtoken_key_load(const char *path, struct hdtoken_key *key, char **errp)
{
	uint8_t extra;
	ssize_t n;
	size_t got = 0;
	int fd;

	*errp = NULL;
	memset(key, 0, sizeof(*key));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*errp = xasprintf("havedane.token_key_file %s: cannot read: %s", path,
		    strerror(errno));
		return false;
	}
	while (got < sizeof(key->hk_key) &&
	    (n = read(fd, key->hk_key + got, sizeof(key->hk_key) - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*errp = xasprintf("havedane.token_key_file %s: cannot read: %s", path,
			    strerror(errno));
			close(fd);
			return false;
		}
		got += (size_t)n;
	}
	n = got == sizeof(key->hk_key) ? read(fd, &extra, 1) : 0;
	close(fd);
	if (n > 0) {
		*errp = xasprintf("havedane.token_key_file %s: longer than %d bytes", path,
		    HDTOKEN_KEY_MAX);
		memset(key, 0, sizeof(*key));
		return false;
	}
	if (got < HDTOKEN_KEY_MIN) {
		*errp = xasprintf("havedane.token_key_file %s: %zu bytes, want at least %d "
		    "(such as: head -c 32 /dev/urandom >%s)", path, got, HDTOKEN_KEY_MIN, path);
		memset(key, 0, sizeof(*key));
		return false;
	}
	key->hk_len = got;
	return true;
}

/* mac[0..HDTOKEN_MACLEN) for the first 10 bytes of raw. */
static bool
hdtoken_mac(const struct hdtoken_key *key, const uint8_t raw[10], uint8_t mac[HDTOKEN_MACLEN])
{
	uint8_t full[HMAC_SHA256_LEN];

	if (!hmac_sha256(key->hk_key, key->hk_len, raw, 10, full))
		return false;
	memcpy(mac, full, HDTOKEN_MACLEN);
	return true;
}

bool
hdtoken_make(const struct hdtoken_key *key, time_t created, const uint8_t nonce[6],
    char out[HDTOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[HDTOKEN_BYTES];
	uint32_t t = (uint32_t)created;
	size_t i;

	raw[0] = (uint8_t)(t >> 24);
	raw[1] = (uint8_t)(t >> 16);
	raw[2] = (uint8_t)(t >> 8);
	raw[3] = (uint8_t)t;
	memcpy(raw + 4, nonce, 6);
	if (!hdtoken_mac(key, raw, raw + 10)) {
		out[0] = '\0';
		return false;
	}
	for (i = 0; i < HDTOKEN_BYTES; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[HDTOKEN_LEN] = '\0';
	return true;
}

bool
hdtoken_new(const struct hdtoken_key *key, time_t now, char out[HDTOKEN_LEN + 1])
{
	uint8_t nonce[6];
	size_t got = 0;
	ssize_t n;

	out[0] = '\0';
	while (got < sizeof(nonce)) {
		if ((n = getrandom(nonce + got, sizeof(nonce) - got, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		got += (size_t)n;
	}
	return hdtoken_make(key, now, nonce, out);
}

static int
hdtoken_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum hdtoken_status
hdtoken_check(const struct hdtoken_key *key, const char *tok, size_t len, time_t now,
    unsigned ttl_s, time_t *created, char norm[HDTOKEN_LEN + 1])
{
	uint8_t raw[HDTOKEN_BYTES], mac[HDTOKEN_MACLEN];
	long long t;
	size_t i;
	int hi, lo;

	if (tok == NULL || len != HDTOKEN_LEN)
		return HDTOKEN_MALFORMED;
	for (i = 0; i < HDTOKEN_BYTES; i++) {
		if ((hi = hdtoken_nibble(tok[2 * i])) < 0 ||
		    (lo = hdtoken_nibble(tok[2 * i + 1])) < 0)
			return HDTOKEN_MALFORMED;
		raw[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!hdtoken_mac(key, raw, mac) || !hmac_equal(mac, raw + 10, HDTOKEN_MACLEN))
		return HDTOKEN_FORGED;
	t = (long long)raw[0] << 24 | (long long)raw[1] << 16 | (long long)raw[2] << 8 | raw[3];
	if (t > (long long)now + HDTOKEN_SKEW_S || t + (long long)ttl_s < (long long)now)
		return HDTOKEN_EXPIRED;
	if (created != NULL)
		*created = (time_t)t;
	if (norm != NULL) {
		for (i = 0; i < HDTOKEN_LEN; i++)
			norm[i] = (char)(tok[i] >= 'A' && tok[i] <= 'F' ? tok[i] - 'A' + 'a' : tok[i]);
		norm[HDTOKEN_LEN] = '\0';
	}
	return HDTOKEN_OK;
}

const char *
hdtoken_status_name(enum hdtoken_status st)
{
	switch (st) {
	case HDTOKEN_OK: return "ok";
	case HDTOKEN_MALFORMED: return "malformed";
	case HDTOKEN_FORGED: return "forged";
	case HDTOKEN_EXPIRED: return "expired";
	}
	return "?";
}

const char *
hdtoken_kind_name(enum hdtoken_kind k)
{
	switch (k) {
	case HDTOKEN_DO: return "do";
	case HDTOKEN_DONT: return "dont";
	case HDTOKEN_WRONG: return "wrong";
	case HDTOKEN_NKIND: break;
	}
	return "?";
}

bool
hdtoken_rcpt(const char *zone, const char *rcpt, enum hdtoken_kind *kind,
    const char **local, size_t *local_len)
{
	const char *start = rcpt, *end, *at, *dom;
	size_t zlen = strlen(zone), dlen, plen;
	int k;

	if (rcpt == NULL || zlen == 0)
		return false;
	end = rcpt + strlen(rcpt);
	if (*start == '<') {
		start++;
		if (end > start && end[-1] == '>')
			end--;
	}
	for (at = end; at > start && at[-1] != '@'; at--)
		;
	if (at == start)
		return false;
	dom = at;
	at--;
	dlen = (size_t)(end - dom);
	if (dlen > 0 && dom[dlen - 1] == '.')
		dlen--;
	for (k = 0; k < HDTOKEN_NKIND; k++) {
		const char *pre = hdtoken_kind_name((enum hdtoken_kind)k);

		plen = strlen(pre);
		if (dlen == plen + 1 + zlen && strncasecmp(dom, pre, plen) == 0 &&
		    dom[plen] == '.' && strncasecmp(dom + plen + 1, zone, zlen) == 0) {
			*kind = (enum hdtoken_kind)k;
			*local = start;
			*local_len = (size_t)(at - start);
			return true;
		}
	}
	return false;
}
