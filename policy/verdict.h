/*
 * verdict.h: a domain's combined transport-security verdict and the
 * Postfix TLS policy it gives (product.md "The Postfix policy").
 *
 * verdict_build() combines a DANE result and an MTA-STS result under the
 * configuration's per-domain overrides and the overrides file's entries:
 *   an overrides file entry in force           -> OK <policy>       (config)
 *   a fixed `policy` for the domain           -> OK <policy>       (config)
 *   DANE bogus / temperror                     -> TEMP <reason>     (never MTA-STS)
 *   DANE usable -> OK dane-only; partial, unusable -> OK dane       (dane)
 *   DANE insecure, a host of the unsigned MX with usable TLSA -> OK dane
 *     (dane), unless MTA-STS enforce applies: then the MTA-STS policy
 *     (OK dane-only under `require = "dane"`)
 *   `require = "dane"` without usable DANE     -> OK dane-only      (config)
 *   MTA-STS enforce (or testing when strict)   -> OK secure match=P1:P2 servername=hostname
 *   otherwise                                  -> NOTFOUND          (none)
 * and precomputes the socketmap replies (with and without the TLSRPT
 * attributes of Postfix >= 3.10), so that serving a verdict allocates
 * nothing. Both replies fit VERDICT_REPLY_MAX and a policy is never cut:
 *   a policy that cannot fit whole             -> TEMP <reason>, logged
 *     (a guard: an MTA-STS policy's match list always fits, and cfg
 *     bounds a fixed policy by CFG_POLICY_MAX)
 *   a TLSRPT reply that would pass the limit   -> later policy_string
 *     lines left out; without even room for policy_type, policy_domain and
 *     every mx_host_pattern: the plain reply (logged, never TEMP)
 *
 * A verdict is immutable and reference-counted (atomic: other threads may
 * hold references); it owns the DANE result and a reference to the MTA-STS
 * policy it was built from.
 */
#ifndef DM_VERDICT_H
#define DM_VERDICT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/jsonout.h"
#include "common/sbuf.h"
#include "config/cfg.h"
#include "policy/dane.h"
#include "policy/mtasts.h"
#include "policy/overrides.h"

/* The longest reply payload Postfix takes from a socketmap server
 * (socketmap_table(5), src/util/dict_sockmap.c); socketmap/ keeps it too. */
#define VERDICT_REPLY_MAX       100000

enum verdict_kind {
	VERDICT_OK,             /* a policy */
	VERDICT_NOTFOUND,       /* no policy: Postfix's default level applies */
	VERDICT_TEMP            /* try again later */
};

enum verdict_source {
	VERDICT_SRC_NONE,
	VERDICT_SRC_DANE,
	VERDICT_SRC_MTASTS,
	VERDICT_SRC_CONFIG
};

/* The mta-sts= value of product.md. */
enum verdict_sts {
	VERDICT_STS_ENFORCE,
	VERDICT_STS_TESTING,
	VERDICT_STS_NONE,       /* mode none */
	VERDICT_STS_ABSENT,     /* no valid TXT (or MTA-STS disabled) */
	VERDICT_STS_ERROR       /* TXT found, no usable policy */
};

struct verdict {
	char *v_domain;
	enum verdict_kind v_kind;
	enum verdict_source v_source;
	const char *v_level;            /* "dane-only", "dane", "secure", ..., "none", "temperror" */
	char *v_policy;                 /* the Postfix policy text, NULL unless VERDICT_OK */
	char *v_reason;                 /* why this verdict, always set */
	struct dane_result *v_dane;     /* owned */
	enum verdict_sts v_sts;
	struct mtasts_policy *v_sts_policy;     /* a reference, or NULL */
	enum mtasts_failure v_sts_failure;
	char *v_sts_reason;
	char *v_reply;                  /* socketmap payload: "OK ...", "NOTFOUND ", "TEMP ...";
	                                   at most VERDICT_REPLY_MAX bytes */
	size_t v_reply_len;
	char *v_reply_tlsrpt;           /* the same with TLSRPT attributes (or == v_reply); as long */
	size_t v_reply_tlsrpt_len;
	bool v_require_dane;            /* built under require = "dane" (verdict_require_dane) */
	time_t v_created;
	time_t v_valid_until;           /* an overrides entry's expiry it rests on; 0 = none */
	int v_refs;                     /* private */
};

/*
 * Combine. Takes ownership of dane (not NULL); sts may be NULL (MTA-STS
 * disabled) and is only read (its policy gets a new reference).
 * Returns a verdict with one reference. Never NULL.
 */
struct verdict *verdict_build(const struct cfg *cfg, const struct overrides *ov,
    struct dane_result *dane, const struct mtasts_result *sts, time_t now);

/*
 * The configuration rules about a domain, decided here once for every
 * face. verdict_fixed_policy: the fixed Postfix policy text for domain at
 * now (answered without DNS), or NULL: an entry of the overrides file ov
 * (may be NULL; policy/overrides.h) in force wins, else the
 * configuration's `policy`; a danefail entry's use and an expired entry
 * are logged.
 * verdict_require_dane: does the configuration say require = "dane" for
 * domain (the socketmap then never answers "dane"; the milter refuses a
 * recipient without usable DANE)? verdict_require_dane_anywhere: does
 * any domains entry say require = "dane", so that it may apply to a
 * domain nobody can tell (the milter refuses a recipient whose address
 * has no usable domain, milter/addr.h, rather than let it escape the rule)?
 */
const char *verdict_fixed_policy(const struct cfg *cfg, const struct overrides *ov,
    const char *domain, time_t now);
bool verdict_require_dane(const struct cfg *cfg, const char *domain);
bool verdict_require_dane_anywhere(const struct cfg *cfg);

struct verdict *verdict_ref(struct verdict *v);
void verdict_unref(struct verdict *v);

/*
 * The verdict as one JSON object (the socketmap JSON request, query
 * --json): domain, policy, dane, mta_sts, source, reply, postfix_policy,
 * reason, dane_detail (policy/report.h), mta_sts_detail (state, and with
 * a policy id, mode, max_age, fetched, mx; then failure, reason). A new
 * reference the caller owns (common/jsonout.h). Never NULL.
 */
json_t *verdict_json(const struct verdict *v);
/*
 * Set policy, source, dane and mta_sts, in that order, in the object o
 * (the short form of the milter's summary line and `ctl dump --json`).
 */
void verdict_json_brief(json_t *o, const struct verdict *v);

const char *verdict_kind_name(enum verdict_kind k);     /* "OK", "NOTFOUND", "TEMP" */
const char *verdict_source_name(enum verdict_source s); /* "none", "dane", "mta-sts", "config" */
const char *verdict_sts_name(enum verdict_sts s);       /* "enforce", ..., "absent", "error" */

#endif
