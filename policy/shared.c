/*
 * shared.c: see shared.h.
 *
 * One hiredis async context on the ivykis loop (hiredis's own adapter).
 * States: down (a retry timer runs), connecting / handshake (AUTH, SELECT,
 * PING, bounded by SHARED_HANDSHAKE_MS), up. Only "up" sends claims.
 * A context is freed outside hiredis's callbacks (the dropper task), and
 * a context hiredis frees itself (the server closed the connection) is
 * forgotten in its disconnect callback, so that nothing is freed twice.
 * Every claim has its own timer; a claim that times out is answered
 * SHARED_FAILED at once, detached (its late replies only free it), and
 * the connection is dropped: a Redis that does not answer in time is down
 * until a reconnect and a handshake prove otherwise.
 */
#include "shared_private.h"

#include <errno.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/ivykis.h>

#include "common/deadline.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "tls/hmac.h"

#define SHARED_VERSION_LINE     "danemilter-shared 2 "
#define SHARED_VERSION_PREFIX   "danemilter-shared "
#define SHARED_BACKOFF_MIN_MS   100
#define SHARED_BACKOFF_MAX_MS   5000
#define SHARED_SECRET_MAX       4096


/* ---- metrics ---- */

static struct metrics_family shared_up_metric = {
	METRICS_HEAD(METRICS_GAUGE, "danemilter_shared_cache_up",
	    "1 while the connection to the fleet's shared cache (Redis) is up, else 0."),
};
static struct metrics_family shared_hits_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_shared_cache_hits_total",
	    "Verdicts taken from the shared cache instead of a resolution."),
};
static struct metrics_family shared_misses_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_shared_cache_misses_total",
	    "Verdict lookups the shared cache had no value for."),
};
static struct metrics_family shared_errors_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_shared_cache_errors_total",
	    "Shared cache commands that failed or timed out, and connections lost."),
};
static struct metrics_family shared_rejected_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_shared_cache_rejected_total",
	    "Shared cache values that did not parse or verify (used as misses)."),
};

void
shared_metrics_register(void)
{
	metrics_register(&shared_up_metric);
	metrics_register(&shared_hits_metric);
	metrics_register(&shared_misses_metric);
	metrics_register(&shared_errors_metric);
	metrics_register(&shared_rejected_metric);
}

void
shared_hit(struct shared *s)
{
	(void)s;
	metrics_inc(&shared_hits_metric, 0, 0);
}

void
shared_miss(struct shared *s)
{
	(void)s;
	metrics_inc(&shared_misses_metric, 0, 0);
}

void
shared_reject(struct shared *s, const char *domain, const char *why)
{
	(void)s;
	metrics_inc(&shared_rejected_metric, 0, 0);
	log_warnx("shared cache: the value for %s is rejected (%s): a miss", domain, why);
}

void
shared_error_count(void)
{
	metrics_inc(&shared_errors_metric, 0, 0);
}

/* ---- keys and the envelope ---- */

char *
shared_key(const struct shared *s, const char *kind, const char *domain)
{
	return xasprintf("%s%s:%s", s->sh_prefix, kind, domain);
}

static void
shared_mac(const struct shared *s, const char *key, const char *payload, size_t len,
    char hex[HMAC_SHA256_HEXLEN + 1])
{
	const void *part[3] = { key, "\n", payload };
	size_t plen[3] = { strlen(key), 1, len };

	hmac_sha256_hex(s->sh_key, s->sh_keylen, part, plen, 3, hex);
}

