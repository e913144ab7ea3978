/*
 * cachefile.h: the cache file (cache.file): its format, the atomic write,
 * and the parser. policy/cache.c decides which verdicts and MTA-STS
 * policies are worth saving and what a loaded line becomes in memory
 * (expiry clamped to cache.max_ttl, duplicates, the policy store of
 * policy/stsstore.h); this module turns verdicts and MTA-STS policies into
 * lines and lines back into them.
 *
 * FORMAT. Text, one record per line, fields separated by one space, free
 * text hex-encoded in lower case ("-" for an empty field):
 *   danemilter-cache 2
 *   p DOMAIN POLICY-EXPIRES LAST-FAILURE FAILED-ID ID FETCHED BODY
 *   e DOMAIN EXPIRES DANE-VERDICT DANE-TTL DANE-REASON STS-STATE STS-FAILURE
 *     STS-REASON POLICY-EXPIRES LAST-FAILURE ID FETCHED BODY DETAIL
 * DETAIL is what the DANE lookup found about the MX hosts (what `query`,
 * the socketmap's JSON and the milter's mx-tlsa= show, and what a probe
 * needs), or "-" when the verdict has none (one loaded from a file of
 * version 1) or it passes the bounds below; no spaces:
 *   d,MX-DNSSEC,IMPLICIT-MX,CANON,HOSTS-DROPPED,ROUNDS,QUERIES,ELAPSED-MS
 *   followed, per MX host (at most DANE_MAX_HOSTS), by
 *   ;h,PREF,NAME,CANON,ADDR-DNSSEC,STATE,BOGUS,WHY,TLSA-BASE,TLSA-OWNER,ADDRS,TLSAS
 * NAME, CANON, TLSA-BASE, TLSA-OWNER: hex of 1 to CACHEFILE_NAME_MAX
 * printable characters without a space ("-": none; NAME is required);
 * WHY: hex as a reason ("-": none); MX-DNSSEC and ADDR-DNSSEC the numbers
 * of enum dns_security, STATE of enum dane_host_state, IMPLICIT-MX and
 * BOGUS 0 or 1; ADDRS "-" or 1 to CACHEFILE_HOST_ADDRS_MAX IPv4 / IPv6
 * addresses separated by "/"; TLSAS "-" or 1 to CACHEFILE_HOST_TLSA_MAX
 * records separated by "/", each USAGE.SELECTOR.MTYPE.CHECK.AGILITY.DATA
 * (0-255 thrice, enum tlsa_check, 0 or 1, hex of 1 to
 * CACHEFILE_TLSA_DATA_MAX bytes). A DETAIL that does not parse makes its
 * line malformed. The Postfix policy never comes from DETAIL: a verdict
 * is rebuilt from DANE-VERDICT alone (cachefile_keeps).
 * A file of version 1 ("danemilter-cache 1", "e" lines of 14 fields, no
 * DETAIL) loads all the same; its verdicts come back without the hosts.
 * In a file of version 2 (and in the shared cache's values,
 * cachefile_parse_line) an "e" line without DETAIL is malformed.
 * A "p" line is one record of the MTA-STS policy store: DOMAIN's policy
 * (ID, FETCHED, BODY) until POLICY-EXPIRES, and its last failed fetch at
 * LAST-FAILURE (0: none) for the TXT id FAILED-ID ("-": none or unknown);
 * without a policy POLICY-EXPIRES and FETCHED are 0, ID and BODY "-".
 * An "e" line is one verdict: DOMAIN's until EXPIRES. This version writes
 * the "p" lines first (a verdict is rebuilt with the policy the store then
 * holds) and its "e" lines without a policy (POLICY-EXPIRES, LAST-FAILURE
 * and FETCHED 0, ID and BODY "-"); a file of the previous version has no
 * "p" lines and its policies inside the "e" lines, and loads all the same
 * (a version without "p" lines skips them as malformed).
 * DOMAIN is a domain key (engine_domain_key); EXPIRES, POLICY-EXPIRES,
 * LAST-FAILURE and FETCHED are wall-clock seconds; DANE-VERDICT,
 * STS-STATE and STS-FAILURE the numbers of enum dane_verdict, enum
 * verdict_sts and enum mtasts_failure. Without a verdict: EXPIRES,
 * DANE-VERDICT, DANE-TTL, STS-FAILURE 0, STS-STATE absent (3), the
 * reasons "-". A line is malformed when a field is missing or extra, a
 * number is out of range, a hex field is odd, not hex, holds a NUL or is
 * too long (CACHEFILE_REASON_MAX bytes for a reason, MTASTS_BODY_MAX for a body), a
 * FAILED-ID is not 1-32 letters and digits, or the line holds a NUL; for
 * an unexpired policy also when BODY does not parse or ID is not 1-32
 * letters and digits.
 *
 * Ownership: nothing is kept between calls. Thread: any (the cache calls
 * it on its loop thread).
 */
