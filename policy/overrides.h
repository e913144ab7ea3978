/*
 * overrides.h: the overrides file (overrides_file): per-domain Postfix
 * policies that win over DANE and MTA-STS, kept apart from the main
 * configuration so that an exception needs no reload of it.
 *
 * FILE FORMAT
 *	One entry per line; blank lines and lines starting with '#' are
 *	skipped; '#' after blank space starts a comment.
 *	    DOMAIN POLICY [expires=YYYY-MM-DD]
 *	    DOMAIN
 *	POLICY is what a domains entry's `policy` takes (a Postfix TLS level
 *	first, then its attributes: "may", "dane-only", "secure
 *	match=.example.com", cfg_policy_problem()); a bare DOMAIN line is the
 *	danefail list's format and means "may" (DANE not enforced), logged at
 *	every use. An entry with expires= applies through that day (UTC) and
 *	is ignored from the next day on, with a log line at each use. DOMAIN
 *	is one domain exactly (no patterns), normalized as every face's
 *	(engine_domain_key: IDNA, lower case, no trailing dot).
 *	A line that breaks these rules, a duplicate domain, or a file over
 *	OVERRIDES_FILE_MAX bytes rejects the whole file: "FILE:LINE: what".
 *
 * An entry is applied where the configuration's fixed policy is
 * (policy/verdict.c, verdict_fixed_policy: one rule, one place), and wins
 * over it.
 *
 * Ownership: a struct overrides is immutable once loaded and
 * reference-counted (engine loop thread only); it owns its entries.
 */
#ifndef DM_OVERRIDES_H
#define DM_OVERRIDES_H

#include <stddef.h>
#include <time.h>

#define OVERRIDES_FILE_MAX      (16u << 20)

struct overrides_entry {
	char *oe_domain;                /* normalized */
	char *oe_policy;                /* "may" for a bare DOMAIN line */
	time_t oe_expires;              /* first second it no longer applies; 0 = never */
	int oe_line;
	int oe_danefail;                /* a bare DOMAIN line */
};

struct overrides {
	char *ov_file;                  /* the path (or the name given to the parser) */
	struct overrides_entry *ov_entries;     /* sorted by oe_domain */
	size_t ov_n;
	int ov_refs;
};

enum overrides_status {
	OVERRIDES_NONE,         /* no entry for the domain */
	OVERRIDES_FOUND,        /* *out: an entry in force */
	OVERRIDES_EXPIRED       /* *out: an entry whose expiry has passed */
};

/* Parse text[0..len) (name in messages). One reference, or NULL with a
 * malloc'ed *errp "NAME:LINE: what". */
struct overrides *overrides_parse(const char *text, size_t len, const char *name, char **errp);
/* Read and parse path. As overrides_parse; a file that cannot be read is
 * an error too ("PATH: strerror"). */
struct overrides *overrides_load(const char *path, char **errp);

struct overrides *overrides_ref(struct overrides *ov);
/* NULL is ignored. */
void overrides_unref(struct overrides *ov);

/* The entry for domain (normalized) at now. ov may be NULL (no file). */
enum overrides_status overrides_lookup(const struct overrides *ov, const char *domain,
    time_t now, const struct overrides_entry **out);

#endif
