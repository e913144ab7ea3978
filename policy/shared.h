/*
 * shared.h: the fleet's shared cache on Redis (cache.shared), on the
 * engine's ivykis loop. The only module that speaks Redis (the only
 * <hiredis/...> code).
 *
 * What it owns: one connection to one Redis server (TCP or a unix socket,
 * AUTH with an ACL user and password, SELECT of a database), kept up with
 * reconnects that back off (100 ms doubling to 5 s); the value envelope
 * (a format version and, with cache.shared_key_file, an HMAC-SHA256 over
 * the key and the payload: tls/hmac.h); the fleet's lock per domain; the
 * metrics danemilter_shared_cache_up and danemilter_shared_cache_{hits,
 * misses,errors,rejected}_total. It knows no verdict: the payload is the
 * verdict cache's (policy/cache.c writes it in the cache file's format,
 * policy/cachefile.h) and this module hands it back only when its
 * envelope is intact.
 *
 * KEYS (PREFIX is cache.shared_prefix): PREFIX "v:" DOMAIN holds a value
 * with a Redis TTL (PX) that is the remaining lifetime of what it holds;
 * PREFIX "lock:" DOMAIN is the lock of the member that resolves DOMAIN
 * for the fleet, taken with SET NX PX SHARED_LOCK_MS; its value is a
 * random token of the claim that took it. While the holder's job runs
 * the lock is renewed every SHARED_LOCK_RENEW_MS (PEXPIRE by a Lua
 * script, only while it still holds our token), for at most
 * SHARED_LOCK_HOLD_MS; it is dropped (DEL by a script, again only when
 * ours) after the value is published or when the job ends otherwise. A
 * member that dies stops renewing: its lock lapses within SHARED_LOCK_MS.
 * PREFIX "probe:" HASH holds one probe result (policy/probecache.h) with
 * its remaining lifetime as TTL, HASH the SHA-256 (as HMAC under a fixed
 * label) of the probe cache's key; no lock.
 *
 * VALUE FORMAT: "danemilter-shared 2 MAC\n" PAYLOAD, MAC the HMAC-SHA256
 * in lower-case hex of KEY "\n" PAYLOAD under the key file's bytes, or
 * "-" when no key is configured. A value is rejected (a miss, logged at
 * warning level and counted in rejected_total, never handed out) when the
 * first line is not that of this version (version 1, whose verdicts had
 * no MX host detail, included), when a key is configured and
 * MAC is "-" or does not verify, or when the payload is empty; without a
 * key any MAC is accepted (nothing to check it with: doctor warns).
 *
 * Bounds: every claim is answered within the timeout given to it (the
 * caller's share of cache.shared_timeout_ms); when it runs out the
 * connection is dropped (a Redis that does not answer in time is treated
 * as down) and reconnected with backoff; while the connection is not up
 * (connecting, AUTH, down) nothing waits: shared_claim() returns NULL at
 * once. Connecting and AUTH are bounded by SHARED_HANDSHAKE_MS.
 *
 * Ownership: the caller owns the struct shared (shared_free). A claim's
 * callback runs once, from the loop, never from inside shared_claim();
 * the payload it gets is borrowed for the call. Thread: the loop's only.
 */
#ifndef DM_SHARED_H
#define DM_SHARED_H

#include <stdbool.h>
#include <stdint.h>

#include "config/cfg.h"

/* The fleet lock's lifetime without renewal: a member that dies while
 * holding it holds it at most this long after its last renewal. */
#define SHARED_LOCK_MS          3000
/* Its holder renews it this often while its resolution runs... */
#define SHARED_LOCK_RENEW_MS    (SHARED_LOCK_MS / 3)
/* ... for at most this long (a resolution's own bounds, dns.timeout_ms
 * per round trip and mta_sts.timeout_ms, are shorter by default); then
 * it lapses by itself. */
#define SHARED_LOCK_HOLD_MS     30000
/* The longest a member waits for another member's resolution, on top of
 * cache.shared_timeout_ms: a lock held and renewed to its end, then
 * lapsing. It resolves alone sooner when the lock is gone without a
 * value (the holder died: within SHARED_LOCK_MS of its last renewal). */
#define SHARED_WAIT_MS          (SHARED_LOCK_HOLD_MS + SHARED_LOCK_MS)
/* Connecting and the AUTH / SELECT / PING handshake. */
#define SHARED_HANDSHAKE_MS     1000

