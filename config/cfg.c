/*
 * NAME
 *	cfg - danemilter's configuration file
 * SUMMARY
 *	load, validate and query the libconfig configuration
 * SYNOPSIS
 *	#include "config/cfg.h"
 *
 *	struct cfg *cfg_load(const char *path, char **errp);
 *	struct cfg *cfg_load_string(const char *text, const char *name,
 *	    char **errp);
 *	struct cfg *cfg_default(void);
 *	struct cfg *cfg_ref(struct cfg *c);
 *	void cfg_unref(struct cfg *c);
 *	void cfg_domain_lookup(const struct cfg *c, const char *domain,
 *	    struct cfg_domain_view *out);
 * DESCRIPTION
 *	This module owns the configuration file and the immutable struct
 *	cfg built from it. Nothing outside config/ includes <libconfig.h>:
 *	the config_t lives only inside cfg_load() and cfg_load_string(),
 *	and every string is copied out of it. The schema, with the checks
 *	of single values, is in cfg_schema.c; the generic decoder that it
 *	drives in cfg_decode.c (config/cfg_private.h). This file reads the
 *	text, builds the cfg (decoding, then the checks across entries:
 *	duplicate domains, a trust anchor for DNSSEC), counts its
 *	references and answers lookups.
 *
 *	cfg_load() reads a file, cfg_load_string() a string (name is used
 *	in messages only), cfg_default() gives the built-in defaults.
 *	Each returns a cfg with one reference; cfg_ref() adds one,
 *	cfg_unref() drops one and frees everything at zero.
 *
 *	cfg_domain_lookup() merges the "domains" entries that match a
 *	domain, most specific first, without allocating.
 * DIAGNOSTICS
 *	The first problem found is returned in *errp as a malloc'ed
 *	"FILE:LINE: message" (the caller frees it): syntax errors as
 *	libconfig words them, unknown keys, wrong types, values out of
 *	range, bad addresses and names, duplicate domains entries (with
 *	the line of the first), no trust anchor at all (dns.trust_anchor_file
 *	"" and no dns.trust_anchors: "DNSSEC validation needs a trust
 *	anchor", at the line of trust_anchor_file), a havedane.zone without
 *	havedane.token_key_file. Whether the anchor file
 *	exists and holds anchors is checked when the resolver is set up
 *	(dns/dns.h), not here. A file that cannot be opened gives
 *	"FILE: cannot read: <strerror>".
 * BUGS
 *	libconfig 1.5 parses an integer without the L suffix with atoi():
 *	"4294972296" silently becomes 5000. The range checks here see only
 *	the wrapped value.
 */
#include "config/cfg.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "config/cfg_private.h"

/* ---- checks across entries ---- */

/* Name without its "." / "*." prefix, and whether it had one. */
static const char *
cfg_domain_key(const char *name, bool *subs)
{
	*subs = true;
	if (name[0] == '.')
		return name + 1;
	if (name[0] == '*' && name[1] == '.')
		return name + 2;
	*subs = false;
	return name;
}

/* ".x" and "*.x" mean the same, so they count as duplicates. */
static bool
cfg_check_duplicates(struct cfg_ld *ld, const config_t *cf,
    const struct cfg *c)
{
	const config_setting_t *list = config_lookup(cf, "domains");
	const config_setting_t *si, *sj;
	const char *ki, *kj, *fi, *fj;
	bool subi, subj;
	size_t i, j;

	for (j = 1; j < c->c_ndomains; j++) {
		kj = cfg_domain_key(c->c_domains[j].cdom_name, &subj);
		for (i = 0; i < j; i++) {
			ki = cfg_domain_key(c->c_domains[i].cdom_name, &subi);
			if (subi != subj || strcmp(ki, kj) != 0)
				continue;
			si = config_setting_get_elem(list, (unsigned)i);
			sj = config_setting_get_elem(list, (unsigned)j);
			fi = config_setting_source_file(si);
			fj = config_setting_source_file(sj);
			if (fi == fj || (fi && fj && strcmp(fi, fj) == 0))
				return cfg_decode_fail(ld, sj, "duplicate domains "
				    "entry \"%s\" (first at line %d)",
				    c->c_domains[j].cdom_name,
				    c->c_domains[i].cdom_line);
			return cfg_decode_fail(ld, sj, "duplicate domains entry \"%s\" "
			    "(first at %s:%d)", c->c_domains[j].cdom_name,
			    fi ? fi : ld->ld_name, c->c_domains[i].cdom_line);
		}
	}
	return true;
}

