/*
 * monitorcheck_test.c: the monitor's checks (policy/monitorcheck.c) over
 * facts built here, table-driven (TAP): every state of every check, the
 * exact record a failure tells the operator to publish or remove, the
 * expiry arithmetic with a fixed clock, the TLSRPT record parser, and the
 * exit code. The certificates below were made once with openssl (P-256,
 * the leaves valid 2025-01-01..2030-01-01 under "unit CA"):
 *   A  mx.unit.test, SPKI SHA-256 896D7394...C12C1AB7
 *   B  mx.unit.test, another key, SPKI SHA-256 318E7A1B...EB66F69C
 *   CA SPKI SHA-256 D1815B59...3609BB16
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "dns/rdata.h"
#include "policy/monitorcheck.h"
#include "policy/mtasts_policy.h"
#include "tests/tap.h"

static const char pem_a[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgjCCASigAwIBAgICEAEwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHdW5pdCBD\n"
    "QTAeFw0yNTAxMDEwMDAwMDBaFw0zMDAxMDEwMDAwMDBaMBcxFTATBgNVBAMMDG14\n"
    "LnVuaXQudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPX+icc8QC+caLv5\n"
    "OU5xn0IGPqohqTSDR+eYmb0WQ4jg85JoMasLY/iQIyKQPlJE1xEHmQF16nBD4H8T\n"
    "iY7ij9OjaTBnMAwGA1UdEwEB/wQCMAAwFwYDVR0RBBAwDoIMbXgudW5pdC50ZXN0\n"
    "MB0GA1UdDgQWBBTpCnySxX5HRcgwGwk+z399NJaRjjAfBgNVHSMEGDAWgBRMth/b\n"
    "gbXGRg9zeWWUuXvguos6bDAKBggqhkjOPQQDAgNIADBFAiEAp8KQoW3Rmd/kKI9y\n"
    "pprp2mXvCgDftlRViSpNyTmaec0CIGhFO173/mlcxSsE5hmsHAeoRh0LG2l+N6L+\n"
    "Lod59+e/\n"
    "-----END CERTIFICATE-----\n";
static const char pem_b[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgzCCASigAwIBAgICEAIwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHdW5pdCBD\n"
    "QTAeFw0yNTAxMDEwMDAwMDBaFw0zMDAxMDEwMDAwMDBaMBcxFTATBgNVBAMMDG14\n"
    "LnVuaXQudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLMpO+qHqi4Q4obI\n"
    "pzr3cT3pjXrT7lBl6zQ6yTHNw10vPXi2XQ85OiB3Z0uS8e+AkHGCL6ztic8j3eWg\n"
    "3WZ9um+jaTBnMAwGA1UdEwEB/wQCMAAwFwYDVR0RBBAwDoIMbXgudW5pdC50ZXN0\n"
    "MB0GA1UdDgQWBBQaiReG71ATPXTzyrH1GBpoumRL/TAfBgNVHSMEGDAWgBRMth/b\n"
    "gbXGRg9zeWWUuXvguos6bDAKBggqhkjOPQQDAgNJADBGAiEA5prfJxIWoK1u0V0n\n"
    "cC7W0kkC4eVhm548MrYodM43uooCIQCA/9O2jfsDm3Xzthmb1/bYxl0vSS5JXvAG\n"
    "1L6SrQxZqQ==\n"
    "-----END CERTIFICATE-----\n";
static const char pem_ca[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBVDCB/KADAgECAgIQADAKBggqhkjOPQQDAjASMRAwDgYDVQQDDAd1bml0IENB\n"
    "MB4XDTIwMDEwMTAwMDAwMFoXDTQwMDEwMTAwMDAwMFowEjEQMA4GA1UEAwwHdW5p\n"
    "dCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBRrsurRyEz4tLo+CCrXwExc\n"
    "kc3lMXFTk+5sQ5vzgXQxc1kvqAAVa8oxd1Z2hRmWZZQMUGzxr1op/SKFC6ekgtyj\n"
    "QjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMB0GA1UdDgQWBBRM\n"
    "th/bgbXGRg9zeWWUuXvguos6bDAKBggqhkjOPQQDAgNHADBEAiBy7+ilhHo1+IVQ\n"
    "iiW9SCb7AcGOLMUyxlcWpA5+WOsidgIgfvhbKTRnQ3QJai8u9Bjxr8TWgHPlrlND\n"
    "8gsvzjGsvgA=\n"
    "-----END CERTIFICATE-----\n";

#define SHA_A   "896D739417D5D46C5DF31D7F15C663356DE6588F05951CDEAAB6AE4EC12C1AB7"
#define SHA_B   "318E7A1BAB4CC0642C807B8532EACE058580D1ED757D63FA019EB55EEB66F69C"
#define SHA_CA  "D1815B598B53562CF97148D676E323CBED683E8418BD885F19E307513609BB16"
#define HOST    "mx.unit.test"
#define DOM     "unit.test"
#define T2026   1767225600      /* 2026-01-01 00:00:00 UTC */
#define DAY     86400

