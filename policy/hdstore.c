/*
 * NAME
 *	hdstore - HaveDane records: bounded, saved, and their verdict
 * SYNOPSIS
 *	#include "policy/hdstore.h"
 * DESCRIPTION
 *	The records are a ring of keep slots in arrival order; a new record
 *	in a full ring takes the oldest one's slot. A lookup scans the ring
 *	(keep is at most 100000, and a test is looked up a few times a
 *	minute by the page that polls it).
 *
 *	FILE FORMAT: one JSON object (jansson), written to FILE.tmp and
 *	renamed over FILE after each new record, so a crash leaves the old
 *	or the new file, never half of one:
 *
 *	  {"version": 1, "records": [ {"token": "...", "kind": "do",
 *	   "at": 1700000000, "client": "...", "addr": "...", "helo": "...",
 *	   "tls": "TLSv1.3", "cipher": "...", "bits": "256",
 *	   "cert_subject": "", "cert_issuer": "", "mail_domain": "..."},
 *	   ... ] }
 *
 *	oldest first. Reading keeps the newest keep records; a record with
 *	a token that is not 40 hex digits, an unknown kind or a missing
 *	field makes the file bad (it was not written by this code).
 *
 *	THE VERDICT (hdstore_verdict): wrong arrived: no-dane (whenever it
 *	came). Else do and dont arrived and grace_s passed since do (wrong
 *	could still be on its way until then): validates-dane. Else dont
 *	arrived, do did not, and grace_s passed since dont: cannot-deliver-
 *	dane. Anything else is pending (do alone stays pending: a sender
 *	that cannot deliver to a domain without TLSA is not tested here).
 * DIAGNOSTICS
 *	hdstore_load() and hdstore_add() name the file and the system error.
 */
#include "policy/hdstore.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonout.h"
#include "common/xmalloc.h"

#define HDSTORE_FILE_MAX        (256 * 1024 * 1024)

struct hdstore {
	pthread_mutex_t hs_lock;
	struct hdrecord *hs_ring;
	size_t hs_cap;                  /* keep */
	size_t hs_n;                    /* records held */
	size_t hs_head;                 /* slot of the oldest */
	char *hs_file;                  /* or NULL */
};

struct hdstore *
hdstore_new(size_t keep, const char *file)
{
	struct hdstore *st = xcalloc(1, sizeof(*st));

	pthread_mutex_init(&st->hs_lock, NULL);
	st->hs_cap = keep ? keep : 1;
	st->hs_ring = xcalloc(st->hs_cap, sizeof(*st->hs_ring));
	st->hs_file = file != NULL && *file != '\0' ? xstrdup(file) : NULL;
	return st;
}

void
hdstore_free(struct hdstore *st)
{
	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->hs_lock);
	free(st->hs_ring);
	free(st->hs_file);
	free(st);
}

static struct hdrecord *
hdstore_slot(struct hdstore *st, size_t i)
{
	return &st->hs_ring[(st->hs_head + i) % st->hs_cap];
}

/* Append, dropping the oldest when full. Locked. */
static void
hdstore_push(struct hdstore *st, const struct hdrecord *rec)
{
	if (st->hs_n == st->hs_cap) {
		st->hs_ring[st->hs_head] = *rec;
		st->hs_head = (st->hs_head + 1) % st->hs_cap;
	} else {
		*hdstore_slot(st, st->hs_n) = *rec;
		st->hs_n++;
	}
}

/* ---- the file ---- */

struct hdstore_field {
	const char *hf_name;
	size_t hf_off;
	size_t hf_len;
};

#define HDF(name, field) { name, offsetof(struct hdrecord, field), \
	sizeof(((struct hdrecord *)0)->field) }
static const struct hdstore_field hdstore_fields[] = {
	HDF("client", hr_client), HDF("addr", hr_addr), HDF("helo", hr_helo),
	HDF("tls", hr_tls), HDF("cipher", hr_cipher), HDF("bits", hr_bits),
	HDF("cert_subject", hr_cert_subject), HDF("cert_issuer", hr_cert_issuer),
	HDF("mail_domain", hr_mail_domain),
};
#define HDSTORE_NFIELDS (sizeof(hdstore_fields) / sizeof(hdstore_fields[0]))

