/*
 * NAME
 *	havedane - the HaveDane service: key, records, settings
 * SYNOPSIS
 *	#include "policy/havedane.h"
 * DESCRIPTION
 *	havedane_open() reads havedane.token_key_file (hdtoken_key_load)
 *	and havedane.state_file (hdstore_load); havedane_check() is
 *	hdtoken_check() with the configured lifetime, then hmac_thread_done():
 *	its callers are libmilter's threads, which may still run at exit.
 * DIAGNOSTICS
 *	The errors of hdtoken_key_load() and hdstore_load().
 */
#include "policy/havedane.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "tls/hmac.h"

struct havedane *
havedane_open(const struct cfg_havedane *c, char **errp)
{
	struct havedane *hd = xcalloc(1, sizeof(*hd));

	*errp = NULL;
	if (!hdtoken_key_load(c->chd_token_key_file, &hd->hd_key, errp)) {
		free(hd);
		return NULL;
	}
	hd->hd_store = hdstore_new(c->chd_keep, c->chd_state_file);
	if (hdstore_load(hd->hd_store, errp) == HDSTORE_BAD) {
		havedane_free(hd);
		return NULL;
	}
	hd->hd_zone = xstrdup(c->chd_zone);
	hd->hd_token_ttl_s = c->chd_token_ttl_s;
	hd->hd_grace_s = c->chd_grace_s;
	return hd;
}

void
havedane_free(struct havedane *hd)
{
	if (hd == NULL)
		return;
	hdstore_free(hd->hd_store);
	free(hd->hd_zone);
	memset(&hd->hd_key, 0, sizeof(hd->hd_key));
	free(hd);
}

enum hdtoken_status
havedane_check(const struct havedane *hd, const char *tok, size_t len, time_t now,
    char norm[HDTOKEN_LEN + 1])
{
	enum hdtoken_status st;

	st = hdtoken_check(&hd->hd_key, tok, len, now, hd->hd_token_ttl_s, NULL, norm);
	hmac_thread_done();
	return st;
}
