/*
 * endpoint_test.c: endpoint_parse() (common/endpoint.c), table driven:
 * the listeners' "inet:HOST:PORT" / "unix:PATH", Postfix's form (with
 * "local:" and five-digit ports) and libmilter's "inet:PORT@HOST" /
 * "inet6:PORT@HOST", good and bad, with and without the flags; each row
 * says the status and, for ENDPOINT_OK, the kind, host, port and path.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/endpoint.h"
#include "tests/tap.h"

#define L       ENDPOINT_LISTEN
#define P       ENDPOINT_POSTFIX
#define M       ENDPOINT_MILTER
#define F_HOST  ENDPOINT_F_HOST
#define F_ABS   ENDPOINT_F_ABSOLUTE
#define F_LOOSE ENDPOINT_F_LOOSE
/* As the configuration's checks call it (config/). */
#define F_CFG_LISTEN    (F_HOST | F_ABS | F_LOOSE)
#define F_CFG_MILTER    (F_ABS | F_LOOSE)

#define OK      ENDPOINT_OK
#define SCHEME  ENDPOINT_ERR_SCHEME
#define FORM    ENDPOINT_ERR_FORM
#define HOST    ENDPOINT_ERR_HOST
#define PORT    ENDPOINT_ERR_PORT
#define PATH    ENDPOINT_ERR_PATH

#define INET    ENDPOINT_INET
#define INET6   ENDPOINT_INET6
#define UNIX    ENDPOINT_UNIX

struct parse_case {
	const char *in;
	enum endpoint_syntax syn;
	unsigned flags;
	enum endpoint_status want;
	enum endpoint_kind kind;        /* for OK */
	const char *host;               /* inet, for OK */
	unsigned port;
	const char *path;               /* unix, for OK */
	const char *desc;
};

