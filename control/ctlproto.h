/*
 * ctlproto.h: the control socket's protocol (`danemilter ctl`): the pure
 * parser of one request line. No I/O, no allocation; the server
 * (control/ctld.c), the client (cli/ctl.c builds the same lines) and the
 * fuzzer (fuzz/ctl_fuzz.c) share it.
 *
 * REQUEST FORMAT
 *	One line per request: words separated by one space, ended by "\n"
 *	(a "\r" before it is allowed), at most CTLPROTO_REQUEST_MAX bytes
 *	with the line end. Printable ASCII only (0x21..0x7e in words).
 *	    query DOMAIN        the verdict Postfix gets, with its age and TTL
 *	    dump                every cached domain: policy, source, expiry
 *	    dump json           the same as JSON lines
 *	    purge DOMAIN        drop DOMAIN's cached verdict
 *	    purge --all         drop every cached verdict
 *	    reload              reload the configuration (SIGHUP)
 *	    stats               the counters
 *	DOMAIN is at most CTLPROTO_DOMAIN_MAX bytes; the server normalizes it
 *	as every face does (engine_domain_key: IDNA, lower case).
 * REPLY FORMAT
 *	The first line is "ok" or "error: MESSAGE"; the lines after "ok" are
 *	the answer; then the server closes the connection (one request per
 *	connection).
 *
 * Nothing here weakens a policy: purge drops cached verdicts only (MTA-STS
 * policies stay in their store, so a purge never opens a downgrade), and
 * the next ask resolves again.
 */
#ifndef DM_CTLPROTO_H
#define DM_CTLPROTO_H

#include <stddef.h>

#define CTLPROTO_REQUEST_MAX    512     /* a request line with its "\n" */
#define CTLPROTO_DOMAIN_MAX     253

enum ctlproto_cmd {
	CTLPROTO_QUERY,
	CTLPROTO_DUMP,
	CTLPROTO_DUMP_JSON,
	CTLPROTO_PURGE,
	CTLPROTO_PURGE_ALL,
	CTLPROTO_RELOAD,
	CTLPROTO_STATS
};

struct ctlproto_req {
	enum ctlproto_cmd cr_cmd;
	char cr_arg[CTLPROTO_DOMAIN_MAX + 1];   /* DOMAIN (query, purge), else "" */
};

enum ctlproto_status {
	CTLPROTO_OK,            /* *out filled */
	CTLPROTO_ERR_EMPTY,     /* an empty line */
	CTLPROTO_ERR_LONG,      /* longer than CTLPROTO_REQUEST_MAX, or DOMAIN too long */
	CTLPROTO_ERR_BYTES,     /* a control character, a non-ASCII byte, or two spaces */
	CTLPROTO_ERR_COMMAND,   /* not one of the commands */
	CTLPROTO_ERR_ARGS       /* a command with the wrong arguments */
};

/*
 * Parse line[0..len): one request, with or without its "\n" (or "\r\n").
 * Returns CTLPROTO_OK with *out filled, or the problem (*out is then
 * unspecified). A "\n" inside the line is CTLPROTO_ERR_BYTES.
 */
enum ctlproto_status ctlproto_parse(const char *line, size_t len, struct ctlproto_req *out);

/* A message for an error status, for the "error: " reply line. */
const char *ctlproto_status_text(enum ctlproto_status st);

#endif
