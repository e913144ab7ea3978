/*
 * tlspolicy.h: the Postfix TLS policy service: socketmap requests answered
 * from the verdict cache, on the engine's loop.
 *
 * Request names: QUERY (the policy), QUERYwithTLSRPT (the policy with the
 * TLSRPT attributes of Postfix >= 3.10; also for QUERY when
 * socketmap.tlsrpt = true), JSON (the whole verdict as "OK {json}").
 * Keys are lower-cased and lose one trailing dot; "[host]", "[host]:port",
 * "host:port", ".parent", IP address literals and names that are not host
 * names get "NOTFOUND " (no policy for them, as in Postfix's own lookups).
 *
 * A domain with a fixed `policy` in the configuration is answered at once,
 * without DNS (the JSON request still shows the whole verdict). The
 * service owns its socketmap server; the cache and the generation are the
 * caller's. Settings that a reload may change (fixed policies, tlsrpt) are
 * read from the generation in force at each request; the listeners and
 * their limits stay as they were opened.
 */
#ifndef DM_TLSPOLICY_H
#define DM_TLSPOLICY_H

#include "policy/cache.h"
#include "policy/generation.h"
#include "socketmap/socketmap.h"

struct tlspolicy;

/* Listen where the socketmap section of g's configuration says (default
 * inet:127.0.0.1:8642), or, when nfds > 0, accept on fds instead (sockets
 * passed by systemd; taken over, socketmap_new_fds). NULL with a malloc'ed
 * *errp when a listener cannot be opened. */
struct tlspolicy *tlspolicy_new(struct cache *c, struct generation *g, const int *fds,
    size_t nfds, char **errp);
void tlspolicy_free(struct tlspolicy *tp);

/* The normalized key, or NULL when the key gets no policy. */
char *tlspolicy_key(const char *in, char *buf, size_t buflen);

void tlspolicy_stats(const struct tlspolicy *tp, struct socketmap_stats *out);

#endif
