/*
 * ctld.c: see ctld.h.
 *
 * CONNECTION STATES
 *	READING		the request line is read into a fixed buffer until
 *			"\n" (or the client's end of stream); a full buffer
 *			without one is answered "error: request too long".
 *	WAITING		a query waits for its resolution (cache_get).
 *	WRITING		the whole reply, built in memory, is sent.
 *	DRAINING	the reply is sent and our side shut down: whatever the
 *			client still sends (the rest of a request too long) is
 *			read and dropped until it closes, so that closing never
 *			resets a reply it has not read yet.
 *	One deadline (CTLD_TIMEOUT_MS from accept) bounds all four.
 * DIAGNOSTICS
 *	"control: REQUEST: ok" / "control: REQUEST: error: ..." at info
 *	level per request; time bounds and I/O errors at info level.
 */
#include "ctld.h"

#include <errno.h>
#include <iv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/jsonout.h"
#include "common/listener.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "control/ctlproto.h"
#include "policy/engine.h"
#include "policy/stsstore.h"

enum ctld_state {
	CTLD_READING,
	CTLD_WAITING,
	CTLD_WRITING,
	CTLD_DRAINING
};

struct ctld_conn {
	struct ctld *cc_cd;
	struct ctld_conn *cc_prev, *cc_next;
	struct iv_fd cc_fd;
	struct iv_timer cc_timer;
	enum ctld_state cc_state;
	struct cache_wait *cc_wait;     /* WAITING: the query's */
	char cc_domain[256];            /* WAITING: the normalized DOMAIN */
	struct sbuf cc_out;
	size_t cc_outoff;
	size_t cc_inlen;
	char cc_in[CTLPROTO_REQUEST_MAX];
};

struct ctld {
	struct cache *cd_cache;
	struct generation *cd_g;
	struct ctld_ops cd_ops;
	struct listener *cd_listener;
	struct ctld_conn *cd_conns;
};

static void ctld_conn_writable(void *cookie);
static void ctld_conn_readable(void *cookie);

/* ---- connections ---- */

static void
ctld_conn_close(struct ctld_conn *cc)
{
	struct ctld *cd = cc->cc_cd;

	if (cc->cc_wait != NULL)
		cache_cancel(cc->cc_wait);
	iv_fd_unregister(&cc->cc_fd);
	close(cc->cc_fd.fd);
	if (iv_timer_registered(&cc->cc_timer))
		iv_timer_unregister(&cc->cc_timer);
	if (cc->cc_prev != NULL)
		cc->cc_prev->cc_next = cc->cc_next;
	else
		cd->cd_conns = cc->cc_next;
	if (cc->cc_next != NULL)
		cc->cc_next->cc_prev = cc->cc_prev;
	listener_closed(cd->cd_listener);
	sbuf_free(&cc->cc_out);
	free(cc);
}

static void
ctld_conn_timeout(void *cookie)
{
	struct ctld_conn *cc = cookie;

	log_info("control: a connection not done within %d ms (%s), closing", CTLD_TIMEOUT_MS,
	    cc->cc_state == CTLD_READING ? "reading the request" :
	    cc->cc_state == CTLD_WAITING ? "waiting for a resolution" :
	    cc->cc_state == CTLD_WRITING ? "writing the reply" : "waiting for the client to close");
	ctld_conn_close(cc);
}

static void
ctld_conn_flush(struct ctld_conn *cc)
{
	ssize_t n;

	while (cc->cc_outoff < cc->cc_out.sb_len) {
		n = send(cc->cc_fd.fd, cc->cc_out.sb_buf + cc->cc_outoff,
		    cc->cc_out.sb_len - cc->cc_outoff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				iv_fd_set_handler_out(&cc->cc_fd, ctld_conn_writable);
				return;
			}
			log_info("control: write: %s", strerror(errno));
			ctld_conn_close(cc);
			return;
		}
		cc->cc_outoff += (size_t)n;
	}
	cc->cc_state = CTLD_DRAINING;
	(void)shutdown(cc->cc_fd.fd, SHUT_WR);
	iv_fd_set_handler_out(&cc->cc_fd, NULL);
	iv_fd_set_handler_in(&cc->cc_fd, ctld_conn_readable);
}

static void
ctld_conn_writable(void *cookie)
{
	ctld_conn_flush(cookie);
}

