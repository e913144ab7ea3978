/*
 * filter_private.h: what the two halves of filter.h share, and nothing
 * else includes: milter/filter.c (the libmilter callbacks and the
 * per-connection state), milter/fmsg.c (the per-message state) and
 * milter/lifecycle.c (open, run, reload, drain, stop, the counters).
 *
 * filter_shared is defined and owned by lifecycle.c: filter_open() sets
 * fs_gate and fs_hostname on the engine thread before the milter thread
 * starts (read-only afterwards); the callbacks keep fs_conns (atomic) and
 * read fs_draining (atomic, set by filter_drain() on any thread). The gate
 * belongs to the daemon (filter.h). Messages are counted by milter/fmsg.c.
 */
#ifndef DM_FILTER_PRIVATE_H
#define DM_FILTER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/gate.h"
#include "config/cfg.h"
#include "milter/mfi.h"

struct filter_shared {
	struct gate *fs_gate;           /* the asks go through it */
	char fs_hostname[256];          /* authserv-id without authserv_id and j */
	int fs_conns;                   /* atomic: open connections */
	bool fs_draining;               /* atomic: shutting down, finish open messages only */
	struct havedane *fs_havedane;   /* atomic: the HaveDane service, or NULL (the daemon's) */
};

extern struct filter_shared filter_shared;

/* filter.c: the callbacks and the actions they use, for mfi_register(). */
extern const struct smfiDesc filter_desc;

/* lifecycle.c, any thread: a new reference on the configuration a new
 * connection starts with (cfg_unref it), or NULL after filter_free(). */
struct cfg *filter_cfg_get(void);

/* filter.c, pure. Copy src (NULL: "") into dst[len], truncated. */
void filter_copy(char *dst, size_t len, const char *src);
/* A header-safe token (an authserv-id): not empty, no space, control,
 * 8-bit, quote, parenthesis, ';', '%', '<', '>' or '\'. */
bool filter_token_ok(const char *s);

#endif
