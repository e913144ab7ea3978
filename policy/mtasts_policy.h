/*
 * mtasts_policy.h: the MTA-STS (RFC 8461) policy object and the strict,
 * pure parsers for what a policy domain publishes: the _mta-sts TXT record
 * (§3.1), the policy body (§3.2) and the mx patterns (§4.1). Input is
 * untrusted (and fuzzed: fuzz/mtasts_fuzz.c). libc and common/ only: no
 * event loop, no DNS, no HTTP.
 *
 * Ownership: a struct mtasts_policy comes from mtasts_policy_parse() with
 * one reference; it is immutable once shared: its builder
 * (policy/mtasts.c after a fetch, policy/cache.c from its file) fills in
 * mp_id and mp_fetched first. mtasts_policy_ref() takes another reference
 * (from any thread), mtasts_policy_unref() drops one and frees the policy
 * with the last.
 * The lookup, its results and the caches each hold their own reference.
 */
#ifndef DM_MTASTS_POLICY_H
#define DM_MTASTS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sbuf;

enum mtasts_mode {
	MTASTS_MODE_ENFORCE,
	MTASTS_MODE_TESTING,
	MTASTS_MODE_NONE
};

#define MTASTS_ID_MAX           32              /* sts-id: 1-32 ALPHA/DIGIT */
#define MTASTS_MAX_AGE_MAX      31557600u       /* max_age cap: one year */
#define MTASTS_BODY_MAX         65536           /* largest policy body accepted */
#define MTASTS_MX_MAX           1024            /* mx lines accepted in one policy (64 KiB bounds it anyway) */

struct mtasts_policy {
	enum mtasts_mode mp_mode;
	uint32_t mp_max_age;
	char **mp_mx;                   /* patterns as published ("*.example.com", "mx.example.com") */
	size_t mp_nmx;
	char mp_id[MTASTS_ID_MAX + 1];  /* the TXT id it was fetched under */
	time_t mp_fetched;              /* wall clock */
	char *mp_text;                  /* the policy body as fetched (TLSRPT policy_string lines) */
	int mp_refs;                    /* private; atomic (verdicts on milter threads) */
};

/*
 * Does one TXT record's text (strings concatenated) begin with the version
 * field ("v=STSv1" followed by *WSP and ";" or the end)? Only those records
 * count (§3.1): true for a candidate, whether or not the rest parses;
 * false for any other record.
 */
bool mtasts_policy_txt_candidate(const char *txt);

/* One TXT record's text (strings concatenated): 1 with id copied out when
 * it is a valid v=STSv1 record (§3.1), 0 (id "") when not. */
int mtasts_policy_txt_parse(const char *txt, char id[MTASTS_ID_MAX + 1]);

/*
 * The policy body (§3.2): LF or CRLF lines "key: value"; version, mode,
 * max_age exactly once (a repeat is ignored: first wins), mx repeated,
 * unknown keys ignored; version STSv1; max_age 1-10 digits, capped at
 * MTASTS_MAX_AGE_MAX; mx required unless mode none; each mx a domain or
 * "*." + domain. Returns a policy with one reference (mp_id "",
 * mp_fetched 0, mp_text a NUL-terminated copy of the body) and *errp NULL;
 * or NULL with a malloc'ed *errp naming the line and the problem (the
 * caller frees it).
 */
struct mtasts_policy *mtasts_policy_parse(const char *body, size_t len, char **errp);

/* Does host (lower case, no trailing dot) match pattern (§4.1)? true when
 * it does; false when not, and for an empty pattern or host. */
bool mtasts_policy_mx_match(const char *pattern, const char *host);

/* Takes a reference; returns p. Aborts when p was already freed. */
struct mtasts_policy *mtasts_policy_ref(struct mtasts_policy *p);
/* Drops a reference (NULL: nothing); the last frees the policy. */
void mtasts_policy_unref(struct mtasts_policy *p);

/* "enforce", "testing", "none"; "?" for a value out of range. */
const char *mtasts_policy_mode_name(enum mtasts_mode m);

/*
 * Append untrusted text (a policy line, a header, a domain) to sb for a
 * message: in double quotes, at most 40 bytes then "...", anything not
 * printable ASCII (and '"', '\\') as \xHH. No return value.
 */
void mtasts_policy_quote(struct sbuf *sb, const char *s, size_t n);

#endif
