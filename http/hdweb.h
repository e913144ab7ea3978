/*
 * hdweb.h: the HaveDane web face on libmicrohttpd: the JSON API
 * (http/hdapi.h) at havedane.listen.
 *
 *   GET  /                     the page (http/hdpage.h)
 *   POST /api/tests            201: a new test (rate limited per client
 *                              address: 429 with Retry-After)
 *   GET  /api/tests/<token>    200: its results and verdict; 400 malformed
 *                              token; 404 unknown or expired
 *   anything else              404 (unknown path) or 405 (method)
 *
 * Bounds: a request body over HDWEB_BODY_MAX bytes gets 413; headers over
 * the connection's memory (HTTPD_CONN_MEMORY, http/httpd.h) get
 * libmicrohttpd's 431;
 * a connection lives at most havedane.timeout_ms (rounded up to seconds)
 * and havedane.max_connections are served at once.
 *
 * hdweb_new() binds the sockets (before privileges are dropped);
 * hdweb_start() starts libmicrohttpd's thread (after the daemon
 * detached: a fork keeps no threads); hdweb_free() stops it and closes
 * the sockets. The struct havedane stays the caller's and must outlive
 * the struct hdweb. Engine thread for these three.
 */
#ifndef DM_HDWEB_H
#define DM_HDWEB_H

#include "config/cfg.h"
#include "policy/havedane.h"

#define HDWEB_BODY_MAX          1024

struct hdweb;

/* Bind c->chd_listen. NULL with a malloc'ed *errp naming the endpoint. */
struct hdweb *hdweb_new(struct havedane *hd, const struct cfg_havedane *c, char **errp);
/* Serve. 0, or -1 with *errp. */
int hdweb_start(struct hdweb *w, char **errp);
void hdweb_free(struct hdweb *w);

#endif