#ifndef DM_CACHEFILE_H
#define DM_CACHEFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/sbuf.h"
#include "config/cfg.h"
#include "policy/mtasts.h"
#include "policy/verdict.h"
#include "tls/probe.h"

/* A reason's (and a probe result's text fields') longest decoded form. */
#define CACHEFILE_REASON_MAX            4096
/* DETAIL's bounds: a name (RFC 1035 §2.3.4), and a host with more
 * addresses or TLSA records, or a record with more data, is written
 * without DETAIL ("-"). */
#define CACHEFILE_NAME_MAX              255
#define CACHEFILE_HOST_ADDRS_MAX        64
#define CACHEFILE_HOST_TLSA_MAX         64
#define CACHEFILE_TLSA_DATA_MAX         16384

/* The file's first line ("danemilter-cache 2\n"), appended to sb. */
void cachefile_begin(struct sbuf *sb);

/*
 * Does an "e" line keep v (cachefile_append writes it with its expiry)?
 * Only the DANE verdict is written, and the policy is rebuilt from it
 * (dane_verdict_policy): a verdict whose policy says more (DANE at the
 * hosts of an unsigned MX; MX hosts past the engine's cap) is not kept,
 * so that a reader looks it up again, never weaker.
 */
bool cachefile_keeps(const struct verdict *v);

/*
 * One entry's line, appended to sb: domain's verdict v until expires
 * (v NULL: no verdict kept), its MTA-STS policy p until policy_expires
 * (p NULL: none kept), and the time of its last failed policy fetch.
 */
void cachefile_append(struct sbuf *sb, const char *domain, const struct verdict *v,
    time_t expires, const struct mtasts_policy *p, time_t policy_expires,
    time_t last_failure);

/*
 * One record of the MTA-STS policy store, appended to sb as a "p" line:
 * domain's policy p until policy_expires (p NULL: none), and its last
 * failed fetch at last_failure (0: none) for the TXT id failed_id (NULL
 * or "": unknown).
 */
void cachefile_append_sts(struct sbuf *sb, const char *domain, const struct mtasts_policy *p,
    time_t policy_expires, time_t last_failure, const char *failed_id);

/* Write sb's text to path atomically (path.tmp, fsync, rename; the temp
 * file removed on failure). 0, or -1 with a malloc'ed *errp. */
int cachefile_write(const char *path, const struct sbuf *sb, char **errp);

/* One well-formed "e" line as read; strings valid during the callback. */
struct cachefile_entry {
	const char *cfe_domain;         /* a domain key */
	time_t cfe_expires;             /* the verdict's end as written (not clamped) */
	enum dane_verdict cfe_dane;
	uint32_t cfe_dane_ttl;
	char *cfe_dane_reason;          /* "" when none */
	enum verdict_sts cfe_sts;
	enum mtasts_failure cfe_sts_failure;
	char *cfe_sts_reason;           /* "" when none */
	time_t cfe_policy_expires;
	time_t cfe_last_failure;
	const char *cfe_policy_id;      /* not yet checked: see cachefile_policy() */
	time_t cfe_fetched;
	char *cfe_body;                 /* not yet parsed; "" when none */
	const struct dane_result *cfe_detail;   /* DETAIL: the MX hosts (its verdict,
	                                           policy, reason and TTL unset), or NULL */
};

/* A well-formed entry line was read: false when the entry turns out to be
 * malformed all the same (the line is then reported as such). */
typedef bool cachefile_entry_fn(void *arg, const struct cachefile_entry *fe);

/* One well-formed "p" line as read; strings valid during the callback. */
struct cachefile_sts {
	const char *cfs_domain;         /* a domain key */
	time_t cfs_policy_expires;      /* as written: see cachefile_sts_policy() */
	time_t cfs_last_failure;
	const char *cfs_failed_id;      /* "" when none */
	const char *cfs_policy_id;      /* not yet checked: see cachefile_sts_policy() */
	time_t cfs_fetched;
	char *cfs_body;                 /* not yet parsed; "" when none */
};

/* A well-formed "p" line was read: false when it turns out to be
 * malformed all the same (the line is then reported as such). */
typedef bool cachefile_sts_fn(void *arg, const struct cachefile_sts *fs);

