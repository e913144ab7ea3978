/*
 * NAME
 *	hdapi - the HaveDane JSON API's answers and the creation rate limit
 * SYNOPSIS
 *	#include "http/hdapi.h"
 * DESCRIPTION
 *	The answers are built with jansson from policy/havedane.h:
 *	hdtoken_new() for a new test, hdtoken_check() and hdstore_result()
 *	and hdstore_verdict() for a test's state. Times are seconds since
 *	the epoch.
 *
 *	The rate limit is a fixed window per client: a table of
 *	HDAPI_RATE_SLOTS (client, window start, count), found by a hash and
 *	linear probing; a slot whose window is over is free again.
 * DIAGNOSTICS
 *	None: errors are answers.
 */
#include "http/hdapi.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonout.h"
#include "common/xmalloc.h"

static int
hdapi_dump(int status, json_t *o, char **body)
{
	*body = json_dumps(o, JSONOUT_FLAGS | JSON_SORT_KEYS);
	json_decref(o);
	if (*body == NULL)
		abort();                /* out of memory */
	return status;
}

int
hdapi_error(int status, const char *text, char **body)
{
	return hdapi_dump(status, json_pack("{s:s}", "error", text), body);
}

/* {"do": "TOKEN@do.ZONE", "dont": ..., "wrong": ...} */
static json_t *
hdapi_addresses(const struct havedane *hd, const char *tok)
{
	char addr[HDTOKEN_LEN + 300];
	json_t *a = json_object();
	int k;

	for (k = 0; k < HDTOKEN_NKIND; k++) {
		snprintf(addr, sizeof(addr), "%s@%s.%s", tok,
		    hdtoken_kind_name((enum hdtoken_kind)k), hd->hd_zone);
		json_object_set_new(a, hdtoken_kind_name((enum hdtoken_kind)k), json_string(addr));
	}
	return a;
}

int
hdapi_create(const struct havedane *hd, time_t now, char **body)
{
	char tok[HDTOKEN_LEN + 1];
	json_t *o;

	if (!hdtoken_new(&hd->hd_key, now, tok))
		return hdapi_error(500, "cannot make a token", body);
	o = json_pack("{s:s, s:o, s:I, s:i}", "token", tok, "addresses", hdapi_addresses(hd, tok),
	    "expires", (json_int_t)now + hd->hd_token_ttl_s, "grace_s", (int)hd->hd_grace_s);
	return hdapi_dump(201, o, body);
}

static json_t *
hdapi_record(const struct hdresult *r, enum hdtoken_kind k)
{
	const struct hdrecord *h = &r->hrs_rec[k];
	json_t *o = jsonout_object();

	jsonout_set(o, "received", jsonout_bool(r->hrs_got[k]));
	if (!r->hrs_got[k])
		return o;
	/* What the client sent: jsonout_str() keeps it whole even when it
	 * is not UTF-8 (json_pack's "s" would fail and drop the record). */
	jsonout_set_int(o, "at", (long long)h->hr_at);
	jsonout_set_str(o, "client", h->hr_client);
	jsonout_set_str(o, "addr", h->hr_addr);
	jsonout_set_str(o, "helo", h->hr_helo);
	jsonout_set_str(o, "tls", h->hr_tls);
	jsonout_set_str(o, "cipher", h->hr_cipher);
	jsonout_set_str(o, "bits", h->hr_bits);
	jsonout_set_str(o, "cert_subject", h->hr_cert_subject);
	jsonout_set_str(o, "cert_issuer", h->hr_cert_issuer);
	jsonout_set_str(o, "mail_domain", h->hr_mail_domain);
	return o;
}

int
hdapi_result(const struct havedane *hd, const char *tok, time_t now, char **body)
{
	char norm[HDTOKEN_LEN + 1];
	struct hdresult r;
	time_t created;
	json_t *res;
	int k;

	switch (hdtoken_check(&hd->hd_key, tok, strlen(tok), now, hd->hd_token_ttl_s,
	    &created, norm)) {
	case HDTOKEN_OK:
		break;
	case HDTOKEN_MALFORMED:
		return hdapi_error(400, "malformed token (want 40 hex digits)", body);
	case HDTOKEN_FORGED:
	case HDTOKEN_EXPIRED:
		return hdapi_error(404, "no such test (unknown or expired token)", body);
	}
	hdstore_result(hd->hd_store, norm, &r);
	res = json_object();
	for (k = 0; k < HDTOKEN_NKIND; k++)
		json_object_set_new(res, hdtoken_kind_name((enum hdtoken_kind)k),
		    hdapi_record(&r, (enum hdtoken_kind)k));
	return hdapi_dump(200, json_pack("{s:s, s:o, s:I, s:I, s:i, s:o, s:s}", "token", norm,
	    "addresses", hdapi_addresses(hd, norm),
	    "created", (json_int_t)created, "expires", (json_int_t)created + hd->hd_token_ttl_s,
	    "grace_s", (int)hd->hd_grace_s, "results", res,
	    "verdict", hdstore_verdict_name(hdstore_verdict(&r, now, hd->hd_grace_s))), body);
}

/* ---- the rate limit ---- */

struct hdapi_slot {
	char hs_client[64];             /* "" = free */
	time_t hs_start;
	unsigned hs_count;
};

struct hdapi_rate {
	pthread_mutex_t hr_lock;
	unsigned hr_per_minute;
	struct hdapi_slot hr_slots[HDAPI_RATE_SLOTS];
};

struct hdapi_rate *
hdapi_rate_new(unsigned per_minute)
{
	struct hdapi_rate *r = xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->hr_lock, NULL);
	r->hr_per_minute = per_minute;
	return r;
}

void
hdapi_rate_free(struct hdapi_rate *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->hr_lock);
	free(r);
}

unsigned
hdapi_rate_take(struct hdapi_rate *r, const char *client, time_t now)
{
	struct hdapi_slot *s, *free_slot = NULL;
	unsigned h = 2166136261u, i, wait = 0;
	const unsigned char *p;
	char key[64];

	snprintf(key, sizeof(key), "%s", client);
	for (p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	pthread_mutex_lock(&r->hr_lock);
	for (i = 0; i < HDAPI_RATE_SLOTS; i++) {
		s = &r->hr_slots[(h + i) % HDAPI_RATE_SLOTS];
		if (s->hs_client[0] != '\0' && now - s->hs_start >= 60)
			s->hs_client[0] = '\0';         /* its window is over */
		if (s->hs_client[0] == '\0') {
			if (free_slot == NULL)
				free_slot = s;
			continue;
		}
		if (strcmp(s->hs_client, key) == 0) {
			if (s->hs_count >= r->hr_per_minute)
				wait = (unsigned)(60 - (now - s->hs_start));
			else
				s->hs_count++;
			pthread_mutex_unlock(&r->hr_lock);
			return wait;
		}
	}
	if (free_slot == NULL) {
		pthread_mutex_unlock(&r->hr_lock);
		return 60;
	}
	memcpy(free_slot->hs_client, key, sizeof(key));
	free_slot->hs_start = now;
	free_slot->hs_count = 1;
	pthread_mutex_unlock(&r->hr_lock);
	return 0;
}
