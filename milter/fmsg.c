/*
 * fmsg.c: see fmsg.h.
 */
#include "fmsg.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "milter/filter_private.h"

static int fmsg_alive;          /* atomic */

struct fmsg *
fmsg_new(void)
{
	struct fmsg *m = xcalloc(1, sizeof(*m));

	__atomic_add_fetch(&fmsg_alive, 1, __ATOMIC_RELAXED);
	return m;
}

void
fmsg_free(struct fmsg *m)
{
	size_t i;

	if (m == NULL)
		return;
	ask_free(m->fm_sender_ask);
	for (i = 0; i < m->fm_nrcpts; i++) {
		ask_free(m->fm_rcpts[i].fr_ask);
		ask_free(m->fm_rcpts[i].fr_probe);
		ask_free(m->fm_rcpts[i].fr_policy);
	}
	free(m->fm_rcpts);
	free(m);
	__atomic_sub_fetch(&fmsg_alive, 1, __ATOMIC_RELAXED);
}

int
fmsg_count(void)
{
	return __atomic_load_n(&fmsg_alive, __ATOMIC_RELAXED);
}

struct frcpt *
fmsg_find(struct fmsg *m, const char *domain)
{
	size_t i;

	for (i = 0; i < m->fm_nrcpts; i++)
		if (strcmp(m->fm_rcpts[i].fr_domain, domain) == 0)
			return &m->fm_rcpts[i];
	return NULL;
}

struct frcpt *
fmsg_rcpt(struct fmsg *m, struct gate *g, const char *domain, bool probe)
{
	struct frcpt *r;

	if ((r = fmsg_find(m, domain)) != NULL)
		return r;
	if (m->fm_nrcpts == m->fm_rcpts_cap) {
		m->fm_rcpts_cap = m->fm_rcpts_cap ? 2 * m->fm_rcpts_cap : 4;
		m->fm_rcpts = xreallocarray(m->fm_rcpts, m->fm_rcpts_cap, sizeof(*r));
	}
	r = &m->fm_rcpts[m->fm_nrcpts++];
	memset(r, 0, sizeof(*r));
	filter_copy(r->fr_domain, sizeof(r->fr_domain), domain);
	if (*domain == '\0') {
		r->fr_status = ASK_FAILED;      /* nothing to look up */
		return r;
	}
	r->fr_ask = ask_start(g, domain);
	r->fr_status = ASK_PENDING;
	if (probe)
		r->fr_probe = ask_probe_start(g, domain);
	return r;
}

const struct verdict *
fmsg_rcpt_verdict(struct frcpt *r, const struct timespec *deadline)
{
	if (r->fr_ask == NULL)
		return NULL;
	if (r->fr_status == ASK_PENDING)
		r->fr_status = ask_wait(r->fr_ask, deadline);
	return r->fr_status == ASK_READY ? ask_verdict(r->fr_ask) : NULL;
}

const struct verdict *
fmsg_rcpt_known(struct frcpt *r, enum ask_status *stp)
{
	*stp = ASK_FAILED;
	if (r->fr_ask == NULL)
		return NULL;
	if (r->fr_status == ASK_PENDING)
		r->fr_status = ask_poll(r->fr_ask);
	*stp = r->fr_status;
	if (r->fr_status == ASK_READY)
		return ask_verdict(r->fr_ask);
	if (r->fr_policy == NULL)
		return NULL;
	if (r->fr_policy_status == ASK_PENDING)
		r->fr_policy_status = ask_poll(r->fr_policy);
	if (r->fr_policy_status != ASK_READY)
		return NULL;
	*stp = ASK_READY;
	return ask_verdict(r->fr_policy);
}

const struct verdict *
fmsg_rcpt_policy_verdict(struct frcpt *r, struct gate *g,
    const struct timespec *deadline, enum ask_status *stp)
{
	const struct verdict *v = fmsg_rcpt_known(r, stp);

	if (v != NULL || *stp != ASK_PENDING)
		return v;
	if (r->fr_policy == NULL) {
		r->fr_policy = ask_policy_start(g, r->fr_domain);
		r->fr_policy_status = ASK_PENDING;
	}
	if (r->fr_policy_status == ASK_PENDING)
		r->fr_policy_status = ask_wait(r->fr_policy, deadline);
	*stp = r->fr_policy_status;
	return r->fr_policy_status == ASK_READY ? ask_verdict(r->fr_policy) : NULL;
}
