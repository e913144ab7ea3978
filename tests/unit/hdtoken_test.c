/*
 * hdtoken_test.c: HaveDane tokens (policy/hdtoken.c) and the HMAC under
 * them (tls/hmac.c): RFC 4231's HMAC-SHA256 vector, a token vector made
 * with Python's hmac module, every way a token is refused, the test
 * addresses, the key file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/hdtoken.h"
#include "tests/tap.h"
#include "tls/hmac.h"

#define T0      1700000000
#define TTL     86400
/* python3: raw = struct.pack('>I', 1700000000) + bytes([1,2,3,4,5,6]);
 * (raw + hmac.new(key, raw, sha256).digest()[:10]).hex() */
#define VECTOR  "6553f10001020304050603ab18f027ca5a089463"

static struct hdtoken_key key;

static void
test_hmac(void)
{
	static const char want[] =
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	uint8_t mac[HMAC_SHA256_LEN], a[4] = { 1, 2, 3, 4 }, b[4] = { 1, 2, 3, 5 };
	char hex[2 * HMAC_SHA256_LEN + 1];
	size_t i;

	tap_ok(hmac_sha256((const uint8_t *)"Jefe", 4,
	    (const uint8_t *)"what do ya want for nothing?", 28, mac), "hmac_sha256 computes");
	for (i = 0; i < HMAC_SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	tap_is_str(hex, want, "HMAC-SHA256 of RFC 4231 test case 2");
	tap_ok(hmac_equal(a, a, 4) && !hmac_equal(a, b, 4), "hmac_equal: same / differ");
}

static void
test_make_check(void)
{
	static const uint8_t nonce[6] = { 1, 2, 3, 4, 5, 6 };
	char tok[HDTOKEN_LEN + 1], norm[HDTOKEN_LEN + 1], t2[HDTOKEN_LEN + 1], up[HDTOKEN_LEN + 1];
	struct hdtoken_key other = key;
	time_t created = 0;
	size_t i;
	static const struct {
		const char *desc;
		int pos;                /* hex digit changed, -1 none */
		time_t now;
		enum hdtoken_status want;
	} cases[] = {
		{ "fresh token", -1, T0, HDTOKEN_OK },
		{ "at the end of its lifetime", -1, T0 + TTL, HDTOKEN_OK },
		{ "a second after its lifetime", -1, T0 + TTL + 1, HDTOKEN_EXPIRED },
		{ "from the future beyond the skew", -1, T0 - HDTOKEN_SKEW_S - 1, HDTOKEN_EXPIRED },
		{ "from the future within the skew", -1, T0 - HDTOKEN_SKEW_S, HDTOKEN_OK },
		{ "a MAC digit changed", 39, T0, HDTOKEN_FORGED },
		{ "the time changed (made younger)", 7, T0, HDTOKEN_FORGED },
		{ "the nonce changed", 12, T0, HDTOKEN_FORGED },
		{ "an expired time with a wrong MAC", 38, T0 + 10 * TTL, HDTOKEN_FORGED },
	};

	tap_ok(hdtoken_make(&key, T0, nonce, tok), "hdtoken_make");
	tap_is_str(tok, VECTOR, "the token of a known time, nonce and key");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum hdtoken_status got;

		memcpy(t2, tok, sizeof(t2));
		if (cases[i].pos >= 0)
			t2[cases[i].pos] = t2[cases[i].pos] == '0' ? '1' : '0';
		got = hdtoken_check(&key, t2, strlen(t2), cases[i].now, TTL, NULL, NULL);
		if (!tap_ok(got == cases[i].want, "check: %s: %s", cases[i].desc,
		    hdtoken_status_name(cases[i].want)))
			tap_diag("got %s, want %s", hdtoken_status_name(got),
			    hdtoken_status_name(cases[i].want));
	}
	for (i = 0; i <= HDTOKEN_LEN; i++)
		up[i] = (char)(tok[i] >= 'a' && tok[i] <= 'f' ? tok[i] - 'a' + 'A' : tok[i]);
	tap_is_long(hdtoken_check(&key, up, HDTOKEN_LEN, T0, TTL, &created, norm), HDTOKEN_OK,
	    "upper-case hex is the same token");
	tap_is_str(norm, tok, "... given back in lower case");
	tap_is_long((long)created, T0, "... with its creation time");
	tap_is_long(hdtoken_check(&key, tok, HDTOKEN_LEN - 1, T0, TTL, NULL, NULL),
	    HDTOKEN_MALFORMED, "39 digits: malformed");
	tap_is_long(hdtoken_check(&key, "", 0, T0, TTL, NULL, NULL), HDTOKEN_MALFORMED,
	    "empty: malformed");
	memcpy(t2, tok, sizeof(t2));
	t2[5] = 'g';
	tap_is_long(hdtoken_check(&key, t2, HDTOKEN_LEN, T0, TTL, NULL, NULL), HDTOKEN_MALFORMED,
	    "a non-hex digit: malformed");
	other.hk_key[0] ^= 1;
	tap_is_long(hdtoken_check(&other, tok, HDTOKEN_LEN, T0, TTL, NULL, NULL), HDTOKEN_FORGED,
	    "another key: forged");
	tap_ok(hdtoken_new(&key, T0, t2) && strlen(t2) == HDTOKEN_LEN, "hdtoken_new");
	tap_is_long(hdtoken_check(&key, t2, HDTOKEN_LEN, T0 + 5, TTL, NULL, NULL), HDTOKEN_OK,
	    "a new token checks");
	tap_ok(hdtoken_new(&key, T0, up) && strcmp(up, t2) != 0,
	    "two new tokens of the same second differ (random nonce)");
}

