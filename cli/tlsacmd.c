/*
 * tlsacmd.c: `danemilter tlsa [-c FILE] [--usage N] [--selector N]
 *     [--mtype N] [--host H] [--port P] [--verify] CERT.pem`
 *
 * Without --verify: print the TLSA records for a certificate file (the
 * leaf first, then optionally its chain) in zone-file form, like
 * hash-slinger's `tlsa --create`, with the digests in upper-case hex as
 * every other danemilter output:
 *
 *   _25._tcp.mx.example.com. IN TLSA 3 1 1 8F3C...
 *
 * By default "3 1 1" for the leaf and, when the file holds more than one
 * certificate, "2 1 1" for the last one (the chain's top CA); with
 * --usage/--selector/--mtype only that combination (defaults 3, 1, 1).
 * Usages 0 and 1 are refused: SMTP DANE uses only 2 and 3 (RFC 7672 §3.1).
 * The owner is _PORT._tcp.HOST. with PORT 25 unless --port, HOST from
 * --host, else the leaf's first subjectAltName DNS name that is a host
 * name (wildcards are skipped), else its CN.
 *
 * With --verify: look up TLSA at _PORT._tcp.HOST with the engine's own
 * validating resolver (configuration from -c, as `query`; TLSA owner
 * CNAMEs followed by the resolver, the owner reached is shown), then say
 * for each published record whether the file matches it (usage 3: the
 * leaf; usage 2: any CA certificate after it) or why it is unusable or
 * ignored (digest agility, RFC 7671 §9, as the engine and OpenSSL apply it),
 * and end with one "verify: pass|fail|error: ..." line. Unlike the DANE
 * engine, the host's own CNAME (RFC 7672 §2.2.2 base names) is not expanded:
 * pass the CNAME target as --host to check that base name.
 *
 * The certificate work (PEM loading, names, digests, matching) is in
 * tls/cert.c and tls/tlsa.c; this file parses options, drives the lookup
 * and formats. Unlike query and check, it calls dns/ and tls/ directly:
 * policy/ has no API for one host's TLSA RRset.
 *
 * Exit codes: 0 records printed / a usable published record matches;
 * 1 (--verify) no usable record matches, or no TLSA records exist
 * (NXDOMAIN/NODATA, secure or not);
 * EX_USAGE (64) bad options, usages 0/1; EX_DATAERR (65) the file holds no
 * certificate or a malformed one, no CA for usage 2, no host name;
 * EX_NOINPUT (66) the file cannot be read; EX_TEMPFAIL (75) a lookup error,
 * a bogus answer, or an insecure (unsigned) TLSA RRset, not usable for DANE;
 * EX_CONFIG (78) bad configuration.
 */
#include <getopt.h>
#include <iv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "dns/rdata.h"
#include "dns/dns.h"
#include "cli/cli.h"
#include "policy/engine.h"
#include "tls/cert.h"
#include "tls/tlsa.h"

/* The TLSA answer, copied out of the resolver's callback. */
struct tlsacmd_answer {
	enum dns_status ta_status;
	enum dns_security ta_sec;
	char *ta_why;                   /* or NULL */
	char *ta_canon;                 /* owner after CNAMEs, or NULL */
	unsigned ta_elapsed_ms;
	struct tlsa_rr *ta_rr;          /* the published records, copied and rated */
	size_t ta_nrr;
	bool ta_malformed;              /* a record shorter than 3 octets */
};

static void
tlsacmd_usage(void)
{
	fprintf(stderr, "usage: danemilter tlsa [-c FILE] [--usage N] [--selector N] [--mtype N]\n"
	    "                       [--host H] [--port P] [--verify] CERT.pem\n");
}

/* A decimal number in [0, max] into *out; false otherwise. */
static bool
tlsacmd_number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	*out = strtoul(s, &end, 10);
	return *end == '\0' && *out <= max;
}

/* The owner's host name: --host, else the leaf's first DNS-ID that is a
 * host name, else its CN. NULL after printing why. */
static char *
tlsacmd_host(const char *opt, const struct cert_der *leaf, char *buf, size_t buflen)
{
	struct cert_names n;
	char *host = NULL;
	size_t i;

	if (opt != NULL) {
		if ((host = engine_domain_key(opt, buf, buflen)) == NULL)
			fprintf(stderr, "danemilter tlsa: --host \"%s\" is not a valid host name\n", opt);
		return host;
	}
	if (cert_names(leaf->cd_der, leaf->cd_len, &n) != CERT_NAMES_OK) {
		fprintf(stderr, "danemilter tlsa: cannot read the leaf certificate's names\n");
		return NULL;
	}
	for (i = 0; i < n.cnm_ndns && host == NULL; i++)
		host = engine_domain_key(n.cnm_dns[i], buf, buflen);
	if (host == NULL && n.cnm_cn != NULL)
		host = engine_domain_key(n.cnm_cn, buf, buflen);
	if (host == NULL)
		fprintf(stderr, "danemilter tlsa: the leaf certificate (%s) names no host "
		    "(no DNS subjectAltName or CN that is a host name): give --host\n",
		    n.cnm_subject[0] ? n.cnm_subject : "empty subject");
	cert_names_free(&n);
	return host;
}