struct shared;
struct shared_req;
struct shared_lock;

/*
 * From cc (cache.shared and its keys): reads the password and key files
 * now and starts connecting (in the background). NULL when cc->cca_shared
 * is "" (no shared cache: *errp NULL), or NULL with a malloc'ed *errp when
 * a file cannot be read, is empty, or the address does not parse.
 */
struct shared *shared_new(const struct cfg_cache *cc, char **errp);
/* Close the connection; claims in flight are not called back. NULL: nothing. */
void shared_free(struct shared *s);

/* Is the connection up (a claim would be sent)? */
bool shared_up(const struct shared *s);
/* cache.shared_timeout_ms as read at start-up. */
unsigned shared_timeout_ms(const struct shared *s);
/* Is a key configured (values signed and verified)? */
bool shared_signed(const struct shared *s);

enum shared_claim {
	SHARED_VALUE,   /* a value with an intact envelope: payload set */
	SHARED_LOCKED,  /* no (usable) value, and the lock is now ours: resolve, then publish */
	SHARED_BUSY,    /* no value, another member holds the lock: ask again later */
	SHARED_FAILED   /* Redis failed or did not answer in time: go alone */
};

/* payload: with SHARED_VALUE only (else NULL), borrowed. lock: the lock
 * was taken too (else NULL), and is renewed from now on until the caller
 * gives it back: shared_publish() or shared_unlock() (with SHARED_VALUE
 * the caller unlocks, or resolves and publishes). */
typedef void shared_claim_fn(void *arg, enum shared_claim st, const char *payload,
    struct shared_lock *lock);

/*
 * Try domain's lock and ask for its value in one round trip (SET NX PX,
 * then GET: a member that gets the lock after its holder dropped it sees
 * the value the holder published before), answered within timeout_ms. NULL when the connection is not up
 * (fn will not run: go alone); else a handle for shared_cancel().
 */
struct shared_req *shared_claim(struct shared *s, const char *domain, unsigned timeout_ms,
    shared_claim_fn *fn, void *arg);
/* fn will not run. */
void shared_cancel(struct shared_req *r);

/*
 * Ask for the value under PREFIX kind ":" name alone (no lock): fn gets
 * its payload (borrowed) when its envelope is intact, else NULL (none,
 * rejected: logged and counted, Redis failed or did not answer within
 * timeout_ms). NULL when the connection is not up (fn will not run); else
 * a handle for shared_cancel(). The probe cache's values (kind "probe").
 */
typedef void shared_fetch_fn(void *arg, const char *payload);
struct shared_req *shared_fetch(struct shared *s, const char *kind, const char *name,
    unsigned timeout_ms, shared_fetch_fn *fn, void *arg);

/*
 * Publish payload as domain's value for ttl_ms (>= 1), then give lock
 * back (shared_unlock; NULL: none held). The value is not written when
 * the connection is not up. Failures are logged and counted; nobody
 * waits for them.
 */
void shared_publish(struct shared *s, const char *domain, const char *payload, int64_t ttl_ms,
    struct shared_lock *lock);
/* Stop renewing lock, drop it in Redis if it still holds its token, and
 * free it. NULL: nothing. */
void shared_unlock(struct shared_lock *lock);
/* The same as shared_publish for PREFIX kind ":" name, without a lock. */
void shared_put(struct shared *s, const char *kind, const char *name, const char *payload,
    int64_t ttl_ms);

/* What a lookup of the verdict cache found: a value it used (a hit), no
 * value (a miss: counted once per lookup, not per claim), or a payload
 * it could not use (rejected: logged with why, counted). */
void shared_hit(struct shared *s);
void shared_miss(struct shared *s);
void shared_reject(struct shared *s, const char *domain, const char *why);

/*
 * Drop domain's value (shared_purge) or every value under the prefix
 * (shared_purge_all: SCAN and DEL, in the background) for the whole
 * fleet (ctl purge). Nothing when the connection is not up (logged).
 */
void shared_purge(struct shared *s, const char *domain);
void shared_purge_all(struct shared *s);

/*
 * Put the metric families in the render list of common/metrics.h:
 * danemilter_shared_cache_up (1 while the connection is up; 0 also
 * without a shared cache), then the hits, misses, errors and rejected
 * counters.
 */
void shared_metrics_register(void);

#endif