/*
 * Read path: check the first line, call fn for each well-formed "e" line
 * and sfn for each well-formed "p" line, in file order, log a warning
 * ("cache: PATH:LINE: malformed entry ignored") for each malformed line
 * and go on; empty lines are skipped. 0 (also when path does not exist:
 * nothing read), or -1 with a malloc'ed *errp when the file cannot be
 * read or is not a cache file.
 */
int cachefile_read(const char *path, cachefile_entry_fn *fn, cachefile_sts_fn *sfn, void *arg,
    char **errp);
/* The same on an open stream (the caller closes it), name standing for
 * the path in messages; cachefile_read() is this on the opened file.
 * 0, or -1 with a malloc'ed *errp when it is not a cache file. */
int cachefile_read_stream(FILE *f, const char *name, cachefile_entry_fn *fn,
    cachefile_sts_fn *sfn, void *arg, char **errp);

/*
 * One line of a cache file (without its newline; changed in place): fn
 * for a well-formed "e" line, sfn for a well-formed "p" line. False when
 * it is malformed (by its syntax or by the callback), as cachefile_read()
 * would report it. The shared cache's values are such lines
 * (policy/shared.h, policy/cache.c).
 */
bool cachefile_parse_line(char *line, cachefile_entry_fn *fn, cachefile_sts_fn *sfn, void *arg);

enum cachefile_policy {
	CACHEFILE_POLICY,               /* *pp (one reference) until *expires */
	CACHEFILE_NO_POLICY,            /* none saved, or expired at now */
	CACHEFILE_MALFORMED             /* an unexpired policy whose body or id is bad */
};

/*
 * The MTA-STS policy fe holds, if it has not expired at now: its body
 * parsed, its id and fetch time set, its end the sooner of POLICY-EXPIRES
 * and FETCHED + max_age (whatever the file says). *pp and *expires are
 * set only with CACHEFILE_POLICY.
 */
enum cachefile_policy cachefile_policy(const struct cachefile_entry *fe, time_t now,
    struct mtasts_policy **pp, time_t *expires);
/* The same for the policy of a "p" line. */
enum cachefile_policy cachefile_sts_policy(const struct cachefile_sts *fs, time_t now,
    struct mtasts_policy **pp, time_t *expires);

/*
 * The verdict fe holds, rebuilt under cfg and the overrides ov (may be
 * NULL) at now (verdict_build) from its
 * DANE verdict, TTL and reason and its MTA-STS state, failure and reason,
 * with policy p (NULL when none: an MTA-STS state of "policy" then reads
 * as an error). One reference; never NULL.
 */
struct verdict *cachefile_verdict(const struct cachefile_entry *fe, const struct cfg *cfg,
    const struct overrides *ov, struct mtasts_policy *p, time_t now);

/*
 * PROBE RESULTS. The fleet's shared cache holds a probe result
 * (policy/probecache.h) as one line of the same kind:
 *   r EXPIRES STATUS REASON BITS PKIX DEPTH ELAPSED-MS DETAIL VERSION CIPHER
 *     SUBJECT ISSUER MATCH CHAIN
 * EXPIRES wall-clock seconds; STATUS and REASON the numbers of enum
 * probe_status and enum probe_reason; BITS 0-65535; PKIX 0 or 1; DEPTH
 * -1 (no DANE match) to CACHEFILE_PEER_MAX - 1; ELAPSED-MS 0-2^32-1;
 * DETAIL to MATCH hex text ("-" empty) of at most CACHEFILE_REASON_MAX
 * bytes each; CHAIN "-" or 1 to CACHEFILE_PEER_MAX
 * certificates the server sent (DER, leaf first) in hex separated by
 * "/", each 1 to CACHEFILE_CERT_MAX bytes. Anything else is malformed.
 */
#define CACHEFILE_PEER_MAX      16
#define CACHEFILE_CERT_MAX      65536

/* A probe result read back; every string and the chain its own. */
struct cachefile_probe {
	time_t cfp_expires;
	struct probe_result cfp_res;    /* ps_chain "", ps_peer = &cfp_peer */
	char *cfp_s[6];                 /* detail, version, cipher, subject, issuer, match */
	struct cert_chain cfp_peer;
};

/* r's line (with its newline) until expires, appended to sb; false (sb
 * unchanged) when r passes the bounds above (it is then not shared). */
bool cachefile_append_probe(struct sbuf *sb, const struct probe_result *r, time_t expires);
/* One "r" line (its newline optional; changed in place) into *out: false
 * when malformed (*out then holds nothing to free). */
bool cachefile_parse_probe(char *line, struct cachefile_probe *out);
void cachefile_probe_free(struct cachefile_probe *p);

#endif