/* The reply in cc_out is complete: send it. */
static void
ctld_conn_send(struct ctld_conn *cc)
{
	cc->cc_state = CTLD_WRITING;
	iv_fd_set_handler_in(&cc->cc_fd, NULL);
	ctld_conn_flush(cc);
}

static void
ctld_conn_error(struct ctld_conn *cc, const char *req, const char *msg)
{
	log_info("control: %s: error: %s", req, msg);
	sbuf_reset(&cc->cc_out);
	sbuf_printf(&cc->cc_out, "error: %s\n", msg);
	ctld_conn_send(cc);
}

/* ---- the answers ---- */

/* The reply Postfix gets for v (socketmap.tlsrpt as the socketmap face
 * reads it). */
static const char *
ctld_reply(const struct ctld *cd, const struct verdict *v, size_t *len)
{
	if (generation_engine(cd->cd_g)->en_cfg->c_socketmap.csm_tlsrpt) {
		*len = v->v_reply_tlsrpt_len;
		return v->v_reply_tlsrpt;
	}
	*len = v->v_reply_len;
	return v->v_reply;
}

/* `reply="..."`: the reply is printable ASCII (verdict.c cleans it);
 * '"' and '\' are escaped all the same. */
static void
ctld_put_reply(struct sbuf *sb, const struct ctld *cd, const struct verdict *v)
{
	size_t len, i;
	const char *r = ctld_reply(cd, v, &len);

	while (len > 0 && r[len - 1] == ' ')
		len--;                          /* "NOTFOUND " */
	sbuf_append(sb, "reply=\"");
	for (i = 0; i < len; i++) {
		if (r[i] == '"' || r[i] == '\\')
			sbuf_appendc(sb, '\\');
		sbuf_appendc(sb, r[i]);
	}
	sbuf_appendc(sb, '"');
}

static void
ctld_put_query(struct ctld_conn *cc, const struct verdict *v, bool cached)
{
	struct ctld *cd = cc->cc_cd;
	struct cache_info ci;
	time_t now = time(NULL);
	long age = (long)(now - v->v_created), ttl = 0;

	if (cache_peek(cd->cd_cache, cc->cc_domain, now, &ci) && ci.ci_v == v)
		ttl = (long)(ci.ci_expires - now);
	sbuf_printf(&cc->cc_out, "ok\n%s ", v->v_domain);
	ctld_put_reply(&cc->cc_out, cd, v);
	sbuf_printf(&cc->cc_out, " policy=%s source=%s dane=%s mta-sts=%s cached=%s age=%ld ttl=%ld\n",
	    v->v_level, verdict_source_name(v->v_source), dane_verdict_name(v->v_dane->dr_verdict),
	    verdict_sts_name(v->v_sts), cached ? "yes" : "no", age < 0 ? 0 : age, ttl);
}

/* cache_done_fn: the query's resolution ended. */
static void
ctld_query_done(void *arg, struct verdict *v)
{
	struct ctld_conn *cc = arg;

	cc->cc_wait = NULL;
	log_info("control: query %s: ok (resolved)", cc->cc_domain);
	ctld_put_query(cc, v, false);
	ctld_conn_send(cc);
}

static void
ctld_query(struct ctld_conn *cc, const char *req, const char *arg)
{
	struct ctld *cd = cc->cc_cd;
	struct verdict *v;

	if (engine_domain_key(arg, cc->cc_domain, sizeof(cc->cc_domain)) == NULL) {
		ctld_conn_error(cc, req, "not a domain name");
		return;
	}
	cc->cc_state = CTLD_WAITING;
	iv_fd_set_handler_in(&cc->cc_fd, NULL);
	v = cache_get(cd->cd_cache, cc->cc_domain, time(NULL), ctld_query_done, cc, &cc->cc_wait);
	if (v == NULL)
		return;                         /* ctld_query_done answers */
	log_info("control: %s: ok (cached)", req);
	ctld_put_query(cc, v, true);
	ctld_conn_send(cc);
}

struct ctld_dump {
	struct cache_info *dd_v;
	size_t dd_n;
};

static void
ctld_dump_one(void *arg, const struct cache_info *ci)
{
	struct ctld_dump *dd = arg;

	dd->dd_v = xreallocarray(dd->dd_v, dd->dd_n + 1, sizeof(*dd->dd_v));
	dd->dd_v[dd->dd_n++] = *ci;
}

static int
ctld_dump_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cache_info *)a)->ci_domain,
	    ((const struct cache_info *)b)->ci_domain);
}