static struct cert_chain ch_a, ch_b, ch_a_ca, ch_b_ca, ch_none;

/* Load a chain from PEM text through a temporary file (cert_chain_load). */
static void
load(struct cert_chain *c, const char *pem1, const char *pem2)
{
	char path[] = "/tmp/monitorcheck_test.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char *err = NULL;

	fputs(pem1, f);
	if (pem2 != NULL)
		fputs(pem2, f);
	fclose(f);
	if (cert_chain_load(path, c, &err) != CERT_LOAD_OK) {
		printf("Bail out! cannot load a test certificate: %s\n", err);
		exit(1);
	}
	unlink(path);
}

static void
rr_hex(struct tlsa_rr *rr, unsigned u, unsigned s, unsigned m, const char *hex)
{
	uint8_t data[64];
	size_t i, n = strlen(hex) / 2;

	for (i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &data[i]);
	tlsa_rr_set(rr, (uint8_t)u, (uint8_t)s, (uint8_t)m, data, n);
}

/* One case: the facts, then what the lines must say. */
struct fx {
	struct dane_host host;
	struct dane_result dane;
	struct tlsa_rr rrs[3];
	struct probeset_addr addr;
	struct probeset_result probe;
	struct monitorcheck_file file;
	struct mtasts_result sts;
	struct monitorcheck_tlsrpt tlsrpt;
	char *txt[2];
	struct monitorcheck_in in;
	struct monitorcheck_result out;
};

/* Everything in order: TLSA 3 1 1 of A, A live and matching, an enforce
 * policy naming the host, a TLSRPT record, now = 2026-01-01. */
static void
fx_init(struct fx *f)
{
	char *err = NULL;
	static const char body[] = "version: STSv1\nmode: enforce\nmx: " HOST "\nmax_age: 86400\n";

	memset(f, 0, sizeof(*f));
	rr_hex(&f->rrs[0], 3, 1, 1, SHA_A);
	f->host.dh_name = HOST;
	f->host.dh_pref = 10;
	f->host.dh_state = DANE_HOST_USABLE;
	f->host.dh_tlsa_base = HOST;
	f->host.dh_tlsa = f->rrs;
	f->host.dh_ntlsa = 1;
	f->dane.dr_domain = DOM;
	f->dane.dr_verdict = DANE_USABLE;
	f->dane.dr_reason = "1 of 1 MX hosts with usable TLSA records";
	f->dane.dr_mx_security = DNS_SEC_SECURE;
	f->dane.dr_hosts = &f->host;
	f->dane.dr_nhosts = 1;
	f->addr.pa_host = HOST;
	f->addr.pa_addr = "192.0.2.25";
	f->addr.pa_mode = PROBE_DANE;
	f->addr.pa_status = PROBE_PASS;
	f->addr.pa_detail = "DANE EE match at depth 0";
	f->addr.pa_dane_depth = 0;
	f->addr.pa_dane_match = "3 1 1 " SHA_A;
	f->addr.pa_peer = &ch_a;
	f->probe.pr_domain = DOM;
	f->probe.pr_addrs = &f->addr;
	f->probe.pr_naddrs = 1;
	f->sts.mr_status = MTASTS_POLICY;
	f->sts.mr_policy = mtasts_policy_parse(body, sizeof(body) - 1, &err);
	snprintf(f->sts.mr_policy->mp_id, sizeof(f->sts.mr_policy->mp_id), "id1");
	f->sts.mr_reason = "policy fetched";
	f->txt[0] = "v=TLSRPTv1; rua=mailto:tlsrpt@" DOM;
	f->tlsrpt.mt_status = DNS_RECORDS;
	f->tlsrpt.mt_txt = f->txt;
	f->tlsrpt.mt_ntxt = 1;
	f->in.mi_domain = DOM;
	f->in.mi_now = T2026;
	f->in.mi_warn_days = 21;
	f->in.mi_dane = &f->dane;
	f->in.mi_probe = &f->probe;
	f->in.mi_sts = &f->sts;
	f->in.mi_tlsrpt = &f->tlsrpt;
}

