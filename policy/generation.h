/*
 * generation.h: the configuration generation in force, and the engine
 * built for it: the one reload point.
 *
 * A generation is one immutable configuration (config/cfg.h) and the
 * engine (resolver, MTA-STS fetcher) made from it. The daemon makes one
 * holder at start-up and hands it to every face; a reload is one call,
 * generation_swap(), and nothing else: there is no list of setters.
 * From the swap on:
 *   - the verdict cache starts new resolutions on the new engine and
 *     recomputes each cached verdict at its next use (MTA-STS policies are
 *     kept): it compares generation_number() with the entry's;
 *   - the socketmap face reads its per-request settings (fixed policies,
 *     tlsrpt) from generation_engine()'s configuration;
 *   - the milter takes generation_cfg() when a connection opens and keeps
 *     that reference until it closes (an open connection keeps the
 *     generation it started with);
 *   - probes asked for by the milter run on generation_engine().
 * Listener addresses, the user and the pid file are read once at start-up:
 * a reload does not move them.
 *
 * Threads: generation_new, generation_swap, generation_engine and
 * generation_number run on the engine's loop thread; generation_cfg may be
 * called from any thread (libmilter's).
 * The overrides file's entries (policy/overrides.h) change apart from the
 * configuration (the file is watched): generation_set_overrides() puts
 * new ones in force the same way, as a new generation number.
 * Ownership: the holder keeps one reference on the engine in force and
 * one on the overrides in force; the engine holds its cfg. generation_free() drops the holder's reference.
 */
#ifndef DM_GENERATION_H
#define DM_GENERATION_H

#include "config/cfg.h"
#include "policy/engine.h"
#include "policy/overrides.h"

struct generation;

/* Hold en (a new reference) as generation 1. Never NULL. */
struct generation *generation_new(struct engine *en);
void generation_free(struct generation *g);

/* The reload: en (a new reference) is in force from now on; the old
 * engine lives on while lookups in flight or open connections use it. */
void generation_swap(struct generation *g, struct engine *en);

/*
 * Loop thread: the overrides file's entries in force (policy/overrides.h),
 * NULL when none; borrowed like generation_engine(). generation_set_overrides
 * puts ov (a new reference; NULL: none) in force and counts as a new
 * generation: every cached verdict is rebuilt at its next use.
 */
struct overrides *generation_overrides(const struct generation *g);
void generation_set_overrides(struct generation *g, struct overrides *ov);

/* Loop thread: the engine in force (borrowed: valid until the next swap
 * returns to the loop; engine_ref() to keep it longer). */
struct engine *generation_engine(const struct generation *g);
/* Loop thread: 1 at start, + 1 per swap. */
unsigned generation_number(const struct generation *g);
/* Any thread: the configuration in force, as a new reference (the caller
 * drops it with cfg_unref()). */
struct cfg *generation_cfg(struct generation *g);

#endif