/*
 * Without a trust anchor libunbound validates nothing: every answer is
 * insecure, so every domain would get dane=insecure and MTA-STS would take
 * over (a silent downgrade). trust_anchor_file has a default, so only the
 * file can empty it: the error names that key's line (the dns group's if
 * it were ever missing).
 */
static bool
cfg_check_trust_anchor(struct cfg_ld *ld, const config_t *cf,
    const struct cfg *c)
{
	const config_setting_t *s;

	if (*c->c_dns.cd_trust_anchor_file != '\0' || c->c_dns.cd_ntrust_anchors > 0)
		return true;
	if ((s = config_lookup(cf, "dns.trust_anchor_file")) == NULL)
		s = config_lookup(cf, "dns");
	return cfg_decode_fail(ld, s, "dns.trust_anchor_file is \"\" and "
	    "dns.trust_anchors is empty: DNSSEC validation needs a trust anchor");
}

/*
 * A HaveDane zone without a token key: tokens could not be checked after a
 * restart, and a key made up at start would make every issued token
 * invalid at the next one. The error names the zone's line.
 */
static bool
cfg_check_havedane(struct cfg_ld *ld, const config_t *cf, const struct cfg *c)
{
	const config_setting_t *s;

	if (*c->c_havedane.chd_zone == '\0' || *c->c_havedane.chd_token_key_file != '\0')
		return true;
	if ((s = config_lookup(cf, "havedane.zone")) == NULL)
		s = config_lookup(cf, "havedane");
	return cfg_decode_fail(ld, s, "havedane.zone is set but havedane.token_key_file "
	    "is \"\": the tokens need a key (32 random bytes in a file only "
	    "danemilter reads)");
}

/* ---- public API ---- */

static struct cfg *
cfg_new(const char *file)
{
	struct cfg *c = xcalloc(1, sizeof(*c));

	cfg_decode_defaults(&cfg_schema_top, c);
	c->c_file = file ? xstrdup(file) : NULL;
	c->c_refs = 1;
	return c;
}

static void
cfg_free(struct cfg *c)
{
	cfg_decode_free(&cfg_schema_top, c);
	free(c->c_file);
	free(c);
}

/* Turn a parsed config_t into a cfg, or NULL with *errp set. */
static struct cfg *
cfg_build(const config_t *cf, const char *name, char **errp)
{
	struct cfg_ld ld = { name, NULL };
	struct cfg *c = cfg_new(name);

	if (!cfg_decode_group(&ld, config_root_setting(cf), &cfg_schema_top,
	    NULL, false, c) || !cfg_check_duplicates(&ld, cf, c) ||
	    !cfg_check_trust_anchor(&ld, cf, c) || !cfg_check_havedane(&ld, cf, c)) {
		cfg_free(c);
		*errp = ld.ld_err;
		return NULL;
	}
	return c;
}

/* The message for a failed config_read_*; name when libconfig has no file. */
static char *
cfg_parse_error(const config_t *cf, const char *name)
{
	const char *file = config_error_file(cf);

	if (config_error_type(cf) == CONFIG_ERR_FILE_IO)
		return xasprintf("%s: cannot read: %s", file ? file : name,
		    config_error_text(cf));
	return xasprintf("%s:%d: %s", file ? file : name,
	    config_error_line(cf), config_error_text(cf));
}