static void
fx_free(struct fx *f)
{
	size_t i;

	for (i = 0; i < 3; i++)
		free(f->rrs[i].tr_data);
	mtasts_policy_unref(f->sts.mr_policy);
	monitorcheck_result_free(&f->out);
}

/* Run, then compare one check's line "state: detail". */
static void
expect(struct fx *f, enum monitorcheck_id c, const char *want, const char *desc)
{
	char got[4096];

	monitorcheck_result_free(&f->out);
	monitorcheck_run(&f->in, &f->out);
	snprintf(got, sizeof(got), "%s: %s", monitorcheck_state_name(f->out.mr_state[c]),
	    f->out.mr_detail[c]);
	tap_is_str(got, want, desc);
}

static void
test_all_pass(void)
{
	struct fx f;
	size_t i;

	fx_init(&f);
	expect(&f, MONITORCHECK_DNSSEC, "pass: MX RRset secure: " HOST " (10)", "dnssec pass");
	for (i = 0; i < MONITORCHECK_N; i++)
		tap_ok(f.out.mr_state[i] == MONITORCHECK_PASS, "everything in order: %s pass (%s)",
		    monitorcheck_name((enum monitorcheck_id)i), f.out.mr_detail[i]);
	tap_ok(monitorcheck_exit(&f.out) == 0, "everything in order: exit 0");
	expect(&f, MONITORCHECK_TLSA_MATCH, "pass: " HOST "[192.0.2.25] matches at depth 0 (3 1 1 "
	    SHA_A ")", "tlsa-match pass names the address and the record");
	expect(&f, MONITORCHECK_CERT_EXPIRY, "pass: every certificate valid for more than 21 days "
	    "(the first to expire: 2030-01-01)", "cert-expiry pass: the first date");
	fx_free(&f);
}

static void
test_mismatch(void)
{
	struct fx f;

	fx_init(&f);
	f.addr.pa_peer = &ch_b;
	f.addr.pa_status = PROBE_FAIL;
	f.addr.pa_reason = PROBE_R_CERT_NOT_TRUSTED;
	f.addr.pa_detail = "no TLSA record matched the certificate chain";
	expect(&f, MONITORCHECK_TLSA_MATCH, "fail: " HOST "[192.0.2.25] certificate-not-trusted: no "
	    "TLSA record matched the certificate chain: its certificate (CN=" HOST ") needs "
	    "_25._tcp." HOST ". IN TLSA 3 1 1 " SHA_B ", or deploy the certificate the published "
	    "records name", "mismatch: tlsa-match fail with the live key's record");
	tap_ok(monitorcheck_exit(&f.out) == 1, "mismatch: exit 1");
	expect(&f, MONITORCHECK_TLSA_STALE, "warn: remove _25._tcp." HOST ". IN TLSA 3 1 1 " SHA_A
	    ": it matches neither the live nor the next certificate", "mismatch: the record is stale");
	/* the address out of reach instead: not checked */
	f.addr.pa_status = PROBE_ERROR;
	f.addr.pa_reason = PROBE_R_NONE;
	f.addr.pa_detail = "connect: Connection refused";
	f.addr.pa_peer = &ch_none;
	expect(&f, MONITORCHECK_TLSA_MATCH, "error: " HOST "[192.0.2.25] not reached: connect: "
	    "Connection refused", "host out of reach: tlsa-match error");
	expect(&f, MONITORCHECK_CERT_EXPIRY, "error: no certificate seen: no MX host completed a "
	    "TLS handshake", "nothing seen: cert-expiry error");
	expect(&f, MONITORCHECK_TLSA_STALE, "error: " HOST ": the live certificate could not be "
	    "fetched", "nothing seen: tlsa-stale error");
	tap_ok(monitorcheck_exit(&f.out) == 75, "only errors: exit 75");
	fx_free(&f);
}