static void
test_rcpt(void)
{
	static const struct {
		const char *rcpt;
		int want;               /* kind, or -1: not a test address */
		const char *local;
	} cases[] = {
		{ "<abc@do.hd.example>", HDTOKEN_DO, "abc" },
		{ "abc@dont.hd.example", HDTOKEN_DONT, "abc" },
		{ "<abc@WRONG.HD.Example.>", HDTOKEN_WRONG, "abc" },
		{ "<@relay.example:abc@do.hd.example>", HDTOKEN_DO, "@relay.example:abc" },
		{ "<abc@hd.example>", -1, NULL },
		{ "<abc@x.do.hd.example>", -1, NULL },
		{ "<abc@do.hd.example.org>", -1, NULL },
		{ "<abc@dohd.example>", -1, NULL },
		{ "<abc>", -1, NULL },
		{ "<>", -1, NULL },
		{ "<@do.hd.example>", HDTOKEN_DO, "" },
	};
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum hdtoken_kind k = HDTOKEN_NKIND;
		const char *local = NULL;
		bool got = hdtoken_rcpt("hd.example", cases[i].rcpt, &k, &local, &len);
		char buf[128] = "";

		if (got)
			snprintf(buf, sizeof(buf), "%.*s", (int)len, local);
		if (!tap_ok(got == (cases[i].want >= 0) && (!got || ((int)k == cases[i].want &&
		    strcmp(buf, cases[i].local) == 0)), "rcpt %s: %s", cases[i].rcpt,
		    cases[i].want >= 0 ? hdtoken_kind_name((enum hdtoken_kind)cases[i].want) :
		    "not a test address"))
			tap_diag("got %d kind %d local \"%s\"", got, (int)k, buf);
	}
}

static void
test_key_file(void)
{
	char path[] = "/tmp/hdtoken_test.XXXXXX", *err = NULL;
	struct hdtoken_key k;
	char big[HDTOKEN_KEY_MAX + 1];
	FILE *f;
	int fd = mkstemp(path);

	if (fd < 0) {
		tap_ok(0, "mkstemp");
		return;
	}
	close(fd);
	f = fopen(path, "w");
	fputs("0123456789abcde", f);
	fclose(f);
	tap_ok(!hdtoken_key_load(path, &k, &err) && err && strstr(err, "15 bytes, want at least 16"),
	    "a 15-byte key file is refused, saying so");
	free(err);
	f = fopen(path, "w");
	fputs("0123456789abcdef0123456789abcdef", f);
	fclose(f);
	tap_ok(hdtoken_key_load(path, &k, &err) && k.hk_len == 32 && err == NULL &&
	    memcmp(k.hk_key, key.hk_key, 32) == 0, "a 32-byte key file is read");
	memset(big, 'k', sizeof(big));
	f = fopen(path, "w");
	fwrite(big, 1, sizeof(big), f);
	fclose(f);
	tap_ok(!hdtoken_key_load(path, &k, &err) && err && strstr(err, "longer than"),
	    "a key file over %d bytes is refused", HDTOKEN_KEY_MAX);
	free(err);
	unlink(path);
	tap_ok(!hdtoken_key_load(path, &k, &err) && err && strstr(err, path) &&
	    strstr(err, "No such file"), "a missing key file: the error names it");
	free(err);
}

int
main(void)
{
	tap_watchdog(30);
	memcpy(key.hk_key, "0123456789abcdef0123456789abcdef", 32);
	key.hk_len = 32;
	test_hmac();
	test_make_check();
	test_rcpt();
	test_key_file();
	return tap_done();
}
