/*
 * generation.c: see generation.h.
 */
#include "generation.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/xmalloc.h"

struct generation {
	struct engine *g_en;            /* loop thread writes (under g_lock) */
	struct overrides *g_ov;         /* loop thread; NULL: none */
	unsigned g_number;              /* loop thread */
	pthread_mutex_t g_lock;         /* g_en for generation_cfg() */
};

struct generation *
generation_new(struct engine *en)
{
	struct generation *g = xcalloc(1, sizeof(*g));

	pthread_mutex_init(&g->g_lock, NULL);
	g->g_en = engine_ref(en);
	g->g_number = 1;
	return g;
}

void
generation_free(struct generation *g)
{
	if (g == NULL)
		return;
	engine_unref(g->g_en);
	overrides_unref(g->g_ov);
	pthread_mutex_destroy(&g->g_lock);
	free(g);
}

void
generation_swap(struct generation *g, struct engine *en)
{
	struct engine *old;

	engine_ref(en);
	pthread_mutex_lock(&g->g_lock);
	old = g->g_en;
	g->g_en = en;
	pthread_mutex_unlock(&g->g_lock);
	g->g_number++;
	engine_unref(old);
}

struct overrides *
generation_overrides(const struct generation *g)
{
	return g->g_ov;
}

void
generation_set_overrides(struct generation *g, struct overrides *ov)
{
	struct overrides *old = g->g_ov;

	g->g_ov = ov != NULL ? overrides_ref(ov) : NULL;
	g->g_number++;
	overrides_unref(old);
}

struct engine *
generation_engine(const struct generation *g)
{
	return g->g_en;
}

unsigned
generation_number(const struct generation *g)
{
	return g->g_number;
}

struct cfg *
generation_cfg(struct generation *g)
{
	struct cfg *c;

	pthread_mutex_lock(&g->g_lock);
	c = cfg_ref(g->g_en->en_cfg);
	pthread_mutex_unlock(&g->g_lock);
	return c;
}