/* The record as a JSON object (new reference). */
static json_t *
hdstore_to_json(const struct hdrecord *r)
{
	json_t *o = jsonout_object();
	size_t i;

	jsonout_set_str(o, "token", r->hr_token);
	jsonout_set_str(o, "kind", hdtoken_kind_name(r->hr_kind));
	jsonout_set_int(o, "at", (long long)r->hr_at);
	for (i = 0; i < HDSTORE_NFIELDS; i++)
		jsonout_set_str(o, hdstore_fields[i].hf_name,
		    (const char *)r + hdstore_fields[i].hf_off);
	return o;
}

/* A record from a JSON object; false when it is not one of ours. */
static bool
hdstore_from_json(json_t *o, struct hdrecord *r)
{
	json_t *tok = json_object_get(o, "token"), *kind = json_object_get(o, "kind"),
	    *at = json_object_get(o, "at"), *v;
	size_t i;
	int k;

	memset(r, 0, sizeof(*r));
	if (!json_is_string(tok) || !json_is_string(kind) || !json_is_integer(at) ||
	    json_string_length(tok) != HDTOKEN_LEN ||
	    strspn(json_string_value(tok), "0123456789abcdef") != HDTOKEN_LEN)
		return false;
	memcpy(r->hr_token, json_string_value(tok), HDTOKEN_LEN + 1);
	for (k = 0; k < HDTOKEN_NKIND; k++)
		if (strcmp(json_string_value(kind), hdtoken_kind_name((enum hdtoken_kind)k)) == 0)
			break;
	if (k == HDTOKEN_NKIND)
		return false;
	r->hr_kind = (enum hdtoken_kind)k;
	r->hr_at = (time_t)json_integer_value(at);
	for (i = 0; i < HDSTORE_NFIELDS; i++) {
		v = json_object_get(o, hdstore_fields[i].hf_name);
		if (!json_is_string(v) || json_string_length(v) >= hdstore_fields[i].hf_len)
			return false;
		memcpy((char *)r + hdstore_fields[i].hf_off, json_string_value(v),
		    json_string_length(v) + 1);
	}
	return true;
}

