/*
 * activation.h: sockets passed by systemd (socket activation,
 * sd_listen_fds_with_names(3)): $LISTEN_FDS descriptors from fd 3 on, each
 * named by its FileDescriptorName= in $LISTEN_FDNAMES.
 *
 * The daemon matches them to its faces by name: "socketmap" (any number:
 * they replace socketmap.listen), "milter", "metrics", "control" (one
 * each: they replace milter.socket, metrics.listen, control.socket). A
 * face with no socket passed binds its configured ones as it always did.
 *
 * Ownership: a taken descriptor belongs to the taker. activation_free()
 * closes the ones nobody took (with a warning naming each) and frees the
 * rest of the struct. Main thread, before the listeners open.
 */
#ifndef DM_ACTIVATION_H
#define DM_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>

#define ACTIVATION_NAME_MAX     256     /* FileDescriptorName= is at most 255 bytes */

struct activation {
	int *ac_fds;
	char **ac_names;
	bool *ac_taken;
	size_t ac_n;
};

/*
 * Read (and unset) $LISTEN_FDS, $LISTEN_PID and $LISTEN_FDNAMES. 0 with
 * *a filled (ac_n == 0 when nothing was passed), or -1 with a malloc'ed
 * *errp.
 */
int activation_load(struct activation *a, char **errp);
/* The next descriptor named name nobody took yet (now taken), or -1. */
int activation_take(struct activation *a, const char *name);
/* Close what nobody took (logging each) and free. */
void activation_free(struct activation *a);

#endif
