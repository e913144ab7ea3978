/*
 * overrides_test.c: the overrides file's parser and lookup
 * (policy/overrides.h), table-driven: each text gives either the
 * entries (domain, policy, expiry, line, danefail) or the exact error
 * "NAME:LINE: what"; then lookups around an expiry (the last second of
 * the day still applies, the next does not), and verdict_fixed_policy()
 * with an entry beside a configuration policy (the entry wins; expired, the
 * configuration's returns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "policy/overrides.h"
#include "policy/verdict.h"
#include "tests/tap.h"

struct ov_case {
	const char *name;
	const char *text;
	const char *want;       /* entries "domain|policy|expires|line|danefail;..." or the error */
};

static const struct ov_case cases[] = {
	{ "empty file", "", "" },
	{ "comments and blanks", "# c\n\n   \n\t# x\n", "" },
	{ "policy and comment", "a.example may # note\n", "a.example|may|0|1|0;" },
	{ "bare domain: danefail", "b.example\n", "b.example|may|0|1|1;" },
	{ "expires: the next day's first second", "c.example dane-only expires=2030-01-31\n",
	  "c.example|dane-only|1896134400|1|0;" },
	{ "multi-word policy, CRLF, sorted", "z.example secure match=.z.example servername=hostname\r\n"
	  "A.Example. encrypt\n", "a.example|encrypt|0|2|0;z.example|secure match=.z.example servername=hostname|0|1|0;" },
	{ "IDNA", "b\xc3\xbc" "cher.example may\n", "xn--bcher-kva.example|may|0|1|0;" },
	{ "leap day", "d.example may expires=2028-02-29\n", "d.example|may|1835481600|1|0;" },
	{ "not a leap day", "d.example may expires=2027-02-29\n", "t:1: expires= wants a date YYYY-MM-DD" },
	{ "bad level", "a.example secure-ish\n", "t:1: the policy must start with a Postfix TLS level "
	  "(none, may, encrypt, dane, dane-only, fingerprint, verify, secure)" },
	{ "pattern", "# x\n.a.example may\n", "t:2: \".a.example\" is not a domain name" },
	{ "wildcard", "*.a.example may\n", "t:1: \"*.a.example\" is not a domain name" },
	{ "duplicate", "a.example may\nb.example may\nA.EXAMPLE dane\n",
	  "t:3: a.example is listed again (first on line 1)" },
	{ "expires without policy", "a.example expires=2030-01-01\n", "t:1: expires= needs a POLICY before it" },
	{ "word after expires", "a.example may expires=2030-01-01 x\n",
	  "t:1: nothing but a comment may follow expires=" },
	{ "control character", "a.example m\001ay\n", "t:1: a control character" },
	{ "NUL", "a.example may\n\0\n", "t:2: a NUL byte" },
	{ "bad date form", "a.example may expires=30-01-2030\n", "t:1: expires= wants a date YYYY-MM-DD" },
};

static void
ov_show(const struct overrides *ov, struct sbuf *sb)
{
	size_t i;

	for (i = 0; i < ov->ov_n; i++) {
		const struct overrides_entry *e = &ov->ov_entries[i];

		sbuf_printf(sb, "%s|%s|%lld|%d|%d;", e->oe_domain, e->oe_policy,
		    (long long)e->oe_expires, e->oe_line, e->oe_danefail);
	}
}

int
main(void)
{
	struct overrides *ov;
	const struct overrides_entry *e;
	struct sbuf sb = SBUF_INIT;
	struct cfg *cfg;
	char *err = NULL;
	size_t i, len;

	tap_watchdog(30);
	log_init(LOG_DEST_STDOUT, "overrides_test", LOG_MAIL, LOG_ERR);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i].text);
		if (strcmp(cases[i].name, "NUL") == 0)
			len = 16;
		ov = overrides_parse(cases[i].text, len, "t", &err);
		sbuf_reset(&sb);
		if (ov != NULL)
			ov_show(ov, &sb);
		else
			sbuf_append(&sb, err);
		tap_is_str(sbuf_str(&sb), cases[i].want, cases[i].name);
		overrides_unref(ov);
		free(err);
		err = NULL;
	}

	/* lookups around an expiry: applies through 2030-01-31 (UTC) */
	ov = overrides_parse("c.example dane-only expires=2030-01-31\n", 39, "t", &err);
	tap_ok(ov != NULL, "parsed");
	tap_is_long(overrides_lookup(ov, "c.example", 1896134399, &e), OVERRIDES_FOUND,
	    "the last second of the day: in force");
	tap_is_long(overrides_lookup(ov, "c.example", 1896134400, &e), OVERRIDES_EXPIRED,
	    "the next day: expired");
	tap_is_long(overrides_lookup(ov, "d.example", 0, &e), OVERRIDES_NONE, "another domain: none");
	tap_is_long(overrides_lookup(NULL, "c.example", 0, &e), OVERRIDES_NONE, "no file: none");

	/* the one rule: an entry in force wins over the configuration's policy */
	cfg = cfg_load_string("domains = ( { name = \"c.example\"; policy = \"encrypt\"; } );",
	    "c", &err);
	tap_ok(cfg != NULL, "configuration");
	tap_is_str(verdict_fixed_policy(cfg, ov, "c.example", 1896134399), "dane-only",
	    "verdict_fixed_policy: the entry in force wins");
	tap_is_str(verdict_fixed_policy(cfg, ov, "c.example", 1896134400), "encrypt",
	    "verdict_fixed_policy: expired, the configuration's policy returns");
	tap_is_str(verdict_fixed_policy(cfg, NULL, "c.example", 0), "encrypt",
	    "verdict_fixed_policy: no file, the configuration's");
	tap_ok(verdict_fixed_policy(cfg, ov, "x.example", 0) == NULL, "neither: NULL");
	cfg_unref(cfg);
	overrides_unref(ov);
	sbuf_free(&sb);
	return tap_done();
}
