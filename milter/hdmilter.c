/*
 * NAME
 *	hdmilter - HaveDane test addresses at RCPT and end of data
 * SYNOPSIS
 *	#include "milter/hdmilter.h"
 * DESCRIPTION
 *	See hdmilter.h. Replies: "550 5.1.1 no such HaveDane test
 *	(TOKEN STATUS)" for a test address whose token does not check (the
 *	address does not exist: the sender's MTA bounces at once);
 *	"452 4.5.3 HaveDane test addresses take a message of their own" when
 *	a message mixes them with other recipients; "452 4.5.3 too many
 *	HaveDane test addresses in one message" past HDMILTER_MAX.
 * DIAGNOSTICS
 *	hdmilter_record() logs "havedane: TOKEN KIND recorded: ..." for a
 *	new record, "... already recorded" for a repeat, and a warning when
 *	the state file cannot be written (the record is kept in memory).
 */
#include "milter/hdmilter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonout.h"
#include "common/log.h"

/* A macro into a record field: valid UTF-8 (what the client sent need
 * not be), never a character cut in two, so that the record is written
 * to the state file and the API as it is kept (common/jsonout.h). */
static void
hdmilter_copy(char *dst, size_t len, const char *src)
{
	jsonout_utf8_copy(dst, len, src != NULL ? src : "");
}

enum hdmilter_rcpt
hdmilter_rcpt(const struct havedane *hd, struct hdmilter_msg *hm, const char *rcpt,
    time_t now, const char **code, const char **xcode, const char **text)
{
	char norm[HDTOKEN_LEN + 1];
	enum hdtoken_kind kind;
	const char *local;
	size_t len;

	if (hd == NULL || !hdtoken_rcpt(hd->hd_zone, rcpt, &kind, &local, &len)) {
		if (hm->hm_n > 0) {
			*code = "452";
			*xcode = "4.5.3";
			*text = "HaveDane test addresses take a message of their own";
			return HDMILTER_REFUSE;
		}
		return HDMILTER_OTHER;
	}
	if (havedane_check(hd, local, len, now, norm) != HDTOKEN_OK) {
		*code = "550";
		*xcode = "5.1.1";
		*text = "no such HaveDane test (unknown or expired address)";
		return HDMILTER_REFUSE;
	}
	if (hm->hm_others > 0) {
		*code = "452";
		*xcode = "4.5.3";
		*text = "HaveDane test addresses take a message of their own";
		return HDMILTER_REFUSE;
	}
	if (hm->hm_n == HDMILTER_MAX) {
		*code = "452";
		*xcode = "4.5.3";
		*text = "too many HaveDane test addresses in one message";
		return HDMILTER_REFUSE;
	}
	memcpy(hm->hm_token[hm->hm_n], norm, sizeof(norm));
	hm->hm_kind[hm->hm_n] = kind;
	hm->hm_n++;
	return HDMILTER_ACCEPT;
}

size_t
hdmilter_record(struct havedane *hd, const struct hdmilter_msg *hm,
    const struct hdmilter_session *s, time_t now)
{
	struct hdrecord r;
	size_t i, added = 0;
	char *err;

	for (i = 0; i < hm->hm_n; i++) {
		memset(&r, 0, sizeof(r));
		memcpy(r.hr_token, hm->hm_token[i], sizeof(r.hr_token));
		r.hr_kind = hm->hm_kind[i];
		r.hr_at = now;
		hdmilter_copy(r.hr_client, sizeof(r.hr_client), s->hs_client);
		hdmilter_copy(r.hr_addr, sizeof(r.hr_addr), s->hs_addr);
		hdmilter_copy(r.hr_helo, sizeof(r.hr_helo), s->hs_helo);
		hdmilter_copy(r.hr_tls, sizeof(r.hr_tls), s->hs_tls);
		hdmilter_copy(r.hr_cipher, sizeof(r.hr_cipher), s->hs_cipher);
		hdmilter_copy(r.hr_bits, sizeof(r.hr_bits), s->hs_bits);
		hdmilter_copy(r.hr_cert_subject, sizeof(r.hr_cert_subject), s->hs_cert_subject);
		hdmilter_copy(r.hr_cert_issuer, sizeof(r.hr_cert_issuer), s->hs_cert_issuer);
		hdmilter_copy(r.hr_mail_domain, sizeof(r.hr_mail_domain), s->hs_mail_domain);
		switch (hdstore_add(hd->hd_store, &r, &err)) {
		case HDSTORE_UNSAVED:
			log_warnx("%s: havedane: %s", s->hs_qid, err);
			free(err);
			/* FALLTHROUGH */
		case HDSTORE_ADDED:
			added++;
			log_info("%s: havedane: %s %s recorded: client=%s[%s] helo=%s tls=%s "
			    "cipher=%s bits=%s mail_domain=%s", s->hs_qid, r.hr_token,
			    hdtoken_kind_name(r.hr_kind), r.hr_client, r.hr_addr, r.hr_helo,
			    *r.hr_tls ? r.hr_tls : "none", *r.hr_cipher ? r.hr_cipher : "none",
			    *r.hr_bits ? r.hr_bits : "0", *r.hr_mail_domain ? r.hr_mail_domain : "none");
			break;
		case HDSTORE_DUPLICATE:
			log_info("%s: havedane: %s %s already recorded: the first message counts",
			    s->hs_qid, r.hr_token, hdtoken_kind_name(r.hr_kind));
			break;
		}
	}
	return added;
}
