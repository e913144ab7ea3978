/*
 * shared_lock.c: the fleet's locks (policy/shared.h: KEYS, the lock of
 * the member that resolves a domain): a claim's token, the renewal while
 * its holder resolves, and giving it back only while it is still ours.
 * The connection, claims and values are policy/shared.c's; what both see
 * is in policy/shared_private.h. A struct shared_lock is owned by its
 * struct shared (sh_locks) from shared_lock_new() until shared_unlock()
 * or shared_lock_free() (which shared_free() calls for those left).
 */
#include "shared_private.h"

#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* KEYS[1] is the lock, ARGV[1] our token: renew it (ARGV[2] ms) or drop
 * it only while it is still ours (another member's lock after ours lapsed
 * is left alone). 1 when it was ours, else 0. */
#define SHARED_RENEW_LUA        "if redis.call('get', KEYS[1]) == ARGV[1] then " \
	"return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
#define SHARED_RELEASE_LUA      "if redis.call('get', KEYS[1]) == ARGV[1] then " \
	"return redis.call('del', KEYS[1]) else return 0 end"

/* A lock's value: this member's claim, unlike any other member's. */
void
shared_token(char out[SHARED_TOKEN_LEN + 1])
{
	static unsigned long counter;
	unsigned char b[SHARED_TOKEN_LEN / 2];
	size_t got = 0, i;
	ssize_t n;

	while (got < sizeof(b) && (n = getrandom(b + got, sizeof(b) - got, GRND_NONBLOCK)) > 0)
		got += (size_t)n;
	if (got < sizeof(b)) {
		/* no entropy yet (early boot): pid, time and a counter still
		 * tell this member's claims from the others' */
		unsigned long v[2] = { (unsigned long)getpid() ^ ++counter << 20,
		    (unsigned long)deadline_now_ms() };

		memset(b, 0, sizeof(b));
		memcpy(b, v, sizeof(v) < sizeof(b) ? sizeof(v) : sizeof(b));
	}
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void
shared_lock_reply_renew(redisAsyncContext *ac, void *rp, void *priv)
{
	struct shared *s = ac->data;
	struct shared_lock *lk;
	redisReply *reply = rp;
	char *token = priv;

	if (reply == NULL || ac != s->sh_ac) {
		free(token);
		return;
	}
	for (lk = s->sh_locks; lk != NULL; lk = lk->lk_next)
		if (strcmp(lk->lk_token, token) == 0)
			break;
	free(token);
	if (lk == NULL)
		return;                         /* released meanwhile */
	if (reply->type == REDIS_REPLY_ERROR) {
		shared_error_count();
		log_warnx("shared cache: renewing the lock of %s: %s", lk->lk_domain, reply->str);
	} else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0 && !lk->lk_lost) {
		/* it lapsed (Redis was away longer than its life) and may be
		 * another member's now: never touch it again */
		lk->lk_lost = true;
		if (iv_timer_registered(&lk->lk_renew))
			iv_timer_unregister(&lk->lk_renew);
		log_info("shared cache: the lock of %s lapsed while resolving", lk->lk_domain);
	}
}

/* Every SHARED_LOCK_RENEW_MS while held: the lock's life again, if it is
 * still ours; never past lk_until_ms (then it lapses by itself). */
static void
shared_lock_renew(void *cookie)
{
	struct shared_lock *lk = cookie;
	struct shared *s = lk->lk_s;
	char ms[16];

	if (deadline_now_ms() + SHARED_LOCK_RENEW_MS > lk->lk_until_ms) {
		log_info("shared cache: %s: still resolving after %d ms: the fleet's lock is left "
		    "to lapse", lk->lk_domain, SHARED_LOCK_HOLD_MS);
		return;
	}
	if (shared_up(s)) {
		snprintf(ms, sizeof(ms), "%d", SHARED_LOCK_MS);
		redisAsyncCommand(s->sh_ac, shared_lock_reply_renew, xstrdup(lk->lk_token),
		    "EVAL %s 1 %s %s %s", SHARED_RENEW_LUA, lk->lk_key, lk->lk_token, ms);
	}
	iv_validate_now();
	lk->lk_renew.expires = iv_now;
	deadline_add_ms(&lk->lk_renew.expires, SHARED_LOCK_RENEW_MS);
	iv_timer_register(&lk->lk_renew);
}

struct shared_lock *
shared_lock_new(struct shared *s, const char *domain, const char *token)
{
	struct shared_lock *lk = xcalloc(1, sizeof(*lk));

	lk->lk_s = s;
	lk->lk_domain = xstrdup(domain);
	lk->lk_key = shared_key(s, "lock", domain);
	snprintf(lk->lk_token, sizeof(lk->lk_token), "%s", token);
	lk->lk_until_ms = deadline_now_ms() + SHARED_LOCK_HOLD_MS;
	IV_TIMER_INIT(&lk->lk_renew);
	lk->lk_renew.cookie = lk;
	lk->lk_renew.handler = shared_lock_renew;
	iv_validate_now();
	lk->lk_renew.expires = iv_now;
	deadline_add_ms(&lk->lk_renew.expires, SHARED_LOCK_RENEW_MS);
	iv_timer_register(&lk->lk_renew);
	lk->lk_next = s->sh_locks;
	if (lk->lk_next)
		lk->lk_next->lk_prev = lk;
	s->sh_locks = lk;
	return lk;
}

/* Forget lk (no command sent). */
void
shared_lock_free(struct shared_lock *lk)
{
	struct shared *s = lk->lk_s;

	if (iv_timer_registered(&lk->lk_renew))
		iv_timer_unregister(&lk->lk_renew);
	if (lk->lk_prev)
		lk->lk_prev->lk_next = lk->lk_next;
	else
		s->sh_locks = lk->lk_next;
	if (lk->lk_next)
		lk->lk_next->lk_prev = lk->lk_prev;
	free(lk->lk_domain);
	free(lk->lk_key);
	free(lk);
}

void
shared_unlock(struct shared_lock *lk)
{
	struct shared *s;

	if (lk == NULL)
		return;
	s = lk->lk_s;
	if (shared_up(s) && !lk->lk_lost)
		redisAsyncCommand(s->sh_ac, shared_write_reply, (void *)"EVAL (unlock)",
		    "EVAL %s 1 %s %s", SHARED_RELEASE_LUA, lk->lk_key, lk->lk_token);
	shared_lock_free(lk);
}