/* The payload of value (stored under key), or NULL with *why (static). */
static const char *
shared_open(const struct shared *s, const char *key, const char *value, size_t len,
    const char **why)
{
	size_t vl = strlen(SHARED_VERSION_LINE);
	const char *nl, *payload;
	char mac[HMAC_SHA256_HEXLEN + 1], want[HMAC_SHA256_HEXLEN + 1];
	size_t maclen;

	if (memchr(value, '\0', len) != NULL) {
		*why = "it holds a NUL byte";
		return NULL;
	}
	if (len < vl || memcmp(value, SHARED_VERSION_LINE, vl) != 0) {
		*why = len >= strlen(SHARED_VERSION_PREFIX) &&
		    memcmp(value, SHARED_VERSION_PREFIX, strlen(SHARED_VERSION_PREFIX)) == 0 ?
		    "a value of another format version (this one reads \"" SHARED_VERSION_LINE "MAC\")" :
		    "not a value of this version (\"" SHARED_VERSION_LINE "MAC\")";
		return NULL;
	}
	if ((nl = memchr(value + vl, '\n', len - vl)) == NULL) {
		*why = "truncated: no end to its first line";
		return NULL;
	}
	payload = nl + 1;
	if (*payload == '\0') {
		*why = "truncated: no payload";
		return NULL;
	}
	maclen = (size_t)(nl - (value + vl));
	if (maclen >= sizeof(mac)) {
		*why = "its MAC is malformed";
		return NULL;
	}
	memcpy(mac, value + vl, maclen);
	mac[maclen] = '\0';
	if (s->sh_key == NULL)
		return payload;         /* nothing to verify with */
	if (strcmp(mac, "-") == 0) {
		*why = "not signed, and cache.shared_key_file is set";
		return NULL;
	}
	shared_mac(s, key, payload, strlen(payload), want);
	if (!hmac_hex_equal(mac, want)) {
		*why = "its HMAC does not verify (another key, or forged)";
		return NULL;
	}
	return payload;
}

/* ---- the connection ---- */

static void shared_connect(struct shared *s);

static void
shared_set_up(struct shared *s, bool up)
{
	s->sh_up = up;
	metrics_set(&shared_up_metric, 0, 0, up ? 1 : 0);
}

/* The connection is gone or given up (sh_ac already NULL): retry later. */
static void
shared_down(struct shared *s, const char *why)
{
	bool was_up = s->sh_up;

	shared_set_up(s, false);
	if (iv_timer_registered(&s->sh_handshake))
		iv_timer_unregister(&s->sh_handshake);
	if (was_up || !s->sh_logged_down) {
		log_warnx("shared cache: %s: %s; members go on alone, reconnecting",
		    s->sh_addr, why);
		s->sh_logged_down = true;
	} else {
		log_debug("shared cache: %s: %s; retrying in %u ms", s->sh_addr, why,
		    s->sh_backoff_ms);
	}
	if (was_up)
		metrics_inc(&shared_errors_metric, 0, 0);
	if (!iv_timer_registered(&s->sh_retry)) {
		iv_validate_now();
		s->sh_retry.expires = iv_now;
		deadline_add_ms(&s->sh_retry.expires, s->sh_backoff_ms);
		iv_timer_register(&s->sh_retry);
		s->sh_backoff_ms *= 2;
		if (s->sh_backoff_ms > SHARED_BACKOFF_MAX_MS)
			s->sh_backoff_ms = SHARED_BACKOFF_MAX_MS;
	}
}

static void
shared_dropper(void *cookie)
{
	struct shared *s = cookie;
	redisAsyncContext *ac = s->sh_drop_ac;

	s->sh_drop_ac = NULL;
	if (ac != NULL)
		redisAsyncFree(ac);     /* pending claims get NULL replies */
}

/* Give up the connection now (never frees it here: we may be inside one
 * of its callbacks). */
static void
shared_drop(struct shared *s, const char *why)
{
	if (s->sh_ac == NULL)
		return;
	if (s->sh_drop_ac != NULL)
		log_abort("shared cache: two connections to drop");
	s->sh_drop_ac = s->sh_ac;
	s->sh_ac = NULL;
	if (!iv_task_registered(&s->sh_dropper))
		iv_task_register(&s->sh_dropper);
	shared_down(s, why);
}

static void
shared_retry(void *cookie)
{
	shared_connect(cookie);
}

static void
shared_handshake_timeout(void *cookie)
{
	struct shared *s = cookie;
	char why[64];

	snprintf(why, sizeof(why), "no handshake within %d ms", SHARED_HANDSHAKE_MS);
	shared_drop(s, why);
}

