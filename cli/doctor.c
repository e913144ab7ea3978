/*
 * doctor.c: see doctor.h. The rules; Postfix's configuration comes parsed
 * (cli/postconf.h), endpoints are read with endpoint_parse().
 *
 * FINDINGS
 *	Every finding is one line. A problem or warning about a main.cf
 *	parameter reads
 *	    doctor: [warning: ]NAME = VALUE: [WHY: ]want WANT: add "NAME = FIX" to main.cf
 *	(VALUE "(empty)" for an empty value; "add" is always right, as the
 *	last definition in main.cf wins). One about a master.cf override:
 *	    doctor: warning: master.cf SERVICE/TYPE: -o NAME=VALUE: [WHY: ]want WANT:
 *	    run postconf -P "SERVICE/TYPE/NAME=FIX"
 *	Notes: "doctor: note: ...". Overrides in master.cf are only warnings:
 *	a transport or listener that differs on purpose is common.
 *
 * THE RULES
 *	smtp_dns_support_level = dnssec, else Postfix never sees TLSA records
 *	as secure (problem). smtp_host_lookup includes dns (problem).
 *	smtp_tls_security_level dane or dane-only (problem).
 *	smtp_tls_dane_insecure_mx_policy, when this Postfix has it (3.6+), is
 *	dane: otherwise the TLSA records of MX hosts reached through an
 *	unsigned MX RRset are ignored where the level is dane, as in
 *	danemilter's "dane" answers (warning). Its default is dane only with
 *	smtp_tls_security_level = dane (may with dane-only), so it is looked
 *	at once the level is right: fixing the level may fix it too.
 *	smtp_tls_policy_maps: see doctor_rule_policy_maps().
 *	socketmap.tlsrpt needs Postfix >= 3.10 (problem).
 *	smtpd_milters: see doctor_rule_milters().
 *	The default action for danemilter's milter (the entry's own
 *	default_action, else milter_default_action): tempfail (Postfix's
 *	default) and quarantine keep a message from passing without
 *	danemilter's headers and RCPT checks while danemilter is down or late;
 *	accept lets it pass unannotated, reject bounces it for good. Both are
 *	legitimate trade-offs, so a warning recommending tempfail.
 *	Unix sockets and chroot: a chrooted smtp(8) or smtpd(8) (chroot "y"
 *	in master.cf) opens "unix:/p" as queue_directory + "/p"; danemilter's
 *	socket must then be under queue_directory. doctor_check_socket():
 *	Postfix connects as mail_owner, so the socket file (stat'ed by
 *	doctorcmd.c) must be writable for that user, its group or everyone.
 *	The resolver: see doctor_rule_resolv().
 *
 * ADDRESSES
 *	Postfix "inet:HOST:PORT" ([IPv6] in brackets) matches danemilter's
 *	"inet:HOST:PORT" (socketmap) or libmilter "inet:PORT@HOST" /
 *	"inet6:PORT@HOST" when the ports are equal and the hosts are equal
 *	(case-insensitive, without brackets), one is "localhost" and the
 *	other 127.0.0.1 or ::1, or danemilter listens on every address (no
 *	host, "*", 0.0.0.0, ::). Names are not resolved. "unix:" and "local:"
 *	are the same to Postfix. Every endpoint is read by endpoint_parse()
 *	(common/endpoint.h): Postfix's and socketmap.listen in its
 *	ENDPOINT_POSTFIX form, milter.socket in ENDPOINT_MILTER, unix paths
 *	absolute.
 */
#include "doctor.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/endpoint.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"

/* Where the socketmap listens when socketmap.listen is empty (as
 * TLSPOLICY_DEFAULT_LISTEN in socketmap/tlspolicy.c). */
#define DOCTOR_DEFAULT_LISTEN "inet:127.0.0.1:8642"
#define DOCTOR_WS       " \t\r\n"

/* ---- endpoints ---- */

struct doctor_ep {
	bool de_unix;
	bool de_anyhost;        /* listens on every address */
	bool de_v6;             /* the host is an IPv6 address (or "::"), or inet6: */
	char de_host[ENDPOINT_HOST_MAX];        /* lower case, no brackets */
	unsigned de_port;
	char de_path[ENDPOINT_PATH_MAX];        /* absolute */
};

/*
 * s[0..n) in syntax syn (common/endpoint.h) into *de; unix paths must be
 * absolute. Danemilter's socketmap.listen is read in Postfix's form, as
 * the Postfix endpoints it is compared with (cfg_load() allows no
 * "local:" there).
 */
