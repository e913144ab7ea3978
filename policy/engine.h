/*
 * engine.h: the policy engine's state on one ivykis thread: the
 * configuration it runs with and its validating resolver.
 *
 * engine_new() must run on the loop thread after iv_init(); it takes its
 * own reference on the cfg. engine_free() drops outstanding DNS queries
 * (their callbacks never run) and the reference. Users of the engine start
 * lookups with engine_dane() from the same thread.
 */
#ifndef DM_ENGINE_H
#define DM_ENGINE_H

#include <stdbool.h>

#include "dns/resolver.h"
#include "policy/cfg.h"
#include "policy/dane.h"

struct engine {
	struct cfg *en_cfg;
	struct dns_resolver *en_dns;
	bool en_force_log;              /* --log: resolution log for every domain */
};

/* NULL with a malloc'ed *errp when the resolver cannot be set up. */
struct engine *engine_new(struct cfg *cfg, bool force_log, char **errp);
void engine_free(struct engine *en);

/* Start the DANE lookup for domain (see dane_lookup_start), logging the
 * resolution when the domain's log_resolution or en_force_log says so. */
struct dane_lookup *engine_dane(struct engine *en, const char *domain,
    dane_done_fn *done, void *arg);

/*
 * Normalize a domain given by a user or an MTA into buf: lower case, one
 * trailing dot dropped. Returns buf, or NULL when it is not a host name.
 */
char *engine_domain_key(const char *in, char *buf, size_t buflen);

#endif