/* Print one record for cert; false (after a message) when it cannot be computed. */
static bool
tlsacmd_print(const char *owner, const struct cert_der *cert, unsigned u, unsigned s, unsigned m)
{
	uint8_t *data;
	size_t len;
	char *hex;

	if (tlsa_data_der(cert->cd_der, cert->cd_len, (uint8_t)s, (uint8_t)m, &data, &len) != TLSA_DATA_OK) {
		fprintf(stderr, "danemilter tlsa: cannot compute %u %u %u for the certificate\n", u, s, m);
		return false;
	}
	hex = xmalloc(2 * len + 1);
	rdata_hex(data, len, hex);
	printf("%s IN TLSA %u %u %u %s\n", owner, u, s, m, hex);
	free(hex);
	free(data);
	return true;
}

static void
tlsacmd_dns_cb(void *arg, const struct dns_answer *a)
{
	struct tlsacmd_answer *t = arg;
	struct rdata_tlsa r;
	size_t i;

	t->ta_status = a->da_status;
	t->ta_sec = a->da_security;
	t->ta_why = a->da_why ? xstrdup(a->da_why) : NULL;
	t->ta_canon = a->da_canon ? xstrdup(a->da_canon) : NULL;
	t->ta_elapsed_ms = a->da_elapsed_ms;
	if (a->da_status == DNS_RECORDS) {
		t->ta_rr = xcalloc(a->da_nrr, sizeof(*t->ta_rr));
		for (i = 0; i < a->da_nrr; i++) {
			if (rdata_tlsa(a->da_rr[i].dr_data, a->da_rr[i].dr_len, &r) != RDATA_OK) {
				t->ta_malformed = true;
				continue;
			}
			tlsa_rr_set(&t->ta_rr[t->ta_nrr++], r.rt_usage, r.rt_selector, r.rt_mtype,
			    r.rt_data, r.rt_len);
		}
		/* usable records, digest agility (RFC 7671 §9): as the engine rates them */
		(void)tlsa_rrs_rate(t->ta_rr, t->ta_nrr);
	}
	iv_quit();
}

/* One record against the file: true when it matches; the verdict text to *why. */
static bool
tlsacmd_match(const struct tlsa_rr *rr, const struct cert_chain *chain, char **why)
{
	struct cert_names n;
	int k = tlsa_match_chain(rr, chain->cc_certs, chain->cc_n);

	if (rr->tr_usage == TLSA_USAGE_DANE_EE) {
		*why = xstrdup(k == 0 ? "match: the leaf certificate" :
		    "no match: not the leaf certificate");
		return k == 0;
	}
	if (k > 0) {
		const struct cert_der *c = &chain->cc_certs[k];

		if (cert_names(c->cd_der, c->cd_len, &n) == CERT_NAMES_OK) {
			*why = xasprintf("match: CA certificate %d of the file (%s)", k + 1, n.cnm_subject);
			cert_names_free(&n);
		} else {
			*why = xasprintf("match: CA certificate %d of the file", k + 1);
		}
		return true;
	}
	*why = chain->cc_n == 1 ? xstrdup("no match: the file holds no CA certificate") :
	    xasprintf("no match: none of the file's %zu CA certificate%s", chain->cc_n - 1,
	    chain->cc_n == 2 ? "" : "s");
	return false;
}

