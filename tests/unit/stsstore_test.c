/*
 * stsstore_test.c: the MTA-STS policy store (policy/stsstore.h) without a
 * loop: what a lookup's result leaves in the store (a fresh policy
 * replaces, a failed refresh keeps the policy and records the failure and
 * its id, a successful fetch clears it), policies leaving at their
 * max_age, records with only a failure leaving after the wait, the bound
 * (records without a policy go first, then the least recently used
 * policy, counted), stsstore_put (the first record wins, nothing expired
 * is added) and the order of stsstore_each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "policy/stsstore.h"
#include "tests/tap.h"

#define T0      1700000000

/* A policy with one reference: mode enforce, max_age, fetched at fetched
 * under id. */
static struct mtasts_policy *
pol(const char *id, time_t fetched, unsigned max_age)
{
	char body[128], *err = NULL;
	struct mtasts_policy *p;

	snprintf(body, sizeof(body), "version: STSv1\nmode: enforce\nmx: mx.example\nmax_age: %u\n",
	    max_age);
	p = mtasts_policy_parse(body, strlen(body), &err);
	if (p == NULL) {
		fprintf(stderr, "Bail out! test policy does not parse: %s\n", err);
		exit(1);
	}
	snprintf(p->mp_id, sizeof(p->mp_id), "%s", id);
	p->mp_fetched = fetched;
	return p;
}

/* A lookup's result (its policy borrowed: the test keeps its reference). */
static struct mtasts_result
res(enum mtasts_status st, struct mtasts_policy *p, bool fetched, bool failed, const char *txt_id)
{
	struct mtasts_result r;

	memset(&r, 0, sizeof(r));
	r.mr_status = st;
	r.mr_policy = p;
	r.mr_fetched = fetched;
	r.mr_fetch_failed = failed;
	r.mr_failure = failed ? MTASTS_FAIL_FETCH : MTASTS_FAIL_NONE;
	snprintf(r.mr_txt_id, sizeof(r.mr_txt_id), "%s", txt_id);
	return r;
}

/* "ID@LAST-FAILURE/FAILED-ID", "-" for none, or "miss". */
static const char *
show(struct stsstore *s, const char *domain, time_t now)
{
	static char buf[128];
	struct mtasts_cached mc;

	if (!stsstore_cached(s, domain, now, &mc))
		return "miss";
	snprintf(buf, sizeof(buf), "%s@%lld/%s", mc.mc_policy ? mc.mc_policy->mp_id : "-",
	    (long long)mc.mc_last_failure, mc.mc_failed_id ? mc.mc_failed_id : "-");
	return buf;
}

