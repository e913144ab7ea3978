/*
 * engine.h: the policy engine's state on one ivykis thread: the
 * configuration it runs with, its validating resolver and its MTA-STS
 * fetcher (libcurl multi).
 *
 * engine_new() must run on the loop thread after iv_init() (and after
 * stsfetch_global_init() in main); it takes its own reference on the cfg. An
 * engine is reference-counted on its loop thread: a configuration reload
 * makes a new one while lookups in flight keep the old one alive;
 * the last engine_unref() drops outstanding queries (their callbacks never
 * run) and frees it. Users start lookups with engine_dane() and
 * engine_mtasts() from the same thread.
 */
#ifndef DM_ENGINE_H
#define DM_ENGINE_H

#include <stdbool.h>

#include "dns/dns.h"
#include "config/cfg.h"
#include "policy/dane.h"
#include "policy/mtasts.h"

struct engine {
	struct cfg *en_cfg;
	struct dns_resolver *en_dns;
	struct mtasts_ctx *en_sts;      /* NULL when mta_sts.enabled = false */
	bool en_force_log;              /* --log: resolution log for every domain */
	int en_refs;                    /* loop thread only */
};

/* One reference; NULL with a malloc'ed *errp when the resolver or the
 * fetcher cannot be set up. */
struct engine *engine_new(struct cfg *cfg, bool force_log, char **errp);
struct engine *engine_ref(struct engine *en);
void engine_unref(struct engine *en);
/* The log prefix for domain's lookups (the domain), or NULL when its
 * resolution is not to be logged. */
const char *engine_logtag(const struct engine *en, const char *domain);

/* Start the DANE lookup for domain (see dane_lookup_start), logging the
 * resolution when the domain's log_resolution or en_force_log says so. */
struct dane_lookup *engine_dane(struct engine *en, const char *domain,
    dane_done_fn *done, void *arg);
/* Start the MTA-STS lookup (see mtasts_lookup_start); NULL when MTA-STS is
 * disabled (done is then never called). */
struct mtasts_lookup *engine_mtasts(struct engine *en, const char *domain,
    const struct mtasts_cached *cached, time_t now, mtasts_done_fn *done, void *arg);

/*
 * Normalize a domain given by a user or an MTA into buf: lower case, one
 * trailing dot dropped, U-labels converted to A-labels (IDNA2008, UTS #46
 * non-transitional: "bücher.example" -> "xn--bcher-kva.example"). Every
 * face's domain goes through here (socketmap keys, envelope domains,
 * command arguments). Returns buf, or NULL when it is not a host name
 * (invalid UTF-8 or IDNA included).
 */
char *engine_domain_key(const char *in, char *buf, size_t buflen);

#endif