/* --verify: print the published records and the outcome; the exit code. */
static int
tlsacmd_report(const char *qname, const struct tlsacmd_answer *t, const struct cert_chain *chain)
{
	size_t i, nusable = 0, nmatch = 0;

	if (t->ta_status == DNS_ERROR || t->ta_status == DNS_TIMEOUT) {
		if (t->ta_sec == DNS_SEC_BOGUS)
			printf("verify: error: TLSA %s is bogus (DNSSEC validation failed): %s\n", qname,
			    t->ta_why ? t->ta_why : "no reason given");
		else
			printf("verify: error: TLSA lookup for %s failed: %s%s%s\n", qname,
			    dns_status_name(t->ta_status), t->ta_why ? ": " : "", t->ta_why ? t->ta_why : "");
		return EX_TEMPFAIL;
	}
	if (t->ta_status != DNS_RECORDS) {
		printf("verify: fail: no TLSA records at %s%s%s (%s, dnssec=%s)\n", qname,
		    t->ta_canon ? " -> " : "", t->ta_canon ? t->ta_canon : "",
		    dns_status_name(t->ta_status), dns_security_name(t->ta_sec));
		return 1;
	}
	printf("TLSA %s%s%s: %zu record%s, dnssec=%s\n", qname, t->ta_canon ? " -> " : "",
	    t->ta_canon ? t->ta_canon : "", t->ta_nrr, t->ta_nrr == 1 ? "" : "s",
	    dns_security_name(t->ta_sec));
	for (i = 0; i < t->ta_nrr; i++) {
		const struct tlsa_rr *rr = &t->ta_rr[i];
		char *hex = xmalloc(2 * rr->tr_len + 1), *why;

		rdata_hex(rr->tr_data, rr->tr_len, hex);
		if (rr->tr_check != TLSA_USABLE) {
			why = xasprintf("unusable: %s", tlsa_check_text(rr->tr_check));
		} else if (rr->tr_agility_ignored) {
			why = xstrdup("ignored: a stronger digest of the same usage and selector "
			    "is published (RFC 7671 digest agility)");
		} else {
			nusable++;
			if (tlsacmd_match(rr, chain, &why))
				nmatch++;
		}
		printf("  %u %u %u %s%s: %s\n", rr->tr_usage, rr->tr_selector, rr->tr_mtype, hex,
		    rr->tr_len ? "" : "-", why);
		free(why);
		free(hex);
	}
	if (t->ta_malformed) {
		printf("verify: error: TLSA %s holds a malformed record\n", qname);
		return EX_TEMPFAIL;
	}
	if (t->ta_sec != DNS_SEC_SECURE) {
		printf("verify: error: the TLSA RRset at %s is %s (not DNSSEC-signed): "
		    "not usable for DANE\n", qname, dns_security_name(t->ta_sec));
		return EX_TEMPFAIL;
	}
	if (nmatch > 0) {
		printf("verify: pass: %zu of %zu usable TLSA record%s match%s the certificate file\n",
		    nmatch, nusable, nusable == 1 ? "" : "s", nmatch == 1 ? "es" : "");
		return 0;
	}
	if (nusable == 0)
		printf("verify: fail: none of the %zu TLSA record%s at %s is usable\n", t->ta_nrr,
		    t->ta_nrr == 1 ? "" : "s", qname);
	else
		printf("verify: fail: no usable TLSA record matches the certificate file "
		    "(%zu usable)\n", nusable);
	return 1;
}

/* --verify: the lookup on this thread's loop, then the report. */
static int
tlsacmd_verify(const char *cfgpath, const char *qname, const struct cert_chain *chain)
{
	struct tlsacmd_answer t;
	struct cli_engine ce;
	int rc;

	if ((rc = cli_engine_start(&ce, "tlsa", cfgpath, false, false, NULL, 0)) != 0)
		return rc;
	memset(&t, 0, sizeof(t));
	dns_query_start(ce.ce_en->en_dns, qname, DNS_TYPE_TLSA, NULL, tlsacmd_dns_cb, &t);
	iv_main();
	rc = tlsacmd_report(qname, &t, chain);
	fflush(stdout);
	tlsa_rrs_free(t.ta_rr, t.ta_nrr);
	free(t.ta_why);
	free(t.ta_canon);
	cli_engine_stop(&ce);
	return rc;
}

