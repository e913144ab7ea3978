/*
 * havedanecmd.c: `danemilter havedane records [-c FILE] --cert FILE
 *     [--addr IP]...`
 *
 * Prints the zone records a HaveDane service (havedane.zone of the
 * configuration) needs, ready to paste into the zone file:
 *
 *   do.ZONE.     IN MX 10 mx.do.ZONE.        (and dont, wrong)
 *   mx.do.ZONE.  IN A 192.0.2.25             (one per --addr, A or AAAA)
 *   _25._tcp.mx.do.ZONE.    IN TLSA 3 1 1 HEX   (the certificate's key)
 *   _25._tcp.mx.wrong.ZONE. IN TLSA 3 1 1 HEX'  (HEX with every bit flipped)
 *
 * and none for mx.dont.ZONE. Each test domain has its own MX host, so
 * that a sending MTA looks up TLSA for do's and wrong's hosts and finds
 * none for dont's; the three hosts are this MTA (one certificate: DANE-EE
 * records do not check names, RFC 7672 §3.1.1). The digest is
 * tls/tlsa.h's, the same as `danemilter tlsa`'s "3 1 1" record; the
 * wrong one is its bitwise complement, which no certificate matches.
 * Without --addr the operator adds A / AAAA records for the three hosts.
 *
 * Exit codes: 0 records printed; EX_USAGE (64) bad options or an --addr
 * that is not an IP address; EX_DATAERR (65) no certificate in the file
 * or a malformed one; EX_NOINPUT (66) the file cannot be read; EX_CONFIG
 * (78) bad configuration or no havedane.zone in it.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "cli/cli.h"
#include "dns/rdata.h"
#include "policy/hdtoken.h"
#include "tls/cert.h"
#include "tls/tlsa.h"

#define HAVEDANECMD_MAX_ADDRS   16

static void
havedanecmd_usage(void)
{
	fprintf(stderr, "usage: danemilter havedane records [-c FILE] --cert FILE [--addr IP]...\n");
}

/* The records, with the "3 1 1" data of cert. */
static void
havedanecmd_print(const char *zone, const uint8_t *data, size_t len,
    char *const *addrs, size_t naddrs)
{
	char *hex = xmalloc(2 * len + 1);
	uint8_t *flipped = xmalloc(len);
	unsigned char buf[sizeof(struct in6_addr)];
	size_t i;
	int k;

	printf("; HaveDane test domains of %s: MX hosts, their addresses, their TLSA records\n",
	    zone);
	for (k = 0; k < HDTOKEN_NKIND; k++)
		printf("%s.%s. IN MX 10 mx.%s.%s.\n", hdtoken_kind_name((enum hdtoken_kind)k),
		    zone, hdtoken_kind_name((enum hdtoken_kind)k), zone);
	for (k = 0; k < HDTOKEN_NKIND; k++)
		for (i = 0; i < naddrs; i++)
			printf("mx.%s.%s. IN %s %s\n", hdtoken_kind_name((enum hdtoken_kind)k), zone,
			    inet_pton(AF_INET, addrs[i], buf) == 1 ? "A" : "AAAA", addrs[i]);
	rdata_hex(data, len, hex);
	printf("_25._tcp.mx.do.%s. IN TLSA 3 1 1 %s\n", zone, hex);
	for (i = 0; i < len; i++)
		flipped[i] = (uint8_t)~data[i];
	rdata_hex(flipped, len, hex);
	printf("_25._tcp.mx.wrong.%s. IN TLSA 3 1 1 %s\n", zone, hex);
	printf("; no TLSA for mx.dont.%s.: that domain tests delivery without DANE\n", zone);
	free(flipped);
	free(hex);
}

static int
havedanecmd_records(int argc, char **argv)
{
	enum { O_CERT = 256, O_ADDR };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, O_CERT },
		{ "addr", required_argument, NULL, O_ADDR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = NULL, *certpath = NULL;
	char *addrs[HAVEDANECMD_MAX_ADDRS];
	unsigned char buf[sizeof(struct in6_addr)];
	struct cert_chain chain;
	struct cfg *cfg;
	size_t naddrs = 0, len;
	uint8_t *data;
	char *err;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case O_CERT: certpath = optarg; break;
		case O_ADDR:
			if (inet_pton(AF_INET, optarg, buf) != 1 &&
			    inet_pton(AF_INET6, optarg, buf) != 1) {
				fprintf(stderr, "danemilter havedane: --addr \"%s\" is not an IPv4 "
				    "or IPv6 address\n", optarg);
				return EX_USAGE;
			}
			if (naddrs == HAVEDANECMD_MAX_ADDRS) {
				fprintf(stderr, "danemilter havedane: at most %d --addr\n",
				    HAVEDANECMD_MAX_ADDRS);
				return EX_USAGE;
			}
			addrs[naddrs++] = optarg;
			break;
		case 'h': havedanecmd_usage(); return 0;
		default: havedanecmd_usage(); return EX_USAGE;
		}
	}
	if (optind != argc || certpath == NULL) {
		havedanecmd_usage();
		return EX_USAGE;
	}
	if ((cfg = cli_load_config(cfgpath)) == NULL)
		return EX_CONFIG;
	if (*cfg->c_havedane.chd_zone == '\0') {
		fprintf(stderr, "danemilter havedane: %s sets no havedane.zone\n",
		    cfg->c_file ? cfg->c_file : CLI_DEFAULT_CONFIG);
		cfg_unref(cfg);
		return EX_CONFIG;
	}
	switch (cert_chain_load(certpath, &chain, &err)) {
	case CERT_LOAD_OK:
		break;
	case CERT_LOAD_UNREADABLE:
		fprintf(stderr, "danemilter havedane: %s\n", err);
		free(err);
		cfg_unref(cfg);
		return EX_NOINPUT;
	case CERT_LOAD_NONE:
	case CERT_LOAD_BAD:
		fprintf(stderr, "danemilter havedane: %s\n", err);
		free(err);
		cfg_unref(cfg);
		return EX_DATAERR;
	}
	if (tlsa_data_der(chain.cc_certs[0].cd_der, chain.cc_certs[0].cd_len, TLSA_SELECTOR_SPKI,
	    TLSA_MTYPE_SHA256, &data, &len) != TLSA_DATA_OK) {
		fprintf(stderr, "danemilter havedane: %s: cannot read the leaf certificate's "
		    "public key\n", certpath);
		cert_chain_free(&chain);
		cfg_unref(cfg);
		return EX_DATAERR;
	}
	havedanecmd_print(cfg->c_havedane.chd_zone, data, len, addrs, naddrs);
	fflush(stdout);
	free(data);
	cert_chain_free(&chain);
	cfg_unref(cfg);
	return 0;
}

int
havedanecmd_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "records") == 0)
		return havedanecmd_records(argc - 1, argv + 1);
	havedanecmd_usage();
	return argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) ?
	    0 : EX_USAGE;
}