static const struct parse_case cases[] = {
	/* ---- ENDPOINT_LISTEN ---- */
	{ "inet:127.0.0.1:8642", L, 0, OK, INET, "127.0.0.1", 8642, NULL, "listen: IPv4" },
	{ "inet:localhost:25", L, 0, OK, INET, "localhost", 25, NULL, "listen: a name" },
	{ "inet:LocalHost:25", L, 0, OK, INET, "LocalHost", 25, NULL, "listen: case kept" },
	{ "inet::25", L, 0, OK, INET, "", 25, NULL, "listen: empty host (every address)" },
	{ "inet:*:25", L, 0, OK, INET, "*", 25, NULL, "listen: \"*\"" },
	{ "inet:[::1]:8642", L, 0, OK, INET6, "::1", 8642, NULL, "listen: [IPv6]" },
	{ "inet:[::]:1", L, 0, OK, INET6, "::", 1, NULL, "listen: [::], port 1" },
	{ "inet:[]:25", L, 0, OK, INET6, "", 25, NULL, "listen: empty brackets" },
	{ "inet:[[::1]:25", L, 0, OK, INET6, "[::1", 25, NULL, "listen: '[' inside brackets is not looked at" },
	{ "inet:a]b:25", L, 0, OK, INET, "a]b", 25, NULL, "listen: ']' in an unbracketed host is not looked at" },
	{ "inet:h:65535", L, 0, OK, INET, "h", 65535, NULL, "listen: port 65535" },
	{ "inet:h:000025", L, 0, OK, INET, "h", 25, NULL, "listen: leading zeros" },
	{ "unix:/run/dm.sock", L, 0, OK, UNIX, NULL, 0, "/run/dm.sock", "listen: unix" },
	{ "unix:dm.sock", L, 0, OK, UNIX, NULL, 0, "dm.sock", "listen: relative unix path" },
	{ "unix:", L, 0, PATH, 0, NULL, 0, NULL, "listen: empty unix path" },
	{ "local:/run/dm.sock", L, 0, SCHEME, 0, NULL, 0, NULL, "listen: no local:" },
	{ "inet6:25@::1", L, 0, SCHEME, 0, NULL, 0, NULL, "listen: no inet6:" },
	{ "tcp:127.0.0.1:1", L, 0, SCHEME, 0, NULL, 0, NULL, "listen: unknown type" },
	{ "", L, 0, SCHEME, 0, NULL, 0, NULL, "listen: empty" },
	{ "INET:h:25", L, 0, SCHEME, 0, NULL, 0, NULL, "listen: the prefix is lower case" },
	{ "inet:127.0.0.1", L, 0, FORM, 0, NULL, 0, NULL, "listen: no port" },
	{ "inet:", L, 0, FORM, 0, NULL, 0, NULL, "listen: nothing" },
	{ "inet:::1:25", L, 0, HOST, 0, NULL, 0, NULL, "listen: IPv6 without brackets" },
	{ "inet:[::1:25", L, 0, HOST, 0, NULL, 0, NULL, "listen: unclosed bracket" },
	{ "inet:[::1]x:25", L, 0, HOST, 0, NULL, 0, NULL, "listen: text after the bracket" },
	{ "inet:[a]b]:25", L, 0, HOST, 0, NULL, 0, NULL, "listen: two ']'" },
	{ "inet:[:25", L, 0, HOST, 0, NULL, 0, NULL, "listen: '[' alone" },
	{ "inet::25", L, F_HOST, HOST, 0, NULL, 0, NULL, "listen, F_HOST: empty host" },
	{ "inet:[]:25", L, F_HOST, OK, INET6, "", 25, NULL, "listen, F_HOST: \"[]\" is a host" },
	{ "inet:127.0.0.1:0", L, 0, PORT, 0, NULL, 0, NULL, "listen: port 0" },
	{ "inet:127.0.0.1:65536", L, 0, PORT, 0, NULL, 0, NULL, "listen: port 65536" },
	{ "inet:[::1]:99999", L, 0, PORT, 0, NULL, 0, NULL, "listen: port 99999" },
	{ "inet:h:99999999999999999999", L, 0, PORT, 0, NULL, 0, NULL, "listen: huge port" },
	{ "inet:127.0.0.1:25x", L, 0, PORT, 0, NULL, 0, NULL, "listen: port with a letter" },
	{ "inet:h: 25", L, 0, PORT, 0, NULL, 0, NULL, "listen: blank before the port" },
	{ "inet:h:+25", L, 0, PORT, 0, NULL, 0, NULL, "listen: sign" },
	{ "inet:h:", L, 0, PORT, 0, NULL, 0, NULL, "listen: empty port" },
	{ "inet:[::1]", L, 0, HOST, 0, NULL, 0, NULL, "listen: [IPv6] without port" },
	{ "unix:dm.sock", L, F_ABS, PATH, 0, NULL, 0, NULL, "listen, F_ABSOLUTE: relative path" },

	/* ENDPOINT_F_LOOSE: the configuration's shape check */
	{ "inet:127.0.0.1:8642", L, F_CFG_LISTEN, OK, INET, "127.0.0.1", 8642, NULL, "cfg listen: IPv4" },
	{ "inet:[::1]:8642", L, F_CFG_LISTEN, OK, INET, "[::1]", 8642, NULL, "cfg listen: brackets kept" },
	{ "inet:::1:25", L, F_CFG_LISTEN, OK, INET, "::1", 25, NULL, "cfg listen: host not examined" },
	{ "inet:h: 25", L, F_CFG_LISTEN, OK, INET, "h", 25, NULL, "cfg listen: port as strtol reads it" },
	{ "inet:h:+25", L, F_CFG_LISTEN, OK, INET, "h", 25, NULL, "cfg listen: port with a sign" },
	{ "inet:[]:25", L, F_CFG_LISTEN, OK, INET, "[]", 25, NULL, "cfg listen: \"[]\"" },
	{ "inet::25", L, F_CFG_LISTEN, HOST, 0, NULL, 0, NULL, "cfg listen: empty host" },
	{ "inet::x", L, F_CFG_LISTEN, HOST, 0, NULL, 0, NULL, "cfg listen: empty host before a bad port" },
	{ "inet:127.0.0.1", L, F_CFG_LISTEN, FORM, 0, NULL, 0, NULL, "cfg listen: no port" },
	{ "inet:h:-25", L, F_CFG_LISTEN, PORT, 0, NULL, 0, NULL, "cfg listen: negative port" },
	{ "inet:h:25 ", L, F_CFG_LISTEN, PORT, 0, NULL, 0, NULL, "cfg listen: blank after the port" },
	{ "inet:h:99999999999999999999", L, F_CFG_LISTEN, PORT, 0, NULL, 0, NULL, "cfg listen: huge port" },
	{ "unix:sock", L, F_CFG_LISTEN, PATH, 0, NULL, 0, NULL, "cfg listen: relative path" },
	{ "unix:/run/dm.sock", L, F_CFG_LISTEN, OK, UNIX, NULL, 0, "/run/dm.sock", "cfg listen: unix" },

	/* ---- ENDPOINT_POSTFIX ---- */
	{ "inet:127.0.0.1:8642", P, 0, OK, INET, "127.0.0.1", 8642, NULL, "postfix: IPv4" },
	{ "inet:[::1]:8642", P, 0, OK, INET6, "::1", 8642, NULL, "postfix: [IPv6]" },
	{ "inet:h:00025", P, 0, OK, INET, "h", 25, NULL, "postfix: five digits" },
	{ "inet:h:000025", P, 0, PORT, 0, NULL, 0, NULL, "postfix: six digits" },
	{ "inet:h:smtp", P, 0, PORT, 0, NULL, 0, NULL, "postfix: a service name" },
	{ "unix:/var/spool/postfix/dm", P, 0, OK, UNIX, NULL, 0, "/var/spool/postfix/dm", "postfix: unix" },
	{ "local:/run/dm", P, 0, OK, UNIX, NULL, 0, "/run/dm", "postfix: local" },
	{ "local:private/dm", P, 0, OK, UNIX, NULL, 0, "private/dm", "postfix: relative local" },
	{ "local:private/dm", P, F_ABS, PATH, 0, NULL, 0, NULL, "postfix, F_ABSOLUTE: relative local" },
	{ "local:", P, 0, PATH, 0, NULL, 0, NULL, "postfix: empty local path" },
	{ "inet6:25@::1", P, 0, SCHEME, 0, NULL, 0, NULL, "postfix: no inet6:" },
	{ "inet:::1:25", P, 0, HOST, 0, NULL, 0, NULL, "postfix: IPv6 without brackets" },

	/* ---- ENDPOINT_MILTER ---- */
	{ "inet:8895@127.0.0.1", M, 0, OK, INET, "127.0.0.1", 8895, NULL, "milter: inet" },
	{ "inet:8895@LocalHost", M, 0, OK, INET, "LocalHost", 8895, NULL, "milter: a name, case kept" },
	{ "inet:8895", M, 0, OK, INET, "", 8895, NULL, "milter: no host" },
	{ "inet6:8895@::1", M, 0, OK, INET6, "::1", 8895, NULL, "milter: inet6" },
	{ "inet6:8895", M, 0, OK, INET6, "", 8895, NULL, "milter: inet6 without host" },
	{ "inet:8895@[127.0.0.1]", M, 0, OK, INET, "[127.0.0.1]", 8895, NULL, "milter: host as written" },
	{ "inet: 25@h", M, 0, OK, INET, "h", 25, NULL, "milter: port as strtol reads it" },
	{ "inet:+25@h", M, 0, OK, INET, "h", 25, NULL, "milter: port with a sign" },
	{ "inet:0025@h", M, 0, OK, INET, "h", 25, NULL, "milter: leading zeros" },
	{ "unix:/run/dm/milter", M, 0, OK, UNIX, NULL, 0, "/run/dm/milter", "milter: unix" },
	{ "local:/run/dm/milter", M, 0, OK, UNIX, NULL, 0, "/run/dm/milter", "milter: local" },
	{ "unix:m.sock", M, F_ABS, PATH, 0, NULL, 0, NULL, "milter, F_ABSOLUTE: relative path" },
	{ "inet:8895", M, F_HOST, HOST, 0, NULL, 0, NULL, "milter, F_HOST: no host" },
	{ "inet:127.0.0.1:8895", M, 0, FORM, 0, NULL, 0, NULL, "milter: Postfix's form" },
	{ "inet:70000@127.0.0.1", M, 0, PORT, 0, NULL, 0, NULL, "milter: port 70000" },
	{ "inet:0@127.0.0.1", M, 0, PORT, 0, NULL, 0, NULL, "milter: port 0" },
	{ "inet:-25@h", M, 0, PORT, 0, NULL, 0, NULL, "milter: negative port" },
	{ "inet:@h", M, 0, PORT, 0, NULL, 0, NULL, "milter: no port" },
	{ "inet:99999999999999999999@h", M, 0, PORT, 0, NULL, 0, NULL, "milter: huge port" },
	{ "inet:25x@h", M, 0, FORM, 0, NULL, 0, NULL, "milter: a letter after the port" },
	{ "inet:25 @h", M, 0, FORM, 0, NULL, 0, NULL, "milter: blank after the port" },
	{ "inet:25@", M, 0, HOST, 0, NULL, 0, NULL, "milter: '@' without host" },
	{ "inet:25@", M, F_LOOSE, HOST, 0, NULL, 0, NULL, "milter, F_LOOSE: '@' without host" },
	{ "unix:", M, 0, PATH, 0, NULL, 0, NULL, "milter: empty path" },
	{ "tcp:25@h", M, 0, SCHEME, 0, NULL, 0, NULL, "milter: unknown type" },
	{ "inet6 :25@h", M, 0, SCHEME, 0, NULL, 0, NULL, "milter: blank in the prefix" },
	{ "", M, 0, SCHEME, 0, NULL, 0, NULL, "milter: empty" },
	{ "inet:25@h", M, F_CFG_MILTER, OK, INET, "h", 25, NULL, "cfg milter: inet" },
	{ "local:m.sock", M, F_CFG_MILTER, PATH, 0, NULL, 0, NULL, "cfg milter: relative local" },
};