static void
test_rollover(void)
{
	struct monitorcheck_file bad = { "/x/next.pem", NULL, "/x/next.pem: no certificate found" };
	struct fx f;

	fx_init(&f);
	f.file.mf_path = "/x/next.pem";
	f.file.mf_chain = &ch_b_ca;
	f.in.mi_files = &f.file;
	f.in.mi_nfiles = 1;
	expect(&f, MONITORCHECK_TLSA_ROLLOVER, "fail: /x/next.pem: no published TLSA record at "
	    "_25._tcp." HOST " matches it: publish _25._tcp." HOST ". IN TLSA 3 1 1 " SHA_B
	    " next to the current record, wait for the TLSA TTL, then deploy the certificate "
	    "(current + next)", "next key not published: rollover fail with the record");
	rr_hex(&f.rrs[1], 3, 1, 1, SHA_B);
	f.host.dh_ntlsa = 2;
	expect(&f, MONITORCHECK_TLSA_ROLLOVER, "pass: /x/next.pem: already published at _25._tcp."
	    HOST " (3 1 1)", "current + next published: rollover pass");
	expect(&f, MONITORCHECK_TLSA_STALE, "pass: every TLSA record matches the live or the next "
	    "certificate", "current + next: nothing stale");
	/* deployed: B live, A still published, no next file */
	f.in.mi_nfiles = 0;
	f.addr.pa_peer = &ch_b;
	expect(&f, MONITORCHECK_TLSA_STALE, "warn: remove _25._tcp." HOST ". IN TLSA 3 1 1 " SHA_A
	    ": it matches neither the live nor the next certificate", "after the deployment: the old "
	    "record is stale");
	/* a 2 1 1 record of the CA: any leaf under it rolls over */
	f.host.dh_ntlsa = 1;
	free(f.rrs[0].tr_data);
	rr_hex(&f.rrs[0], 2, 1, 1, SHA_CA);
	f.addr.pa_peer = &ch_a_ca;
	f.in.mi_files = &f.file;
	f.in.mi_nfiles = 1;
	expect(&f, MONITORCHECK_TLSA_ROLLOVER, "pass: /x/next.pem: already published at _25._tcp."
	    HOST " (2 1 1)", "DANE-TA: the next leaf under the same CA: rollover pass");
	expect(&f, MONITORCHECK_TLSA_STALE, "pass: every TLSA record matches the live or the next "
	    "certificate", "DANE-TA: the CA sent by the server matches");
	f.in.mi_files = &bad;
	expect(&f, MONITORCHECK_TLSA_ROLLOVER, "fail: /x/next.pem: /x/next.pem: no certificate found",
	    "an unreadable next certificate: fail");
	fx_free(&f);
}