static bool
doctor_ep(const char *s, size_t n, enum endpoint_syntax syn, struct doctor_ep *de)
{
	struct endpoint ep;
	enum endpoint_status st;
	char *copy = xstrndup(s, n);
	size_t i;

	memset(de, 0, sizeof(*de));
	st = endpoint_parse(copy, syn, ENDPOINT_F_ABSOLUTE, &ep);
	free(copy);
	if (st != ENDPOINT_OK)
		return false;
	if (ep.ep_kind == ENDPOINT_UNIX) {
		de->de_unix = true;
		memcpy(de->de_path, ep.ep_path, sizeof(de->de_path));
		return true;
	}
	for (i = 0; ep.ep_host[i] != '\0'; i++)
		de->de_host[i] = (ep.ep_host[i] >= 'A' && ep.ep_host[i] <= 'Z') ?
		    (char)(ep.ep_host[i] - 'A' + 'a') : ep.ep_host[i];
	de->de_port = ep.ep_port;
	de->de_v6 = strchr(de->de_host, ':') != NULL ||
	    (syn == ENDPOINT_MILTER && ep.ep_kind == ENDPOINT_INET6);
	de->de_anyhost = de->de_host[0] == '\0' || strcmp(de->de_host, "*") == 0 ||
	    strcmp(de->de_host, "0.0.0.0") == 0 || strcmp(de->de_host, "::") == 0;
	return true;
}

/* danemilter's socketmap.listen entry. */
static bool
doctor_listen_ep(const char *s, struct doctor_ep *de)
{
	return doctor_ep(s, strlen(s), ENDPOINT_POSTFIX, de);
}

/* danemilter's milter.socket (libmilter form). */
static bool
doctor_milter_ep(const char *s, struct doctor_ep *de)
{
	return doctor_ep(s, strlen(s), ENDPOINT_MILTER, de);
}

/* A Postfix client endpoint: "inet:HOST:PORT", "unix:/path", "local:/path". */
static bool
doctor_client_ep(const char *s, size_t n, struct doctor_ep *de)
{
	return doctor_ep(s, n, ENDPOINT_POSTFIX, de);
}

static bool
doctor_is_loopback_literal(const char *h)
{
	return strcmp(h, "127.0.0.1") == 0 || strcmp(h, "::1") == 0;
}

static bool
doctor_host_eq(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return true;
	if (strcmp(a, "localhost") == 0)
		return doctor_is_loopback_literal(b);
	if (strcmp(b, "localhost") == 0)
		return doctor_is_loopback_literal(a);
	return false;
}

/*
 * Where a chrooted Postfix process finds danemilter's unix socket: the
 * path without queue_directory, or NULL when it is outside. Not chrooted:
 * the path itself.
 */
static const char *
doctor_seen_path(const struct doctor_ep *dm, bool chroot, const char *qdir)
{
	size_t ql;

	if (!chroot)
		return dm->de_path;
	ql = strlen(qdir);
	while (ql > 0 && qdir[ql - 1] == '/')
		ql--;
	if (ql == 0 || strncmp(dm->de_path, qdir, ql) != 0 || dm->de_path[ql] != '/')
		return NULL;
	return dm->de_path + ql;
}

/* Does Postfix's client endpoint cl reach danemilter's dm? */
static bool
doctor_ep_match(const struct doctor_ep *dm, const struct doctor_ep *cl,
    bool chroot, const char *qdir)
{
	const char *seen;

	if (dm->de_unix != cl->de_unix)
		return false;
	if (dm->de_unix)
		return (seen = doctor_seen_path(dm, chroot, qdir)) != NULL &&
		    strcmp(seen, cl->de_path) == 0;
	return dm->de_port == cl->de_port &&
	    (dm->de_anyhost || doctor_host_eq(dm->de_host, cl->de_host));
}

/* Postfix's form of danemilter's endpoint ("inet:127.0.0.1:8642",
 * "unix:/p"), or NULL when a chrooted process cannot reach it. */
static char *
doctor_ep_postfix(const struct doctor_ep *dm, bool chroot, const char *qdir)
{
	const char *seen;

	if (dm->de_unix)
		return (seen = doctor_seen_path(dm, chroot, qdir)) == NULL ? NULL :
		    xasprintf("unix:%s", seen);
	if (dm->de_anyhost)
		return xasprintf("inet:%s:%u", dm->de_v6 ? "[::1]" : "127.0.0.1", dm->de_port);
	if (dm->de_v6)
		return xasprintf("inet:[%s]:%u", dm->de_host, dm->de_port);
	return xasprintf("inet:%s:%u", dm->de_host, dm->de_port);
}

/* ---- the report ---- */

struct doctor_ctx {
	const struct postconf *dx_pf;
	const struct cfg *dx_cfg;
	struct doctor_report *dx_out;
	int dx_version;                 /* major * 1000 + minor; -1 unknown */
	const char *dx_version_text;
	const char *dx_qdir;            /* queue_directory */
	const struct postconf_service *dx_smtp;         /* the delivery client, or NULL */
	const struct postconf_service *dx_smtpd;        /* the SMTP server, or NULL */
	const char *dx_cfgname;
};

