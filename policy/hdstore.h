/*
 * hdstore.h: the records of HaveDane tests: what arrived for a test
 * address (policy/hdtoken.h), how, and when; bounded (the oldest go
 * first), saved to a file after each new record and read back at start;
 * and the verdict a test's records give.
 *
 * A struct hdstore owns its records and its file name; it is made by
 * hdstore_new() and freed by hdstore_free(). Its functions are safe from
 * any thread (one mutex: the milter threads add, the HTTP face reads).
 * hdstore_verdict() is pure.
 */
#ifndef DM_HDSTORE_H
#define DM_HDSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "policy/hdtoken.h"

/* One message that arrived for a test address: what the sending MTA did.
 * Strings are "" when the MTA did not say (no TLS: hr_tls ""). */
struct hdrecord {
	char hr_token[HDTOKEN_LEN + 1];
	enum hdtoken_kind hr_kind;
	time_t hr_at;                   /* end of data, seconds since the epoch */
	char hr_client[256];            /* the client's name as the MTA resolved it */
	char hr_addr[64];               /* its address */
	char hr_helo[256];              /* its HELO / EHLO name */
	char hr_tls[32];                /* TLS version ("TLSv1.3"), "" without TLS */
	char hr_cipher[128];
	char hr_bits[16];
	char hr_cert_subject[256];      /* the client certificate, if it sent one */
	char hr_cert_issuer[256];
	char hr_mail_domain[256];       /* the domain of MAIL FROM ("" null sender) */
};

/* What arrived for one test: hrs_got[k] says whether hrs_rec[k] holds a record. */
struct hdresult {
	bool hrs_got[HDTOKEN_NKIND];
	struct hdrecord hrs_rec[HDTOKEN_NKIND];
};

struct hdstore;

/* A store of at most keep records (keep >= 1), saved to file ("" or NULL:
 * memory only). Nothing is read yet: see hdstore_load(). */
struct hdstore *hdstore_new(size_t keep, const char *file);
void hdstore_free(struct hdstore *st);

enum hdstore_load {
	HDSTORE_LOADED,         /* the file's records are in (the newest keep of them) */
	HDSTORE_NOFILE,         /* no file configured, or it does not exist yet */
	HDSTORE_BAD             /* unreadable or not a records file: *errp says
	                           why, naming the file; the store stays empty */
};

/* Read the file's records. *errp (HDSTORE_BAD only) is malloc'ed; free it. */
enum hdstore_load hdstore_load(struct hdstore *st, char **errp);

enum hdstore_add {
	HDSTORE_ADDED,          /* a new record (the oldest went when full), saved */
	HDSTORE_DUPLICATE,      /* this test address has a record already: the
	                           first one stays */
	HDSTORE_UNSAVED         /* added, but the file could not be written:
	                           *errp says why (malloc'ed) */
};

/* Add a copy of *rec. */
enum hdstore_add hdstore_add(struct hdstore *st, const struct hdrecord *rec, char **errp);

/* The records of token (lower-case) into *out; the number found (0: none). */
size_t hdstore_result(struct hdstore *st, const char *token, struct hdresult *out);

/* Records held now. */
size_t hdstore_count(struct hdstore *st);

enum hdstore_verdict {
	HDSTORE_PENDING,                /* not decided yet */
	HDSTORE_VALIDATES_DANE,         /* do and dont arrived, wrong did not within
	                                   grace_s after do */
	HDSTORE_NO_DANE,                /* wrong arrived: the sender does not validate DANE */
	HDSTORE_CANNOT_DELIVER_DANE     /* dont arrived, do did not within grace_s
	                                   after dont: the sender fails where TLSA exists */
};

/* The verdict of r at time now. */
enum hdstore_verdict hdstore_verdict(const struct hdresult *r, time_t now, unsigned grace_s);

/* "pending", "validates-dane", "no-dane", "cannot-deliver-dane". */
const char *hdstore_verdict_name(enum hdstore_verdict v);

#endif
