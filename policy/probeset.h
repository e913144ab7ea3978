/*
 * probeset.h: probe every MX address of a domain under the policy its
 * verdict implies, and judge the domain (danemilter check; the milter's
 * probe= key).
 *
 * The mode per MX host: DANE with the host's secure TLSA RRset when the
 * domain's DANE applies (a host without TLSA there: opportunistic TLS);
 * otherwise PKIX + MX name when an MTA-STS policy applies (enforce or
 * testing; an MX host outside the policy's patterns fails without a
 * probe); otherwise opportunistic (facts only). Hosts of an unsigned MX
 * RRset get their addresses looked up here.
 *
 * The probes themselves go through a probe cache (policy/probecache.h):
 * results kept per (host, address, port, mode, TLSA base, CA file, next
 * hop, TLSA set) for probe.ttl (pass) or probe.fail_ttl (fail, error), a
 * probe in flight joined, not repeated, at most probe.max_parallel at
 * once. probecache_new() and probecache_free() come with this header.
 *
 * Ownership: a probecache belongs to its creator (engine thread); a run
 * must end or be cancelled before its cache is freed. The result handed
 * to the callback is borrowed (valid during the call); probeset_cancel()
 * abandons a run (no callback). Loop thread only.
 */
#ifndef DM_PROBESET_H
#define DM_PROBESET_H

#include <stdbool.h>
#include <time.h>

#include "policy/engine.h"
#include "policy/probecache.h"
#include "policy/verdict.h"
#include "tls/probe.h"

enum probeset_verdict {
	PROBESET_PASS,          /* every host verified under the domain's policy */
	PROBESET_FAIL,          /* at least one address failed verification */
	PROBESET_TEMP,          /* a host could not be probed at all, or the verdict is TEMP */
	PROBESET_SKIPPED        /* nothing to verify: no policy, null MX, no hosts */
};

struct probeset_addr {
	const char *pa_host;
	const char *pa_addr;
	enum probe_mode pa_mode;
	enum probe_status pa_status;
	enum probe_reason pa_reason;
	const char *pa_detail;
	const char *pa_tls_version;     /* "" when no handshake */
	const char *pa_cipher;
	int pa_bits;
	const char *pa_subject;
	const char *pa_issuer;
	bool pa_pkix_verified;
	int pa_dane_depth;
	const char *pa_dane_match;
	unsigned pa_ms;
	bool pa_cached;                 /* from the cache, not probed now */
	const struct cert_chain *pa_peer;       /* what the server sent (DER, [0] the
	                                           leaf); empty without a handshake */
};

struct probeset_result {
	const char *pr_domain;
	enum probeset_verdict pr_verdict;
	enum probe_reason pr_reason;    /* the first failure's (PROBESET_FAIL) */
	const char *pr_note;            /* why skipped / temp, or a summary */
	const struct probeset_addr *pr_addrs;
	size_t pr_naddrs;
};

struct probeset;

typedef void probeset_done_fn(void *arg, const struct probeset_result *res);

/*
 * Probe v's domain with en's resolver and configuration (probe.*,
 * mta_sts.ca_file, log_tls / en_force_log for the TLS log lines).
 * done runs once, from the loop, never from inside this call.
 */
struct probeset *probeset_start(struct engine *en, struct probecache *pc,
    const struct verdict *v, time_t now, probeset_done_fn *done, void *arg);
void probeset_cancel(struct probeset *ps);

const char *probeset_verdict_name(enum probeset_verdict v);    /* "pass", "fail", "temperror", "skipped" */

#endif