static void
test_update(void)
{
	struct stsstore *s = stsstore_new();
	struct mtasts_policy *a = pol("a1", T0, 1000), *b = pol("b2", T0 + 50, 1000);
	struct mtasts_result r;
	struct stsstore_stats st;

	tap_is_str(show(s, "x.example", T0), "miss", "empty store: a miss");
	r = res(MTASTS_ABSENT, NULL, false, false, "");
	stsstore_update(s, "x.example", &r, T0, 10);
	tap_is_str(show(s, "x.example", T0), "miss", "no TXT, nothing cached: no record");
	r = res(MTASTS_POLICY, a, true, false, "a1");
	stsstore_update(s, "x.example", &r, T0, 10);
	tap_is_str(show(s, "x.example", T0 + 1), "a1@0/-", "a fetched policy is stored");
	r = res(MTASTS_POLICY, a, false, true, "b2");
	stsstore_update(s, "x.example", &r, T0 + 10, 10);
	tap_is_str(show(s, "x.example", T0 + 11), "a1@1700000010/b2",
	    "a failed refresh (new id b2) keeps the policy and records the failure with its id");
	r = res(MTASTS_POLICY, a, false, false, "");
	stsstore_update(s, "x.example", &r, T0 + 20, 10);
	tap_is_str(show(s, "x.example", T0 + 21), "a1@1700000010/b2",
	    "the cached policy handed back (TXT gone or id unchanged): kept, the failure too");
	r = res(MTASTS_POLICY, b, true, false, "b2");
	stsstore_update(s, "x.example", &r, T0 + 50, 10);
	tap_is_str(show(s, "x.example", T0 + 51), "b2@0/-",
	    "a fresh policy replaces the stored one and clears the failure");
	stsstore_stats(s, &st);
	tap_ok(st.ss_policies == 1 && st.ss_failures == 0 && st.ss_evictions == 0,
	    "one policy, no failure record, no eviction");
	tap_is_str(show(s, "x.example", T0 + 50 + 999), "b2@0/-", "kept until just before its max_age");
	tap_is_str(show(s, "x.example", T0 + 50 + 1000), "miss", "past max_age (fetched + max_age): gone");
	stsstore_stats(s, &st);
	tap_ok(st.ss_policies == 0 && st.ss_expired == 1, "counted as expired, not evicted");

	/* A policy already past its end is not stored. */
	r = res(MTASTS_POLICY, a, false, false, "a1");
	stsstore_update(s, "y.example", &r, T0 + 1000, 10);
	tap_is_str(show(s, "y.example", T0 + 1000), "miss", "a policy past its end is not stored");
	stsstore_free(s);
	mtasts_policy_unref(a);
	mtasts_policy_unref(b);
}

static void
test_failures(void)
{
	struct stsstore *s = stsstore_new();
	struct mtasts_policy *a = pol("a1", T0, 100);
	struct mtasts_result r;

	r = res(MTASTS_ERROR, NULL, false, true, "f1");
	stsstore_update(s, "f.example", &r, T0, 10);
	tap_is_str(show(s, "f.example", T0 + 1), "-@1700000000/f1", "a failed fetch without a policy: recorded");
	tap_is_str(show(s, "f.example", T0 + MTASTS_RETRY_SECONDS - 1), "-@1700000000/f1",
	    "... for the wait");
	tap_is_str(show(s, "f.example", T0 + MTASTS_RETRY_SECONDS), "miss", "... and not longer");

	/* A policy that expires while its failure is recent leaves the policy only. */
	r = res(MTASTS_POLICY, a, true, false, "a1");
	stsstore_update(s, "g.example", &r, T0, 10);
	r = res(MTASTS_POLICY, a, false, true, "a2");
	stsstore_update(s, "g.example", &r, T0 + 90, 10);
	tap_is_str(show(s, "g.example", T0 + 100), "-@1700000090/a2",
	    "policy past max_age, failure within the wait: the failure stays");
	r = res(MTASTS_POLICY, pol("a3", T0 + 110, 100), true, false, "a3");
	stsstore_update(s, "g.example", &r, T0 + 110, 10);
	mtasts_policy_unref(r.mr_policy);
	tap_is_str(show(s, "g.example", T0 + 111), "a3@0/-", "then a fetch: the policy again, no failure");
	stsstore_free(s);
	mtasts_policy_unref(a);
}