/* A reply of the handshake (AUTH, SELECT, PING). */
static void
shared_handshake_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct shared *s = ac->data;
	redisReply *reply = r;
	const char *step = priv;

	if (reply == NULL || ac != s->sh_ac)
		return;                 /* freed, or an old connection */
	if (reply->type == REDIS_REPLY_ERROR) {
		char *why = xasprintf("%s refused: %s", step, reply->str);

		shared_drop(s, why);
		free(why);
		return;
	}
	if (strcmp(step, "PING") != 0)
		return;
	iv_timer_unregister(&s->sh_handshake);
	shared_set_up(s, true);
	s->sh_backoff_ms = SHARED_BACKOFF_MIN_MS;
	s->sh_logged_down = false;
	log_notice("shared cache: connected to %s (db %u, %s)", s->sh_addr, s->sh_db,
	    s->sh_key != NULL ? "values signed" : "values NOT signed: no cache.shared_key_file");
}

static void
shared_connected(const redisAsyncContext *cac, int status)
{
	redisAsyncContext *ac = (redisAsyncContext *)cac;
	struct shared *s = ac->data;

	if (ac != s->sh_ac)
		return;
	if (status != REDIS_OK) {
		s->sh_ac = NULL;        /* hiredis frees it */
		shared_down(s, ac->errstr[0] != '\0' ? ac->errstr : "cannot connect");
		return;
	}
	if (s->sh_password != NULL && s->sh_user != NULL)
		redisAsyncCommand(ac, shared_handshake_reply, (void *)"AUTH", "AUTH %s %s",
		    s->sh_user, s->sh_password);
	else if (s->sh_password != NULL)
		redisAsyncCommand(ac, shared_handshake_reply, (void *)"AUTH", "AUTH %s",
		    s->sh_password);
	if (s->sh_db != 0)
		redisAsyncCommand(ac, shared_handshake_reply, (void *)"SELECT", "SELECT %u",
		    s->sh_db);
	redisAsyncCommand(ac, shared_handshake_reply, (void *)"PING", "PING");
}

static void
shared_disconnected(const redisAsyncContext *cac, int status)
{
	redisAsyncContext *ac = (redisAsyncContext *)cac;
	struct shared *s = ac->data;

	if (ac == s->sh_drop_ac)
		s->sh_drop_ac = NULL;   /* hiredis frees it itself */
	if (ac != s->sh_ac)
		return;
	s->sh_ac = NULL;
	shared_down(s, status == REDIS_OK ? "connection closed" :
	    ac->errstr[0] != '\0' ? ac->errstr : "connection lost");
}

static void
shared_connect(struct shared *s)
{
	redisAsyncContext *ac;

	if (s->sh_ep.ep_kind == ENDPOINT_UNIX)
		ac = redisAsyncConnectUnix(s->sh_ep.ep_path);
	else
		ac = redisAsyncConnect(s->sh_ep.ep_host, (int)s->sh_ep.ep_port);
	if (ac == NULL) {
		shared_down(s, "out of memory");
		return;
	}
	if (ac->err) {
		char why[160];

		snprintf(why, sizeof(why), "%s", ac->errstr);
		redisAsyncFree(ac);
		shared_down(s, why);
		return;
	}
	ac->data = s;
	s->sh_ac = ac;
	redisIvykisAttach(ac);
	redisAsyncSetConnectCallback(ac, shared_connected);
	redisAsyncSetDisconnectCallback(ac, shared_disconnected);
	iv_validate_now();
	s->sh_handshake.expires = iv_now;
	deadline_add_ms(&s->sh_handshake.expires, SHARED_HANDSHAKE_MS);
	iv_timer_register(&s->sh_handshake);
}

/* The contents of file (its first line for a password; all of it without
 * a trailing newline for a key), or NULL with *errp. */
