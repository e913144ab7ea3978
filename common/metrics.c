/*
 * metrics.c: see metrics.h.
 *
 * Storage: each family's cells are C11 atomic counters inside the family;
 * cell (i, j) of a labelled family is mf_cells[i * n2 + j]. A histogram
 * keeps one non-cumulative counter per bucket in mf_cells[0 .. nbounds]
 * (the last one is +Inf) and the sum in microseconds in mf_sum_us; its
 * _count is the sum of its buckets, so _count always equals the +Inf
 * bucket even while other threads observe. The render list is a singly
 * linked list through mf_next, head and tail here.
 *
 * EXPOSITION (text format 0.0.4)
 *	# HELP NAME TEXT
 *	# TYPE NAME counter|gauge|histogram
 *	NAME{label="value",...} VALUE
 *	Histograms: NAME_bucket{le="B"} cumulative count, for every bound B
 *	and "+Inf"; NAME_sum in seconds (microsecond precision); NAME_count.
 */
#include "metrics.h"

#include <stdio.h>

#include "log.h"

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "atomic unsigned long must be lock-free");

static struct metrics_family *metrics_head_f, *metrics_tail_f;

/* ---- counting ---- */

static inline size_t
metrics_nvalues(const struct metrics_family *f, int k)
{
	return f->mf_label[k].ml_name != NULL ? f->mf_label[k].ml_n : 1;
}

/* The cell (i, j) of a counter or gauge; aborts when out of range. */
static atomic_ulong *
metrics_cell(struct metrics_family *f, size_t i, size_t j, const char *op)
{
	size_t n1 = metrics_nvalues(f, 0), n2 = metrics_nvalues(f, 1);

	if (f->mf_type == METRICS_HISTOGRAM || f->mf_read != NULL || f->mf_emit != NULL)
		log_abort("metrics: %s: %s on a %s", f->mf_name, op,
		    f->mf_type != METRICS_HISTOGRAM ? "family read at scrape time" : "histogram");
	if (i >= n1 || j >= n2)
		log_abort("metrics: %s: label index (%zu, %zu) out of range (%zu, %zu)",
		    f->mf_name, i, j, n1, n2);
	return &f->mf_cells[i * n2 + j];
}

void
metrics_add(struct metrics_family *f, size_t i, size_t j, unsigned long n)
{
	atomic_fetch_add_explicit(metrics_cell(f, i, j, "add"), n, memory_order_relaxed);
}

void
metrics_inc(struct metrics_family *f, size_t i, size_t j)
{
	metrics_add(f, i, j, 1);
}

void
metrics_set(struct metrics_family *f, size_t i, size_t j, unsigned long v)
{
	if (f->mf_type != METRICS_GAUGE)
		log_abort("metrics: %s: set on a counter or histogram", f->mf_name);
	atomic_store_explicit(metrics_cell(f, i, j, "set"), v, memory_order_relaxed);
}