static const char *
kind_text(enum endpoint_kind k)
{
	return k == ENDPOINT_INET ? "inet" : k == ENDPOINT_INET6 ? "inet6" : "unix";
}

static void
check_case(const struct parse_case *c)
{
	struct endpoint ep;
	enum endpoint_status st;

	st = endpoint_parse(c->in, c->syn, c->flags, &ep);
	if (!tap_ok(st == c->want, "%s: status", c->desc)) {
		printf("# got %s, want %s (\"%s\")\n", endpoint_status_text(st),
		    endpoint_status_text(c->want), c->in);
		return;
	}
	if (st != ENDPOINT_OK)
		return;
	if (!tap_ok(ep.ep_kind == c->kind, "%s: kind", c->desc))
		printf("# got %s, want %s\n", kind_text(ep.ep_kind), kind_text(c->kind));
	if (c->kind == ENDPOINT_UNIX) {
		tap_is_str(ep.ep_path, c->path, c->desc);
		return;
	}
	tap_is_str(ep.ep_host, c->host, c->desc);
	tap_is_long((long)ep.ep_port, (long)c->port, c->desc);
}

/* "PREFIX" + n times c + "SUFFIX" into buf (room for 600 bytes). */
static const char *
repeat(char *buf, const char *prefix, char c, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix);

	memcpy(buf, prefix, pl);
	memset(buf + pl, c, n);
	strcpy(buf + pl + n, suffix);
	return buf;
}

