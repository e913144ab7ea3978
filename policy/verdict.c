/*
 * verdict.c: see verdict.h.
 */
#include "verdict.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "policy/report.h"

/*
 * Every mx line of a policy body costs at least its pattern + 4 bytes
 * ("mx:", the line end) and at most pattern + 1 (':') in the match list, so
 * the Postfix policy of any policy that parsed (MTASTS_BODY_MAX) fits a
 * reply whole: only the TLSRPT attributes can push a reply past the limit.
 */
_Static_assert(MTASTS_BODY_MAX + sizeof("OK secure match= servername=hostname") <
    VERDICT_REPLY_MAX, "an MTA-STS policy's match list always fits a socketmap reply");

const char *
verdict_kind_name(enum verdict_kind k)
{
	static const char *const n[] = { "OK", "NOTFOUND", "TEMP" };

	return (unsigned)k < 3 ? n[k] : "?";
}

const char *
verdict_source_name(enum verdict_source s)
{
	static const char *const n[] = { "none", "dane", "mta-sts", "config" };

	return (unsigned)s < 4 ? n[s] : "?";
}

const char *
verdict_sts_name(enum verdict_sts s)
{
	static const char *const n[] = { "enforce", "testing", "none", "absent", "error" };

	return (unsigned)s < 5 ? n[s] : "?";
}

/* Copy s for a reply: printable ASCII only, at most max bytes (SIZE_MAX:
 * all of it). */
static void
verdict_clean(struct sbuf *sb, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && n < max; s++, n++)
		sbuf_appendc(sb, (*s >= 0x20 && *s < 0x7f) ? *s : '?');
}

/* The first word of a policy text, as a static string when it is a known
 * Postfix level (so v_level never dangles). */
static const char *
verdict_level_of(const char *policy)
{
	static const char *const levels[] = {
		"none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure", NULL
	};
	size_t w = strcspn(policy, " \t");
	int i;

	for (i = 0; levels[i]; i++)
		if (strlen(levels[i]) == w && strncmp(levels[i], policy, w) == 0)
			return levels[i];
	return "custom";
}

/* "secure match=a:.b servername=hostname" from the policy's patterns. */
static char *
verdict_sts_policy(const struct mtasts_policy *p)
{
	struct sbuf sb = SBUF_INIT;
	size_t i;

	sbuf_append(&sb, "secure match=");
	for (i = 0; i < p->mp_nmx; i++) {
		const char *pat = p->mp_mx[i];

		if (i)
			sbuf_appendc(&sb, ':');
		sbuf_append(&sb, strncmp(pat, "*.", 2) == 0 ? pat + 1 : pat);
	}
	sbuf_append(&sb, " servername=hostname");
	return sbuf_steal(&sb);
}

#define VERDICT_POLICY_STRING_MAX 1000   /* bytes of one policy line kept */

/*
 * The QUERYwithTLSRPT reply of an MTA-STS verdict (RFC 8460 via Postfix >=
 * 3.10): v_reply + policy_type, policy_domain, every mx_host_pattern, then
 * the policy's lines as policy_string while the reply stays within
 * VERDICT_REPLY_MAX (a huge policy loses its later lines there, never part
 * of one). When even the attributes before the first policy_string would
 * pass the limit, the reply is v_reply itself: the policy, whole, without
 * TLSRPT attributes, rather than a TEMP that defers the mail. Both cases
 * are logged (notice).
 */
