/*
 * dns.c: see dns.h.
 *
 * libunbound runs its resolver in its own threads (ub_ctx_async(ctx, 1));
 * answers come back through the pipe behind ub_fd(), registered as an iv_fd
 * whose handler calls ub_process(), so every callback runs on the loop
 * thread. Each query carries an iv_timer: whichever of answer and timer
 * comes first delivers the result; the other is cancelled.
 */
#include "dns.h"

#include <sys/stat.h>

#include <errno.h>
#include <iv.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unbound.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "dns/rdata.h"

struct dns_resolver {
	struct ub_ctx *dr_ctx;
	struct iv_fd dr_fd;
	unsigned dr_timeout_ms;
	unsigned long dr_nqueries;
	unsigned dr_outstanding;
	struct dns_query *dr_live;      /* doubly linked: freed with the resolver */
};

struct dns_query {
	struct dns_resolver *dq_r;
	char *dq_name;
	uint16_t dq_type;
	char *dq_logtag;
	dns_callback *dq_cb;
	void *dq_arg;
	int dq_ub_id;
	bool dq_ub_live;                /* libunbound holds a reference */
	int dq_start_err;               /* ub_resolve_async failed: deliver at once */
	struct iv_timer dq_timer;
	struct timespec dq_start;
	struct dns_query *dq_prev, *dq_next;
};

/* Built-in local zones of libunbound that hide special-use names (RFC 6761,
 * 8375); removed where a configured stub overlaps them so a lab's signed
 * world under such a name resolves like the real DNS. */
static const char *const dns_special_zones[] = {
	"test.", "invalid.", "onion.", "home.arpa.", "resolver.arpa.", "service.arpa."
};

const char *
dns_type_name(uint16_t type)
{
	switch (type) {
	case DNS_TYPE_A:        return "A";
	case DNS_TYPE_CNAME:    return "CNAME";
	case DNS_TYPE_MX:       return "MX";
	case DNS_TYPE_TXT:      return "TXT";
	case DNS_TYPE_AAAA:     return "AAAA";
	case DNS_TYPE_TLSA:     return "TLSA";
	default:                return "TYPE?";
	}
}

const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_RECORDS:       return "records";
	case DNS_NODATA:        return "nodata";
	case DNS_NXDOMAIN:      return "nxdomain";
	case DNS_ERROR:         return "error";
	case DNS_TIMEOUT:       return "timeout";
	}
	return "?";
}

const char *
dns_security_name(enum dns_security sec)
{
	switch (sec) {
	case DNS_SEC_INSECURE:          return "insecure";
	case DNS_SEC_SECURE:            return "secure";
	case DNS_SEC_BOGUS:             return "bogus";
	case DNS_SEC_INDETERMINATE:     return "indeterminate";
	}
	return "?";
}

static const char *
dns_rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"
	};

	return rcode >= 0 && rcode < 6 ? names[rcode] : "RCODE?";
}

/* Zone names compared as lower-case, trailing dot optional. */
static bool
dns_name_at_or_below(const char *name, const char *zone)
{
	size_t nl = strlen(name), zl = strlen(zone);

	while (nl > 0 && name[nl - 1] == '.')
		nl--;
	while (zl > 0 && zone[zl - 1] == '.')
		zl--;
	if (zl == 0)
		return true;            /* the root */
	if (nl < zl || strncasecmp(name + nl - zl, zone, zl) != 0)
		return false;
	return nl == zl || name[nl - zl - 1] == '.';
}

static bool
dns_addr_is_loopback(const char *a)
{
	return strncmp(a, "127.", 4) == 0 || strncmp(a, "::1", 3) == 0;
}

/* Does the configuration name something at, above or below the special-use
 * zone: a stub zone, or the owner of an extra trust anchor (the root's
 * anchor does not count: every resolver has one)? */
