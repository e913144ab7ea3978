/*
 * havedane.h: the HaveDane service as the faces use it: the token key,
 * the records (policy/hdstore.h) and the settings of havedane.* read at
 * start (a reload does not change them).
 *
 * havedane_open() makes one; the daemon owns it and frees it with
 * havedane_free() after the milter and the HTTP face have stopped. Every
 * function is safe from any thread.
 */
#ifndef DM_HAVEDANE_H
#define DM_HAVEDANE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config/cfg.h"
#include "policy/hdstore.h"
#include "policy/hdtoken.h"

struct havedane {
	struct hdtoken_key hd_key;
	struct hdstore *hd_store;
	char *hd_zone;                  /* lower-case, no trailing dot */
	unsigned hd_token_ttl_s;
	unsigned hd_grace_s;
};

/*
 * The service of c (c->chd_zone not ""): the key read, the state file's
 * records loaded. NULL with *errp (malloc'ed, naming the file) when the
 * key or the state file cannot be read.
 */
struct havedane *havedane_open(const struct cfg_havedane *c, char **errp);
void havedane_free(struct havedane *hd);

/* Check tok[0..len) now; norm gets the lower-case token (HDTOKEN_OK).
 * For the milter's threads: the thread's OpenSSL state is freed after
 * (hmac_thread_done()). */
enum hdtoken_status havedane_check(const struct havedane *hd, const char *tok, size_t len,
    time_t now, char norm[HDTOKEN_LEN + 1]);

#endif