struct cfg *
cfg_load(const char *path, char **errp)
{
	struct cfg *c = NULL;
	struct stat st;
	config_t cf;
	FILE *fp;

	*errp = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		*errp = xasprintf("%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(fp);
		*errp = xasprintf("%s: cannot read: %s", path, strerror(EISDIR));
		return NULL;
	}
	fclose(fp);
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE)
		*errp = cfg_parse_error(&cf, path);
	else
		c = cfg_build(&cf, path, errp);
	config_destroy(&cf);
	return c;
}

struct cfg *
cfg_load_string(const char *text, const char *name, char **errp)
{
	struct cfg *c = NULL;
	config_t cf;

	*errp = NULL;
	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE)
		*errp = cfg_parse_error(&cf, name);
	else
		c = cfg_build(&cf, name, errp);
	config_destroy(&cf);
	return c;
}

struct cfg *
cfg_default(void)
{
	return cfg_new(NULL);
}

struct cfg *
cfg_ref(struct cfg *c)
{
	if (__atomic_add_fetch(&c->c_refs, 1, __ATOMIC_RELAXED) <= 1)
		log_abort("cfg_ref: cfg %p was already freed", (void *)c);
	return c;
}

void
cfg_unref(struct cfg *c)
{
	int left;

	if (c == NULL)
		return;
	left = __atomic_sub_fetch(&c->c_refs, 1, __ATOMIC_ACQ_REL);
	if (left > 0)
		return;
	if (left < 0)
		log_abort("cfg_unref: cfg %p has no reference left", (void *)c);
	cfg_free(c);
}

/*
 * How specifically entry name matches domain[0..dlen): -1 no match,
 * 0 for "*", 1 + length of the parent for ".parent"/"*.parent", INT_MAX
 * for the exact name. Case-insensitive, no allocation.
 */
static int
cfg_domain_rank(const char *name, const char *domain, size_t dlen)
{
	const char *parent;
	size_t plen;
	bool subs;

	if (name[0] == '*' && name[1] == '\0')
		return 0;
	parent = cfg_domain_key(name, &subs);
	plen = strlen(parent);
	if (!subs)
		return plen == dlen && strncasecmp(parent, domain, dlen) == 0 ?
		    INT_MAX : -1;
	if (dlen < plen + 2 || domain[dlen - plen - 1] != '.' ||
	    strncasecmp(parent, domain + dlen - plen, plen) != 0)
		return -1;
	return 1 + (int)plen;
}

void
cfg_domain_lookup(const struct cfg *c, const char *domain,
    struct cfg_domain_view *out)
{
	int best_lr = -1, best_lt = -1, best_req = -1, best_pol = -1, rank;
	size_t i, dlen = strlen(domain);
	const struct cfg_domain *d;

	if (dlen > 0 && domain[dlen - 1] == '.')
		dlen--;
	out->cdv_log_resolution = false;
	out->cdv_log_tls = false;
	out->cdv_require = CFG_REQUIRE_NONE;
	out->cdv_policy = NULL;
	for (i = 0; i < c->c_ndomains; i++) {
		d = &c->c_domains[i];
		if ((rank = cfg_domain_rank(d->cdom_name, domain, dlen)) < 0)
			continue;
		if (d->cdom_log_resolution != CFG_UNSET && rank > best_lr) {
			best_lr = rank;
			out->cdv_log_resolution =
			    d->cdom_log_resolution == CFG_TRUE;
		}
		if (d->cdom_log_tls != CFG_UNSET && rank > best_lt) {
			best_lt = rank;
			out->cdv_log_tls = d->cdom_log_tls == CFG_TRUE;
		}
		if (d->cdom_require != CFG_REQUIRE_UNSET && rank > best_req) {
			best_req = rank;
			out->cdv_require = d->cdom_require;
		}
		if (d->cdom_policy != NULL && rank > best_pol) {
			best_pol = rank;
			out->cdv_policy = d->cdom_policy;
		}
	}
}
