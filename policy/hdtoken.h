/*
 * hdtoken.h: HaveDane tokens and test addresses.
 *
 * A HaveDane test is named by a token its server issued: 40 hex digits
 * for 20 bytes, the creation time (4 bytes, seconds since the epoch, big
 * endian), a random nonce (6 bytes) and the first 10 bytes of
 * HMAC-SHA256(key, time || nonce) under the operator's token key
 * (havedane.token_key_file). Nothing is stored when a token is issued:
 * the MAC proves it was, the time says when. A test's addresses are
 * <token>@do.<zone>, <token>@dont.<zone> and <token>@wrong.<zone>.
 *
 * Pure functions apart from hdtoken_key_load() (reads a file) and
 * hdtoken_new() (reads the kernel's random source); no allocation; any
 * thread. The key is the caller's.
 */
#ifndef DM_HDTOKEN_H
#define DM_HDTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HDTOKEN_LEN             40      /* hex digits, without the NUL */
#define HDTOKEN_KEY_MIN         16      /* bytes of key, at least */
#define HDTOKEN_KEY_MAX         1024
/* A token whose time is this far ahead of the clock is refused. */
#define HDTOKEN_SKEW_S          300

struct hdtoken_key {
	uint8_t hk_key[HDTOKEN_KEY_MAX];
	size_t hk_len;
};

/*
 * Read the key: the whole file's bytes (HDTOKEN_KEY_MIN to HDTOKEN_KEY_MAX
 * of them). false with *errp a malloc'ed sentence naming the file
 * (unreadable, too short, too long); the caller frees it.
 */
bool hdtoken_key_load(const char *path, struct hdtoken_key *key, char **errp);

/* The token for (created, nonce) under key into out (NUL-terminated,
 * lower-case hex). false only when the HMAC cannot be computed. */
bool hdtoken_make(const struct hdtoken_key *key, time_t created, const uint8_t nonce[6],
    char out[HDTOKEN_LEN + 1]);

/* A fresh token made now with a random nonce; false when no random bytes
 * or no HMAC could be had (out is then ""). */
bool hdtoken_new(const struct hdtoken_key *key, time_t now, char out[HDTOKEN_LEN + 1]);

enum hdtoken_status {
	HDTOKEN_OK,             /* issued with this key, within its lifetime */
	HDTOKEN_MALFORMED,      /* not 40 hex digits */
	HDTOKEN_FORGED,         /* 40 hex digits, but not a MAC of this key */
	HDTOKEN_EXPIRED         /* a genuine token older than ttl_s (or from
	                           more than HDTOKEN_SKEW_S in the future) */
};

/*
 * Check tok[0..len) (either case) against key at time now. HDTOKEN_OK
 * sets *created (when not NULL) and writes the lower-case token to
 * norm (when not NULL). The MAC is compared in constant time.
 */
enum hdtoken_status hdtoken_check(const struct hdtoken_key *key, const char *tok, size_t len,
    time_t now, unsigned ttl_s, time_t *created, char norm[HDTOKEN_LEN + 1]);

/* "ok", "malformed", "forged", "expired". */
const char *hdtoken_status_name(enum hdtoken_status st);

/* The three test domains, in this order everywhere. */
enum hdtoken_kind {
	HDTOKEN_DO,             /* do.<zone>: correct TLSA */
	HDTOKEN_DONT,           /* dont.<zone>: no TLSA */
	HDTOKEN_WRONG,          /* wrong.<zone>: TLSA that matches nothing */
	HDTOKEN_NKIND
};

/* "do", "dont", "wrong". */
const char *hdtoken_kind_name(enum hdtoken_kind k);

/*
 * Is rcpt (an RCPT path "<local@domain>" or a bare "local@domain") an
 * address of one of zone's three test domains (compared without case, a
 * trailing dot allowed)? true sets *kind and points *local / *local_len at
 * the local part inside rcpt (not checked: hdtoken_check() does). false:
 * an address of any other domain, or no '@'.
 */
bool hdtoken_rcpt(const char *zone, const char *rcpt, enum hdtoken_kind *kind,
    const char **local, size_t *local_len);

#endif