/* What a rule found wrong with one value. */
struct doctor_verdict {
	bool dv_bad;
	char *dv_why;           /* NULL: no explanation beyond "want" */
	char *dv_want;
	char *dv_fix;           /* the whole value to set; NULL: dv_fixtext */
	char *dv_fixtext;       /* a free-form fix when no value will do */
};

static void
doctor_verdict_free(struct doctor_verdict *v)
{
	free(v->dv_why);
	free(v->dv_want);
	free(v->dv_fix);
	free(v->dv_fixtext);
	memset(v, 0, sizeof(*v));
}

static void DM_PRINTF(3, 4)
doctor_add(struct doctor_report *r, enum doctor_severity sev, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	char *body;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		log_abort("doctor: out of memory");
	va_end(ap);
	sbuf_printf(&sb, "doctor: %s%s", sev == DOCTOR_NOTE ? "note: " :
	    sev == DOCTOR_WARNING ? "warning: " : "", body);
	free(body);
	r->drp_findings = xreallocarray(r->drp_findings, r->drp_n + 1,
	    sizeof(*r->drp_findings));
	r->drp_findings[r->drp_n].df_severity = sev;
	r->drp_findings[r->drp_n].df_line = sbuf_steal(&sb);
	r->drp_n++;
	if (sev == DOCTOR_PROBLEM)
		r->drp_problems++;
	else if (sev == DOCTOR_WARNING)
		r->drp_warnings++;
}

void
doctor_check_socket(const struct doctor_socket *ds, const struct doctor_user *du,
    const char *cfgname, struct doctor_report *out)
{
	const char *sect = strncmp(ds->ds_what, "milter", 6) == 0 ? "milter" : "socketmap";
	unsigned bit;
	size_t i;
	bool member = false;

	if (ds->ds_errno != 0) {
		doctor_add(out, DOCTOR_WARNING, "%s unix:%s: %s (is danemilter running?)",
		    ds->ds_what, ds->ds_path, strerror(ds->ds_errno));
		return;
	}
	if (!ds->ds_is_socket) {
		doctor_add(out, DOCTOR_PROBLEM, "%s unix:%s: not a socket", ds->ds_what,
		    ds->ds_path);
		return;
	}
	for (i = 0; i < du->du_ngroups; i++)
		if (du->du_groups[i] == ds->ds_gid)
			member = true;
	bit = du->du_uid == 0 ? 0222 : du->du_uid == ds->ds_uid ? 0200 : member ? 0020 : 0002;
	if ((ds->ds_mode & bit) != 0)
		return;
	doctor_add(out, DOCTOR_PROBLEM, "%s unix:%s: owner %s, group %s, mode %04o: Postfix's "
	    "mail_owner %s cannot connect: set %s.group = \"%s\" (a group of %s) and "
	    "%s.mode = \"0660\" in %s", ds->ds_what, ds->ds_path, ds->ds_owner, ds->ds_group,
	    ds->ds_mode, du->du_name, sect, du->du_name, du->du_name, sect, cfgname);
}

static const char *
doctor_show(const char *v)
{
	return v == NULL ? "(unknown to this Postfix)" : *v == '\0' ? "(empty)" : v;
}

/* Report v (if bad) about NAME in main.cf (ov NULL) or an override. */
static void
doctor_emit(struct doctor_ctx *x, enum doctor_severity sev,
    const struct postconf_override *ov, const char *name, const char *value,
    struct doctor_verdict *v)
{
	struct sbuf sb = SBUF_INIT;

	if (!v->dv_bad)
		return;
	if (ov != NULL)
		sbuf_printf(&sb, "master.cf %s/%s: -o %s=%s", ov->pco_service,
		    ov->pco_type, name, doctor_show(value));
	else
		sbuf_printf(&sb, "%s = %s", name, doctor_show(value));
	if (v->dv_why != NULL)
		sbuf_printf(&sb, ": %s", v->dv_why);
	sbuf_printf(&sb, ": want %s: ", v->dv_want);
	if (v->dv_fix == NULL)
		sbuf_append(&sb, v->dv_fixtext);
	else if (ov != NULL)
		sbuf_printf(&sb, "run postconf -P \"%s/%s/%s=%s\"", ov->pco_service,
		    ov->pco_type, name, v->dv_fix);
	else
		sbuf_printf(&sb, "add \"%s = %s\" to main.cf", name, v->dv_fix);
	doctor_add(x->dx_out, sev, "%s", sbuf_str(&sb));
	sbuf_free(&sb);
}

/* A single-word setting: bad unless value is one of ok[] (case-insensitive). */
static void
doctor_rule_word(const char *value, const char *const *ok, const char *want,
    struct doctor_verdict *v)
{
	const char *const *w;

	for (w = ok; value != NULL && *w != NULL; w++)
		if (strcasecmp(value, *w) == 0)
			return;
	v->dv_bad = true;
	v->dv_want = xstrdup(want);
	v->dv_fix = xstrdup(ok[0]);
}