static void
test_expiry(void)
{
	struct fx f;

	fx_init(&f);
	f.in.mi_now = 1893456000 - 12 * DAY;      /* 2030-01-01 minus 12 days */
	expect(&f, MONITORCHECK_CERT_EXPIRY, "warn: " HOST "[192.0.2.25]: the certificate CN=" HOST
	    " expires on 2030-01-01 (in 12 days): renew it (publish the new key's TLSA record first)",
	    "12 days left, warn at 21: warn");
	f.in.mi_warn_days = 10;
	expect(&f, MONITORCHECK_CERT_EXPIRY, "pass: every certificate valid for more than 10 days "
	    "(the first to expire: 2030-01-01)", "12 days left, warn at 10: pass");
	f.in.mi_now = 1893456000 + DAY;
	expect(&f, MONITORCHECK_CERT_EXPIRY, "fail: " HOST "[192.0.2.25]: the certificate CN=" HOST
	    " expired on 2030-01-01: renew it (publish the new key's TLSA record first)",
	    "expired: fail");
	f.in.mi_now = 1735689600 - DAY;            /* 2024-12-31 */
	expect(&f, MONITORCHECK_CERT_EXPIRY, "fail: " HOST "[192.0.2.25]: the certificate CN=" HOST
	    " is not valid before 2025-01-01", "not yet valid: fail");
	fx_free(&f);
}

static void
test_dns(void)
{
	struct fx f;

	fx_init(&f);
	f.dane.dr_mx_security = DNS_SEC_INSECURE;
	f.dane.dr_verdict = DANE_INSECURE;
	expect(&f, MONITORCHECK_DNSSEC, "fail: the MX RRset of " DOM " is not DNSSEC-signed "
	    "(insecure): sign the zone and publish its DS record in the parent zone",
	    "insecure MX: dnssec fail says what to do");
	expect(&f, MONITORCHECK_TLSA_PUBLISHED, "fail: the MX RRset is not DNSSEC-signed: TLSA "
	    "records are not used", "insecure MX: tlsa-published fail");
	f.dane.dr_mx_security = DNS_SEC_INDETERMINATE;
	f.dane.dr_verdict = DANE_TEMPERROR;
	f.dane.dr_reason = "MX " DOM ": timeout";
	expect(&f, MONITORCHECK_DNSSEC, "error: the MX lookup failed: MX " DOM ": timeout",
	    "lookup error: dnssec error, never fail or pass");
	tap_ok(f.out.mr_state[MONITORCHECK_TLSA_MATCH] == MONITORCHECK_ERROR &&
	    f.out.mr_state[MONITORCHECK_TLSA_PUBLISHED] == MONITORCHECK_ERROR,
	    "lookup error: the TLSA checks are errors too");
	tap_ok(monitorcheck_exit(&f.out) == 75, "lookup error: exit 75");
	f.dane.dr_mx_security = DNS_SEC_BOGUS;
	f.dane.dr_verdict = DANE_BOGUS;
	f.dane.dr_reason = "signature expired";
	expect(&f, MONITORCHECK_DNSSEC, "fail: DNSSEC validation of " DOM " failed: signature "
	    "expired: fix the zone's signatures or its DS record", "bogus: dnssec fail");
	/* a host without TLSA, its live key known */
	fx_free(&f);
	fx_init(&f);
	f.host.dh_state = DANE_HOST_NO_TLSA;
	f.host.dh_ntlsa = 0;
	f.host.dh_why = "TLSA _25._tcp." HOST ": nxdomain";
	f.dane.dr_verdict = DANE_NONE;
	f.addr.pa_mode = PROBE_NONE;
	expect(&f, MONITORCHECK_TLSA_PUBLISHED, "fail: " HOST ": no TLSA records (TLSA _25._tcp." HOST
	    ": nxdomain): publish _25._tcp." HOST ". IN TLSA 3 1 1 " SHA_A,
	    "no TLSA: the record to publish for the live key");
	expect(&f, MONITORCHECK_TLSA_MATCH, "warn: no MX host has TLSA records: nothing to match",
	    "no TLSA: nothing to match");
	/* an unusable record next to a usable one */
	fx_free(&f);
	fx_init(&f);
	rr_hex(&f.rrs[1], 1, 1, 1, SHA_A);
	f.rrs[1].tr_check = TLSA_BAD_USAGE;
	f.host.dh_ntlsa = 2;
	expect(&f, MONITORCHECK_TLSA_PUBLISHED, "warn: " HOST ": remove the unusable record _25._tcp."
	    HOST ". IN TLSA 1 1 1 " SHA_A " (usage not for SMTP (only 2 and 3)); " HOST ": 1 usable TLSA "
	    "record at _25._tcp." HOST, "an unusable record beside a usable one: warn, remove it");
	fx_free(&f);
}

