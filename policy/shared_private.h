/*
 * shared_private.h: the insides of the fleet's shared cache that its two
 * files see (policy/shared.c: the connection, claims, values;
 * policy/shared_lock.c: the locks). Nothing else includes it.
 */
#ifndef DM_SHARED_PRIVATE_H
#define DM_SHARED_PRIVATE_H

#include <iv.h>
#include <stdbool.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "common/endpoint.h"
#include "policy/shared.h"

#define SHARED_TOKEN_LEN        32      /* hex digits of a lock's token */

struct shared_lock {
	struct shared *lk_s;
	char *lk_domain;
	char *lk_key;                   /* PREFIX "lock:" DOMAIN */
	char lk_token[SHARED_TOKEN_LEN + 1];
	int64_t lk_until_ms;            /* monotonic: no renewal after this */
	bool lk_lost;                   /* a renewal found it was no longer ours */
	struct iv_timer lk_renew;
	struct shared_lock *lk_prev, *lk_next;
};

struct shared_req {
	struct shared *rq_s;
	shared_claim_fn *rq_fn;         /* a claim; NULL: cancelled or timed out */
	shared_fetch_fn *rq_ffn;        /* a fetch; NULL: cancelled or timed out */
	void *rq_arg;
	struct iv_timer rq_timer;
	int rq_pending;                 /* replies still to come */
	char *rq_domain;
	char *rq_key;
	char *rq_value;                 /* GET's string, or NULL */
	char rq_token[SHARED_TOKEN_LEN + 1];    /* a claim's: the lock's value */
	bool rq_locked;
	bool rq_failed;
	struct shared_req *rq_prev, *rq_next;
};

struct shared {
	char *sh_addr;                  /* cache.shared, for messages */
	struct endpoint sh_ep;
	unsigned sh_db;
	char *sh_user;                  /* NULL: AUTH with the password alone */
	char *sh_password;              /* NULL: no AUTH */
	unsigned char *sh_key;          /* NULL: values not signed */
	size_t sh_keylen;
	char *sh_prefix;
	unsigned sh_timeout_ms;
	redisAsyncContext *sh_ac;       /* connecting, in handshake or up */
	redisAsyncContext *sh_drop_ac;  /* to free from the dropper task */
	bool sh_up;
	bool sh_logged_down;            /* the last state logged was "down" */
	unsigned sh_backoff_ms;
	struct iv_timer sh_retry;
	struct iv_timer sh_handshake;
	struct iv_task sh_dropper;
	struct shared_req *sh_reqs;
	struct shared_lock *sh_locks;   /* held by this member */
};

/* shared.c */
char *shared_key(const struct shared *s, const char *kind, const char *domain);
/* hiredis's callback for a write nobody waits for: priv names the
 * command (a static string) for the log of an error reply. */
void shared_write_reply(redisAsyncContext *ac, void *rp, void *priv);
/* danemilter_shared_cache_errors_total + 1. */
void shared_error_count(void);

/* shared_lock.c */
/* out: a random token in hex (pid, time and a counter without entropy). */
void shared_token(char out[SHARED_TOKEN_LEN + 1]);
/* A lock s holds for domain with token, renewed from now on. */
struct shared_lock *shared_lock_new(struct shared *s, const char *domain, const char *token);
/* Forget lk (no command sent). */
void shared_lock_free(struct shared_lock *lk);

#endif