static void
doctor_rule_dns_level(struct doctor_ctx *x, const char *value, bool chroot,
    struct doctor_verdict *v)
{
	static const char *const ok[] = { "dnssec", NULL };

	doctor_rule_word(value, ok, "dnssec", v);
}

static bool
doctor_security_level_ok(const char *value)
{
	return value != NULL && (strcasecmp(value, "dane") == 0 ||
	    strcasecmp(value, "dane-only") == 0);
}

static void
doctor_rule_security_level(struct doctor_ctx *x, const char *value, bool chroot,
    struct doctor_verdict *v)
{
	static const char *const ok[] = { "dane", "dane-only", NULL };

	doctor_rule_word(value, ok, "dane or dane-only", v);
}

static void
doctor_rule_insecure_mx(struct doctor_ctx *x, const char *value, bool chroot,
    struct doctor_verdict *v)
{
	static const char *const ok[] = { "dane", NULL };

	doctor_rule_word(value, ok, "dane", v);
	if (v->dv_bad)
		v->dv_why = xstrdup("the TLSA records of MX hosts found through "
		    "an unsigned MX lookup are ignored");
}

static void
doctor_rule_host_lookup(struct doctor_ctx *x, const char *value, bool chroot,
    struct doctor_verdict *v)
{
	if (value != NULL && postconf_list_has(value, "dns"))
		return;
	v->dv_bad = true;
	v->dv_want = xstrdup("dns");
	v->dv_fix = xstrdup("dns");
}

static bool
doctor_name_ok(const struct doctor_ctx *x, const char *name)
{
	return strcmp(name, "QUERY") == 0 ||
	    (strcmp(name, "QUERYwithTLSRPT") == 0 && (x->dx_version < 0 || x->dx_version >= 3010));
}

/*
 * smtp_tls_policy_maps must hold "socketmap:ENDPOINT:NAME" with ENDPOINT
 * one of socketmap.listen as smtp(8) reaches it and NAME QUERY, or
 * QUERYwithTLSRPT with Postfix >= 3.10. An entry is danemilter's when its
 * endpoint is one of socketmap.listen or its name is one of danemilter's
 * (QUERY, QUERYwithTLSRPT, JSON); every such entry must be right, as a
 * table that cannot be reached defers all mail. The fix keeps the other
 * tables in their places, replaces the first wrong entry of danemilter's
 * with the right one and drops the other wrong ones, or appends the right
 * one last (so the administrator's own tables are consulted first).
 */
static void
doctor_rule_policy_maps(struct doctor_ctx *x, const char *value, bool chroot,
    struct doctor_verdict *v)
{
	static const char *const def_listen[] = { DOCTOR_DEFAULT_LISTEN };
	const struct cfg_socketmap *cs = &x->dx_cfg->c_socketmap;
	const char *const *lv = cs->csm_nlisten ? (const char *const *)cs->csm_listen : def_listen;
	size_t nl = cs->csm_nlisten ? cs->csm_nlisten : 1;
	struct doctor_ep *listen = xcalloc(nl, sizeof(*listen));
	struct sbuf list = SBUF_INIT, listens = SBUF_INIT;
	struct doctor_pm {
		const char *pm_s;       /* the element, pm_n bytes */
		size_t pm_n;
		bool pm_ours, pm_good;
	} *el = NULL;
	const char *p = value ? value : "", *s;
	char *want_ep = NULL, *want = NULL, *why = NULL;
	bool has_good = false, any_ours = false, any_bad = false, replaced = false;
	size_t i, j, n, nel = 0, nlisten = 0;

	for (i = 0; i < nl; i++) {
		sbuf_printf(&listens, "%s%s", i ? ", " : "", lv[i]);
		if (doctor_listen_ep(lv[i], &listen[nlisten]))
			nlisten++;
	}
	for (i = 0; i < nlisten && want_ep == NULL; i++)
		want_ep = doctor_ep_postfix(&listen[i], chroot, x->dx_qdir);

