/*
 * summary.c: see summary.h.
 *
 * Text:
 *   QID: summary: client=NAME[ADDR], tls=TLSv1.3, sender=DOMAIN (policy=P
 *   dane=D mta-sts=S), rcpt=DOMAIN (policy=P source=S dane=D mta-sts=S
 *   action=accept), ..., action=accept[, reason=...], wait=Nms
 * A domain without a verdict shows "(policy=temperror reason=timeout)";
 * an address without a usable domain (HDR_INVALID) "sender=invalid" /
 * "rcpt=invalid (action=...)", and in JSON only "domain": "invalid".
 */
#include "summary.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonout.h"
#include "policy/dane.h"

static const char *
summary_name(const char *name)
{
	if (name == NULL || *name == '\0' || *name == '[' || strcmp(name, "unknown") == 0)
		return "unknown";
	return name;
}

static const char *
summary_missing(enum hdr_missing m)
{
	return m == HDR_TIMEOUT ? "timeout" : "unavailable";
}

/* An address without a usable domain: no verdict to show. */
static bool
summary_invalid(const struct verdict *v, enum hdr_missing m)
{
	return v == NULL && m == HDR_INVALID;
}

static void
summary_text_verdict(struct sbuf *sb, const struct verdict *v, enum hdr_missing m,
    int with_source)
{
	if (v == NULL) {
		sbuf_printf(sb, "policy=temperror reason=%s", summary_missing(m));
		return;
	}
	sbuf_printf(sb, "policy=%s ", v->v_level);
	if (with_source)
		sbuf_printf(sb, "source=%s ", verdict_source_name(v->v_source));
	sbuf_printf(sb, "dane=%s mta-sts=%s", dane_verdict_name(v->v_dane->dr_verdict),
	    verdict_sts_name(v->v_sts));
}

void
summary_text(struct sbuf *sb, const struct summary *s)
{
	size_t i;

	sbuf_printf(sb, "%s: summary: client=", s->s_qid ? s->s_qid : "NOQUEUE");
	hdr_token(sb, summary_name(s->s_in->hi_client_name));
	sbuf_appendc(sb, '[');
	hdr_token(sb, s->s_in->hi_client_addr);
	sbuf_append(sb, "], tls=");
	hdr_token(sb, hdr_inbound_tls(s->s_in) ? s->s_in->hi_tls_version : "none");
	sbuf_append(sb, ", sender=");
	if (s->s_sender == NULL) {
		sbuf_append(sb, "none");
	} else if (summary_invalid(s->s_sender_verdict, s->s_sender_missing)) {
		sbuf_append(sb, "invalid");
	} else {
		sbuf_printf(sb, "%s (", s->s_sender);
		summary_text_verdict(sb, s->s_sender_verdict, s->s_sender_missing, 0);
		sbuf_appendc(sb, ')');
	}
	for (i = 0; i < s->s_nrcpts; i++) {
		const struct summary_rcpt *r = &s->s_rcpts[i];

		if (summary_invalid(r->sr_verdict, r->sr_missing)) {
			sbuf_printf(sb, ", rcpt=invalid (action=%s)", r->sr_action);
			continue;
		}
		sbuf_printf(sb, ", rcpt=%s (", r->sr_domain);
		summary_text_verdict(sb, r->sr_verdict, r->sr_missing, 1);
		sbuf_printf(sb, " action=%s)", r->sr_action);
	}
	sbuf_printf(sb, ", action=%s", s->s_action);
	if (s->s_reason != NULL) {
		sbuf_append(sb, ", reason=");
		hdr_token(sb, s->s_reason);
	}
	sbuf_printf(sb, ", wait=%ums", s->s_wait_ms);
}

/* The domain's verdict, or why there is none, into o. */
static void
summary_json_verdict(json_t *o, const struct verdict *v, enum hdr_missing m)
{
	if (v == NULL) {
		jsonout_set_str(o, "policy", "temperror");
		jsonout_set_str(o, "reason", summary_missing(m));
		return;
	}
	verdict_json_brief(o, v);
}

void
summary_json(struct sbuf *sb, const struct summary *s)
{
	const struct hdr_inbound *in = s->s_in;
	json_t *o = jsonout_object(), *rcpts = jsonout_array(), *x;
	char vbuf[32];
	size_t i;

	jsonout_set_str(o, "event", "summary");
	jsonout_set_str(o, "queue_id", s->s_qid);
	jsonout_set_str(o, "client_name", summary_name(in->hi_client_name));
	jsonout_set_str(o, "client_addr", in->hi_client_addr);
	if (hdr_inbound_tls(in)) {
		x = jsonout_object();
		jsonout_set_str(x, "version", in->hi_tls_version);
		jsonout_set_str(x, "cipher", in->hi_cipher);
		jsonout_set_str(x, "bits", in->hi_bits);
		jsonout_set_str(x, "client_cert", hdr_client_cert(in, vbuf, sizeof(vbuf)));
		jsonout_set(o, "tls", x);
	} else {
		jsonout_set(o, "tls", json_null());
	}
	if (s->s_sender == NULL) {
		jsonout_set(o, "sender", json_null());
	} else {
		x = jsonout_object();
		if (summary_invalid(s->s_sender_verdict, s->s_sender_missing)) {
			jsonout_set_str(x, "domain", "invalid");
		} else {
			jsonout_set_str(x, "domain", s->s_sender);
			summary_json_verdict(x, s->s_sender_verdict, s->s_sender_missing);
		}
		jsonout_set(o, "sender", x);
	}
	for (i = 0; i < s->s_nrcpts; i++) {
		const struct summary_rcpt *r = &s->s_rcpts[i];

		x = jsonout_object();
		if (summary_invalid(r->sr_verdict, r->sr_missing)) {
			jsonout_set_str(x, "domain", "invalid");
		} else {
			jsonout_set_str(x, "domain", r->sr_domain);
			summary_json_verdict(x, r->sr_verdict, r->sr_missing);
		}
		jsonout_set_str(x, "action", r->sr_action);
		jsonout_set_int(x, "count", r->sr_count);
		jsonout_append(rcpts, x);
	}
	jsonout_set(o, "recipients", rcpts);
	jsonout_set_str(o, "action", s->s_action);
	jsonout_set_str(o, "reason", s->s_reason);
	jsonout_set_int(o, "wait_ms", s->s_wait_ms);
	jsonout_dump_sbuf(sb, o);
	json_decref(o);
}
