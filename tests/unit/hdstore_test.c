/*
 * hdstore_test.c: HaveDane records (policy/hdstore.c): the verdict table,
 * the bound (the oldest go first), the first record of an address stays,
 * the file written after each record and read back (newest keep when it
 * holds more), bad files refused with the file named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/hdstore.h"
#include "tests/tap.h"

#define G       15

static void
tok(char *out, unsigned i)
{
	snprintf(out, HDTOKEN_LEN + 1, "%040x", i);
}

static struct hdrecord
rec(unsigned t, enum hdtoken_kind k, time_t at)
{
	struct hdrecord r;

	memset(&r, 0, sizeof(r));
	tok(r.hr_token, t);
	r.hr_kind = k;
	r.hr_at = at;
	snprintf(r.hr_client, sizeof(r.hr_client), "mail%u.sender.example", t);
	snprintf(r.hr_addr, sizeof(r.hr_addr), "192.0.2.%u", t % 250);
	snprintf(r.hr_helo, sizeof(r.hr_helo), "helo \"quoted\" \\ %u", t);
	snprintf(r.hr_tls, sizeof(r.hr_tls), "TLSv1.3");
	snprintf(r.hr_cipher, sizeof(r.hr_cipher), "TLS_AES_256_GCM_SHA384");
	snprintf(r.hr_bits, sizeof(r.hr_bits), "256");
	snprintf(r.hr_mail_domain, sizeof(r.hr_mail_domain), "sender.example");
	return r;
}

static void
test_verdict(void)
{
	static const struct {
		const char *desc;
		int at[HDTOKEN_NKIND];  /* arrival time, -1 none */
		int now;
		enum hdstore_verdict want;
	} cases[] = {
		{ "nothing yet", { -1, -1, -1 }, 1000, HDSTORE_PENDING },
		{ "do and dont, within the grace", { 100, 101, -1 }, 100 + G - 1, HDSTORE_PENDING },
		{ "do and dont, grace over", { 100, 101, -1 }, 100 + G, HDSTORE_VALIDATES_DANE },
		{ "dont first, do later, grace after do", { 200, 100, -1 }, 200 + G, HDSTORE_VALIDATES_DANE },
		{ "dont first, do later, grace after dont only", { 200, 100, -1 }, 200 + G - 1, HDSTORE_PENDING },
		{ "wrong alone", { -1, -1, 100 }, 100, HDSTORE_NO_DANE },
		{ "all three", { 100, 100, 100 }, 1000, HDSTORE_NO_DANE },
		{ "wrong late, after validates", { 100, 100, 500 }, 1000, HDSTORE_NO_DANE },
		{ "dont alone, within the grace", { -1, 100, -1 }, 100 + G - 1, HDSTORE_PENDING },
		{ "dont alone, grace over", { -1, 100, -1 }, 100 + G, HDSTORE_CANNOT_DELIVER_DANE },
		{ "do alone, long after", { 100, -1, -1 }, 10000, HDSTORE_PENDING },
	};
	size_t i;
	int k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hdresult r;
		enum hdstore_verdict got;

		memset(&r, 0, sizeof(r));
		for (k = 0; k < HDTOKEN_NKIND; k++)
			if (cases[i].at[k] >= 0) {
				r.hrs_got[k] = true;
				r.hrs_rec[k] = rec(1, (enum hdtoken_kind)k, cases[i].at[k]);
			}
		got = hdstore_verdict(&r, cases[i].now, G);
		if (!tap_ok(got == cases[i].want, "verdict: %s: %s", cases[i].desc,
		    hdstore_verdict_name(cases[i].want)))
			tap_diag("got %s, want %s", hdstore_verdict_name(got),
			    hdstore_verdict_name(cases[i].want));
	}
}

