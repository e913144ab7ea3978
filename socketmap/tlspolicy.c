/*
 * tlspolicy.c: see tlspolicy.h.
 */
#include "tlspolicy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jsonout.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"

#define TLSPOLICY_DEFAULT_LISTEN "inet:127.0.0.1:8642"

/* A verdict's precomputed replies are sent as they are; a fixed policy
 * after "OK " (the cfg check bounds it). */
_Static_assert(VERDICT_REPLY_MAX <= SOCKETMAP_REPLY_MAX,
    "every verdict reply fits a socketmap reply");
_Static_assert(sizeof("OK ") - 1 + CFG_POLICY_MAX <= SOCKETMAP_REPLY_MAX,
    "every fixed policy fits a socketmap reply");

struct tlspolicy {
	struct cache *tp_cache;
	struct socketmap *tp_sm;
	struct generation *tp_g;        /* the caller's: the configuration in force */
};

/* What a request needs when its answer comes later. */
struct tlspolicy_pending {
	struct tlspolicy *pp_tp;
	struct socketmap_req *pp_req;
	struct cache_wait *pp_wait;
	bool pp_json;
	bool pp_tlsrpt;
};

char *
tlspolicy_key(const char *in, char *buf, size_t buflen)
{
	unsigned char addr[16];

	if (*in == '[' || *in == '.' || strchr(in, ':') != NULL)
		return NULL;
	if (engine_domain_key(in, buf, buflen) == NULL)
		return NULL;
	if (inet_pton(AF_INET, buf, addr) == 1)
		return NULL;
	return buf;
}

/* The configuration in force (fixed policies, tlsrpt): read per request,
 * so that a reload applies to the next one. */
static const struct cfg *
tlspolicy_cfg(const struct tlspolicy *tp)
{
	return generation_engine(tp->tp_g)->en_cfg;
}

static void
tlspolicy_answer(struct tlspolicy *tp, struct socketmap_req *req, const struct verdict *v,
    bool json, bool tlsrpt)
{
	if (json) {
		struct sbuf sb = SBUF_INIT;
		json_t *o = verdict_json(v);

		sbuf_append(&sb, "OK ");
		jsonout_dump_sbuf(&sb, o);
		json_decref(o);
		socketmap_reply(req, sbuf_str(&sb), sb.sb_len);
		sbuf_free(&sb);
	} else if (tlsrpt || tlspolicy_cfg(tp)->c_socketmap.csm_tlsrpt) {
		socketmap_reply(req, v->v_reply_tlsrpt, v->v_reply_tlsrpt_len);
	} else {
		socketmap_reply(req, v->v_reply, v->v_reply_len);
	}
}

static void
tlspolicy_done(void *arg, struct verdict *v)
{
	struct tlspolicy_pending *pp = arg;

	tlspolicy_answer(pp->pp_tp, pp->pp_req, v, pp->pp_json, pp->pp_tlsrpt);
	free(pp);
}

static void
tlspolicy_lookup(void *arg, struct socketmap_req *req, struct socketmap_request_view *view)
{
	struct tlspolicy *tp = arg;
	bool json = strcmp(view->rv_name, "JSON") == 0;
	bool tlsrpt = strcmp(view->rv_name, "QUERYwithTLSRPT") == 0;
	struct tlspolicy_pending *pp;
	struct verdict *v;
	char key[256];

	time_t now = time(NULL);

	if (tlspolicy_key(view->rv_key, key, sizeof(key)) == NULL) {
		socketmap_reply(req, "NOTFOUND ", 9);
		return;
	}
	if (!json) {
		const char *fixed = verdict_fixed_policy(tlspolicy_cfg(tp),
		    generation_overrides(tp->tp_g), key, now);

		/* A fixed policy does not depend on DNS: answer it at once
		 * (the cfg check limited it to printable text of at most
		 * CFG_POLICY_MAX bytes: it fits, whole). */
		if (fixed != NULL) {
			char buf[SOCKETMAP_REPLY_MAX + 1];
			size_t len = strlen(fixed);

			if (len > CFG_POLICY_MAX)
				log_abort("tlspolicy: fixed policy for %s of %zu bytes "
				    "passed the cfg check", key, len);
			memcpy(buf, "OK ", 3);
			memcpy(buf + 3, fixed, len);
			socketmap_reply(req, buf, 3 + len);
			return;
		}
	}
	if ((v = cache_lookup(tp->tp_cache, key, now)) != NULL) {
		tlspolicy_answer(tp, req, v, json, tlsrpt);     /* a hit: no allocation */
		return;
	}
	pp = xcalloc(1, sizeof(*pp));
	pp->pp_tp = tp;
	pp->pp_req = req;
	pp->pp_json = json;
	pp->pp_tlsrpt = tlsrpt;
	/* The policy alone is answered as soon as DANE decides it; JSON is
	 * the whole verdict, MTA-STS state included. */
	if (json)
		v = cache_get(tp->tp_cache, key, now, tlspolicy_done, pp, &pp->pp_wait);
	else
		v = cache_get_policy(tp->tp_cache, key, now, tlspolicy_done, pp, &pp->pp_wait);
	if (v != NULL) {                /* the early verdict of a lookup in flight */
		free(pp);
		tlspolicy_answer(tp, req, v, json, tlsrpt);
		return;
	}
	view->rv_token = pp;
}

static void
tlspolicy_cancel(void *arg, struct socketmap_req *req, struct socketmap_request_view *view)
{
	struct tlspolicy_pending *pp = view->rv_token;

	(void)arg;
	(void)req;
	if (pp == NULL)
		return;
	cache_cancel(pp->pp_wait);
	free(pp);
	view->rv_token = NULL;
}

struct tlspolicy *
tlspolicy_new(struct cache *c, struct generation *g, const int *fds, size_t nfds,
    char **errp)
{
	static const char *const def_listen[] = { TLSPOLICY_DEFAULT_LISTEN };
	struct tlspolicy *tp = xcalloc(1, sizeof(*tp));
	const struct cfg_socketmap *cs;
	struct socketmap_limits lim;
	struct socketmap_ops ops;

	tp->tp_cache = c;
	tp->tp_g = g;
	cs = &tlspolicy_cfg(tp)->c_socketmap;
	memset(&lim, 0, sizeof(lim));
	lim.sl_max_connections = cs->csm_max_connections;
	lim.sl_idle_timeout_ms = cs->csm_idle_timeout_ms;
	lim.sl_io_timeout_ms = cs->csm_io_timeout_ms;
	lim.sl_unix_mode = (unsigned)strtoul(cs->csm_mode, NULL, 8);
	memset(&ops, 0, sizeof(ops));
	ops.so_lookup = tlspolicy_lookup;
	ops.so_cancel = tlspolicy_cancel;
	ops.so_arg = tp;
	if (nfds > 0)
		tp->tp_sm = socketmap_new_fds(fds, nfds, &lim, &ops, errp);
	else if (cs->csm_nlisten > 0)
		tp->tp_sm = socketmap_new((const char *const *)cs->csm_listen, cs->csm_nlisten,
		    &lim, &ops, errp);
	else
		tp->tp_sm = socketmap_new(def_listen, 1, &lim, &ops, errp);
	if (tp->tp_sm == NULL) {
		free(tp);
		return NULL;
	}
	return tp;
}

void
tlspolicy_free(struct tlspolicy *tp)
{
	if (tp == NULL)
		return;
	socketmap_free(tp->tp_sm);
	free(tp);
}

void
tlspolicy_stats(const struct tlspolicy *tp, struct socketmap_stats *out)
{
	socketmap_stats(tp->tp_sm, out);
}