static char *
shared_read_secret(const char *what, const char *path, bool line, size_t *lenp, char **errp)
{
	char buf[SHARED_SECRET_MAX + 1];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		*errp = xasprintf("cache.%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n > SHARED_SECRET_MAX) {
		*errp = xasprintf("cache.%s %s: longer than %d bytes", what, path, SHARED_SECRET_MAX);
		return NULL;
	}
	buf[n] = '\0';
	if (line)
		n = strcspn(buf, "\r\n");
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0 || (line && strlen(buf) != n)) {
		*errp = xasprintf("cache.%s %s: empty or holds a NUL byte", what, path);
		return NULL;
	}
	if (!line && n < 16) {
		*errp = xasprintf("cache.%s %s: shorter than 16 bytes", what, path);
		return NULL;
	}
	*lenp = n;
	return xstrndup(buf, n);
}

struct shared *
shared_new(const struct cfg_cache *cc, char **errp)
{
	struct shared *s;
	size_t n;

	*errp = NULL;
	if (*cc->cca_shared == '\0')
		return NULL;
	s = xcalloc(1, sizeof(*s));
	if (endpoint_parse_redis(cc->cca_shared, &s->sh_ep, &s->sh_db) != ENDPOINT_OK) {
		*errp = xasprintf("cache.shared \"%s\" does not parse", cc->cca_shared);
		free(s);
		return NULL;
	}
	if (*cc->cca_shared_password_file != '\0' &&
	    (s->sh_password = shared_read_secret("shared_password_file",
	    cc->cca_shared_password_file, true, &n, errp)) == NULL) {
		free(s);
		return NULL;
	}
	if (*cc->cca_shared_key_file != '\0' &&
	    (s->sh_key = (unsigned char *)shared_read_secret("shared_key_file",
	    cc->cca_shared_key_file, false, &s->sh_keylen, errp)) == NULL) {
		free(s->sh_password);
		free(s);
		return NULL;
	}
	s->sh_addr = xstrdup(cc->cca_shared);
	s->sh_user = *cc->cca_shared_user != '\0' ? xstrdup(cc->cca_shared_user) : NULL;
	s->sh_prefix = xstrdup(cc->cca_shared_prefix);
	s->sh_timeout_ms = cc->cca_shared_timeout_ms;
	s->sh_backoff_ms = SHARED_BACKOFF_MIN_MS;
	IV_TIMER_INIT(&s->sh_retry);
	s->sh_retry.cookie = s;
	s->sh_retry.handler = shared_retry;
	IV_TIMER_INIT(&s->sh_handshake);
	s->sh_handshake.cookie = s;
	s->sh_handshake.handler = shared_handshake_timeout;
	IV_TASK_INIT(&s->sh_dropper);
	s->sh_dropper.cookie = s;
	s->sh_dropper.handler = shared_dropper;
	shared_set_up(s, false);
	shared_connect(s);
	return s;
}

static void
shared_req_free(struct shared_req *r)
{
	struct shared *s = r->rq_s;

	if (iv_timer_registered(&r->rq_timer))
		iv_timer_unregister(&r->rq_timer);
	if (r->rq_prev)
		r->rq_prev->rq_next = r->rq_next;
	else
		s->sh_reqs = r->rq_next;
	if (r->rq_next)
		r->rq_next->rq_prev = r->rq_prev;
	free(r->rq_domain);
	free(r->rq_key);
	free(r->rq_value);
	free(r);
}

void
shared_free(struct shared *s)
{
	struct shared_req *r;

	if (s == NULL)
		return;
	for (r = s->sh_reqs; r != NULL; r = r->rq_next) {
		r->rq_fn = NULL;
		r->rq_ffn = NULL;
		r->rq_locked = false;           /* no lock object for a late reply */
		if (iv_timer_registered(&r->rq_timer))
			iv_timer_unregister(&r->rq_timer);
	}
	if (iv_timer_registered(&s->sh_retry))
		iv_timer_unregister(&s->sh_retry);
	if (iv_timer_registered(&s->sh_handshake))
		iv_timer_unregister(&s->sh_handshake);
	if (iv_task_registered(&s->sh_dropper))
		iv_task_unregister(&s->sh_dropper);
	if (s->sh_drop_ac != NULL) {
		redisAsyncContext *ac = s->sh_drop_ac;

		s->sh_drop_ac = NULL;
		redisAsyncFree(ac);
	}
	if (s->sh_ac != NULL) {
		redisAsyncContext *ac = s->sh_ac;

		s->sh_ac = NULL;
		redisAsyncFree(ac);
	}
	while (s->sh_reqs != NULL)              /* none left unless hiredis lost one */
		shared_req_free(s->sh_reqs);
	while (s->sh_locks != NULL)             /* their holders are gone: they lapse */
		shared_lock_free(s->sh_locks);
	shared_set_up(s, false);
	free(s->sh_addr);
	free(s->sh_user);
	free(s->sh_password);
	free(s->sh_key);
	free(s->sh_prefix);
	free(s);
}