void
metrics_observe(struct metrics_family *f, uint64_t us)
{
	size_t i;

	if (f->mf_type != METRICS_HISTOGRAM)
		log_abort("metrics: %s: observe on a counter or gauge", f->mf_name);
	for (i = 0; i < f->mf_nbounds && us > f->mf_bounds_us[i]; i++)
		;
	atomic_fetch_add_explicit(&f->mf_cells[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&f->mf_sum_us, (unsigned long)us, memory_order_relaxed);
}

/* ---- the registry ---- */

static void
metrics_check(const struct metrics_family *f)
{
	size_t k;

	if (f->mf_name == NULL || f->mf_help == NULL)
		log_abort("metrics: a family without a name or HELP text");
	if (f->mf_label[0].ml_name == NULL && f->mf_label[1].ml_name != NULL)
		log_abort("metrics: %s: a second label without a first", f->mf_name);
	if (f->mf_emit != NULL) {
		if (f->mf_type == METRICS_HISTOGRAM || f->mf_read != NULL ||
		    f->mf_label[0].ml_values != NULL || f->mf_label[1].ml_values != NULL)
			log_abort("metrics: %s: an open label set is for a counter or gauge "
			    "without value arrays or a read callback", f->mf_name);
		return;
	}
	for (k = 0; k < 2; k++)
		if (f->mf_label[k].ml_name != NULL &&
		    (f->mf_label[k].ml_values == NULL || f->mf_label[k].ml_n == 0))
			log_abort("metrics: %s: label %s without values", f->mf_name,
			    f->mf_label[k].ml_name);
	if (metrics_nvalues(f, 0) * metrics_nvalues(f, 1) > METRICS_CELLS_MAX)
		log_abort("metrics: %s: more than %d cells", f->mf_name, METRICS_CELLS_MAX);
	if (f->mf_type != METRICS_HISTOGRAM) {
		if (f->mf_nbounds != 0 || f->mf_bounds_us != NULL)
			log_abort("metrics: %s: bucket bounds on a counter or gauge", f->mf_name);
		return;
	}
	if (f->mf_label[0].ml_name != NULL || f->mf_read != NULL)
		log_abort("metrics: %s: a histogram has no labels and no read callback",
		    f->mf_name);
	if (f->mf_nbounds == 0 || f->mf_nbounds >= METRICS_CELLS_MAX ||
	    f->mf_bounds_us == NULL || f->mf_le == NULL)
		log_abort("metrics: %s: histogram bounds missing or too many", f->mf_name);
	for (k = 1; k < f->mf_nbounds; k++)
		if (f->mf_bounds_us[k] <= f->mf_bounds_us[k - 1])
			log_abort("metrics: %s: bounds not ascending", f->mf_name);
}

void
metrics_register(struct metrics_family *f)
{
	if (f->mf_registered)
		return;
	metrics_check(f);
	f->mf_next = NULL;
	if (metrics_tail_f != NULL)
		metrics_tail_f->mf_next = f;
	else
		metrics_head_f = f;
	metrics_tail_f = f;
	f->mf_registered = true;
}

void
metrics_unregister(struct metrics_family *f)
{
	struct metrics_family **pp, *prev = NULL;

	if (!f->mf_registered)
		return;
	for (pp = &metrics_head_f; *pp != f; pp = &(*pp)->mf_next)
		prev = *pp;
	*pp = f->mf_next;
	if (metrics_tail_f == f)
		metrics_tail_f = prev;
	f->mf_next = NULL;
	f->mf_registered = false;
}

static void
metrics_zero(struct metrics_family *f)
{
	size_t i;

	for (i = 0; i < METRICS_CELLS_MAX; i++)
		atomic_store_explicit(&f->mf_cells[i], 0, memory_order_relaxed);
	atomic_store_explicit(&f->mf_sum_us, 0, memory_order_relaxed);
}

void
metrics_reset(void)
{
	struct metrics_family *f;

	for (f = metrics_head_f; f != NULL; f = f->mf_next)
		metrics_zero(f);
}

/* ---- rendering ---- */

static unsigned long
metrics_get(const atomic_ulong *c)
{
	return atomic_load_explicit((atomic_ulong *)c, memory_order_relaxed);
}

/* A label value, escaped: backslash, double quote and line feed. */
static void
metrics_escape(struct sbuf *sb, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\': sbuf_append(sb, "\\\\"); break;
		case '"': sbuf_append(sb, "\\\""); break;
		case '\n': sbuf_append(sb, "\\n"); break;
		default: sbuf_appendc(sb, *s); break;
		}
	}
}