static void
ctld_dump(struct ctld_conn *cc, bool json)
{
	struct ctld *cd = cc->cc_cd;
	struct ctld_dump dd = { NULL, 0 };
	struct sbuf *sb = &cc->cc_out;
	time_t now = time(NULL);
	char when[32];
	size_t i;

	cache_each(cd->cd_cache, now, ctld_dump_one, &dd);
	if (dd.dd_n > 1)
		qsort(dd.dd_v, dd.dd_n, sizeof(*dd.dd_v), ctld_dump_cmp);
	sbuf_append(sb, "ok\n");
	for (i = 0; i < dd.dd_n; i++) {
		const struct verdict *v = dd.dd_v[i].ci_v;
		struct tm tm;

		gmtime_r(&dd.dd_v[i].ci_expires, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (json) {
			size_t len;
			const char *r = ctld_reply(cd, v, &len);
			json_t *o = jsonout_object();

			jsonout_set_str(o, "domain", dd.dd_v[i].ci_domain);
			verdict_json_brief(o, v);
			jsonout_set(o, "reply", jsonout_strn(r, len));
			jsonout_set_str(o, "expires", when);
			jsonout_set_int(o, "ttl", (long long)(dd.dd_v[i].ci_expires - now));
			jsonout_dump_sbuf(sb, o);
			sbuf_appendc(sb, '\n');
			json_decref(o);
		} else {
			sbuf_printf(sb, "%s policy=%s source=%s expires=%s ttl=%lld\n",
			    dd.dd_v[i].ci_domain, v->v_level, verdict_source_name(v->v_source), when,
			    (long long)(dd.dd_v[i].ci_expires - now));
		}
	}
	free(dd.dd_v);
}

static void
ctld_stats(struct ctld_conn *cc)
{
	struct ctld *cd = cc->cc_cd;
	struct sbuf *sb = &cc->cc_out;
	struct cache_stats cs;
	struct stsstore_stats ss;

	cache_stats(cd->cd_cache, &cs);
	stsstore_stats(cache_stsstore(cd->cd_cache), &ss);
	sbuf_printf(sb, "ok\ngeneration %u\ncache_entries %lu\ncache_hits %lu\ncache_misses %lu\n"
	    "cache_joined %lu\ncache_resolutions %lu\ncache_refreshes %lu\ncache_evictions %lu\n"
	    "mta_sts_policies %lu\nmta_sts_failures %lu\n",
	    generation_number(cd->cd_g), cs.cs_entries, cs.cs_hits, cs.cs_misses, cs.cs_joined,
	    cs.cs_resolutions, cs.cs_refreshes, cs.cs_evictions, ss.ss_policies, ss.ss_failures);
	if (cd->cd_ops.co_stats != NULL)
		cd->cd_ops.co_stats(cd->cd_ops.co_arg, sb);
}

/* The request line cc_in[0..len) is complete. */
static void
ctld_conn_request(struct ctld_conn *cc, size_t len)
{
	struct ctld *cd = cc->cc_cd;
	struct ctlproto_req r;
	enum ctlproto_status st;
	char shown[CTLPROTO_REQUEST_MAX + 1];
	unsigned long n;
	char *msg = NULL;
	size_t i;

	/* the request as logged: printable, without its line end */
	for (i = 0; i < len && cc->cc_in[i] != '\n' && cc->cc_in[i] != '\r'; i++)
		shown[i] = (cc->cc_in[i] >= 0x20 && cc->cc_in[i] < 0x7f) ? cc->cc_in[i] : '?';
	shown[i] = '\0';
	if ((st = ctlproto_parse(cc->cc_in, len, &r)) != CTLPROTO_OK) {
		ctld_conn_error(cc, shown, ctlproto_status_text(st));
		return;
	}
	switch (r.cr_cmd) {
	case CTLPROTO_QUERY:
		ctld_query(cc, shown, r.cr_arg);
		return;
	case CTLPROTO_DUMP:
	case CTLPROTO_DUMP_JSON:
		ctld_dump(cc, r.cr_cmd == CTLPROTO_DUMP_JSON);
		break;
	case CTLPROTO_PURGE:
		if (engine_domain_key(r.cr_arg, cc->cc_domain, sizeof(cc->cc_domain)) == NULL) {
			ctld_conn_error(cc, shown, "not a domain name");
			return;
		}
		n = cache_purge(cd->cd_cache, cc->cc_domain);
		sbuf_printf(&cc->cc_out, "ok\npurged %lu %s: %s\n", n, n == 1 ? "entry" : "entries",
		    cc->cc_domain);
		break;
	case CTLPROTO_PURGE_ALL:
		n = cache_purge_all(cd->cd_cache);
		sbuf_printf(&cc->cc_out, "ok\npurged %lu %s\n", n, n == 1 ? "entry" : "entries");
		break;
	case CTLPROTO_RELOAD:
		if (cd->cd_ops.co_reload(cd->cd_ops.co_arg, &msg) != 0) {
			ctld_conn_error(cc, shown, msg);
			free(msg);
			return;
		}
		sbuf_printf(&cc->cc_out, "ok\n%s\n", msg);
		free(msg);
		break;
	case CTLPROTO_STATS:
		ctld_stats(cc);
		break;
	}
	log_info("control: %s: ok", shown);
	ctld_conn_send(cc);
}

static void
ctld_conn_readable(void *cookie)
{
	struct ctld_conn *cc = cookie;
	const char *eol;
	char discard[512];
	ssize_t n;

	if (cc->cc_state == CTLD_DRAINING) {
		n = read(cc->cc_fd.fd, discard, sizeof(discard));
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0)
			ctld_conn_close(cc);
		return;
	}
	n = read(cc->cc_fd.fd, cc->cc_in + cc->cc_inlen, sizeof(cc->cc_in) - cc->cc_inlen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		log_info("control: read: %s", strerror(errno));
		ctld_conn_close(cc);
		return;
	}
	if (n == 0) {
		if (cc->cc_inlen == 0) {
			ctld_conn_close(cc);
			return;
		}
		ctld_conn_request(cc, cc->cc_inlen);    /* a last line without "\n" */
		return;
	}
	eol = memchr(cc->cc_in + cc->cc_inlen, '\n', (size_t)n);
	cc->cc_inlen += (size_t)n;
	if (eol != NULL) {
		ctld_conn_request(cc, (size_t)(eol - cc->cc_in) + 1);
		return;
	}
	if (cc->cc_inlen == sizeof(cc->cc_in))
		ctld_conn_error(cc, "(a long request)", ctlproto_status_text(CTLPROTO_ERR_LONG));
}

