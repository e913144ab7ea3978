/*
 * addr.c: see addr.h.
 *
 * One pass over the address, keeping whether it is inside a quoted
 * string: a backslash there takes the next byte as it is (quoted-pair),
 * a '"' ends it. Outside quotes the last '@' is remembered; in a path the
 * first '>' ends the path and must be its last byte. The domain is what
 * follows that '@', checked and normalized by engine_domain_key(), the
 * one host-name rule of the engine, so a domain the milter looks up is a
 * key the cache and the socketmap would use too.
 */
#include "addr.h"

#include <stdbool.h>
#include <string.h>

#include "policy/engine.h"

/* Skip a source route "@a,@b:" at *pp (RFC 5321 A-d-l): false when it
 * does not end in ':' before anything a route cannot hold. */
static bool
addr_skip_route(const char **pp)
{
	const char *p = *pp;

	for (; *p != '\0'; p++) {
		if (*p == ':') {
			*pp = p + 1;
			return true;
		}
		if (*p == '"' || *p == '\\' || *p == '<' || *p == '>' ||
		    (unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	}
	return false;
}

/* "invalid" or a name under it (RFC 6761 §6.4). */
static bool
addr_special_invalid(const char *key)
{
	size_t n = strlen(key);

	return strcmp(key, "invalid") == 0 ||
	    (n > 8 && strcmp(key + n - 8, ".invalid") == 0);
}

enum addr_status
addr_domain(const char *addr, char *buf, size_t len)
{
	const char *p, *at = NULL, *end = NULL;
	char dom[256], key[256];
	bool path, quoted = false;
	size_t n;

	if (addr == NULL)
		return ADDR_INVALID;
	p = addr;
	if ((path = *p == '<'))
		p++;
	if ((path && strcmp(p, ">") == 0) || (!path && *p == '\0'))
		return ADDR_NULL;
	if (*p == '@' && !addr_skip_route(&p))
		return ADDR_INVALID;
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < ' ' || c == 0x7f)
			return ADDR_INVALID;
		if (quoted) {
			if (c == '\\') {
				c = (unsigned char)*++p;
				if (c < ' ' || c == 0x7f)
					return ADDR_INVALID;
			} else if (c == '"') {
				quoted = false;
			}
			continue;
		}
		if (c == '"') {
			quoted = true;
		} else if (c == '\\') {
			return ADDR_INVALID;
		} else if (c == '@') {
			at = p;
		} else if (path && c == '>') {
			end = p;
			break;
		} else if (path && (c == ' ' || c == '<')) {
			return ADDR_INVALID;
		}
	}
	if (quoted)
		return ADDR_INVALID;
	if (path) {
		if (end == NULL || end[1] != '\0')
			return ADDR_INVALID;
	} else {
		end = p;
	}
	if (at == NULL)
		return ADDR_INVALID;
	n = (size_t)(end - (at + 1));
	if (n == 0 || n >= sizeof(dom) || at[1] == '[')
		return ADDR_INVALID;
	memcpy(dom, at + 1, n);
	dom[n] = '\0';
	if (engine_domain_key(dom, key, sizeof(key)) == NULL || addr_special_invalid(key) ||
	    strlen(key) >= len)
		return ADDR_INVALID;
	memcpy(buf, key, strlen(key) + 1);
	return ADDR_DOMAIN;
}

const char *
addr_status_name(enum addr_status st)
{
	switch (st) {
	case ADDR_DOMAIN:
		return "domain";
	case ADDR_NULL:
		return "null";
	case ADDR_INVALID:
		return "invalid";
	}
	return "invalid";
}