static bool
dns_special_configured(const struct dns_options *o, const char *special)
{
	char owner[256];
	size_t i;

	for (i = 0; i < o->do_nstubs; i++)
		if (dns_name_at_or_below(special, o->do_stubs[i].dso_zone) ||
		    dns_name_at_or_below(o->do_stubs[i].dso_zone, special))
			return true;
	for (i = 0; i < o->do_ntrust_anchors; i++) {
		size_t n = strcspn(o->do_trust_anchors[i], " \t");

		if (n == 0 || n >= sizeof(owner))
			continue;
		memcpy(owner, o->do_trust_anchors[i], n);
		owner[n] = '\0';
		if (strcmp(owner, ".") != 0 && dns_name_at_or_below(owner, special))
			return true;
	}
	return false;
}

static void
dns_fd_in(void *cookie)
{
	struct dns_resolver *r = cookie;
	int err = ub_process(r->dr_ctx);

	if (err != 0)
		log_warnx("dns: ub_process: %s", ub_strerror(err));
}

/* libunbound writes "[time] libunbound[pid:tid] error: text" lines to a
 * FILE, from its own threads too; this one hands each line to the log API
 * without that prefix. */
static pthread_mutex_t dns_ublog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t dns_ublog_once = PTHREAD_ONCE_INIT;
static FILE *dns_ublog_file;

static ssize_t
dns_ublog_write(void *cookie, const char *buf, size_t len)
{
	static char line[1024];
	static size_t used;
	size_t i;

	(void)cookie;
	pthread_mutex_lock(&dns_ublog_lock);
	for (i = 0; i < len; i++) {
		const char *p;

		if (buf[i] != '\n') {
			if (used < sizeof(line) - 1)
				line[used++] = buf[i];
			continue;
		}
		line[used] = '\0';
		p = strstr(line, "libunbound[");
		p = p ? strstr(p, "] ") : NULL;
		log_warnx("dns: libunbound: %s", p ? p + 2 : line);
		used = 0;
	}
	pthread_mutex_unlock(&dns_ublog_lock);
	return (ssize_t)len;
}

static void
dns_ublog_open(void)
{
	cookie_io_functions_t io = { .write = dns_ublog_write };

	dns_ublog_file = fopencookie(NULL, "w", io);
	if (dns_ublog_file != NULL)
		setvbuf(dns_ublog_file, NULL, _IOLBF, 0);
}

/*
 * The trust anchor file must be a regular file that holds at least one line
 * other than blank lines, ";" comments and "$" directives: libunbound
 * accepts an empty file (no anchor: every answer insecure, a silent
 * downgrade) and spins on a directory. What the records say is
 * libunbound's to judge (a bad one fails the setup below). 0, or -1 with
 * *errp set.
 */