static void
verdict_tlsrpt_reply(struct verdict *v)
{
	const struct mtasts_policy *p = v->v_sts_policy;
	struct sbuf sb = SBUF_INIT;
	const char *line, *end;
	size_t i, left_out = 0;

	sbuf_appendn(&sb, v->v_reply, v->v_reply_len);
	sbuf_printf(&sb, " policy_type=sts policy_domain=%s", v->v_domain);
	for (i = 0; i < p->mp_nmx; i++)
		sbuf_printf(&sb, " mx_host_pattern=%s", p->mp_mx[i]);
	if (sb.sb_len > VERDICT_REPLY_MAX) {
		log_notice("%s: MTA-STS policy %s: QUERYwithTLSRPT is answered without "
		    "the TLSRPT attributes: with its %zu mx patterns the reply would pass "
		    "Postfix's socketmap limit of %d bytes", v->v_domain, p->mp_id,
		    p->mp_nmx, VERDICT_REPLY_MAX);
		sbuf_free(&sb);
		v->v_reply_tlsrpt = v->v_reply;
		v->v_reply_tlsrpt_len = v->v_reply_len;
		return;
	}
	for (line = p->mp_text; line && *line; line = *end ? end + 1 : end) {
		size_t len, cost;

		end = line + strcspn(line, "\n");
		len = (size_t)(end - line);
		while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		while (len > 0 && (*line == ' ' || *line == '\t')) {
			line++;
			len--;
		}
		/* Braces would end Postfix's attribute; such lines carry nothing we need. */
		if (len == 0 || memchr(line, '{', len) || memchr(line, '}', len))
			continue;
		if (len > VERDICT_POLICY_STRING_MAX)
			len = VERDICT_POLICY_STRING_MAX;
		cost = sizeof(" { policy_string = ") - 1 + len + sizeof(" }") - 1;
		if (left_out > 0 || sb.sb_len + cost > VERDICT_REPLY_MAX) {
			left_out++;
			continue;
		}
		sbuf_append(&sb, " { policy_string = ");
		{
			char *copy = xstrndup(line, len);

			verdict_clean(&sb, copy, len);
			free(copy);
		}
		sbuf_append(&sb, " }");
	}
	if (left_out > 0)
		log_notice("%s: MTA-STS policy %s: %zu of its lines left out of the "
		    "QUERYwithTLSRPT policy_string attributes (Postfix's socketmap limit "
		    "of %d bytes)", v->v_domain, p->mp_id, left_out, VERDICT_REPLY_MAX);
	v->v_reply_tlsrpt_len = sb.sb_len;
	v->v_reply_tlsrpt = sbuf_steal(&sb);
}

/*
 * An OK policy that does not fit a socketmap reply: TEMP, logged, rather
 * than a policy with part of it cut off (for MTA-STS: mx patterns left
 * out, which would make Postfix refuse MX hosts the policy allows).
 */
static void
verdict_too_long(struct verdict *v)
{
	size_t len = strlen(v->v_policy);

	free(v->v_reason);
	if (v->v_source == VERDICT_SRC_MTASTS)
		v->v_reason = xasprintf("the Postfix policy from MTA-STS policy %s "
		    "(%zu mx patterns) is %zu bytes, more than a socketmap reply "
		    "holds (%d)", v->v_sts_policy->mp_id, v->v_sts_policy->mp_nmx,
		    len, VERDICT_REPLY_MAX);
	else
		v->v_reason = xasprintf("the %s policy is %zu bytes, more than a "
		    "socketmap reply holds (%d)", verdict_source_name(v->v_source),
		    len, VERDICT_REPLY_MAX);
	log_errx("%s: %s: answering TEMP rather than a policy cut short",
	    v->v_domain, v->v_reason);
	free(v->v_policy);
	v->v_policy = NULL;
	v->v_kind = VERDICT_TEMP;
}

static enum verdict_sts
verdict_sts_of(const struct mtasts_result *sts)
{
	if (sts == NULL || sts->mr_status == MTASTS_ABSENT)
		return VERDICT_STS_ABSENT;
	if (sts->mr_status == MTASTS_ERROR || sts->mr_policy == NULL)
		return VERDICT_STS_ERROR;
	switch (sts->mr_policy->mp_mode) {
	case MTASTS_MODE_ENFORCE: return VERDICT_STS_ENFORCE;
	case MTASTS_MODE_TESTING: return VERDICT_STS_TESTING;
	default:                  return VERDICT_STS_NONE;
	}
}

/*
 * The fixed policy for domain, the rule of verdict_fixed_policy: an entry
 * of the overrides file in force at now wins; else the configuration's.
 * *ovent: the overrides entry it came from, or NULL. Logs a danefail
 * entry's use and an expired entry (each time: an operator sees both).
 */
static const char *
verdict_fixed(const struct cfg *cfg, const struct overrides *ov, const char *domain,
    time_t now, const struct overrides_entry **ovent)
{
	struct cfg_domain_view view;
	const struct overrides_entry *e;

	*ovent = NULL;
	switch (overrides_lookup(ov, domain, now, &e)) {
	case OVERRIDES_FOUND:
		if (e->oe_danefail)
			log_notice("overrides: %s:%d: %s: policy may (danefail list entry: DANE "
			    "not enforced)", ov->ov_file, e->oe_line, domain);
		*ovent = e;
		return e->oe_policy;
	case OVERRIDES_EXPIRED:
		log_info("overrides: %s:%d: %s: the entry expired, ignored", ov->ov_file,
		    e->oe_line, domain);
		break;
	case OVERRIDES_NONE:
		break;
	}
	cfg_domain_lookup(cfg, domain, &view);
	return view.cdv_policy;
}

