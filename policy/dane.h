/*
 * dane.h: the SMTP DANE verdict for a mail domain (RFC 7672 §2.2, RFC 7671
 * §9, RFC 6698), computed asynchronously on the engine's ivykis loop.
 *
 * dane_lookup_start() resolves MX, then for every MX host in parallel A and
 * AAAA in parallel, then TLSA at _25._tcp.<base> for the candidate base
 * names (CNAME-expanded first, then the original; only when secure), and
 * calls back once with a struct dane_result that the callee owns and frees
 * with dane_result_free(). The critical path is three DNS round trips (MX,
 * addresses, TLSA) whatever the number of hosts.
 *
 * A lookup error anywhere (timeout, SERVFAIL, malformed data) gives
 * DANE_TEMPERROR and a validation failure gives DANE_BOGUS: an error never
 * reads as "no TLSA".
 */
#ifndef DM_DANE_H
#define DM_DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"
#include "tls/tlsa.h"

enum dane_verdict {
	DANE_USABLE,    /* secure MX, every reachable host has usable TLSA */
	DANE_PARTIAL,   /* secure MX, some hosts with secure TLSA, some without */
	DANE_UNUSABLE,  /* secure TLSA everywhere, no record usable */
	DANE_NONE,      /* secure MX (or implicit), no secure TLSA anywhere */
	DANE_INSECURE,  /* the MX RRset (or the domain) is not signed */
	DANE_NULLMX,    /* RFC 7505 null MX: no mail accepted */
	DANE_BOGUS,     /* DNSSEC validation failed on MX, address or TLSA */
	DANE_TEMPERROR  /* timeout, SERVFAIL or malformed data */
};

/* The Postfix TLS policy a verdict implies. */
enum dane_policy {
	DANE_POLICY_DANE_ONLY,
	DANE_POLICY_DANE,
	DANE_POLICY_NONE,       /* no policy: Postfix's own default level */
	DANE_POLICY_TEMP        /* defer: never downgrade on an error */
};

/* What one MX host contributes. */
enum dane_host_state {
	DANE_HOST_USABLE,       /* secure TLSA RRset with >= 1 usable record */
	DANE_HOST_UNUSABLE,     /* secure TLSA RRset, no usable record */
	DANE_HOST_NO_TLSA,      /* secure addresses, no secure TLSA RRset */
	DANE_HOST_INSECURE,     /* insecure addresses: TLSA not looked up */
	DANE_HOST_UNREACHABLE,  /* no addresses, or not a valid host name */
	DANE_HOST_ERROR,        /* a lookup error (dh_bogus: validation failure) */
	DANE_HOST_NOT_CHECKED   /* insecure MX RRset: hosts are not examined */
};

struct dane_host {
	char *dh_name;                  /* the MX target as published */
	uint16_t dh_pref;
	char *dh_canon;                 /* CNAME-expanded name, or NULL */
	char **dh_addrs;                /* text form */
	size_t dh_naddrs;
	enum dns_security dh_addr_security;
	enum dane_host_state dh_state;
	bool dh_bogus;                  /* with DANE_HOST_ERROR */
	char *dh_why;                   /* explanation of dh_state, or NULL */
	char *dh_tlsa_base;             /* base domain of the TLSA RRset used, or NULL */
	char *dh_tlsa_owner;            /* owner after TLSA CNAMEs, or NULL if same */
	struct tlsa_rr *dh_tlsa;        /* rated: tr_check, tr_agility_ignored set */
	size_t dh_ntlsa;
};

struct dane_result {
	char *dr_domain;
	enum dane_verdict dr_verdict;
	enum dane_policy dr_policy;
	char *dr_reason;                /* always set */
	uint32_t dr_ttl;                /* smallest TTL involved; 0 after an error */
	enum dns_security dr_mx_security;
	bool dr_implicit_mx;
	char *dr_domain_canon;          /* the domain's CNAME target, or NULL */
	struct dane_host *dr_hosts;     /* by preference */
	size_t dr_nhosts;
	size_t dr_hosts_dropped;        /* MX hosts past DANE_MAX_HOSTS */
	bool dr_no_detail;              /* the verdict alone (loaded from the cache
	                                   file): no hosts, no MX security */
	unsigned dr_rounds;             /* sequential DNS round trips on the critical path */
	unsigned dr_queries;            /* DNS queries made */
	unsigned dr_elapsed_ms;
};

#define DANE_MAX_HOSTS 16

struct dane_lookup;

/* res is the callee's: free it with dane_result_free(). */
typedef void dane_done_fn(void *arg, struct dane_result *res);

/*
 * Start the lookup for domain (a host name: LDH labels, no trailing dot,
 * lower case). logtag != NULL logs every DNS step and the verdict with that
 * prefix. Returns NULL only when domain is not a valid host name. The
 * callback runs once, from the loop; the lookup is freed after it.
 */
struct dane_lookup *dane_lookup_start(struct dns_resolver *r, const char *domain,
    const char *logtag, dane_done_fn *done, void *arg);
/* Abandon a lookup whose callback has not run yet. */
void dane_lookup_cancel(struct dane_lookup *l);

void dane_result_free(struct dane_result *res);
/* A deep copy (the caller frees it with dane_result_free). */
struct dane_result *dane_result_dup(const struct dane_result *res);

const char *dane_verdict_name(enum dane_verdict v);
const char *dane_policy_name(enum dane_policy p);
const char *dane_host_state_name(enum dane_host_state s);
enum dane_policy dane_verdict_policy(enum dane_verdict v);
/* With an unsigned MX RRset (DANE_INSECURE): does a host have a secure,
 * usable TLSA RRset (the header's mx-tlsa=usable)? False otherwise. */
bool dane_insecure_mx_usable(const struct dane_result *res);

#endif