static int
dns_ta_file_check(const char *path, char **errp)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	int err;

	if (f == NULL) {
		*errp = xasprintf("trust anchor file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0)
		*errp = xasprintf("trust anchor file %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		*errp = xasprintf("trust anchor file %s: %s", path, S_ISDIR(st.st_mode) ?
		    strerror(EISDIR) : "not a regular file");
	if (*errp != NULL) {
		fclose(f);
		return -1;
	}
	errno = 0;
	while (!found && getline(&line, &cap, f) != -1) {
		const char *p = line + strspn(line, " \t\r\n");

		found = *p != '\0' && *p != ';' && *p != '$';
	}
	err = ferror(f) ? errno : 0;
	free(line);
	fclose(f);
	if (err != 0) {
		*errp = xasprintf("trust anchor file %s: %s", path, strerror(err));
		return -1;
	}
	if (!found) {
		*errp = xasprintf("trust anchor file %s: holds no DS or DNSKEY "
		    "record (DNSSEC validation needs a trust anchor)", path);
		return -1;
	}
	return 0;
}

static int
dns_set(struct ub_ctx *ctx, const char *opt, const char *val, char **errp)
{
	int err = ub_ctx_set_option(ctx, opt, val);

	if (err != 0)
		*errp = xasprintf("libunbound option %s %s: %s", opt, val, ub_strerror(err));
	return err;
}

struct dns_resolver *
dns_resolver_new(const struct dns_options *o, char **errp)
{
	struct dns_resolver *r;
	struct ub_ctx *ctx;
	char maxrtt[16];
	bool local = false;
	size_t i, j;
	int err;

	*errp = NULL;
	if ((ctx = ub_ctx_create()) == NULL) {
		*errp = xstrdup("cannot create a libunbound context");
		return NULL;
	}
	pthread_once(&dns_ublog_once, dns_ublog_open);
	if (dns_ublog_file != NULL)
		(void)ub_ctx_debugout(ctx, dns_ublog_file);
	for (i = 0; i < o->do_nforward; i++)
		local |= dns_addr_is_loopback(o->do_forward[i]);
	for (i = 0; i < o->do_nstubs; i++)
		for (j = 0; j < o->do_stubs[i].dso_naddrs; j++)
			local |= dns_addr_is_loopback(o->do_stubs[i].dso_addrs[j]);
	/* No server probe may outlast the whole query's bound (libunbound's
	 * default backs off to 120 s per server). */
	snprintf(maxrtt, sizeof(maxrtt), "%u", o->do_timeout_ms ? o->do_timeout_ms : 5000);
	if (dns_set(ctx, "val-log-level:", "2", errp) ||
	    dns_set(ctx, "infra-cache-max-rtt:", maxrtt, errp) ||
	    dns_set(ctx, "edns-buffer-size:", "1232", errp) ||
	    (local && dns_set(ctx, "do-not-query-localhost:", "no", errp)))
		goto fail;
	for (i = 0; i < o->do_nforward; i++)
		if ((err = ub_ctx_set_fwd(ctx, o->do_forward[i])) != 0) {
			*errp = xasprintf("forwarder %s: %s", o->do_forward[i], ub_strerror(err));
			goto fail;
		}
	for (i = 0; i < o->do_nstubs; i++)
		for (j = 0; j < o->do_stubs[i].dso_naddrs; j++)
			if ((err = ub_ctx_set_stub(ctx, o->do_stubs[i].dso_zone,
			    o->do_stubs[i].dso_addrs[j], 0)) != 0) {
				*errp = xasprintf("stub %s %s: %s", o->do_stubs[i].dso_zone,
				    o->do_stubs[i].dso_addrs[j], ub_strerror(err));
				goto fail;
			}
	if (o->do_trust_anchor_file && *o->do_trust_anchor_file) {
		if (dns_ta_file_check(o->do_trust_anchor_file, errp) != 0)
			goto fail;
		if ((err = ub_ctx_add_ta_file(ctx, o->do_trust_anchor_file)) != 0) {
			*errp = xasprintf("trust anchor file %s: %s", o->do_trust_anchor_file, ub_strerror(err));
			goto fail;
		}
	}
	for (i = 0; i < o->do_ntrust_anchors; i++)
		if ((err = ub_ctx_add_ta(ctx, o->do_trust_anchors[i])) != 0) {
			*errp = xasprintf("trust anchor \"%s\": %s", o->do_trust_anchors[i], ub_strerror(err));
			goto fail;
		}
	if ((err = ub_ctx_async(ctx, 1)) != 0) {
		*errp = xasprintf("libunbound async mode: %s", ub_strerror(err));
		goto fail;
	}
	/*
	 * Finalize now (adding a local zone does), so that a trust anchor
	 * libunbound cannot use is a setup error, not a failure of every
	 * query later. The zone is a harmless one below the built-in
	 * "invalid." zone. Zone removals below must come after this.
	 */
	if ((err = ub_ctx_zone_add(ctx, "danemilter-setup.invalid.", "static")) != 0) {
		if (err == UB_INITFAIL && o->do_trust_anchor_file && *o->do_trust_anchor_file)
			*errp = xasprintf("trust anchor file %s is not usable by libunbound",
			    o->do_trust_anchor_file);
		else
			*errp = xasprintf("libunbound setup failed: %s", ub_strerror(err));
		goto fail;
	}
	for (i = 0; i < sizeof(dns_special_zones) / sizeof(dns_special_zones[0]); i++)
		if (dns_special_configured(o, dns_special_zones[i]))
			(void)ub_ctx_zone_remove(ctx, dns_special_zones[i]);

	r = xcalloc(1, sizeof(*r));
	r->dr_ctx = ctx;
	r->dr_timeout_ms = o->do_timeout_ms ? o->do_timeout_ms : 5000;
	IV_FD_INIT(&r->dr_fd);
	r->dr_fd.fd = ub_fd(ctx);
	r->dr_fd.cookie = r;
	r->dr_fd.handler_in = dns_fd_in;
	if (r->dr_fd.fd < 0) {
		*errp = xstrdup("libunbound has no file descriptor");
		free(r);
		goto fail;
	}
	iv_fd_register(&r->dr_fd);
	return r;
fail:
	ub_ctx_delete(ctx);
	return NULL;
}

static void
dns_query_unlink_free(struct dns_query *q)
{
	struct dns_resolver *r = q->dq_r;

	if (iv_timer_registered(&q->dq_timer))
		iv_timer_unregister(&q->dq_timer);
	if (q->dq_prev)
		q->dq_prev->dq_next = q->dq_next;
	else
		r->dr_live = q->dq_next;
	if (q->dq_next)
		q->dq_next->dq_prev = q->dq_prev;
	r->dr_outstanding--;
	free(q->dq_name);
	free(q->dq_logtag);
	free(q);
}

/* The user is done with q: free it, or, when libunbound still holds it and
 * will not let go, keep it as a zombie that the late callback frees. */
static void
dns_query_retire(struct dns_query *q)
{
	if (q->dq_ub_live && ub_cancel(q->dq_r->dr_ctx, q->dq_ub_id) == 0)
		q->dq_ub_live = false;
	if (!q->dq_ub_live) {
		dns_query_unlink_free(q);
		return;
	}
	q->dq_cb = NULL;
	if (iv_timer_registered(&q->dq_timer))
		iv_timer_unregister(&q->dq_timer);
}

void
dns_resolver_free(struct dns_resolver *r)
{
	if (r == NULL)
		return;
	iv_fd_unregister(&r->dr_fd);
	ub_ctx_delete(r->dr_ctx);       /* drops outstanding queries, no callbacks */
	while (r->dr_live)
		dns_query_unlink_free(r->dr_live);
	free(r);
}

static uint64_t
dns_elapsed_us(const struct timespec *start)
{
	return deadline_since_us(start);
}

/* ---- metrics ---- */

/* dns_queries_total{result}: indexed by enum dns_status. */
static const char *const dns_metric_results[] = {
	[DNS_RECORDS] = "records",
	[DNS_NODATA] = "nodata",
	[DNS_NXDOMAIN] = "nxdomain",
	[DNS_ERROR] = "error",
	[DNS_TIMEOUT] = "timeout"
};
_Static_assert(METRICS_NELEM(dns_metric_results) == DNS_TIMEOUT + 1, "a name per dns_status");

static struct metrics_family dns_queries_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_dns_queries_total",
	    "DNS queries answered, by result."),
	METRICS_LABEL1("result", dns_metric_results),
};

