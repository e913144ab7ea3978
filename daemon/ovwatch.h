/*
 * ovwatch.h: the overrides file in force (overrides_file,
 * policy/overrides.h), kept in the generation (generation_set_overrides)
 * and re-read when it changes: ivykis inotify on its directory (an editor
 * that writes a new file and renames it is seen too), and on every reload.
 *
 * A file that does not load (a broken line, unreadable) is reported with
 * its file and line and the entries in force stay; a removed file is
 * reported and its entries stay too (an empty file clears them).
 *
 * DIAGNOSTICS
 *	"overrides: read FILE: N entries" (notice) at each load;
 *	"overrides: FILE:LINE: what; the previous entries stay in force" (err).
 *
 * Ownership: the watcher owns its inotify watch and copies the path; the
 * generation is the caller's and outlives it. Engine loop thread only.
 */
#ifndef DM_OVWATCH_H
#define DM_OVWATCH_H

#include "policy/generation.h"

struct ovwatch;

/*
 * Load path ("" = no overrides file) into g and watch it. NULL with a
 * malloc'ed *errp when the file does not load (start-up: the daemon
 * stops).
 */
struct ovwatch *ovwatch_new(struct generation *g, const char *path, char **errp);
/*
 * Re-read for a reload, from path (the new configuration's; it may have
 * changed or become ""): 0, or -1 with a malloc'ed *errp and nothing
 * changed. ovwatch_reload_check() loads without putting in force, so
 * that a reload can be refused whole before anything changes; then
 * ovwatch_reload_commit() puts that load in force.
 */
int ovwatch_reload_check(struct ovwatch *w, const char *path, char **errp);
void ovwatch_reload_commit(struct ovwatch *w);
/* Stop watching; the generation keeps its overrides. NULL is ignored. */
void ovwatch_free(struct ovwatch *w);

#endif