/* listener_accept_fn */
static void
ctld_conn_new(void *arg, int fd, const struct sockaddr_storage *ss, const char *endpoint)
{
	struct ctld *cd = arg;
	struct ctld_conn *cc = xcalloc(1, sizeof(*cc));

	(void)ss;
	(void)endpoint;
	cc->cc_cd = cd;
	cc->cc_next = cd->cd_conns;
	if (cd->cd_conns != NULL)
		cd->cd_conns->cc_prev = cc;
	cd->cd_conns = cc;
	cc->cc_state = CTLD_READING;
	IV_FD_INIT(&cc->cc_fd);
	cc->cc_fd.fd = fd;
	cc->cc_fd.cookie = cc;
	cc->cc_fd.handler_in = ctld_conn_readable;
	iv_fd_register(&cc->cc_fd);
	IV_TIMER_INIT(&cc->cc_timer);
	cc->cc_timer.cookie = cc;
	cc->cc_timer.handler = ctld_conn_timeout;
	iv_validate_now();
	listener_after_ms(&cc->cc_timer.expires, CTLD_TIMEOUT_MS);
	iv_timer_register(&cc->cc_timer);
}

/* ---- public ---- */

struct ctld *
ctld_new(const char *endpoint, unsigned unix_mode, int fd, struct cache *c,
    struct generation *g, const struct ctld_ops *ops, char **errp)
{
	struct ctld *cd = xcalloc(1, sizeof(*cd));
	int rc;

	*errp = NULL;
	cd->cd_cache = c;
	cd->cd_g = g;
	cd->cd_ops = *ops;
	cd->cd_listener = listener_new("control", CTLD_MAX_CONNECTIONS, ctld_conn_new, cd);
	if (fd >= 0) {
		if ((rc = listener_adopt(cd->cd_listener, endpoint, fd, errp)) < 0)
			close(fd);
	} else
		rc = listener_open(cd->cd_listener, endpoint, unix_mode, errp);
	if (rc < 0) {
		ctld_free(cd);
		return NULL;
	}
	return cd;
}

void
ctld_free(struct ctld *cd)
{
	if (cd == NULL)
		return;
	while (cd->cd_conns != NULL)
		ctld_conn_close(cd->cd_conns);
	listener_free(cd->cd_listener);
	free(cd);
}