/* dns_query_duration_seconds: 1 ms .. 10 s. */
static const unsigned long dns_metric_bounds_us[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};
static const char *const dns_metric_le[] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10"
};

static struct metrics_family dns_duration_metric = {
	METRICS_HEAD(METRICS_HISTOGRAM, "danemilter_dns_query_duration_seconds",
	    "Time from the start of a DNS query to its answer, error or timeout."),
	METRICS_BUCKETS(dns_metric_bounds_us, dns_metric_le),
};

void
dns_metrics_register(void)
{
	metrics_register(&dns_duration_metric);
	metrics_register(&dns_queries_metric);
}

/* Count the answer: dns_queries_total{result} and the duration histogram. */
static void
dns_metrics(const struct dns_answer *a, uint64_t us)
{
	metrics_inc(&dns_queries_metric, a->da_status, 0);
	metrics_observe(&dns_duration_metric, us);
}

/* "TAG: result TYPE NAME: ..." and the answer lines before it. */
static void
dns_log_answer(const struct dns_query *q, const struct dns_answer *a,
    const struct rdata_answer *parsed)
{
	struct sbuf sb = SBUF_INIT;
	size_t i;

	for (i = 0; parsed && i < parsed->ra_nlines; i++)
		log_info("%s: answer %s", q->dq_logtag, parsed->ra_lines[i]);
	sbuf_printf(&sb, "%s: result %s %s: ", q->dq_logtag, dns_type_name(q->dq_type), q->dq_name);
	if (a->da_status == DNS_RECORDS)
		sbuf_printf(&sb, "records=%zu", a->da_nrr);
	else
		sbuf_append(&sb, dns_status_name(a->da_status));
	sbuf_printf(&sb, " dnssec=%s", dns_security_name(a->da_security));
	if (a->da_status != DNS_ERROR && a->da_status != DNS_TIMEOUT)
		sbuf_printf(&sb, " ttl=%u", a->da_ttl);
	if (a->da_canon)
		sbuf_printf(&sb, " canonical=%s", a->da_canon);
	if (a->da_why) {
		const char *p;

		sbuf_append(&sb, " reason=\"");
		for (p = a->da_why; *p; p++)
			sbuf_appendc(&sb, *p == '"' ? '\'' : (*p < 0x20 ? ' ' : *p));
		sbuf_appendc(&sb, '"');
	}
	sbuf_printf(&sb, " time=%ums", a->da_elapsed_ms);
	log_info("%s", sbuf_str(&sb));
	sbuf_free(&sb);
}