static void
test_mtasts(void)
{
	static const char miss[] = "version: STSv1\nmode: testing\nmx: other.unit.test\n"
	    "max_age: 86400\n";
	struct mtasts_policy *p;
	char *err = NULL;
	struct fx f;

	fx_init(&f);
	expect(&f, MONITORCHECK_MTA_STS, "pass: mode enforce, id id1, mx " HOST, "enforce: pass");
	f.sts.mr_fetched = true;
	f.sts.mr_cert_not_after = T2026 + 5 * DAY;
	expect(&f, MONITORCHECK_MTA_STS, "warn: the certificate of mta-sts." DOM " expires on "
	    "2026-01-06 (in 5 days): renew it; mode enforce, id id1, mx " HOST,
	    "the policy host's certificate expiring: warn");
	f.sts.mr_fetched = false;
	p = mtasts_policy_parse(miss, sizeof(miss) - 1, &err);
	snprintf(p->mp_id, sizeof(p->mp_id), "id2");
	mtasts_policy_unref(f.sts.mr_policy);
	f.sts.mr_policy = p;
	expect(&f, MONITORCHECK_MTA_STS, "fail: the MX host " HOST " is not covered by the policy's "
	    "mx patterns (other.unit.test): add \"mx: " HOST "\" to the policy and publish a new id in "
	    "_mta-sts." DOM "; mode testing, id id2, mx other.unit.test: senders do not enforce it; "
	    "switch to mode enforce once the reports are clean",
	    "an MX host outside the patterns: fail; testing: noted");
	f.sts.mr_status = MTASTS_ERROR;
	f.sts.mr_fetch_failed = true;
	f.sts.mr_failure = MTASTS_FAIL_WEBPKI;
	f.sts.mr_reason = "SSL certificate problem: self-signed certificate";
	expect(&f, MONITORCHECK_MTA_STS, "fail: sts-webpki-invalid: SSL certificate problem: "
	    "self-signed certificate: fix https://mta-sts." DOM "/.well-known/mta-sts.txt",
	    "policy host certificate not trusted: fail");
	f.sts.mr_fetch_failed = false;
	f.sts.mr_failure = MTASTS_FAIL_NONE;
	f.sts.mr_reason = "TXT _mta-sts." DOM ": timeout";
	expect(&f, MONITORCHECK_MTA_STS, "error: the lookup failed: TXT _mta-sts." DOM ": timeout",
	    "TXT lookup error: error");
	f.sts.mr_status = MTASTS_ABSENT;
	f.sts.mr_reason = "no TXT record at _mta-sts." DOM " (nxdomain)";
	expect(&f, MONITORCHECK_MTA_STS, "warn: no MTA-STS policy: no TXT record at _mta-sts." DOM
	    " (nxdomain)", "no MTA-STS: warn");
	f.in.mi_sts = NULL;
	expect(&f, MONITORCHECK_MTA_STS, "warn: MTA-STS lookups are off (mta_sts.enabled = false)",
	    "MTA-STS disabled: warn");
	fx_free(&f);
}