/* One parse of a generated input: status, and the length of ep_host or
 * ep_path for ENDPOINT_OK. */
static void
check_long(const char *in, enum endpoint_syntax syn, unsigned flags,
    enum endpoint_status want, size_t want_len, const char *desc)
{
	struct endpoint ep;
	enum endpoint_status st = endpoint_parse(in, syn, flags, &ep);
	size_t len;

	if (!tap_ok(st == want, "%s: status", desc)) {
		printf("# got %s, want %s\n", endpoint_status_text(st), endpoint_status_text(want));
		return;
	}
	if (st != ENDPOINT_OK)
		return;
	len = strlen(ep.ep_kind == ENDPOINT_UNIX ? ep.ep_path : ep.ep_host);
	if (!tap_ok(len == want_len, "%s: length", desc))
		printf("# got %zu, want %zu\n", len, want_len);
}

int
main(void)
{
	char buf[600];
	struct endpoint ep;
	int e;
	size_t i;

	tap_watchdog(10);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);

	/* PATH: at most ENDPOINT_PATH_MAX - 1 (107) bytes, in every syntax. */
	check_long(repeat(buf, "unix:/", 'p', 106, ""), L, 0, OK, 107, "listen: path of 107 bytes");
	check_long(repeat(buf, "unix:/", 'p', 107, ""), L, 0, PATH, 0, "listen: path of 108 bytes");
	check_long(repeat(buf, "local:/", 'p', 106, ""), P, 0, OK, 107, "postfix: path of 107 bytes");
	check_long(repeat(buf, "local:/", 'p', 107, ""), P, 0, PATH, 0, "postfix: path of 108 bytes");
	check_long(repeat(buf, "unix:/", 'p', 106, ""), M, F_CFG_MILTER, OK, 107,
	    "cfg milter: path of 107 bytes");
	check_long(repeat(buf, "unix:/", 'p', 107, ""), M, F_CFG_MILTER, PATH, 0,
	    "cfg milter: path of 108 bytes");

	/* HOST: at most ENDPOINT_HOST_MAX - 1 (255) bytes, unless F_LOOSE. */
	check_long(repeat(buf, "inet:", 'h', 255, ":25"), L, 0, OK, 255, "listen: host of 255 bytes");
	check_long(repeat(buf, "inet:", 'h', 256, ":25"), L, 0, HOST, 0, "listen: host of 256 bytes");
	check_long(repeat(buf, "inet:[", 'h', 255, "]:25"), L, 0, OK, 255,
	    "listen: [host] of 255 bytes");
	check_long(repeat(buf, "inet:", 'h', 300, ":25"), L, F_CFG_LISTEN, OK, 255,
	    "cfg listen: host of 300 bytes, cut to fit");
	check_long(repeat(buf, "inet:25@", 'h', 255, ""), M, 0, OK, 255, "milter: host of 255 bytes");
	check_long(repeat(buf, "inet:25@", 'h', 256, ""), M, 0, HOST, 0, "milter: host of 256 bytes");
	check_long(repeat(buf, "inet:25@", 'h', 300, ""), M, F_CFG_MILTER, OK, 255,
	    "cfg milter: host of 300 bytes, cut to fit");

	/* errno is left alone, even by a port strtol(3) finds out of range. */
	errno = 4242;
	(void)endpoint_parse("inet:99999999999999999999@h", M, 0, &ep);
	e = errno;
	tap_is_long(e, 4242, "errno is left as it was");

	tap_is_str(endpoint_status_text(ENDPOINT_OK), "ok", "status text: ok");
	tap_is_str(endpoint_status_text(ENDPOINT_ERR_PORT), "bad port", "status text: bad port");
	return tap_done();
}