/* Deliver the answer, then forget the query. */
static void
dns_deliver(struct dns_query *q, struct dns_answer *a, const uint8_t *pkt, size_t pktlen)
{
	struct rdata_answer parsed;
	bool have_parsed = false;
	uint64_t us = dns_elapsed_us(&q->dq_start);

	a->da_qname = q->dq_name;
	a->da_qtype = q->dq_type;
	a->da_elapsed_ms = (unsigned)(us / 1000);
	dns_metrics(a, us);
	if ((q->dq_logtag || ((a->da_status == DNS_NODATA || a->da_status == DNS_NXDOMAIN) &&
	    a->da_ttl == 0)) && pkt != NULL)
		have_parsed = rdata_answer_parse(pkt, pktlen, &parsed) == RDATA_OK;
	if (have_parsed && parsed.ra_have_soa && a->da_ttl == 0 &&
	    (a->da_status == DNS_NODATA || a->da_status == DNS_NXDOMAIN))
		a->da_ttl = parsed.ra_neg_ttl;
	if (q->dq_logtag)
		dns_log_answer(q, a, have_parsed ? &parsed : NULL);
	if (have_parsed)
		rdata_answer_free(&parsed);
	if (iv_timer_registered(&q->dq_timer))
		iv_timer_unregister(&q->dq_timer);
	q->dq_cb(q->dq_arg, a);
	dns_query_retire(q);
}