static void
test_tlsrpt(void)
{
	static const struct {
		const char *txt;
		enum monitorcheck_tlsrpt_parse want;
		const char *why;
	} t[] = {
		{ "v=TLSRPTv1; rua=mailto:r@example.com", MONITORCHECK_TLSRPT_OK, NULL },
		{ "v=TLSRPTv1;rua=https://r.example.com/tlsrpt;", MONITORCHECK_TLSRPT_OK, NULL },
		{ "v=TLSRPTv1 ; rua=mailto:a@x.example , https://x.example/r ; ext_1=v",
		  MONITORCHECK_TLSRPT_OK, NULL },
		{ "v=spf1 -all", MONITORCHECK_TLSRPT_OTHER, NULL },
		{ "v=TLSRPTv1", MONITORCHECK_TLSRPT_INVALID, "no rua field" },
		{ "v=TLSRPTv1;", MONITORCHECK_TLSRPT_INVALID, "no rua field" },
		{ "v=TLSRPTv1; rua=ftp://x.example/", MONITORCHECK_TLSRPT_INVALID,
		  "rua URI \"ftp://x.example/\" is not mailto: or https:" },
		{ "v=TLSRPTv1; rua=mailto:a@x; rua=mailto:b@x", MONITORCHECK_TLSRPT_INVALID,
		  "more than one rua field" },
		{ "v=TLSRPTv1; rua=mailto:a@x; junk", MONITORCHECK_TLSRPT_INVALID,
		  "field \"junk\" is not NAME=VALUE" },
		{ "v=TLSRPTv1 rua=mailto:a@x", MONITORCHECK_TLSRPT_INVALID,
		  "no \";\" after v=TLSRPTv1" },
		/* a comma and a space at the end (found by fuzz/tlsrpt_fuzz.c:
		 * the URI scan went past the field's end) */
		{ "v=TLSRPTv1;rua=https://r.example/v1, ", MONITORCHECK_TLSRPT_INVALID,
		  "rua URI \"\" is not mailto: or https:" },
	};
	struct fx f;
	size_t i;
	char *why;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum monitorcheck_tlsrpt_parse got = monitorcheck_tlsrpt_parse(t[i].txt, &why);

		if (!tap_ok(got == t[i].want, "tlsrpt parse \"%s\": %d", t[i].txt, (int)t[i].want))
			printf("# got %d, want %d\n", (int)got, (int)t[i].want);
		tap_is_str(why, t[i].why, "tlsrpt parse: the reason");
		free(why);
	}
	fx_init(&f);
	f.tlsrpt.mt_status = DNS_NXDOMAIN;
	expect(&f, MONITORCHECK_TLSRPT, "warn: no TLSRPT record: publish _smtp._tls." DOM ". IN TXT "
	    "\"v=TLSRPTv1; rua=mailto:tlsrpt@" DOM "\" to receive reports of failed deliveries",
	    "no TLSRPT record: warn with the record to publish");
	f.tlsrpt.mt_status = DNS_RECORDS;
	f.txt[1] = "v=TLSRPTv1; rua=mailto:other@" DOM;
	f.tlsrpt.mt_ntxt = 2;
	expect(&f, MONITORCHECK_TLSRPT, "warn: 2 v=TLSRPTv1 records at _smtp._tls." DOM ": senders "
	    "use none of them (RFC 8460 3); keep one", "two TLSRPT records: warn");
	f.tlsrpt.mt_status = DNS_TIMEOUT;
	f.tlsrpt.mt_why = NULL;
	expect(&f, MONITORCHECK_TLSRPT, "error: the TXT lookup at _smtp._tls." DOM " failed: timeout",
	    "TLSRPT lookup error: error");
	fx_free(&f);
}

int
main(void)
{
	tap_watchdog(20);
	load(&ch_a, pem_a, NULL);
	load(&ch_b, pem_b, NULL);
	load(&ch_a_ca, pem_a, pem_ca);
	load(&ch_b_ca, pem_b, pem_ca);
	test_all_pass();
	test_mismatch();
	test_rollover();
	test_expiry();
	test_dns();
	test_mtasts();
	test_tlsrpt();
	cert_chain_free(&ch_a);
	cert_chain_free(&ch_b);
	cert_chain_free(&ch_a_ca);
	cert_chain_free(&ch_b_ca);
	return tap_done();
}
