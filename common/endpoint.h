/*
 * endpoint.h: listening stream sockets from the endpoint strings of the
 * configuration: "inet:HOST:PORT" (HOST an IPv4 address, [IPv6], a name,
 * or empty / "*" for every address) and "unix:/path".
 *
 * Shared by every listener of the daemon (the socketmap policy server,
 * the metrics endpoint), so that they accept the same syntax and report
 * the same errors. Sockets are non-blocking and close-on-exec, inet ones
 * with SO_REUSEADDR (IPv6 ones IPV6_V6ONLY); a name is resolved now and
 * each of its addresses bound (the endpoint fails only when none can be).
 * A stale unix socket file is replaced; a live one (something accepts on
 * it) or any other file is an error; a new one is born owner-only and then
 * given unix_mode.
 *
 * Ownership: the caller owns the struct endpoint_fd entries it receives
 * and releases each with endpoint_close(), which closes the socket and
 * removes the unix socket file if it is still the one created here.
 * Messages (*errp, warnings) start with "WHAT: ENDPOINT: ".
 */
#ifndef DM_ENDPOINT_H
#define DM_ENDPOINT_H

#include <stddef.h>
#include <sys/types.h>

struct endpoint_fd {
	int ef_fd;              /* listening, non-blocking */
	char *ef_path;          /* unix: the socket file created; NULL for inet */
	dev_t ef_dev;           /* ... identified, so that only ours is removed */
	ino_t ef_ino;
};

/*
 * Listen on ep. Appends one entry per bound socket to *fds (grown with
 * realloc; *nfds counts them) and returns how many were added (>= 1), or
 * -1 with a malloc'ed *errp naming what and ep (nothing added then).
 */
int endpoint_listen(const char *what, const char *ep, unsigned unix_mode,
    struct endpoint_fd **fds, size_t *nfds, char **errp);

/* Close the socket, remove its unix socket file if it is still ours. */
void endpoint_close(struct endpoint_fd *ef);

#endif
