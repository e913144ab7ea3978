/*
 * ovwatch.c: see ovwatch.h.
 *
 * The watch is on the file's directory, filtered by the file's name:
 * IN_CLOSE_WRITE (written in place) and IN_MOVED_TO (renamed into place)
 * re-read it after OVWATCH_SETTLE_MS, so that a burst of events is one
 * read; IN_DELETE and IN_MOVED_FROM are reported.
 */
#include "ovwatch.h"

#include <iv.h>
#include <iv_inotify.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "policy/overrides.h"

#define OVWATCH_SETTLE_MS       100

struct ovwatch {
	struct generation *ow_g;
	char *ow_path;                  /* "" = none */
	char *ow_dir, *ow_base;
	bool ow_watching;
	struct iv_inotify ow_inotify;
	struct iv_inotify_watch ow_watch;
	struct iv_timer ow_settle;
	char *ow_next_path;             /* ovwatch_reload_check's, for commit */
	struct overrides *ow_next;      /* ... and its load (NULL for "") */
};

static void
ovwatch_put(struct ovwatch *w, struct overrides *ov)
{
	generation_set_overrides(w->ow_g, ov);
	if (ov != NULL)
		log_notice("overrides: read %s: %zu entries", ov->ov_file, ov->ov_n);
}

static void
ovwatch_reread(void *cookie)
{
	struct ovwatch *w = cookie;
	struct overrides *ov;
	char *err = NULL;
	if ((ov = overrides_load(w->ow_path, &err)) == NULL) {
		log_errx("overrides: %s; the previous entries stay in force", err);
		free(err);
		return;
	}
	ovwatch_put(w, ov);
	overrides_unref(ov);
}

static void
ovwatch_event(void *cookie, struct inotify_event *ev)
{
	struct ovwatch *w = cookie;

	log_debug("overrides: inotify event 0x%x on \"%s\"", (unsigned)ev->mask,
	    ev->len > 0 ? ev->name : "");
	if (ev->len == 0 || strcmp(ev->name, w->ow_base) != 0)
		return;
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
		log_warnx("overrides: %s was removed; its entries stay in force (an empty "
		    "file clears them)", w->ow_path);
		return;
	}
	if (iv_timer_registered(&w->ow_settle))
		iv_timer_unregister(&w->ow_settle);
	iv_validate_now();
	w->ow_settle.expires = iv_now;
	deadline_add_ms(&w->ow_settle.expires, OVWATCH_SETTLE_MS);
	iv_timer_register(&w->ow_settle);
}

static void
ovwatch_unwatch(struct ovwatch *w)
{
	if (iv_timer_registered(&w->ow_settle))
		iv_timer_unregister(&w->ow_settle);
	if (w->ow_watching) {
		iv_inotify_watch_unregister(&w->ow_watch);
		iv_inotify_unregister(&w->ow_inotify);
		w->ow_watching = false;
	}
	free(w->ow_dir);
	free(w->ow_base);
	w->ow_dir = w->ow_base = NULL;
}

/* Watch w->ow_path's directory; a failure is logged (the file is still
 * re-read at each reload). */
static void
ovwatch_watch(struct ovwatch *w)
{
	char *a, *b;

	if (*w->ow_path == '\0')
		return;
	a = xstrdup(w->ow_path);
	b = xstrdup(w->ow_path);
	w->ow_dir = xstrdup(dirname(a));
	w->ow_base = xstrdup(basename(b));
	free(a);
	free(b);
	IV_INOTIFY_INIT(&w->ow_inotify);
	if (iv_inotify_register(&w->ow_inotify) != 0) {
		log_warn("overrides: inotify: %s is re-read at reloads only", w->ow_path);
		return;
	}
	IV_INOTIFY_WATCH_INIT(&w->ow_watch);
	w->ow_watch.inotify = &w->ow_inotify;
	w->ow_watch.pathname = w->ow_dir;
	w->ow_watch.mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM;
	w->ow_watch.cookie = w;
	w->ow_watch.handler = ovwatch_event;
	if (iv_inotify_watch_register(&w->ow_watch) != 0) {
		log_warn("overrides: inotify on %s: %s is re-read at reloads only", w->ow_dir,
		    w->ow_path);
		iv_inotify_unregister(&w->ow_inotify);
		return;
	}
	w->ow_watching = true;
}

struct ovwatch *
ovwatch_new(struct generation *g, const char *path, char **errp)
{
	struct ovwatch *w = xcalloc(1, sizeof(*w));
	struct overrides *ov = NULL;

	*errp = NULL;
	if (*path != '\0' && (ov = overrides_load(path, errp)) == NULL) {
		free(w);
		return NULL;
	}
	w->ow_g = g;
	w->ow_path = xstrdup(path);
	IV_TIMER_INIT(&w->ow_settle);
	w->ow_settle.cookie = w;
	w->ow_settle.handler = ovwatch_reread;
	if (ov != NULL) {
		ovwatch_put(w, ov);
		overrides_unref(ov);
	}
	ovwatch_watch(w);
	return w;
}

int
ovwatch_reload_check(struct ovwatch *w, const char *path, char **errp)
{
	*errp = NULL;
	overrides_unref(w->ow_next);
	w->ow_next = NULL;
	free(w->ow_next_path);
	w->ow_next_path = NULL;
	if (*path != '\0' && (w->ow_next = overrides_load(path, errp)) == NULL)
		return -1;
	w->ow_next_path = xstrdup(path);
	return 0;
}

void
ovwatch_reload_commit(struct ovwatch *w)
{
	if (w->ow_next_path == NULL)
		log_abort("ovwatch_reload_commit without a successful check");
	if (strcmp(w->ow_next_path, w->ow_path) != 0) {
		ovwatch_unwatch(w);
		free(w->ow_path);
		w->ow_path = w->ow_next_path;
		ovwatch_watch(w);
	} else {
		free(w->ow_next_path);
	}
	w->ow_next_path = NULL;
	if (w->ow_next != NULL || generation_overrides(w->ow_g) != NULL)
		ovwatch_put(w, w->ow_next);
	overrides_unref(w->ow_next);
	w->ow_next = NULL;
}

void
ovwatch_free(struct ovwatch *w)
{
	if (w == NULL)
		return;
	ovwatch_unwatch(w);
	overrides_unref(w->ow_next);
	free(w->ow_next_path);
	free(w->ow_path);
	free(w);
}