static void
dns_ub_callback(void *mydata, int err, struct ub_result *res)
{
	struct dns_query *q = mydata;
	struct dns_answer a;
	struct dns_rdata *rr = NULL;
	char canon[RDATA_NAME_MAX];
	size_t n = 0, i;

	q->dq_ub_live = false;
	if (q->dq_cb == NULL) {         /* a zombie: its user has gone */
		if (res)
			ub_resolve_free(res);
		dns_query_unlink_free(q);
		return;
	}
	memset(&a, 0, sizeof(a));
	if (err != 0 || res == NULL) {
		a.da_status = DNS_ERROR;
		a.da_security = DNS_SEC_INDETERMINATE;
		a.da_why = ub_strerror(err);
		dns_deliver(q, &a, NULL, 0);
		if (res)
			ub_resolve_free(res);
		return;
	}
	a.da_rcode = res->rcode;
	if (res->bogus) {
		a.da_status = DNS_ERROR;
		a.da_security = DNS_SEC_BOGUS;
		a.da_why = res->why_bogus ? res->why_bogus : "DNSSEC validation failed";
	} else if (res->rcode == 3) {
		a.da_status = DNS_NXDOMAIN;
	} else if (res->rcode != 0) {
		a.da_status = DNS_ERROR;
		a.da_security = DNS_SEC_INDETERMINATE;
		a.da_why = res->why_bogus ? res->why_bogus : dns_rcode_name(res->rcode);
	} else if (res->havedata) {
		a.da_status = DNS_RECORDS;
	} else {
		a.da_status = DNS_NODATA;
	}
	if (a.da_status != DNS_ERROR) {
		a.da_security = res->secure ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
		a.da_ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
	}
	if (a.da_status == DNS_RECORDS) {
		while (res->data[n] != NULL)
			n++;
		rr = xcalloc(n, sizeof(*rr));
		for (i = 0; i < n; i++) {
			rr[i].dr_data = (const uint8_t *)res->data[i];
			rr[i].dr_len = (size_t)res->len[i];
		}
		a.da_nrr = n;
		a.da_rr = rr;
	}
	if (res->canonname && a.da_status != DNS_ERROR) {
		size_t cl;

		snprintf(canon, sizeof(canon), "%s", res->canonname);
		cl = strlen(canon);
		while (cl > 1 && canon[cl - 1] == '.')
			canon[--cl] = '\0';
		for (i = 0; i < cl; i++)
			canon[i] = (char)(canon[i] >= 'A' && canon[i] <= 'Z' ? canon[i] + 32 : canon[i]);
		if (strcasecmp(canon, q->dq_name) != 0)
			a.da_canon = canon;
	}
	dns_deliver(q, &a, res->answer_packet, res->answer_len > 0 ? (size_t)res->answer_len : 0);
	free(rr);
	ub_resolve_free(res);
}

static void
dns_timer_fired(void *cookie)
{
	struct dns_query *q = cookie;
	struct dns_answer a;

	memset(&a, 0, sizeof(a));
	a.da_security = DNS_SEC_INDETERMINATE;
	if (q->dq_start_err) {
		a.da_status = DNS_ERROR;
		a.da_why = ub_strerror(q->dq_start_err);
	} else {
		a.da_status = DNS_TIMEOUT;
		a.da_why = "no answer within the time bound";
	}
	dns_deliver(q, &a, NULL, 0);
}

struct dns_query *
dns_query_start(struct dns_resolver *r, const char *name, uint16_t type,
    const char *logtag, dns_callback *cb, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));
	size_t nl;
	int err;

	q->dq_r = r;
	q->dq_name = xstrdup(name);
	nl = strlen(q->dq_name);
	while (nl > 1 && q->dq_name[nl - 1] == '.')
		q->dq_name[--nl] = '\0';
	q->dq_type = type;
	q->dq_logtag = logtag ? xstrdup(logtag) : NULL;
	q->dq_cb = cb;
	q->dq_arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &q->dq_start);
	q->dq_next = r->dr_live;
	if (r->dr_live)
		r->dr_live->dq_prev = q;
	r->dr_live = q;
	r->dr_outstanding++;
	r->dr_nqueries++;

	IV_TIMER_INIT(&q->dq_timer);
	q->dq_timer.cookie = q;
	q->dq_timer.handler = dns_timer_fired;
	iv_validate_now();
	q->dq_timer.expires = iv_now;

	if (q->dq_logtag)
		log_info("%s: Starting new query for %s %s:", q->dq_logtag, dns_type_name(type), q->dq_name);
	err = ub_resolve_async(r->dr_ctx, q->dq_name, type, 1, q, dns_ub_callback, &q->dq_ub_id);
	if (err != 0) {
		q->dq_start_err = err;  /* delivered from the loop, at once */
	} else {
		q->dq_ub_live = true;
		deadline_add_ms(&q->dq_timer.expires, r->dr_timeout_ms);
	}
	iv_timer_register(&q->dq_timer);
	return q;
}

void
dns_query_cancel(struct dns_query *q)
{
	dns_query_retire(q);
}

unsigned long
dns_resolver_queries(const struct dns_resolver *r)
{
	return r->dr_nqueries;
}

unsigned
dns_resolver_outstanding(const struct dns_resolver *r)
{
	return r->dr_outstanding;
}
