/*
 * engine.c: see engine.h.
 */
#include "engine.h"

#include <ctype.h>
#include <idn2.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "dns/rdata.h"

struct engine *
engine_new(struct cfg *cfg, bool force_log, char **errp)
{
	const struct cfg_dns *d = &cfg->c_dns;
	struct dns_stub_opt *stubs = xcalloc(d->cd_nstubs, sizeof(*stubs));
	struct dns_options o;
	struct engine *en;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.do_forward = (const char *const *)d->cd_forward;
	o.do_nforward = d->cd_nforward;
	o.do_trust_anchor_file = d->cd_trust_anchor_file;
	o.do_trust_anchors = (const char *const *)d->cd_trust_anchors;
	o.do_ntrust_anchors = d->cd_ntrust_anchors;
	for (i = 0; i < d->cd_nstubs; i++) {
		stubs[i].dso_zone = d->cd_stubs[i].cs_zone;
		stubs[i].dso_addrs = (const char *const *)d->cd_stubs[i].cs_addrs;
		stubs[i].dso_naddrs = d->cd_stubs[i].cs_naddrs;
	}
	o.do_stubs = stubs;
	o.do_nstubs = d->cd_nstubs;
	o.do_timeout_ms = d->cd_timeout_ms;

	en = xcalloc(1, sizeof(*en));
	en->en_dns = dns_resolver_new(&o, errp);
	free(stubs);
	if (en->en_dns == NULL) {
		free(en);
		return NULL;
	}
	if (cfg->c_mta_sts.cst_enabled) {
		struct mtasts_options mo;

		memset(&mo, 0, sizeof(mo));
		mo.mo_ca_file = cfg->c_mta_sts.cst_ca_file;
		mo.mo_connect_timeout_ms = cfg->c_mta_sts.cst_connect_timeout_ms;
		mo.mo_timeout_ms = cfg->c_mta_sts.cst_timeout_ms;
		mo.mo_port = 443;
		if ((en->en_sts = mtasts_ctx_new(en->en_dns, &mo, errp)) == NULL) {
			dns_resolver_free(en->en_dns);
			free(en);
			return NULL;
		}
	}
	en->en_cfg = cfg_ref(cfg);
	en->en_force_log = force_log;
	en->en_refs = 1;
	return en;
}

struct engine *
engine_ref(struct engine *en)
{
	en->en_refs++;
	return en;
}

void
engine_unref(struct engine *en)
{
	if (en == NULL || --en->en_refs > 0)
		return;
	if (en->en_sts)
		mtasts_ctx_free(en->en_sts);
	dns_resolver_free(en->en_dns);
	cfg_unref(en->en_cfg);
	free(en);
#ifdef __GLIBC__
	/* An engine's resolver held megabytes (libunbound's message and RRset
	 * caches, spread over the heap by the time a reload retires it): give
	 * the free pages back to the system instead of keeping the high-water
	 * mark for good (bench/soak.sh's RSS after hundreds of reloads). */
	malloc_trim(0);
#endif
}

const char *
engine_logtag(const struct engine *en, const char *domain)
{
	struct cfg_domain_view v;

	if (en->en_force_log)
		return domain;
	cfg_domain_lookup(en->en_cfg, domain, &v);
	return v.cdv_log_resolution ? domain : NULL;
}

struct mtasts_lookup *
engine_mtasts(struct engine *en, const char *domain, const struct mtasts_cached *cached,
    time_t now, mtasts_done_fn *done, void *arg)
{
	if (en->en_sts == NULL)
		return NULL;
	return mtasts_lookup_start(en->en_sts, domain, cached, now,
	    engine_logtag(en, domain), done, arg);
}

struct dane_lookup *
engine_dane(struct engine *en, const char *domain, dane_done_fn *done, void *arg)
{
	return dane_lookup_start(en->en_dns, domain, engine_logtag(en, domain), done, arg);
}

char *
engine_domain_key(const char *in, char *buf, size_t buflen)
{
	size_t n = strlen(in), i;
	char *ascii = NULL;
	bool utf8 = false;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= buflen)
		return NULL;
	for (i = 0; i < n; i++) {
		buf[i] = (char)tolower((unsigned char)in[i]);
		utf8 |= (unsigned char)in[i] >= 0x80;
	}
	buf[n] = '\0';
	if (utf8) {
		/* U-labels (SMTPUTF8 mail, Postfix's UTF-8 policy keys) as
		 * A-labels: IDNA2008 with UTS #46 non-transitional mapping,
		 * as browsers and Postfix's own lookups (midna_domain) do. An
		 * invalid name has no key. */
		if (idn2_to_ascii_8z(buf, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK)
			return NULL;
		n = strlen(ascii);
		if (n == 0 || n >= buflen) {
			idn2_free(ascii);
			return NULL;
		}
		for (i = 0; i <= n; i++)
			buf[i] = (char)tolower((unsigned char)ascii[i]);
		idn2_free(ascii);
	}
	return rdata_name_is_hostname(buf) ? buf : NULL;
}