const char *
verdict_fixed_policy(const struct cfg *cfg, const struct overrides *ov, const char *domain,
    time_t now)
{
	const struct overrides_entry *e;

	return verdict_fixed(cfg, ov, domain, now, &e);
}

bool
verdict_require_dane(const struct cfg *cfg, const char *domain)
{
	struct cfg_domain_view view;

	cfg_domain_lookup(cfg, domain, &view);
	return view.cdv_require == CFG_REQUIRE_DANE;
}

bool
verdict_require_dane_anywhere(const struct cfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->c_ndomains; i++)
		if (cfg->c_domains[i].cdom_require == CFG_REQUIRE_DANE)
			return true;
	return false;
}

struct verdict *
verdict_build(const struct cfg *cfg, const struct overrides *ov, struct dane_result *dane,
    const struct mtasts_result *sts, time_t now)
{
	struct verdict *v = xcalloc(1, sizeof(*v));
	struct cfg_domain_view view;
	const struct overrides_entry *ovent;
	const char *fixed;
	struct sbuf sb = SBUF_INIT;
	bool sts_applies;

	v->v_refs = 1;
	v->v_created = now;
	v->v_domain = xstrdup(dane->dr_domain);
	v->v_dane = dane;
	v->v_sts = verdict_sts_of(sts);
	if (sts != NULL) {
		if (sts->mr_policy)
			v->v_sts_policy = mtasts_policy_ref(sts->mr_policy);
		v->v_sts_failure = sts->mr_failure;
		v->v_sts_reason = xstrdup(sts->mr_reason ? sts->mr_reason : "");
	} else {
		v->v_sts_reason = xstrdup("MTA-STS disabled");
	}
	sts_applies = v->v_sts_policy != NULL && (v->v_sts == VERDICT_STS_ENFORCE ||
	    (v->v_sts == VERDICT_STS_TESTING && cfg->c_mta_sts.cst_strict_testing));

	cfg_domain_lookup(cfg, v->v_domain, &view);
	v->v_require_dane = view.cdv_require == CFG_REQUIRE_DANE;
	fixed = verdict_fixed(cfg, ov, v->v_domain, now, &ovent);
	if (ovent != NULL && ovent->oe_expires != 0)
		v->v_valid_until = ovent->oe_expires;
	if (fixed != NULL) {
		v->v_kind = VERDICT_OK;
		v->v_source = VERDICT_SRC_CONFIG;
		v->v_policy = xstrdup(fixed);
		v->v_reason = ovent != NULL ? xasprintf("fixed policy from the overrides file %s:%d%s",
		    ov->ov_file, ovent->oe_line, ovent->oe_danefail ? " (danefail list entry)" : "") :
		    xstrdup("fixed policy from the configuration");
	} else if (dane->dr_policy == DANE_POLICY_TEMP) {
		v->v_kind = VERDICT_TEMP;
		v->v_source = VERDICT_SRC_DANE;
		v->v_reason = xasprintf("DANE %s: %s", dane_verdict_name(dane->dr_verdict), dane->dr_reason);
	} else if ((dane->dr_policy == DANE_POLICY_DANE_ONLY || dane->dr_policy == DANE_POLICY_DANE) &&
	    !(dane->dr_verdict == DANE_INSECURE && sts_applies)) {
		/* (DANE at the hosts of an unsigned MX yields to MTA-STS in
		 * enforce mode: its mx patterns pin the names DNSSEC does not) */
		v->v_kind = VERDICT_OK;
		v->v_source = VERDICT_SRC_DANE;
		/* require = "dane": a host without usable TLSA is never used
		 * (policy "dane" would fall back to opportunistic TLS there). */
		v->v_policy = xstrdup(v->v_require_dane ? "dane-only" :
		    dane_policy_name(dane->dr_policy));
		v->v_reason = xasprintf("DANE %s: %s", dane_verdict_name(dane->dr_verdict), dane->dr_reason);
	} else if (v->v_require_dane) {
		v->v_kind = VERDICT_OK;
		v->v_source = VERDICT_SRC_CONFIG;
		v->v_policy = xstrdup("dane-only");
		v->v_reason = xasprintf("require = \"dane\", DANE %s: %s",
		    dane_verdict_name(dane->dr_verdict), dane->dr_reason);
	} else if (sts_applies) {
		v->v_kind = VERDICT_OK;
		v->v_source = VERDICT_SRC_MTASTS;
		v->v_policy = verdict_sts_policy(v->v_sts_policy);
		v->v_reason = xasprintf("MTA-STS %s (id %s)", verdict_sts_name(v->v_sts), v->v_sts_policy->mp_id);
	} else {
		v->v_kind = VERDICT_NOTFOUND;
		v->v_source = VERDICT_SRC_NONE;
		v->v_reason = xasprintf("DANE %s, MTA-STS %s", dane_verdict_name(dane->dr_verdict),
		    verdict_sts_name(v->v_sts));
	}
	if (v->v_kind == VERDICT_OK &&
	    sizeof("OK ") - 1 + strlen(v->v_policy) > VERDICT_REPLY_MAX)
		verdict_too_long(v);
	v->v_level = v->v_kind == VERDICT_OK ? verdict_level_of(v->v_policy) :
	    v->v_kind == VERDICT_TEMP ? "temperror" : "none";

	switch (v->v_kind) {
	case VERDICT_OK:
		sbuf_append(&sb, "OK ");
		verdict_clean(&sb, v->v_policy, SIZE_MAX);     /* fits: checked above */
		break;
	case VERDICT_NOTFOUND:
		sbuf_append(&sb, "NOTFOUND ");
		break;
	case VERDICT_TEMP:
		sbuf_append(&sb, "TEMP ");
		verdict_clean(&sb, v->v_reason, 2000);
		break;
	}
	v->v_reply_len = sb.sb_len;
	v->v_reply = sbuf_steal(&sb);
	if (v->v_kind == VERDICT_OK && v->v_source == VERDICT_SRC_MTASTS) {
		verdict_tlsrpt_reply(v);
	} else {
		v->v_reply_tlsrpt = v->v_reply;
		v->v_reply_tlsrpt_len = v->v_reply_len;
	}
	return v;
}