	while (postconf_list_next(&p, &s, &n)) {
		struct doctor_pm *e;
		struct doctor_ep ep;
		const char *c, *epstr = s + 10;
		size_t eplen;
		char nm[64];
		bool reach = false;

		el = xreallocarray(el, nel + 1, sizeof(*el));
		e = &el[nel++];
		e->pm_s = s;
		e->pm_n = n;
		e->pm_ours = e->pm_good = false;
		if (n <= 10 || strncmp(s, "socketmap:", 10) != 0)
			continue;
		for (c = s + n; c > epstr && c[-1] != ':'; c--)
			;
		if (c == epstr)
			continue;       /* no ":NAME" */
		eplen = (size_t)(c - 1 - epstr);
		snprintf(nm, sizeof(nm), "%.*s", (int)(s + n - c), c);
		if (doctor_client_ep(epstr, eplen, &ep))
			for (j = 0; j < nlisten && !reach; j++)
				reach = doctor_ep_match(&listen[j], &ep, chroot, x->dx_qdir);
		e->pm_ours = reach || strcmp(nm, "QUERY") == 0 ||
		    strcmp(nm, "QUERYwithTLSRPT") == 0 || strcmp(nm, "JSON") == 0;
		e->pm_good = reach && doctor_name_ok(x, nm);
		any_ours |= e->pm_ours;
		has_good |= e->pm_good;
		if (!e->pm_ours || e->pm_good || any_bad)
			continue;
		any_bad = true;
		if (!reach)
			why = xasprintf("danemilter does not listen on %.*s "
			    "(socketmap.listen: %s)", (int)eplen, epstr, sbuf_str(&listens));
		else if (strcmp(nm, "QUERYwithTLSRPT") == 0)
			why = xasprintf("Postfix %s rejects the TLSRPT attributes of "
			    "QUERYwithTLSRPT replies (they need Postfix 3.10)",
			    x->dx_version_text);
		else
			why = xasprintf("the request name must be QUERY, not %s", nm);
		if (want_ep != NULL)
			want = xasprintf("socketmap:%s:%s", want_ep,
			    doctor_name_ok(x, nm) ? nm : "QUERY");
	}
	if (any_ours && !any_bad)
		goto out;       /* right */
	v->dv_bad = true;
	if (want_ep == NULL) {
		/* No listen address is reachable from the chroot. */
		const char *svc = x->dx_smtp ? x->dx_smtp->pcs_name : "smtp";
		const char *typ = x->dx_smtp ? x->dx_smtp->pcs_type : "unix";

		v->dv_why = xasprintf("smtp(8) runs chrooted in %s (master.cf %s/%s) and "
		    "no socketmap.listen socket (%s) is inside it", x->dx_qdir, svc, typ,
		    sbuf_str(&listens));
		v->dv_want = xstrdup("a danemilter socketmap that smtp(8) can reach");
		v->dv_fixtext = xasprintf("in %s, listen on inet:127.0.0.1:PORT or on a "
		    "unix socket under %s", x->dx_cfgname, x->dx_qdir);
		goto out;
	}
	if (want == NULL)
		want = xasprintf("socketmap:%s:QUERY", want_ep);
	for (i = 0; i < nel; i++) {
		const char *t = el[i].pm_s;
		size_t tn = el[i].pm_n;

		if (el[i].pm_ours && !el[i].pm_good) {
			if (has_good || replaced)
				continue;
			replaced = true;
			t = want;
			tn = strlen(want);
		}
		sbuf_printf(&list, "%s%.*s", list.sb_len ? ", " : "", (int)tn, t);
	}
	if (!any_ours)
		sbuf_printf(&list, "%s%s", list.sb_len ? ", " : "", want);
	v->dv_why = why;
	why = NULL;
	if (has_good) {
		/* Keep the right entry, drop the wrong ones. */
		for (i = 0; !el[i].pm_good; i++)
			;
		v->dv_want = xasprintf("%.*s alone", (int)el[i].pm_n, el[i].pm_s);
	} else {
		v->dv_want = want;
		want = NULL;
	}
	v->dv_fix = sbuf_steal(&list);
out:
	free(el);
	free(why);
	free(want);
	free(want_ep);
	free(listen);
	sbuf_free(&list);
	sbuf_free(&listens);
}

/*
 * smtpd_milters must hold milter.socket as Postfix writes it (see
 * ADDRESSES); when it does not, the fix appends it, after the other
 * milters. *action: the default_action of danemilter's entry, when given.
 */
static void
doctor_rule_milters_act(struct doctor_ctx *x, const char *value, bool chroot,
    struct doctor_verdict *v, char **action)
{
	const char *sock = x->dx_cfg->c_milter.cm_socket, *p = value ? value : "", *s;
	struct doctor_ep dm, ep;
	char *want;
	size_t n;

	if (action != NULL)
		*action = NULL;
	if (!doctor_milter_ep(sock, &dm))
		return;         /* cfg_load() checked it */
	while (postconf_list_next(&p, &s, &n)) {
		char *addr, *act;

		postconf_milter_entry(s, n, &addr, &act);
		if (doctor_client_ep(addr, strlen(addr), &ep) &&
		    doctor_ep_match(&dm, &ep, chroot, x->dx_qdir)) {
			free(addr);
			if (action != NULL)
				*action = act;
			else
				free(act);
			return;
		}
		free(addr);
		free(act);
	}
	v->dv_bad = true;
	if ((want = doctor_ep_postfix(&dm, chroot, x->dx_qdir)) == NULL) {
		const char *svc = x->dx_smtpd ? x->dx_smtpd->pcs_name : "smtp";
		const char *typ = x->dx_smtpd ? x->dx_smtpd->pcs_type : "inet";

		v->dv_why = xasprintf("smtpd(8) runs chrooted in %s (master.cf %s/%s) "
		    "and milter.socket %s is outside it", x->dx_qdir, svc, typ, sock);
		v->dv_want = xstrdup("a danemilter milter that smtpd(8) can reach");
		v->dv_fixtext = xasprintf("in %s, set milter.socket to inet:PORT@127.0.0.1 "
		    "or a unix socket under %s", x->dx_cfgname, x->dx_qdir);
		return;
	}
	if (value == NULL || *value == '\0') {
		v->dv_want = xstrdup(want);
		v->dv_fix = want;
	} else {
		v->dv_want = xasprintf("%s in the list", want);
		v->dv_fix = xasprintf("%s, %s", value, want);
		free(want);
	}
}