bool
shared_up(const struct shared *s)
{
	return s != NULL && s->sh_up;
}

unsigned
shared_timeout_ms(const struct shared *s)
{
	return s->sh_timeout_ms;
}

bool
shared_signed(const struct shared *s)
{
	return s->sh_key != NULL;
}

/* ---- writes ---- */

/* The reply to a write nobody waits for. */
void
shared_write_reply(redisAsyncContext *ac, void *rp, void *priv)
{
	redisReply *reply = rp;

	(void)ac;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		metrics_inc(&shared_errors_metric, 0, 0);
		log_warnx("shared cache: %s: %s", (const char *)priv, reply->str);
	}
}

/* ---- claims and fetches ---- */

/* Both replies are in (a fetch: its one): decide and answer. */
static void
shared_claim_end(struct shared_req *r)
{
	struct shared *s = r->rq_s;
	shared_claim_fn *fn = r->rq_fn;
	shared_fetch_fn *ffn = r->rq_ffn;
	const char *payload = NULL, *why = NULL;
	struct shared_lock *lk = NULL;
	enum shared_claim st;

	if (fn == NULL && ffn == NULL) {
		if (r->rq_locked)               /* a late reply: the lock is nobody's use */
			shared_unlock(shared_lock_new(s, r->rq_domain, r->rq_token));
		shared_req_free(r);
		return;
	}
	if (r->rq_value != NULL &&
	    (payload = shared_open(s, r->rq_key, r->rq_value, strlen(r->rq_value), &why)) == NULL)
		shared_reject(s, r->rq_domain, why);
	r->rq_fn = NULL;
	r->rq_ffn = NULL;
	if (ffn != NULL) {
		ffn(r->rq_arg, payload);
		shared_req_free(r);
		return;
	}
	if (payload != NULL)
		st = SHARED_VALUE;
	else if (r->rq_locked)
		st = SHARED_LOCKED;
	else if (r->rq_failed)
		st = SHARED_FAILED;
	else
		st = SHARED_BUSY;
	if (r->rq_locked)
		lk = shared_lock_new(s, r->rq_domain, r->rq_token);
	fn(r->rq_arg, st, payload, lk);
	shared_req_free(r);
}

static void
shared_claim_failed(struct shared_req *r, const char *what, const char *err)
{
	if (!r->rq_failed && (r->rq_fn != NULL || r->rq_ffn != NULL)) {
		metrics_inc(&shared_errors_metric, 0, 0);
		log_warnx("shared cache: %s %s: %s", what, r->rq_key, err);
	}
	r->rq_failed = true;
}

static void
shared_get_reply(redisAsyncContext *ac, void *rp, void *priv)
{
	struct shared_req *r = priv;
	redisReply *reply = rp;

	(void)ac;
	if (reply == NULL)
		r->rq_failed = true;
	else if (reply->type == REDIS_REPLY_STRING)
		r->rq_value = xstrndup(reply->str, reply->len);
	else if (reply->type == REDIS_REPLY_ERROR)
		shared_claim_failed(r, "GET", reply->str);
	else if (reply->type != REDIS_REPLY_NIL)
		shared_claim_failed(r, "GET", "an unexpected reply");
	if (--r->rq_pending == 0)
		shared_claim_end(r);
}

