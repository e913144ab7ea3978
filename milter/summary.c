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

static void
summary_json_verdict(struct sbuf *sb, const struct verdict *v, enum hdr_missing m)
{
	if (v == NULL) {
		sbuf_printf(sb, "\"policy\":\"temperror\",\"reason\":\"%s\"", summary_missing(m));
		return;
	}
	sbuf_printf(sb, "\"policy\":\"%s\",\"source\":\"%s\",\"dane\":\"%s\",\"mta_sts\":\"%s\"",
	    v->v_level, verdict_source_name(v->v_source),
	    dane_verdict_name(v->v_dane->dr_verdict), verdict_sts_name(v->v_sts));
}

static void
summary_json_kv(struct sbuf *sb, const char *key, const char *val)
{
	sbuf_printf(sb, ",\"%s\":", key);
	if (val == NULL)
		sbuf_append(sb, "null");
	else
		sbuf_json_str(sb, val);
}

void
summary_json(struct sbuf *sb, const struct summary *s)
{
	const struct hdr_inbound *in = s->s_in;
	char vbuf[32];
	size_t i;

	sbuf_append(sb, "{\"event\":\"summary\"");
	summary_json_kv(sb, "queue_id", s->s_qid);
	summary_json_kv(sb, "client_name", summary_name(in->hi_client_name));
	summary_json_kv(sb, "client_addr", in->hi_client_addr);
	if (hdr_inbound_tls(in)) {
		sbuf_append(sb, ",\"tls\":{");
		sbuf_append(sb, "\"version\":");
		sbuf_json_str(sb, in->hi_tls_version);
		summary_json_kv(sb, "cipher", in->hi_cipher);
		summary_json_kv(sb, "bits", in->hi_bits);
		summary_json_kv(sb, "client_cert", hdr_client_cert(in, vbuf, sizeof(vbuf)));
		sbuf_appendc(sb, '}');
	} else {
		sbuf_append(sb, ",\"tls\":null");
	}
	if (s->s_sender == NULL) {
		sbuf_append(sb, ",\"sender\":null");
	} else if (summary_invalid(s->s_sender_verdict, s->s_sender_missing)) {
		sbuf_append(sb, ",\"sender\":{\"domain\":\"invalid\"}");
	} else {
		sbuf_append(sb, ",\"sender\":{\"domain\":");
		sbuf_json_str(sb, s->s_sender);
		sbuf_appendc(sb, ',');
		summary_json_verdict(sb, s->s_sender_verdict, s->s_sender_missing);
		sbuf_appendc(sb, '}');
	}
	sbuf_append(sb, ",\"recipients\":[");
	for (i = 0; i < s->s_nrcpts; i++) {
		const struct summary_rcpt *r = &s->s_rcpts[i];

		sbuf_append(sb, i ? ",{\"domain\":" : "{\"domain\":");
		if (summary_invalid(r->sr_verdict, r->sr_missing)) {
			sbuf_append(sb, "\"invalid\"");
		} else {
			sbuf_json_str(sb, r->sr_domain);
			sbuf_appendc(sb, ',');
			summary_json_verdict(sb, r->sr_verdict, r->sr_missing);
		}
		sbuf_printf(sb, ",\"action\":\"%s\",\"count\":%u}", r->sr_action, r->sr_count);
	}
	sbuf_appendc(sb, ']');
	summary_json_kv(sb, "action", s->s_action);
	summary_json_kv(sb, "reason", s->s_reason);
	sbuf_printf(sb, ",\"wait_ms\":%u}", s->s_wait_ms);
}