int
tlsacmd_main(int argc, char **argv)
{
	enum { O_USAGE = 256, O_SELECTOR, O_MTYPE, O_HOST, O_PORT, O_VERIFY };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "usage", required_argument, NULL, O_USAGE },
		{ "selector", required_argument, NULL, O_SELECTOR },
		{ "mtype", required_argument, NULL, O_MTYPE },
		{ "host", required_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, O_PORT },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long usage = TLSA_USAGE_DANE_EE, selector = TLSA_SELECTOR_SPKI;
	unsigned long mtype = TLSA_MTYPE_SHA256, port = 25, *num;
	const char *cfgpath = NULL, *hostopt = NULL, *what;
	bool verify = false, combination = false, ok;
	char hostbuf[RDATA_NAME_MAX], owner[RDATA_NAME_MAX + 16];
	struct cert_chain chain;
	char *err, *host;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case O_HOST: hostopt = optarg; break;
		case O_VERIFY: verify = true; break;
		case O_PORT:
			if (!tlsacmd_number(optarg, 65535, &port) || port == 0) {
				fprintf(stderr, "danemilter tlsa: --port \"%s\": want 1..65535\n", optarg);
				return EX_USAGE;
			}
			break;
		case O_USAGE: case O_SELECTOR: case O_MTYPE:
			num = c == O_USAGE ? &usage : c == O_SELECTOR ? &selector : &mtype;
			what = c == O_USAGE ? "usage" : c == O_SELECTOR ? "selector" : "mtype";
			if (!tlsacmd_number(optarg, 255, num)) {
				fprintf(stderr, "danemilter tlsa: --%s \"%s\": want a number 0..255\n",
				    what, optarg);
				return EX_USAGE;
			}
			combination = true;
			break;
		case 'h': tlsacmd_usage(); return 0;
		default: tlsacmd_usage(); return EX_USAGE;
		}
	}
	if (argc - optind != 1) {
		tlsacmd_usage();
		return EX_USAGE;
	}
	if (verify && combination) {
		fprintf(stderr, "danemilter tlsa: --verify checks every published record: "
		    "--usage, --selector and --mtype do not apply\n");
		return EX_USAGE;
	}
	if (usage == TLSA_USAGE_PKIX_TA || usage == TLSA_USAGE_PKIX_EE) {
		fprintf(stderr, "danemilter tlsa: usage %lu (%s) is not for SMTP: SMTP DANE uses only "
		    "usages 2 (DANE-TA) and 3 (DANE-EE) (RFC 7672 section 3.1)\n", usage,
		    usage == TLSA_USAGE_PKIX_TA ? "PKIX-TA" : "PKIX-EE");
		return EX_USAGE;
	}
	if (usage > TLSA_USAGE_DANE_EE || selector > TLSA_SELECTOR_SPKI || mtype > TLSA_MTYPE_SHA512) {
		fprintf(stderr, "danemilter tlsa: unknown %s %lu (usages 2 and 3, selectors 0 and 1, "
		    "matching types 0, 1 and 2)\n", usage > TLSA_USAGE_DANE_EE ? "usage" :
		    selector > TLSA_SELECTOR_SPKI ? "selector" : "matching type",
		    usage > TLSA_USAGE_DANE_EE ? usage : selector > TLSA_SELECTOR_SPKI ? selector : mtype);
		return EX_USAGE;
	}
	switch (cert_chain_load(argv[optind], &chain, &err)) {
	case CERT_LOAD_OK:
		break;
	case CERT_LOAD_UNREADABLE:
		fprintf(stderr, "danemilter tlsa: %s\n", err);
		free(err);
		return EX_NOINPUT;
	case CERT_LOAD_NONE:
	case CERT_LOAD_BAD:
		fprintf(stderr, "danemilter tlsa: %s\n", err);
		free(err);
		return EX_DATAERR;
	}
	if ((host = tlsacmd_host(hostopt, &chain.cc_certs[0], hostbuf, sizeof(hostbuf))) == NULL) {
		cert_chain_free(&chain);
		return hostopt != NULL ? EX_USAGE : EX_DATAERR;
	}
	if (verify) {
		snprintf(owner, sizeof(owner), "_%lu._tcp.%s", port, host);
		rc = tlsacmd_verify(cfgpath, owner, &chain);
		cert_chain_free(&chain);
		return rc;
	}
	snprintf(owner, sizeof(owner), "_%lu._tcp.%s.", port, host);
	rc = 0;
	if (combination && usage == TLSA_USAGE_DANE_TA && chain.cc_n < 2) {
		fprintf(stderr, "danemilter tlsa: %s holds only the leaf certificate: usage 2 (DANE-TA) "
		    "needs the chain's CA certificate after it\n", argv[optind]);
		rc = EX_DATAERR;
	} else if (combination) {
		ok = tlsacmd_print(owner, &chain.cc_certs[usage == TLSA_USAGE_DANE_EE ? 0 : chain.cc_n - 1],
		    (unsigned)usage, (unsigned)selector, (unsigned)mtype);
		rc = ok ? 0 : EX_DATAERR;
	} else {
		ok = tlsacmd_print(owner, &chain.cc_certs[0], TLSA_USAGE_DANE_EE, TLSA_SELECTOR_SPKI,
		    TLSA_MTYPE_SHA256);
		if (ok && chain.cc_n > 1)
			ok = tlsacmd_print(owner, &chain.cc_certs[chain.cc_n - 1], TLSA_USAGE_DANE_TA,
			    TLSA_SELECTOR_SPKI, TLSA_MTYPE_SHA256);
		rc = ok ? 0 : EX_DATAERR;
	}
	fflush(stdout);
	cert_chain_free(&chain);
	return rc;
}
