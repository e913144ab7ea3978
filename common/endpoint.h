/*
 * endpoint.h: the one parser of endpoint strings, and listening stream
 * sockets opened from them.
 *
 * endpoint_parse() reads the three forms in use, named by enum
 * endpoint_syntax: danemilter's listeners ("inet:HOST:PORT", HOST an IPv4
 * address, [IPv6], a name, or empty / "*" for every address; "unix:PATH"),
 * Postfix's clients (the same, and "local:PATH") and libmilter's sockets
 * ("inet:PORT@HOST", "inet6:PORT@HOST", "unix:PATH", "local:PATH"). It is
 * pure: no resolving, no allocation, no file system. The configuration's
 * checks (config/), `danemilter doctor` (cli/), the milter's wake-up
 * connection (milter/) and endpoint_listen() all read endpoints with it.
 *
 * endpoint_listen() opens the listening sockets of an endpoint of the
 * listeners' form; it is shared by every listener of the daemon (the
 * socketmap policy server, the metrics endpoint), so that they accept the
 * same syntax and report the same errors. Sockets are non-blocking and
 * close-on-exec, inet ones with SO_REUSEADDR (IPv6 ones IPV6_V6ONLY); a
 * name is resolved now and each of its addresses bound (the endpoint fails
 * only when none can be). A stale unix socket file is replaced; a live one
 * (something accepts on it) or any other file is an error; a new one is
 * born owner-only and then given unix_mode.
 *
 * Ownership: a struct endpoint holds copies (no pointer into the string).
 * The caller owns the struct endpoint_fd entries it receives and releases
 * each with endpoint_close(), which closes the socket and removes the unix
 * socket file if it is still the one created here. Messages of
 * endpoint_listen() (*errp, warnings) start with "WHAT: ENDPOINT: ".
 */
#ifndef DM_ENDPOINT_H
#define DM_ENDPOINT_H

#include <stddef.h>
#include <sys/types.h>

/* Room for a unix socket path and its NUL: sizeof(sun_path) on Linux. */
#define ENDPOINT_PATH_MAX       108
/* Room for a host and its NUL. */
#define ENDPOINT_HOST_MAX       256

/*
 * The forms. PORT is a number from 1 to 65535, PATH a non-empty string
 * shorter than ENDPOINT_PATH_MAX bytes, HOST shorter than
 * ENDPOINT_HOST_MAX bytes.
 *
 * ENDPOINT_LISTEN: danemilter's listeners (socketmap.listen,
 *	metrics.listen). "inet:HOST:PORT" split at the last ':': HOST is
 *	empty, a name or an IPv4 address without ':', or "[IPV6]" (brackets
 *	around anything but ']'); PORT is decimal digits only. "unix:PATH".
 * ENDPOINT_POSTFIX: Postfix's client endpoints (smtp_tls_policy_maps'
 *	socketmap:, smtpd_milters): as ENDPOINT_LISTEN with PORT at most
 *	five digits, and "local:PATH" as another name of "unix:PATH".
 * ENDPOINT_MILTER: libmilter's sockets (milter.socket). "inet:PORT",
 *	"inet:PORT@HOST", "inet6:PORT", "inet6:PORT@HOST" with PORT as
 *	strtol(3) reads it (leading blanks and a sign allowed) and HOST,
 *	when '@' is there, not empty and taken as written; "unix:PATH",
 *	"local:PATH".
 */
enum endpoint_syntax {
	ENDPOINT_LISTEN,
	ENDPOINT_POSTFIX,
	ENDPOINT_MILTER
};

/* Flags of endpoint_parse(), or-ed. */
#define ENDPOINT_F_HOST         0x1     /* inet: HOST must not be empty ("[]" is not) */
#define ENDPOINT_F_ABSOLUTE     0x2     /* unix: PATH must start with '/' */
/*
 * Check the shape only, as the configuration's checks always have: HOST
 * is not examined (its length, brackets or ':'; ep_host keeps it as
 * written, brackets and all, cut to fit) and an ENDPOINT_LISTEN or
 * ENDPOINT_POSTFIX PORT may be written as strtol(3) reads it. What passes
 * may still fail the same parse without it, as endpoint_listen() does.
 */
#define ENDPOINT_F_LOOSE        0x4

enum endpoint_kind {
	ENDPOINT_INET,          /* "inet:": ENDPOINT_MILTER IPv4; else IPv4 or a name */
	ENDPOINT_INET6,         /* "inet6:", or a bracketed "[IPV6]" HOST */
	ENDPOINT_UNIX           /* "unix:" or "local:" */
};

struct endpoint {
	enum endpoint_kind ep_kind;
	char ep_host[ENDPOINT_HOST_MAX];        /* inet: without brackets, as written;
	                                           "" when none (every address, or
	                                           libmilter's default) */
	unsigned ep_port;                       /* inet: 1..65535 */
	char ep_path[ENDPOINT_PATH_MAX];        /* unix: as written */
};

enum endpoint_status {
	ENDPOINT_OK,            /* *out filled */
	ENDPOINT_ERR_SCHEME,    /* no prefix this syntax knows ("tcp:", "inet6:" to a listener) */
	ENDPOINT_ERR_FORM,      /* no ":PORT" (LISTEN, POSTFIX), or not '@' after PORT (MILTER) */
	ENDPOINT_ERR_HOST,      /* HOST empty where it must not be, malformed or too long */
	ENDPOINT_ERR_PORT,      /* PORT not a number from 1 to 65535 in the syntax's form */
	ENDPOINT_ERR_PATH       /* PATH empty, too long, or relative with ENDPOINT_F_ABSOLUTE */
};

/*
 * Parse spec in syntax syn with flags (ENDPOINT_F_*). Returns ENDPOINT_OK
 * with *out filled, or the first problem found, reading left to right
 * (*out is then unspecified). errno is left as it was.
 */
enum endpoint_status endpoint_parse(const char *spec, enum endpoint_syntax syn,
    unsigned flags, struct endpoint *out);

/*
 * A Redis server (cache.shared): "redis://HOST:PORT" or
 * "redis://HOST:PORT/DB" (HOST not empty: a name, an IPv4 address or
 * "[IPV6]"; DB decimal, 0 to 1000000; 0 when left out) or "unix:/PATH"
 * (absolute; DB 0). ENDPOINT_OK with *out and *db filled; a bad DB is
 * ENDPOINT_ERR_FORM; otherwise as endpoint_parse().
 */
enum endpoint_status endpoint_parse_redis(const char *spec, struct endpoint *out, unsigned *db);

/* "ok", "unknown type", ... for messages and tests. */
const char *endpoint_status_text(enum endpoint_status st);

struct endpoint_fd {
	int ef_fd;              /* listening, non-blocking */
	char *ef_path;          /* unix: the socket file created; NULL for inet */
	dev_t ef_dev;           /* ... identified, so that only ours is removed */
	ino_t ef_ino;
};

/*
 * Listen on ep (ENDPOINT_LISTEN, relative unix paths allowed). Appends one
 * entry per bound socket to *fds (grown with realloc; *nfds counts them)
 * and returns how many were added (>= 1), or -1 with a malloc'ed *errp
 * naming what and ep (nothing added then).
 */
int endpoint_listen(const char *what, const char *ep, unsigned unix_mode,
    struct endpoint_fd **fds, size_t *nfds, char **errp);

/* Close the socket, remove its unix socket file if it is still ours. */
void endpoint_close(struct endpoint_fd *ef);

#endif