static void
doctor_rule_milters(struct doctor_ctx *x, const char *value, bool chroot,
    struct doctor_verdict *v)
{
	doctor_rule_milters_act(x, value, chroot, v, NULL);
}

/* The default action for danemilter's milter: see THE RULES. */
static void
doctor_rule_default_action(struct doctor_ctx *x, const char *value, bool chroot,
    struct doctor_verdict *v)
{
	if (value == NULL)
		return;
	if (strcasecmp(value, "accept") == 0)
		v->dv_why = xstrdup("mail passes without danemilter's headers and "
		    "RCPT checks whenever danemilter is down or too slow");
	else if (strcasecmp(value, "reject") == 0)
		v->dv_why = xstrdup("mail is rejected for good whenever danemilter "
		    "is down or too slow");
	else
		return;
	v->dv_bad = true;
	v->dv_want = xstrdup("tempfail");
	v->dv_fix = xstrdup("tempfail");
}

typedef void doctor_rule_fn(struct doctor_ctx *, const char *, bool,
    struct doctor_verdict *);

/* master.cf overrides worth a look: parameter, the program that reads it. */
static const struct doctor_override_rule {
	const char *dor_name;
	const char *dor_command;
	doctor_rule_fn *dor_rule;
} doctor_override_rules[] = {
	{ "smtp_dns_support_level", "smtp", doctor_rule_dns_level },
	{ "smtp_host_lookup", "smtp", doctor_rule_host_lookup },
	{ "smtp_tls_security_level", "smtp", doctor_rule_security_level },
	{ "smtp_tls_dane_insecure_mx_policy", "smtp", doctor_rule_insecure_mx },
	{ "smtp_tls_policy_maps", "smtp", doctor_rule_policy_maps },
	{ "smtpd_milters", "smtpd", doctor_rule_milters },
	{ "milter_default_action", "smtpd", doctor_rule_default_action },
};

static void
doctor_main_rule(struct doctor_ctx *x, enum doctor_severity sev, const char *name,
    doctor_rule_fn *rule, bool chroot)
{
	struct doctor_verdict v = { 0 };
	const char *value = postconf_param(x->dx_pf, name);

	rule(x, value, chroot, &v);
	doctor_emit(x, sev, NULL, name, value, &v);
	doctor_verdict_free(&v);
}

static void
doctor_rule_overrides(struct doctor_ctx *x)
{
	const struct postconf *pf = x->dx_pf;
	const struct postconf_override *ov;
	const struct postconf_service *svc;
	size_t i, r;

	for (i = 0; i < pf->pc_noverrides; i++) {
		ov = &pf->pc_overrides[i];
		svc = postconf_service(pf, ov->pco_service, ov->pco_type);
		for (r = 0; r < sizeof(doctor_override_rules) / sizeof(doctor_override_rules[0]); r++) {
			const struct doctor_override_rule *dr = &doctor_override_rules[r];
			struct doctor_verdict v = { 0 };

			if (strcmp(ov->pco_name, dr->dor_name) != 0 || svc == NULL ||
			    strcmp(svc->pcs_command, dr->dor_command) != 0)
				continue;
			if (strcmp(dr->dor_command, "smtpd") == 0 &&
			    *x->dx_cfg->c_milter.cm_socket == '\0')
				continue;
			dr->dor_rule(x, ov->pco_value, svc->pcs_chroot, &v);
			doctor_emit(x, DOCTOR_WARNING, ov, ov->pco_name, ov->pco_value, &v);
			doctor_verdict_free(&v);
		}
	}
}

/*
 * cache.shared without cache.shared_key_file (warning): the fleet's values
 * are not signed, so whoever can write to that Redis can hand every
 * member a verdict (a weaker one too); with the key a forged value is a
 * miss and at worst makes members resolve again.
 */
static void
doctor_rule_shared(struct doctor_ctx *x, const struct cfg *cfg)
{
	const struct cfg_cache *cc = &cfg->c_cache;

	if (*cc->cca_shared == '\0' || *cc->cca_shared_key_file != '\0')
		return;
	doctor_add(x->dx_out, DOCTOR_WARNING, "cache.shared = \"%s\" (%s) without "
	    "cache.shared_key_file: the shared values are not signed, and whoever can "
	    "write to that Redis can give every member a weaker policy: want a key shared "
	    "by the fleet: set shared_key_file in the cache section of %s",
	    cc->cca_shared, x->dx_cfgname, x->dx_cfgname);
}