static void
shared_lock_reply(redisAsyncContext *ac, void *rp, void *priv)
{
	struct shared_req *r = priv;
	redisReply *reply = rp;

	(void)ac;
	if (reply == NULL)
		r->rq_failed = true;
	else if (reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "OK") == 0)
		r->rq_locked = true;
	else if (reply->type == REDIS_REPLY_ERROR)
		shared_claim_failed(r, "SET NX", reply->str);
	else if (reply->type != REDIS_REPLY_NIL)
		shared_claim_failed(r, "SET NX", "an unexpected reply");
	if (--r->rq_pending == 0)
		shared_claim_end(r);
}

static void
shared_claim_timeout(void *cookie)
{
	struct shared_req *r = cookie;
	struct shared *s = r->rq_s;
	shared_claim_fn *fn = r->rq_fn;
	shared_fetch_fn *ffn = r->rq_ffn;
	void *arg = r->rq_arg;
	char why[96];

	r->rq_fn = NULL;                /* its late replies only free it */
	r->rq_ffn = NULL;
	metrics_inc(&shared_errors_metric, 0, 0);
	snprintf(why, sizeof(why), "no reply within %u ms for %s", s->sh_timeout_ms,
	    r->rq_domain);
	shared_drop(s, why);
	if (ffn != NULL)
		ffn(arg, NULL);
	else
		fn(arg, SHARED_FAILED, NULL, NULL);
}

/* A request for key (kind:name) with its timer, listed. */
static struct shared_req *
shared_req_new(struct shared *s, const char *kind, const char *name, unsigned timeout_ms,
    void *arg)
{
	struct shared_req *r = xcalloc(1, sizeof(*r));

	r->rq_s = s;
	r->rq_arg = arg;
	r->rq_domain = xstrdup(name);
	r->rq_key = shared_key(s, kind, name);
	r->rq_next = s->sh_reqs;
	if (r->rq_next)
		r->rq_next->rq_prev = r;
	s->sh_reqs = r;
	IV_TIMER_INIT(&r->rq_timer);
	r->rq_timer.cookie = r;
	r->rq_timer.handler = shared_claim_timeout;
	iv_validate_now();
	r->rq_timer.expires = iv_now;
	deadline_add_ms(&r->rq_timer.expires, timeout_ms > 0 ? timeout_ms : 1);
	iv_timer_register(&r->rq_timer);
	return r;
}

struct shared_req *
shared_claim(struct shared *s, const char *domain, unsigned timeout_ms, shared_claim_fn *fn,
    void *arg)
{
	struct shared_req *r;
	char *lock;

	if (!shared_up(s))
		return NULL;
	r = shared_req_new(s, "v", domain, timeout_ms, arg);
	r->rq_fn = fn;
	shared_token(r->rq_token);
	lock = shared_key(s, "lock", domain);
	/* The lock first, then the value: the holder publishes before it
	 * unlocks, so a claim that gets the lock after it sees its value
	 * (GET first could miss the value, then take the freed lock, and
	 * resolve a second time). The lock's value is this claim's token:
	 * only its holder renews or drops it. */
	if (redisAsyncCommand(s->sh_ac, shared_lock_reply, r, "SET %s %s NX PX %d", lock,
	    r->rq_token, SHARED_LOCK_MS) != REDIS_OK ||
	    redisAsyncCommand(s->sh_ac, shared_get_reply, r, "GET %s", r->rq_key) != REDIS_OK)
		log_abort("shared cache: hiredis refused a command on a live connection");
	free(lock);
	r->rq_pending = 2;
	return r;
}

struct shared_req *
shared_fetch(struct shared *s, const char *kind, const char *name, unsigned timeout_ms,
    shared_fetch_fn *fn, void *arg)
{
	struct shared_req *r;

	if (!shared_up(s))
		return NULL;
	r = shared_req_new(s, kind, name, timeout_ms, arg);
	r->rq_ffn = fn;
	if (redisAsyncCommand(s->sh_ac, shared_get_reply, r, "GET %s", r->rq_key) != REDIS_OK)
		log_abort("shared cache: hiredis refused a command on a live connection");
	r->rq_pending = 1;
	return r;
}