static void
test_bound(void)
{
	struct stsstore *s = stsstore_new();
	struct mtasts_policy *p = pol("p1", T0, 86400);
	struct mtasts_result ok = res(MTASTS_POLICY, p, true, false, "p1");
	struct mtasts_result fail = res(MTASTS_ERROR, NULL, false, true, "z1");
	struct stsstore_stats st;

	stsstore_update(s, "a.example", &ok, T0, 3);
	stsstore_update(s, "b.example", &ok, T0, 3);
	stsstore_update(s, "c.example", &fail, T0, 3);
	stsstore_update(s, "d.example", &fail, T0 + 1, 3);
	stsstore_stats(s, &st);
	tap_ok(st.ss_policies == 2 && st.ss_failures == 1 && st.ss_evictions == 0,
	    "bound 3, two policies and two failures: the older failure went, no policy");
	tap_is_str(show(s, "c.example", T0 + 2), "miss", "... c.example (the older failure) is gone");
	stsstore_update(s, "e.example", &fail, T0 + 2, 3);
	stsstore_stats(s, &st);
	tap_ok(st.ss_policies == 2 && st.ss_failures == 1 && st.ss_evictions == 0,
	    "a failure never evicts a policy while a failure record can go");
	tap_is_str(show(s, "a.example", T0 + 3), "p1@0/-", "a.example asked for: now the more recent");
	stsstore_update(s, "f.example", &ok, T0 + 4, 2);
	stsstore_stats(s, &st);
	tap_ok(st.ss_policies == 2 && st.ss_failures == 0 && st.ss_evictions == 1,
	    "bound 2 and a third policy: the failure went, then one policy (counted)");
	tap_is_str(show(s, "b.example", T0 + 5), "miss", "the least recently used policy (b.example) was evicted");
	tap_is_str(show(s, "a.example", T0 + 5), "p1@0/-", "a.example stays");
	tap_is_str(show(s, "f.example", T0 + 5), "p1@0/-", "f.example stays");
	stsstore_free(s);
	mtasts_policy_unref(p);
}

struct each_log {
	char buf[256];
};

static void
each_fn(void *arg, const struct stsstore_entry *se)
{
	struct each_log *el = arg;
	size_t n = strlen(el->buf);

	snprintf(el->buf + n, sizeof(el->buf) - n, "%s%s:%s:%s", n ? " " : "", se->se_domain,
	    se->se_policy ? se->se_policy->mp_id : "-", *se->se_failed_id ? se->se_failed_id : "-");
}

static void
test_put_each(void)
{
	struct stsstore *s = stsstore_new();
	struct mtasts_policy *p = pol("p1", T0, 1000);
	struct each_log el = { "" }, el2 = { "" };

	stsstore_put(s, "a.example", mtasts_policy_ref(p), T0 + 1000, 0, NULL, T0, 10);
	stsstore_put(s, "f.example", NULL, 0, T0, "f1", T0, 10);
	stsstore_put(s, "b.example", mtasts_policy_ref(p), T0 + 500, T0 - 10, "b2", T0, 10);
	stsstore_put(s, "c.example", mtasts_policy_ref(p), T0 + 1000, 0, NULL, T0, 10);
	stsstore_put(s, "a.example", NULL, 0, T0, "dup", T0, 10);
	tap_is_str(show(s, "a.example", T0), "p1@0/-", "put: the first record of a domain wins");
	stsstore_put(s, "x.example", mtasts_policy_ref(p), T0, 0, NULL, T0, 10);
	stsstore_put(s, "y.example", NULL, 0, T0 - MTASTS_RETRY_SECONDS, "y1", T0, 10);
	tap_is_str(show(s, "x.example", T0), "miss", "put: a policy at its end is not added");
	tap_is_str(show(s, "y.example", T0), "miss", "put: a failure past the wait is not added");
	stsstore_each(s, T0 + 1, each_fn, &el);
	tap_is_str(el.buf, "b.example:p1:b2 c.example:p1:- a.example:p1:- f.example:-:f1",
	    "each: policies, then failures, least recently used first");
	stsstore_each(s, T0 + MTASTS_RETRY_SECONDS, each_fn, &el2);
	tap_is_str(el2.buf, "b.example:p1:- c.example:p1:- a.example:p1:-",
	    "each: nothing past its time (f.example's and b.example's failures)");
	tap_is_str(show(s, "b.example", T0 + 500), "miss", "put: the given end holds (not fetched + max_age)");
	stsstore_free(s);
	mtasts_policy_unref(p);
}

int
main(void)
{
	tap_watchdog(10);
	log_init(LOG_DEST_STDERR, "stsstore_test", LOG_MAIL, LOG_ERR);
	test_update();
	test_failures();
	test_bound();
	test_put_each();
	return tap_done();
}