/*
 * The resolver Postfix uses (it reads resolv.conf; smtp_dns_support_level
 * = dnssec makes it set RES_TRUSTAD itself, so it believes the AD bit of
 * whatever nameserver answers, whatever "options trust-ad" says). The rule:
 * each nameserver line is reported as a note; a nameserver that is not a
 * loopback address (127.0.0.0/8, ::1) is a warning unless "options
 * trust-ad" is present: trust-ad is the administrator's statement, in
 * glibc's own terms, that every listed nameserver validates DNSSEC and is
 * reached over a trusted path; without it nothing says so, and an AD bit
 * from across the network can be forged or come from a resolver that does
 * not validate. No nameserver line: glibc asks 127.0.0.1.
 */
static void
doctor_rule_resolv(struct doctor_ctx *x, const char *name, const char *text,
    const char *err)
{
	const char *line, *end;
	char **ns = NULL;
	size_t nns = 0, i;
	bool trust_ad = false;

	if (text == NULL) {
		doctor_add(x->dx_out, DOCTOR_WARNING, "%s: cannot read it (%s): "
		    "Postfix's resolver is not checked", name, err ? err : "?");
		return;
	}
	for (line = text; *line != '\0'; line = *end ? end + 1 : end) {
		char *copy, *save = NULL, *w;

		end = line + strcspn(line, "\n");
		copy = xstrndup(line, (size_t)(end - line));
		w = strtok_r(copy, DOCTOR_WS, &save);
		if (w != NULL && strcmp(w, "nameserver") == 0 &&
		    (w = strtok_r(NULL, DOCTOR_WS, &save)) != NULL) {
			ns = xreallocarray(ns, nns + 1, sizeof(*ns));
			ns[nns++] = xstrdup(w);
		} else if (w != NULL && strcmp(w, "options") == 0) {
			while ((w = strtok_r(NULL, DOCTOR_WS, &save)) != NULL)
				if (strcmp(w, "trust-ad") == 0)
					trust_ad = true;
		}
		free(copy);
	}
	if (nns == 0)
		doctor_add(x->dx_out, DOCTOR_NOTE, "%s: no nameserver line: Postfix "
		    "asks 127.0.0.1", name);
	for (i = 0; i < nns; i++)
		doctor_add(x->dx_out, DOCTOR_NOTE, "%s: nameserver %s", name, ns[i]);
	for (i = 0; i < nns; i++) {
		unsigned char a[16];
		char addr[64];
		bool loop;

		snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(ns[i], "%"), ns[i]);
		if (inet_pton(AF_INET, addr, a) == 1)
			loop = a[0] == 127;
		else if (inet_pton(AF_INET6, addr, a) == 1)
			loop = memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
		else
			loop = false;
		if (!loop && !trust_ad)
			doctor_add(x->dx_out, DOCTOR_WARNING, "%s: nameserver %s is not on "
			    "this host and \"options trust-ad\" is absent: Postfix believes "
			    "the AD bit of every listed nameserver, so each must validate "
			    "DNSSEC and be reached over a trusted path: run a validating "
			    "resolver on 127.0.0.1 and list only it, or add \"options "
			    "trust-ad\" to %s to state that %s is one", name, ns[i], name,
			    ns[i]);
		free(ns[i]);
	}
	free(ns);
}

void
doctor_check(const struct postconf *pf, const struct cfg *cfg,
    const char *resolv_name, const char *resolv_text, const char *resolv_err,
    struct doctor_report *out)
{
	struct doctor_ctx x = { 0 };
	const char *ver = postconf_param(pf, "mail_version"), *qdir;
	bool smtp_chroot, smtpd_chroot;
	unsigned long major, minor;
	char *end;

	x.dx_pf = pf;
	x.dx_cfg = cfg;
	x.dx_out = out;
	x.dx_version = -1;
	x.dx_version_text = ver ? ver : "?";
	x.dx_cfgname = cfg->c_file ? cfg->c_file : "danemilter's configuration";
	if (ver != NULL) {
		major = strtoul(ver, &end, 10);
		if (end != ver && *end == '.') {
			const char *m = end + 1;

			minor = strtoul(m, &end, 10);
			if (end != m && major < 1000 && minor < 1000)
				x.dx_version = (int)(major * 1000 + minor);
		}
	}
	qdir = postconf_param(pf, "queue_directory");
	x.dx_qdir = qdir ? qdir : "/var/spool/postfix";
	x.dx_smtp = postconf_service_running(pf, "smtp", "unix", "smtp");
	x.dx_smtpd = postconf_service_running(pf, "smtp", "inet", "smtpd");
	smtp_chroot = x.dx_smtp != NULL && x.dx_smtp->pcs_chroot;
	smtpd_chroot = x.dx_smtpd != NULL && x.dx_smtpd->pcs_chroot;

