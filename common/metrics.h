/*
 * metrics.h: a process-wide registry of Prometheus metric families and
 * their text rendering. It knows no danemilter words: each family
 * (name, HELP text, type, label names and their closed sets of values,
 * histogram bounds) is a static struct metrics_family defined by the
 * module that counts it, next to the code that counts (dns/dns.c
 * its DNS queries, policy/cache.c its verdicts, milter/filter.c its
 * messages, ...).
 *
 * Counting: a counter or gauge has zero, one or two labels, each over a
 * closed set of values named by an array of strings; the caller counts
 * with the indexes of the values (its own enum). A histogram has no
 * label: bucket bounds in microseconds, ascending, and their `le` texts.
 * The storage is inline in the family (at most METRICS_CELLS_MAX cells,
 * checked at compile time by the METRICS_* initializers), so counting is
 * one relaxed atomic add on a cell: lock-free, allocation-free, callable
 * from any thread (the engine's loop, the libmilter threads), registered
 * or not. An index out of range, or counting of the wrong kind (inc on a
 * histogram, observe on a counter, inc on a family read by a callback),
 * aborts: an internal inconsistency.
 *
 * Values known only at scrape time (the size of a cache, say) are not
 * counted: such a family has an mf_read callback, called on the rendering
 * thread with the family's mf_arg, that fills every cell.
 *
 * Registration: metrics_register() appends a family to the render list,
 * and the list is rendered in registration order. Who registers: each
 * module that owns families exports one PREFIX_metrics_register() that
 * registers them, and the daemon (the one place that wires the faces)
 * calls these at start-up, unconditionally and in the order of the
 * exposition. Why not the layers' own init functions: a face that is
 * switched off (no milter socket) would drop its families, and the order
 * would follow the order of initialisation; why not constructors: their
 * order across files is the linker's. So a module that defines a family
 * edits only itself (and, for a new module, the daemon's list); nothing
 * here changes. The registry (register, unregister, render, reset) is
 * not locked: use it from one thread, the one that renders (the engine's
 * loop), while counting goes on anywhere.
 *
 * metrics_render() appends the Prometheus text exposition format 0.0.4 to
 * a struct sbuf (the caller's): danemilter_build_info first, then every
 * registered family: "# HELP" and "# TYPE" once, every label combination
 * (first label outer, in the order of the value arrays, zeros included),
 * histograms as cumulative _bucket{le="..."} lines ending with le="+Inf",
 * then _sum (seconds, microsecond precision) and _count (== the +Inf
 * bucket). Label values are escaped (\\, \", \n). Values read while other
 * threads count are each exact, but not one atomic snapshot of all of
 * them.
 *
 * Ownership: the registry keeps pointers to the families (static objects
 * of their modules) and to their mf_arg; it allocates nothing. A family
 * whose mf_arg dies first must be unregistered first.
 */
#ifndef DM_METRICS_H
#define DM_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

/* Cells of one family: label combinations, or histogram buckets + 1. */
#define METRICS_CELLS_MAX       32

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM
};

/* One label: its name and its closed set of values (index = the caller's). */
struct metrics_label {
	const char *ml_name;                    /* NULL: no such label */
	const char *const *ml_values;
	size_t ml_n;
};

/*
 * Fills cells[0 .. n) at scrape time, n = the product of the label value
 * counts (1 without labels); cell (i, j) is cells[i * n2 + j], n2 the
 * second label's count (1 without it). Called on the rendering thread.
 */
typedef void metrics_read_fn(void *arg, unsigned long *cells, size_t n);

/*
 * Label values that are no closed set (the names of the operator's own
 * domains in the monitor's configuration): a family with mf_emit names
 * its labels (METRICS_OPEN_LABEL1/2: no value arrays) and, at scrape time
 * on the rendering thread, writes its samples with metrics_sample(), in
 * the order it likes; the registry stores nothing for it. Gauges and
 * counters only. Its HELP and TYPE lines come before its first sample: a
 * family that emits none is not shown at all.
 */
struct metrics_out;
typedef void metrics_emit_fn(void *arg, struct metrics_out *o);
/* One sample of the family being emitted: the label values (v2 NULL for
 * a family with one label; escaped here) and the value (%.15g). */
void metrics_sample(struct metrics_out *o, const char *v1, const char *v2, double value);