void
shared_cancel(struct shared_req *r)
{
	r->rq_fn = NULL;
	r->rq_ffn = NULL;
	if (iv_timer_registered(&r->rq_timer))
		iv_timer_unregister(&r->rq_timer);
}

/* ---- writes nobody waits for ---- */

/* SET key (kind:name) to payload in its envelope for ttl_ms. */
static void
shared_set(struct shared *s, const char *kind, const char *name, const char *payload,
    int64_t ttl_ms)
{
	struct sbuf sb = SBUF_INIT;
	char *key, mac[HMAC_SHA256_HEXLEN + 1];

	key = shared_key(s, kind, name);
	if (s->sh_key != NULL)
		shared_mac(s, key, payload, strlen(payload), mac);
	else
		strcpy(mac, "-");
	sbuf_printf(&sb, SHARED_VERSION_LINE "%s\n%s", mac, payload);
	redisAsyncCommand(s->sh_ac, shared_write_reply, (void *)"SET", "SET %s %b PX %lld", key,
	    sbuf_str(&sb), sb.sb_len, (long long)ttl_ms);
	sbuf_free(&sb);
	free(key);
}

void
shared_publish(struct shared *s, const char *domain, const char *payload, int64_t ttl_ms,
    struct shared_lock *lk)
{
	if (shared_up(s) && ttl_ms >= 1)
		shared_set(s, "v", domain, payload, ttl_ms);
	shared_unlock(lk);
}

void
shared_put(struct shared *s, const char *kind, const char *name, const char *payload,
    int64_t ttl_ms)
{
	if (shared_up(s) && ttl_ms >= 1)
		shared_set(s, kind, name, payload, ttl_ms);
}

void
shared_purge(struct shared *s, const char *domain)
{
	char *key;

	if (!shared_up(s)) {
		log_warnx("shared cache: %s is down: %s stays in it until it expires",
		    s->sh_addr, domain);
		return;
	}
	key = shared_key(s, "v", domain);
	redisAsyncCommand(s->sh_ac, shared_write_reply, (void *)"DEL", "DEL %s", key);
	free(key);
}

/* One SCAN page: DEL its keys, ask for the next page. */
static void
shared_scan_reply(redisAsyncContext *ac, void *rp, void *priv)
{
	struct shared *s = ac->data;
	redisReply *reply = rp, *keys;
	const char **argv;
	size_t *argl, i;
	char *match;

	(void)priv;
	if (reply == NULL || ac != s->sh_ac)
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY) {
		metrics_inc(&shared_errors_metric, 0, 0);
		log_warnx("shared cache: SCAN: %s", reply->type == REDIS_REPLY_ERROR ?
		    reply->str : "an unexpected reply");
		return;
	}
	keys = reply->element[1];
	if (keys->elements > 0) {
		argv = xcalloc(keys->elements + 1, sizeof(*argv));
		argl = xcalloc(keys->elements + 1, sizeof(*argl));
		argv[0] = "DEL";
		argl[0] = 3;
		for (i = 0; i < keys->elements; i++) {
			argv[i + 1] = keys->element[i]->str;
			argl[i + 1] = keys->element[i]->len;
		}
		redisAsyncCommandArgv(ac, shared_write_reply, (void *)"DEL", (int)keys->elements + 1,
		    argv, argl);
		free(argv);
		free(argl);
	}
	if (strcmp(reply->element[0]->str, "0") == 0)
		return;
	match = shared_key(s, "v", "*");
	redisAsyncCommand(ac, shared_scan_reply, NULL, "SCAN %s MATCH %s COUNT 1000",
	    reply->element[0]->str, match);
	free(match);
}

void
shared_purge_all(struct shared *s)
{
	char *match;

	if (!shared_up(s)) {
		log_warnx("shared cache: %s is down: its values stay until they expire", s->sh_addr);
		return;
	}
	match = shared_key(s, "v", "*");
	redisAsyncCommand(s->sh_ac, shared_scan_reply, NULL, "SCAN 0 MATCH %s COUNT 1000", match);
	free(match);
}
