/*
 * hdapi.h: the HaveDane JSON API's answers (jansson), without HTTP: what
 * POST /api/tests and GET /api/tests/<token> answer, and the per-client
 * rate limit of test creation. http/hdweb.c serves them.
 *
 * Each answer is a status code and a malloc'ed JSON body the caller frees.
 * A struct hdapi_rate owns its table; safe from any thread (a mutex).
 */
#ifndef DM_HDAPI_H
#define DM_HDAPI_H

#include <stddef.h>
#include <time.h>

#include "policy/havedane.h"

/*
 * POST /api/tests: 201 and {"token", "addresses": {"do", "dont", "wrong"},
 * "expires" (seconds since the epoch), "grace_s"}; 500 {"error"} when no
 * token could be made.
 */
int hdapi_create(const struct havedane *hd, time_t now, char **body);

/*
 * GET /api/tests/<tok>: 200 and {"token", "addresses" (as POST's),
 * "created", "expires", "grace_s",
 * "results": {"do": {"received": true, "at", "client", "addr", "helo",
 * "tls", "cipher", "bits", "cert_subject", "cert_issuer", "mail_domain"}
 * or {"received": false}, "dont": ..., "wrong": ...}, "verdict"}; 400
 * {"error"} for a malformed token; 404 {"error"} for one this server did
 * not issue or that expired.
 */
int hdapi_result(const struct havedane *hd, const char *tok, time_t now, char **body);

/* {"error": text} with status (404, 405, 413, 429, ...). */
int hdapi_error(int status, const char *text, char **body);

#define HDAPI_RATE_SLOTS        4096    /* client addresses tracked at once */

struct hdapi_rate;

/* At most per_minute creations per client address per minute. */
struct hdapi_rate *hdapi_rate_new(unsigned per_minute);
void hdapi_rate_free(struct hdapi_rate *r);

/*
 * May client (an address text) create a test at now? Counts it when it
 * may. When every slot holds a client that is still within its minute,
 * a new client is refused too (a flood from many addresses does not get
 * unbounded memory). 0 allowed, else the seconds until it may retry.
 */
unsigned hdapi_rate_take(struct hdapi_rate *r, const char *client, time_t now);

#endif