struct metrics_family {
	/* the definition: set by the METRICS_* initializers below */
	enum metrics_type mf_type;
	const char *mf_name;                    /* the whole name: "danemilter_..." */
	const char *mf_help;
	struct metrics_label mf_label[2];       /* the second only with the first */
	const unsigned long *mf_bounds_us;      /* histograms: ascending */
	const char *const *mf_le;               /* the same bounds as label text */
	size_t mf_nbounds;
	metrics_read_fn *mf_read;               /* counters, gauges: values read at scrape */
	metrics_emit_fn *mf_emit;               /* open label sets: samples written at scrape */
	void *mf_arg;                           /* for mf_read / mf_emit; set before registering */
	/* state: only through metrics_*() */
	atomic_ulong mf_cells[METRICS_CELLS_MAX];
	atomic_ulong mf_sum_us;                 /* histograms: sum of observations */
	struct metrics_family *mf_next;         /* the render list */
	bool mf_registered;
};

/*
 * Initializers, to be combined inside the braces of a static family:
 *	static const char *const foo_results[] = { "ok", "error" };
 *	static struct metrics_family foo_metric = {
 *		METRICS_HEAD(METRICS_COUNTER, "danemilter_foo_total", "Foos, by result."),
 *		METRICS_LABEL1("result", foo_results),
 *	};
 * Histograms: METRICS_HEAD(METRICS_HISTOGRAM, ...), METRICS_BUCKETS(bounds, le).
 * Read at scrape: add .mf_read = fn (and set mf_arg before registering).
 * The value and bound arrays must be arrays (not pointers); too many
 * cells, or bounds and le texts of different counts, do not compile.
 */
#define METRICS_NELEM(a)                (sizeof(a) / sizeof((a)[0]))
/* n, or a compile-time error when cond is false */
#define METRICS_CHECKED(cond, n)        (sizeof(char[(cond) ? 1 : -1]) * 0 + (n))
#define METRICS_HEAD(type, name, help) \
	.mf_type = (type), .mf_name = (name), .mf_help = (help)
#define METRICS_LABEL1(k1, v1) \
	.mf_label = { { (k1), (v1), \
	    METRICS_CHECKED(METRICS_NELEM(v1) <= METRICS_CELLS_MAX, METRICS_NELEM(v1)) } }
#define METRICS_LABEL2(k1, v1, k2, v2) \
	.mf_label = { { (k1), (v1), METRICS_NELEM(v1) }, { (k2), (v2), \
	    METRICS_CHECKED(METRICS_NELEM(v1) * METRICS_NELEM(v2) <= METRICS_CELLS_MAX, \
	    METRICS_NELEM(v2)) } }
#define METRICS_OPEN_LABEL1(k1) \
	.mf_label = { { (k1), NULL, 0 } }
#define METRICS_OPEN_LABEL2(k1, k2) \
	.mf_label = { { (k1), NULL, 0 }, { (k2), NULL, 0 } }
#define METRICS_BUCKETS(bounds_us, le) \
	.mf_bounds_us = (bounds_us), .mf_le = (le), \
	.mf_nbounds = METRICS_CHECKED(METRICS_NELEM(bounds_us) == METRICS_NELEM(le) && \
	    METRICS_NELEM(bounds_us) < METRICS_CELLS_MAX, METRICS_NELEM(bounds_us))

/*
 * Counting, from any thread. i and j index the first and second label's
 * values (0 for a label the family does not have). metrics_set() is for
 * gauges only.
 */
void metrics_inc(struct metrics_family *f, size_t i, size_t j);
void metrics_add(struct metrics_family *f, size_t i, size_t j, unsigned long n);
void metrics_set(struct metrics_family *f, size_t i, size_t j, unsigned long v);
/* A histogram observation: us goes in the first bucket with us <= bound. */
void metrics_observe(struct metrics_family *f, uint64_t us);

/*
 * Append f to the render list (a second registration of a registered
 * family changes nothing). Aborts on an inconsistent definition: no name
 * or HELP, a second label without a first, labels or mf_read on a
 * histogram, a histogram without bounds, bounds not ascending, bounds on
 * a counter or gauge.
 */
void metrics_register(struct metrics_family *f);
/* Take f out of the render list (not registered: nothing happens). */
void metrics_unregister(struct metrics_family *f);

/*
 * Append the whole exposition to sb: danemilter_build_info{version=...}
 * (escaped here), then every registered family in registration order.
 */
void metrics_render(struct sbuf *sb, const char *version);

/* Zero the counted values of every registered family (tests; not while
 * other threads count). The registrations stay. */
void metrics_reset(void);

#endif