enum hdstore_load
hdstore_load(struct hdstore *st, char **errp)
{
	json_error_t jerr;
	json_t *root, *recs, *ver;
	struct hdrecord r;
	size_t i, n, from;
	FILE *f;

	*errp = NULL;
	if (st->hs_file == NULL)
		return HDSTORE_NOFILE;
	if ((f = fopen(st->hs_file, "re")) == NULL) {
		if (errno == ENOENT)
			return HDSTORE_NOFILE;
		*errp = xasprintf("havedane.state_file %s: cannot read: %s", st->hs_file,
		    strerror(errno));
		return HDSTORE_BAD;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (root == NULL) {
		*errp = xasprintf("havedane.state_file %s:%d: not JSON: %s", st->hs_file,
		    jerr.line, jerr.text);
		return HDSTORE_BAD;
	}
	ver = json_object_get(root, "version");
	recs = json_object_get(root, "records");
	if (!json_is_integer(ver) || json_integer_value(ver) != 1 || !json_is_array(recs)) {
		*errp = xasprintf("havedane.state_file %s: not a records file of version 1",
		    st->hs_file);
		json_decref(root);
		return HDSTORE_BAD;
	}
	n = json_array_size(recs);
	for (i = 0; i < n; i++)
		if (!hdstore_from_json(json_array_get(recs, i), &r)) {
			*errp = xasprintf("havedane.state_file %s: record %zu is malformed",
			    st->hs_file, i + 1);
			json_decref(root);
			return HDSTORE_BAD;
		}
	from = n > st->hs_cap ? n - st->hs_cap : 0;
	pthread_mutex_lock(&st->hs_lock);
	st->hs_n = st->hs_head = 0;
	for (i = from; i < n; i++) {
		hdstore_from_json(json_array_get(recs, i), &r);
		hdstore_push(st, &r);
	}
	pthread_mutex_unlock(&st->hs_lock);
	json_decref(root);
	return HDSTORE_LOADED;
}

/* Write the records to the file (tmp + rename). Locked. NULL or why not. */
static char *
hdstore_save(struct hdstore *st)
{
	json_t *root = jsonout_object(), *recs = jsonout_array();
	char *tmp = xasprintf("%s.tmp", st->hs_file), *err = NULL;
	size_t i;
	FILE *f;

	for (i = 0; i < st->hs_n; i++)
		jsonout_append(recs, hdstore_to_json(hdstore_slot(st, i)));
	jsonout_set_int(root, "version", 1);
	jsonout_set(root, "records", recs);
	if ((f = fopen(tmp, "we")) == NULL)
		err = xasprintf("havedane.state_file %s: cannot write: %s", tmp, strerror(errno));
	else if (json_dumpf(root, f, JSONOUT_FLAGS) != 0 || fputc('\n', f) == EOF ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		err = xasprintf("havedane.state_file %s: cannot write: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
	} else if (fclose(f) != 0 || rename(tmp, st->hs_file) != 0) {
		err = xasprintf("havedane.state_file %s: cannot write: %s", st->hs_file,
		    strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	json_decref(root);
	return err;
}

enum hdstore_add
hdstore_add(struct hdstore *st, const struct hdrecord *rec, char **errp)
{
	size_t i;

	*errp = NULL;
	pthread_mutex_lock(&st->hs_lock);
	for (i = 0; i < st->hs_n; i++) {
		const struct hdrecord *r = hdstore_slot(st, i);

		if (r->hr_kind == rec->hr_kind && strcmp(r->hr_token, rec->hr_token) == 0) {
			pthread_mutex_unlock(&st->hs_lock);
			return HDSTORE_DUPLICATE;
		}
	}
	hdstore_push(st, rec);
	if (st->hs_file != NULL)
		*errp = hdstore_save(st);
	pthread_mutex_unlock(&st->hs_lock);
	return *errp != NULL ? HDSTORE_UNSAVED : HDSTORE_ADDED;
}

size_t
hdstore_result(struct hdstore *st, const char *token, struct hdresult *out)
{
	size_t i, n = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&st->hs_lock);
	for (i = 0; i < st->hs_n; i++) {
		const struct hdrecord *r = hdstore_slot(st, i);

		if (strcmp(r->hr_token, token) == 0 && !out->hrs_got[r->hr_kind]) {
			out->hrs_got[r->hr_kind] = true;
			out->hrs_rec[r->hr_kind] = *r;
			n++;
		}
	}
	pthread_mutex_unlock(&st->hs_lock);
	return n;
}

size_t
hdstore_count(struct hdstore *st)
{
	size_t n;

	pthread_mutex_lock(&st->hs_lock);
	n = st->hs_n;
	pthread_mutex_unlock(&st->hs_lock);
	return n;
}

enum hdstore_verdict
hdstore_verdict(const struct hdresult *r, time_t now, unsigned grace_s)
{
	bool got_do = r->hrs_got[HDTOKEN_DO], got_dont = r->hrs_got[HDTOKEN_DONT];

	if (r->hrs_got[HDTOKEN_WRONG])
		return HDSTORE_NO_DANE;
	if (got_do && got_dont && now >= r->hrs_rec[HDTOKEN_DO].hr_at + (time_t)grace_s)
		return HDSTORE_VALIDATES_DANE;
	if (got_dont && !got_do && now >= r->hrs_rec[HDTOKEN_DONT].hr_at + (time_t)grace_s)
		return HDSTORE_CANNOT_DELIVER_DANE;
	return HDSTORE_PENDING;
}

const char *
hdstore_verdict_name(enum hdstore_verdict v)
{
	switch (v) {
	case HDSTORE_PENDING: return "pending";
	case HDSTORE_VALIDATES_DANE: return "validates-dane";
	case HDSTORE_NO_DANE: return "no-dane";
	case HDSTORE_CANNOT_DELIVER_DANE: return "cannot-deliver-dane";
	}
	return "?";
}
