/*
 * activation.c: see activation.h.
 */
#include "activation.h"

#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"

int
activation_load(struct activation *a, char **errp)
{
	char **names = NULL;
	size_t i;
	int n;

	memset(a, 0, sizeof(*a));
	*errp = NULL;
	n = sd_listen_fds_with_names(1, &names);
	if (n < 0) {
		*errp = xasprintf("socket activation: $LISTEN_FDS: %s", strerror(-n));
		return -1;
	}
	if (n == 0) {
		if (names != NULL) {
			for (i = 0; names[i] != NULL; i++)
				free(names[i]);
			free(names);
		}
		return 0;
	}
	a->ac_n = (size_t)n;
	a->ac_fds = xcalloc(a->ac_n, sizeof(*a->ac_fds));
	a->ac_names = xcalloc(a->ac_n, sizeof(*a->ac_names));
	a->ac_taken = xcalloc(a->ac_n, sizeof(*a->ac_taken));
	for (i = 0; i < a->ac_n; i++) {
		a->ac_fds[i] = SD_LISTEN_FDS_START + (int)i;
		/* sd_listen_fds_with_names() names every one ("unknown" by default) */
		a->ac_names[i] = xstrdup(names != NULL && names[i] != NULL ? names[i] : "unknown");
	}
	if (names != NULL) {
		for (i = 0; names[i] != NULL; i++)
			free(names[i]);
		free(names);
	}
	return 0;
}

int
activation_take(struct activation *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->ac_n; i++) {
		if (!a->ac_taken[i] && strcmp(a->ac_names[i], name) == 0) {
			a->ac_taken[i] = true;
			return a->ac_fds[i];
		}
	}
	return -1;
}

void
activation_free(struct activation *a)
{
	size_t i;

	for (i = 0; i < a->ac_n; i++) {
		if (!a->ac_taken[i]) {
			log_warnx("socket activation: fd %d named \"%s\" matches no face "
			    "(socketmap, milter, metrics, control): closed", a->ac_fds[i],
			    a->ac_names[i]);
			close(a->ac_fds[i]);
		}
		free(a->ac_names[i]);
	}
	free(a->ac_fds);
	free(a->ac_names);
	free(a->ac_taken);
	memset(a, 0, sizeof(*a));
}