static void
test_bound_and_file(void)
{
	char dir[] = "/tmp/hdstore_test.XXXXXX", path[256], t[HDTOKEN_LEN + 1], *err;
	struct hdstore *st, *st2;
	struct hdresult res;
	struct hdrecord r;
	unsigned i;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		tap_ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/havedane.json", dir);
	st = hdstore_new(3, path);
	tap_is_long(hdstore_load(st, &err), HDSTORE_NOFILE, "no file yet: HDSTORE_NOFILE");
	for (i = 1; i <= 4; i++) {
		r = rec(i, HDTOKEN_DO, 1000 + i);
		tap_ok(hdstore_add(st, &r, &err) == HDSTORE_ADDED, "add record %u", i);
	}
	tap_is_long((long)hdstore_count(st), 3, "keep 3: 3 records held after 4");
	tok(t, 1);
	tap_is_long((long)hdstore_result(st, t, &res), 0, "the oldest (1) went first");
	tok(t, 4);
	tap_is_long((long)hdstore_result(st, t, &res), 1, "the newest (4) is there");
	tap_ok(res.hrs_got[HDTOKEN_DO] && !res.hrs_got[HDTOKEN_DONT] &&
	    res.hrs_rec[HDTOKEN_DO].hr_at == 1004, "... as do, with its time");
	r = rec(4, HDTOKEN_DO, 2000);
	tap_is_long(hdstore_add(st, &r, &err), HDSTORE_DUPLICATE, "a second do for 4: duplicate");
	hdstore_result(st, t, &res);
	tap_is_long((long)res.hrs_rec[HDTOKEN_DO].hr_at, 1004, "... the first record stays");
	r = rec(4, HDTOKEN_DONT, 1005);
	tap_is_long(hdstore_add(st, &r, &err), HDSTORE_ADDED, "dont for 4: added (2 went)");
	hdstore_free(st);

	st2 = hdstore_new(10, path);
	tap_is_long(hdstore_load(st2, &err), HDSTORE_LOADED, "the file is read back");
	tap_is_long((long)hdstore_count(st2), 3, "... with its 3 records");
	tap_is_long((long)hdstore_result(st2, t, &res), 2, "... token 4 has do and dont");
	r = rec(4, HDTOKEN_DONT, 1005);
	tap_is_str(res.hrs_rec[HDTOKEN_DONT].hr_helo, r.hr_helo, "... the HELO with quotes and a backslash survives");
	tap_is_str(res.hrs_rec[HDTOKEN_DONT].hr_cipher, "TLS_AES_256_GCM_SHA384", "... the cipher too");
	hdstore_free(st2);

	st2 = hdstore_new(1, path);
	tap_is_long(hdstore_load(st2, &err), HDSTORE_LOADED, "read with keep 1");
	tap_is_long((long)hdstore_count(st2), 1, "... only the newest record is kept");
	tap_is_long((long)hdstore_result(st2, t, &res), 1, "... which is 4's dont");
	tap_ok(res.hrs_got[HDTOKEN_DONT], "... dont");
	hdstore_free(st2);

	static const char *const bad[] = {
		"{\"version\": 1, \"records\": [",
		"{\"version\": 2, \"records\": []}",
		"{\"version\": 1, \"records\": [{\"token\": \"zz\", \"kind\": \"do\", \"at\": 1}]}",
		"[1, 2]",
	};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		st2 = hdstore_new(10, path);
		err = NULL;
		tap_ok(hdstore_load(st2, &err) == HDSTORE_BAD && err != NULL &&
		    strstr(err, path) != NULL && hdstore_count(st2) == 0,
		    "bad file %u refused, naming the file: %s", i + 1, err ? err : "(none)");
		free(err);
		hdstore_free(st2);
	}
	/* a HELO that is not UTF-8 (the client chose it): the record is
	 * saved with U+FFFD for the bytes and read back, the file whole */
	unlink(path);
	st = hdstore_new(10, path);
	r = rec(5, HDTOKEN_WRONG, 1);
	snprintf(r.hr_helo, sizeof(r.hr_helo), "\xff\xc3 bad");
	tap_is_long(hdstore_add(st, &r, &err), HDSTORE_ADDED, "a HELO that is not UTF-8: added");
	r = rec(6, HDTOKEN_DO, 2);
	tap_is_long(hdstore_add(st, &r, &err), HDSTORE_ADDED, "... and a record after it");
	hdstore_free(st);
	st2 = hdstore_new(10, path);
	err = NULL;
	tap_is_long(hdstore_load(st2, &err), HDSTORE_LOADED, "... the file is read back");
	free(err);
	tok(t, 5);
	tap_is_long((long)hdstore_result(st2, t, &res), 1, "... with that record");
	tap_is_str(res.hrs_rec[HDTOKEN_WRONG].hr_helo, "\xef\xbf\xbd\xef\xbf\xbd bad",
	    "... its HELO with U+FFFD for each byte that was not UTF-8");
	tap_is_long((long)hdstore_count(st2), 2, "... and the record after it");
	hdstore_free(st2);
	unlink(path);
	/* a state file in a directory that is gone: kept in memory, said */
	rmdir(dir);
	st2 = hdstore_new(10, path);
	r = rec(9, HDTOKEN_WRONG, 1);
	tap_is_long(hdstore_add(st2, &r, &err), HDSTORE_UNSAVED, "unwritable file: HDSTORE_UNSAVED");
	tap_ok(err != NULL && strstr(err, "cannot write") != NULL, "... saying why: %s", err ? err : "");
	free(err);
	tok(t, 9);
	tap_is_long((long)hdstore_result(st2, t, &res), 1, "... and the record is in memory");
	hdstore_free(st2);
}

int
main(void)
{
	tap_watchdog(30);
	test_verdict();
	test_bound_and_file();
	return tap_done();
}