	doctor_main_rule(&x, DOCTOR_PROBLEM, "smtp_dns_support_level",
	    doctor_rule_dns_level, smtp_chroot);
	doctor_main_rule(&x, DOCTOR_PROBLEM, "smtp_host_lookup",
	    doctor_rule_host_lookup, smtp_chroot);
	doctor_main_rule(&x, DOCTOR_PROBLEM, "smtp_tls_security_level",
	    doctor_rule_security_level, smtp_chroot);
	/* Its default follows the level ("dane" only with level dane): with
	 * the level wrong, fixing the level may fix it too, so wait. */
	if (postconf_param(pf, "smtp_tls_dane_insecure_mx_policy") != NULL &&
	    doctor_security_level_ok(postconf_param(pf, "smtp_tls_security_level")))
		doctor_main_rule(&x, DOCTOR_WARNING, "smtp_tls_dane_insecure_mx_policy",
		    doctor_rule_insecure_mx, smtp_chroot);

	/* The socketmap always runs (socketmap.listen empty: the default). */
	doctor_main_rule(&x, DOCTOR_PROBLEM, "smtp_tls_policy_maps",
	    doctor_rule_policy_maps, smtp_chroot);
	if (cfg->c_socketmap.csm_tlsrpt && x.dx_version >= 0 && x.dx_version < 3010)
		doctor_add(out, DOCTOR_PROBLEM, "socketmap.tlsrpt = true (%s): "
		    "Postfix %s rejects the TLSRPT attributes in policy replies "
		    "(they need Postfix 3.10): want false: set \"tlsrpt = false;\" "
		    "in the socketmap section of %s", x.dx_cfgname, ver, x.dx_cfgname);

	if (*cfg->c_milter.cm_socket == '\0') {
		doctor_add(out, DOCTOR_NOTE, "milter.socket is empty: danemilter runs "
		    "no milter (smtpd_milters not checked)");
	} else {
		struct doctor_verdict v = { 0 };
		const char *value = postconf_param(pf, "smtpd_milters");
		char *action = NULL;

		doctor_rule_milters_act(&x, value, smtpd_chroot, &v, &action);
		doctor_emit(&x, DOCTOR_PROBLEM, NULL, "smtpd_milters", value, &v);
		doctor_verdict_free(&v);
		if (action != NULL) {
			/* The entry's own default_action overrides the global one. */
			doctor_rule_default_action(&x, action, smtpd_chroot, &v);
			if (v.dv_bad)
				doctor_add(out, DOCTOR_WARNING, "smtpd_milters = %s: "
				    "default_action=%s in danemilter's entry: %s: want "
				    "tempfail: set default_action=tempfail in that entry "
				    "in main.cf", value, action, v.dv_why);
			doctor_verdict_free(&v);
			free(action);
		} else {
			doctor_main_rule(&x, DOCTOR_WARNING, "milter_default_action",
			    doctor_rule_default_action, smtpd_chroot);
		}
	}

	doctor_rule_overrides(&x);
	doctor_rule_shared(&x, cfg);
	doctor_rule_resolv(&x, resolv_name, resolv_text, resolv_err);

	if (cfg->c_dns.cd_nforward > 0) {
		struct sbuf sb = SBUF_INIT;
		size_t i;

		for (i = 0; i < cfg->c_dns.cd_nforward; i++)
			sbuf_printf(&sb, "%s%s", i ? ", " : "", cfg->c_dns.cd_forward[i]);
		doctor_add(out, DOCTOR_NOTE, "dns.forward: danemilter sends its DNS "
		    "queries to %s and validates the answers itself: they must be "
		    "reachable and pass DNSSEC records through, but need not validate; "
		    "Postfix uses the nameservers of %s, which must", sbuf_str(&sb),
		    resolv_name);
		sbuf_free(&sb);
	}
}

char *
doctor_summary(const struct doctor_report *r)
{
	const char *ws = r->drp_warnings == 1 ? "" : "s";

	if (r->drp_problems == 0 && r->drp_warnings == 0)
		return xstrdup("doctor: all good");
	if (r->drp_problems == 0)
		return xasprintf("doctor: no problems, %u warning%s", r->drp_warnings, ws);
	if (r->drp_warnings == 0)
		return xasprintf("doctor: %u problem%s", r->drp_problems,
		    r->drp_problems == 1 ? "" : "s");
	return xasprintf("doctor: %u problem%s, %u warning%s", r->drp_problems,
	    r->drp_problems == 1 ? "" : "s", r->drp_warnings, ws);
}

void
doctor_report_free(struct doctor_report *r)
{
	size_t i;

	for (i = 0; i < r->drp_n; i++)
		free(r->drp_findings[i].df_line);
	free(r->drp_findings);
	memset(r, 0, sizeof(*r));
}
