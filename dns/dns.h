/*
 * dns.h: asynchronous, DNSSEC-validating DNS lookups on the engine's
 * ivykis loop. The only module that includes <unbound.h>.
 *
 * A struct dns_resolver owns one libunbound context (which validates
 * signatures itself and never trusts an upstream AD bit), registered as an
 * iv_fd in the thread that created it. All calls must come from that thread.
 *
 * dns_query_start() returns a handle; the callback runs exactly once, later,
 * from the loop (never from inside dns_query_start), unless the query is
 * cancelled first with dns_query_cancel(). The answer passed to the callback
 * and everything it points to belong to the resolver and are valid only
 * during the callback: copy what you keep. The handle is invalid after the
 * callback or cancel. Every query is bounded by the configured timeout.
 */
#ifndef DM_DNS_H
#define DM_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_TYPE_A      1
#define DNS_TYPE_CNAME  5
#define DNS_TYPE_MX     15
#define DNS_TYPE_TXT    16
#define DNS_TYPE_AAAA   28
#define DNS_TYPE_TLSA   52

enum dns_status {
	DNS_RECORDS,    /* da_nrr >= 1 records of the asked type */
	DNS_NODATA,     /* the name exists, no records of that type */
	DNS_NXDOMAIN,   /* the name does not exist */
	DNS_ERROR,      /* SERVFAIL, bogus, malformed, refused: a lookup error */
	DNS_TIMEOUT     /* no answer within the bound: a lookup error */
};

enum dns_security {
	DNS_SEC_INSECURE,       /* validated as not signed (or no anchor above) */
	DNS_SEC_SECURE,         /* validated: signatures chain to a trust anchor */
	DNS_SEC_BOGUS,          /* validation failed; da_why has the reason */
	DNS_SEC_INDETERMINATE   /* no answer to judge (error or timeout) */
};

struct dns_rdata {
	const uint8_t *dr_data;
	size_t dr_len;
};

struct dns_answer {
	const char *da_qname;           /* as asked, no trailing dot */
	uint16_t da_qtype;
	enum dns_status da_status;
	enum dns_security da_security;
	const char *da_why;             /* error / bogus reason, or NULL */
	int da_rcode;
	uint32_t da_ttl;                /* records: smallest along the CNAME chain;
	                                   NODATA/NXDOMAIN: the negative TTL; errors: 0 */
	const char *da_canon;           /* owner after CNAMEs, no trailing dot; NULL when none followed */
	size_t da_nrr;
	const struct dns_rdata *da_rr;
	unsigned da_elapsed_ms;
};

struct dns_stub_opt {
	const char *dso_zone;
	const char *const *dso_addrs;   /* "IP" or "IP@port" */
	size_t dso_naddrs;
};

struct dns_options {
	const char *const *do_forward;  /* empty: recursive resolution from the root */
	size_t do_nforward;
	const char *do_trust_anchor_file;       /* NULL or "": none */
	const char *const *do_trust_anchors;
	size_t do_ntrust_anchors;
	const struct dns_stub_opt *do_stubs;
	size_t do_nstubs;
	unsigned do_timeout_ms;
};

struct dns_resolver;
struct dns_query;

typedef void dns_callback(void *arg, const struct dns_answer *ans);

/*
 * Create on the calling thread's ivykis loop (after iv_init). NULL with a
 * malloc'ed *errp when libunbound refuses the options or trust anchors, or
 * when do_trust_anchor_file is not a readable regular file holding at least
 * one record line (anything but blank lines, ";" comments and "$"
 * directives): "trust anchor file PATH: <strerror>" / "...: holds no DS or
 * DNSKEY record (DNSSEC validation needs a trust anchor)".
 */
struct dns_resolver *dns_resolver_new(const struct dns_options *opts, char **errp);
/* Drop outstanding queries without calling back, free everything. */
void dns_resolver_free(struct dns_resolver *r);

/*
 * Start a lookup of name (presentation form, with or without trailing dot).
 * logtag != NULL turns on the PowerMTA-style resolution log for this query:
 * "TAG: Starting new query for TYPE NAME:", one "TAG: answer RR" per record
 * of the answer section, and "TAG: result TYPE NAME: ..." with the status,
 * DNSSEC state and reason. Never NULL.
 */
struct dns_query *dns_query_start(struct dns_resolver *r, const char *name,
    uint16_t type, const char *logtag, dns_callback *cb, void *arg);
/* The callback will not run. */
void dns_query_cancel(struct dns_query *q);

/* Queries started / currently outstanding (for benchmarks and metrics). */
unsigned long dns_resolver_queries(const struct dns_resolver *r);
unsigned dns_resolver_outstanding(const struct dns_resolver *r);

const char *dns_type_name(uint16_t type);
const char *dns_status_name(enum dns_status st);
const char *dns_security_name(enum dns_security sec);

/*
 * Put the DNS metric families in the render list of common/metrics.h (a
 * second call changes nothing): danemilter_dns_query_duration_seconds and
 * danemilter_dns_queries_total{result}, counted for every answer, error
 * and timeout of every resolver, whether registered or not.
 */
void dns_metrics_register(void);

#endif