static void
metrics_head(struct sbuf *sb, const char *name, const char *type, const char *help)
{
	sbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{k1="v1",k2="v2"} VALUE; k2 NULL for one label, k1 NULL for none. */
static void
metrics_line(struct sbuf *sb, const char *name, const char *k1, const char *v1,
    const char *k2, const char *v2, unsigned long value)
{
	sbuf_append(sb, name);
	if (k1 != NULL) {
		sbuf_printf(sb, "{%s=\"", k1);
		metrics_escape(sb, v1);
		if (k2 != NULL) {
			sbuf_printf(sb, "\",%s=\"", k2);
			metrics_escape(sb, v2);
		}
		sbuf_append(sb, "\"}");
	}
	sbuf_printf(sb, " %lu\n", value);
}

static void
metrics_render_histogram(struct sbuf *sb, const struct metrics_family *f)
{
	unsigned long cum = 0, sum_us;
	size_t i;

	metrics_head(sb, f->mf_name, "histogram", f->mf_help);
	for (i = 0; i <= f->mf_nbounds; i++) {
		cum += metrics_get(&f->mf_cells[i]);
		sbuf_printf(sb, "%s_bucket{le=\"%s\"} %lu\n", f->mf_name,
		    i < f->mf_nbounds ? f->mf_le[i] : "+Inf", cum);
	}
	sum_us = metrics_get(&f->mf_sum_us);
	sbuf_printf(sb, "%s_sum %lu.%06lu\n", f->mf_name, sum_us / 1000000UL,
	    sum_us % 1000000UL);
	sbuf_printf(sb, "%s_count %lu\n", f->mf_name, cum);
}

/* A counter or gauge: every label combination, first label outer. */
static void
metrics_render_values(struct sbuf *sb, const struct metrics_family *f)
{
	const struct metrics_label *l1 = &f->mf_label[0], *l2 = &f->mf_label[1];
	size_t n1 = metrics_nvalues(f, 0), n2 = metrics_nvalues(f, 1), i, j;
	unsigned long values[METRICS_CELLS_MAX] = { 0 };

	if (f->mf_read != NULL)
		f->mf_read(f->mf_arg, values, n1 * n2);
	else
		for (i = 0; i < n1 * n2; i++)
			values[i] = metrics_get(&f->mf_cells[i]);
	metrics_head(sb, f->mf_name, f->mf_type == METRICS_GAUGE ? "gauge" : "counter",
	    f->mf_help);
	for (i = 0; i < n1; i++)
		for (j = 0; j < n2; j++)
			metrics_line(sb, f->mf_name,
			    l1->ml_name, l1->ml_name != NULL ? l1->ml_values[i] : NULL,
			    l2->ml_name, l2->ml_name != NULL ? l2->ml_values[j] : NULL,
			    values[i * n2 + j]);
}

struct metrics_out {
	struct sbuf *mo_sb;
	const struct metrics_family *mo_f;
	bool mo_started;                /* the HELP and TYPE lines are out */
};

void
metrics_sample(struct metrics_out *o, const char *v1, const char *v2, double value)
{
	const struct metrics_family *f = o->mo_f;
	struct sbuf *sb = o->mo_sb;

	if (!o->mo_started) {
		metrics_head(sb, f->mf_name, f->mf_type == METRICS_GAUGE ? "gauge" : "counter",
		    f->mf_help);
		o->mo_started = true;
	}
	sbuf_append(sb, f->mf_name);
	if (f->mf_label[0].ml_name != NULL) {
		sbuf_printf(sb, "{%s=\"", f->mf_label[0].ml_name);
		metrics_escape(sb, v1 != NULL ? v1 : "");
		if (f->mf_label[1].ml_name != NULL) {
			sbuf_printf(sb, "\",%s=\"", f->mf_label[1].ml_name);
			metrics_escape(sb, v2 != NULL ? v2 : "");
		}
		sbuf_append(sb, "\"}");
	}
	sbuf_printf(sb, " %.15g\n", value);
}

/* A family of open label sets: its head before its first sample; no
 * sample, no family (nothing to say). */
static void
metrics_render_emit(struct sbuf *sb, const struct metrics_family *f)
{
	struct metrics_out o = { sb, f, false };

	f->mf_emit(f->mf_arg, &o);
}

void
metrics_render(struct sbuf *sb, const char *version)
{
	const struct metrics_family *f;

	metrics_head(sb, "danemilter_build_info", "gauge", "The danemilter version; always 1.");
	metrics_line(sb, "danemilter_build_info", "version", version, NULL, NULL, 1);
	for (f = metrics_head_f; f != NULL; f = f->mf_next) {
		if (f->mf_type == METRICS_HISTOGRAM)
			metrics_render_histogram(sb, f);
		else if (f->mf_emit != NULL)
			metrics_render_emit(sb, f);
		else
			metrics_render_values(sb, f);
	}
}