struct verdict *
verdict_ref(struct verdict *v)
{
	__atomic_add_fetch(&v->v_refs, 1, __ATOMIC_RELAXED);
	return v;
}

void
verdict_unref(struct verdict *v)
{
	if (v == NULL || __atomic_sub_fetch(&v->v_refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (v->v_reply_tlsrpt != v->v_reply)
		free(v->v_reply_tlsrpt);
	free(v->v_reply);
	free(v->v_domain);
	free(v->v_policy);
	free(v->v_reason);
	free(v->v_sts_reason);
	if (v->v_sts_policy)
		mtasts_policy_unref(v->v_sts_policy);
	dane_result_free(v->v_dane);
	free(v);
}

json_t *
verdict_json(const struct verdict *v)
{
	const struct mtasts_policy *p = v->v_sts_policy;
	json_t *o = jsonout_object(), *sts = jsonout_object();
	size_t i;

	jsonout_set_str(o, "domain", v->v_domain);
	jsonout_set_str(o, "policy", v->v_level);
	jsonout_set_str(o, "dane", dane_verdict_name(v->v_dane->dr_verdict));
	jsonout_set_str(o, "mta_sts", verdict_sts_name(v->v_sts));
	jsonout_set_str(o, "source", verdict_source_name(v->v_source));
	jsonout_set_str(o, "reply", verdict_kind_name(v->v_kind));
	jsonout_set_str(o, "postfix_policy", v->v_policy);
	jsonout_set_str(o, "reason", v->v_reason);
	jsonout_set(o, "dane_detail", report_json(v->v_dane));
	jsonout_set_str(sts, "state", verdict_sts_name(v->v_sts));
	if (p != NULL) {
		json_t *mx = jsonout_array();

		jsonout_set_str(sts, "id", p->mp_id);
		jsonout_set_str(sts, "mode", mtasts_policy_mode_name(p->mp_mode));
		jsonout_set_int(sts, "max_age", p->mp_max_age);
		jsonout_set_int(sts, "fetched", (long long)p->mp_fetched);
		for (i = 0; i < p->mp_nmx; i++)
			jsonout_append(mx, jsonout_str(p->mp_mx[i]));
		jsonout_set(sts, "mx", mx);
	}
	jsonout_set_str(sts, "failure", v->v_sts_failure != MTASTS_FAIL_NONE ?
	    mtasts_failure_name(v->v_sts_failure) : NULL);
	jsonout_set_str(sts, "reason", v->v_sts_reason);
	jsonout_set(o, "mta_sts_detail", sts);
	return o;
}

void
verdict_json_brief(json_t *o, const struct verdict *v)
{
	jsonout_set_str(o, "policy", v->v_level);
	jsonout_set_str(o, "source", verdict_source_name(v->v_source));
	jsonout_set_str(o, "dane", dane_verdict_name(v->v_dane->dr_verdict));
	jsonout_set_str(o, "mta_sts", verdict_sts_name(v->v_sts));
}
