/*
 * doctor_test.c: the rules of `danemilter doctor` (cli/doctor.c), table
 * driven: a good Postfix configuration (as postconf -x / -M -x / -P -x
 * print it) with one change per row, danemilter's configuration, the
 * resolver file, and the exact finding lines wanted; plus the parsers of
 * postconf's output (cli/postconf.c) and the summary line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "cli/doctor.h"
#include "config/cfg.h"
#include "tests/tap.h"

/* Everything right for danemilter's defaults (socketmap
 * inet:127.0.0.1:8642, milter inet:8895@127.0.0.1). */
static const char base_main[] =
	"mail_version = 3.7.11\n"
	"queue_directory = /var/spool/postfix\n"
	"smtp_dns_support_level = dnssec\n"
	"smtp_host_lookup = dns\n"
	"smtp_tls_security_level = dane\n"
	"smtp_tls_dane_insecure_mx_policy = dane\n"
	"smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERY\n"
	"smtpd_milters = inet:127.0.0.1:8895\n"
	"milter_default_action = tempfail\n";

static const char master_plain[] =
	"smtp       inet  n       -       n       -       -       smtpd\n"
	"submission inet  n       -       n       -       -       smtpd -o smtpd_tls_security_level=encrypt\n"
	"smtp       unix  -       -       n       -       -       smtp\n"
	"relay      unix  -       -       n       -       -       smtp -o syslog_name=postfix/relay\n";

static const char master_chroot[] =
	"smtp       inet  n       -       y       -       -       smtpd\n"
	"smtp       unix  -       -       y       -       -       smtp\n";

struct row {
	const char *desc;
	const char *drop;       /* a parameter of base_main left out */
	const char *set;        /* main.cf lines after base_main (the last wins) */
	const char *conf;       /* danemilter configuration; NULL = defaults */
	const char *master;     /* NULL = master_plain */
	const char *overrides;  /* postconf -P -x; NULL = none */
	const char *resolv;     /* NULL = "nameserver 127.0.0.1" */
	const char *want;       /* the problem and warning lines, "\n"-joined */
	const char *want_notes; /* the note lines; NULL = not checked */
};

#define MAPS_WANT "want socketmap:inet:127.0.0.1:8642:QUERY: add \"smtp_tls_policy_maps = "

static const struct row rows[] = {
	{ "all right", NULL, NULL, NULL, NULL, NULL, NULL, "",
	  "doctor: note: /etc/resolv.conf: nameserver 127.0.0.1" },

	/* smtp_dns_support_level */
	{ "dns support level empty", NULL, "smtp_dns_support_level =\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_dns_support_level = (empty): want dnssec: add "
	  "\"smtp_dns_support_level = dnssec\" to main.cf", NULL },
	{ "dns support level enabled", NULL, "smtp_dns_support_level = enabled\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_dns_support_level = enabled: want dnssec: add "
	  "\"smtp_dns_support_level = dnssec\" to main.cf", NULL },
	{ "dns support level unknown to Postfix", "smtp_dns_support_level", NULL, NULL, NULL, NULL, NULL,
	  "doctor: smtp_dns_support_level = (unknown to this Postfix): want dnssec: add "
	  "\"smtp_dns_support_level = dnssec\" to main.cf", NULL },

	/* smtp_host_lookup */
	{ "host lookup native", NULL, "smtp_host_lookup = native\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_host_lookup = native: want dns: add \"smtp_host_lookup = dns\" to main.cf", NULL },
	{ "host lookup native, dns", NULL, "smtp_host_lookup = native, dns\n", NULL, NULL, NULL, NULL, "", NULL },
	{ "host lookup DNS upper case", NULL, "smtp_host_lookup = DNS\n", NULL, NULL, NULL, NULL, "", NULL },

	/* smtp_tls_security_level */
	{ "security level may", NULL, "smtp_tls_security_level = may\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_security_level = may: want dane or dane-only: add "
	  "\"smtp_tls_security_level = dane\" to main.cf", NULL },
	{ "security level empty", NULL, "smtp_tls_security_level =\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_security_level = (empty): want dane or dane-only: add "
	  "\"smtp_tls_security_level = dane\" to main.cf", NULL },
	{ "security level dane-only", NULL, "smtp_tls_security_level = dane-only\n", NULL, NULL, NULL, NULL, "", NULL },

	/* smtp_tls_dane_insecure_mx_policy */
	{ "insecure MX policy may", NULL, "smtp_tls_dane_insecure_mx_policy = may\n", NULL, NULL, NULL, NULL,
	  "doctor: warning: smtp_tls_dane_insecure_mx_policy = may: the TLSA records of MX "
	  "hosts found through an unsigned MX lookup are ignored: want dane: add "
	  "\"smtp_tls_dane_insecure_mx_policy = dane\" to main.cf", NULL },
	{ "insecure MX policy with level dane-only", NULL,
	  "smtp_tls_security_level = dane-only\nsmtp_tls_dane_insecure_mx_policy = may\n",
	  NULL, NULL, NULL, NULL,
	  "doctor: warning: smtp_tls_dane_insecure_mx_policy = may: the TLSA records of MX "
	  "hosts found through an unsigned MX lookup are ignored: want dane: add "
	  "\"smtp_tls_dane_insecure_mx_policy = dane\" to main.cf", NULL },
	{ "insecure MX policy not looked at while the level is wrong", NULL,
	  "smtp_tls_security_level = may\nsmtp_tls_dane_insecure_mx_policy = may\n",
	  NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_security_level = may: want dane or dane-only: add "
	  "\"smtp_tls_security_level = dane\" to main.cf", NULL },
	{ "insecure MX policy unknown to Postfix (< 3.6): nothing", "smtp_tls_dane_insecure_mx_policy",
	  NULL, NULL, NULL, NULL, NULL, "", NULL },

	/* smtp_tls_policy_maps */
	{ "policy maps empty", NULL, "smtp_tls_policy_maps =\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = (empty): " MAPS_WANT
	  "socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: wrong port", NULL, "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:9999:QUERY\n",
	  NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:9999:QUERY: danemilter does not "
	  "listen on inet:127.0.0.1:9999 (socketmap.listen: inet:127.0.0.1:8642): " MAPS_WANT
	  "socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: wrong host", NULL, "smtp_tls_policy_maps = socketmap:inet:192.0.2.1:8642:QUERY\n",
	  NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:inet:192.0.2.1:8642:QUERY: danemilter does not "
	  "listen on inet:192.0.2.1:8642 (socketmap.listen: inet:127.0.0.1:8642): " MAPS_WANT
	  "socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: JSON is not a policy", NULL, "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:JSON\n",
	  NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:JSON: the request name "
	  "must be QUERY, not JSON: " MAPS_WANT "socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: unknown name at our address", NULL,
	  "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:query\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:query: the request name "
	  "must be QUERY, not query: " MAPS_WANT "socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: QUERYwithTLSRPT before Postfix 3.10", NULL,
	  "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERYwithTLSRPT\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERYwithTLSRPT: Postfix "
	  "3.7.11 rejects the TLSRPT attributes of QUERYwithTLSRPT replies (they need Postfix 3.10): "
	  MAPS_WANT "socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: QUERYwithTLSRPT with Postfix 3.10", NULL,
	  "mail_version = 3.10.1\nsmtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERYwithTLSRPT\n",
	  NULL, NULL, NULL, NULL, "", NULL },
	{ "policy maps: QUERYwithTLSRPT, wrong port, Postfix 3.10: the name is kept", NULL,
	  "mail_version = 3.10.1\nsmtp_tls_policy_maps = socketmap:inet:127.0.0.1:1:QUERYwithTLSRPT\n",
	  NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:1:QUERYwithTLSRPT: danemilter "
	  "does not listen on inet:127.0.0.1:1 (socketmap.listen: inet:127.0.0.1:8642): want "
	  "socketmap:inet:127.0.0.1:8642:QUERYwithTLSRPT: add \"smtp_tls_policy_maps = "
	  "socketmap:inet:127.0.0.1:8642:QUERYwithTLSRPT\" to main.cf", NULL },
	{ "policy maps: another table only: appended after it", NULL,
	  "smtp_tls_policy_maps = hash:/etc/postfix/tls_policy\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = hash:/etc/postfix/tls_policy: " MAPS_WANT
	  "hash:/etc/postfix/tls_policy, socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: wrong entry replaced in place, other socketmap kept", NULL,
	  "smtp_tls_policy_maps = hash:/a socketmap:inet:127.0.0.1:1:QUERY,"
	  "socketmap:inet:127.0.0.1:8461:postfix\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = hash:/a socketmap:inet:127.0.0.1:1:QUERY,"
	  "socketmap:inet:127.0.0.1:8461:postfix: danemilter does not listen on inet:127.0.0.1:1 "
	  "(socketmap.listen: inet:127.0.0.1:8642): " MAPS_WANT "hash:/a, "
	  "socketmap:inet:127.0.0.1:8642:QUERY, socketmap:inet:127.0.0.1:8461:postfix\" to main.cf", NULL },
	{ "policy maps: a right and a wrong entry: the wrong one goes", NULL,
	  "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERY, socketmap:inet:127.0.0.1:1:QUERY\n",
	  NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERY, "
	  "socketmap:inet:127.0.0.1:1:QUERY: danemilter does not listen on inet:127.0.0.1:1 "
	  "(socketmap.listen: inet:127.0.0.1:8642): want socketmap:inet:127.0.0.1:8642:QUERY alone: "
	  "add \"smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: an unrelated socketmap is not ours", NULL,
	  "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix: " MAPS_WANT
	  "socketmap:inet:127.0.0.1:8461:postfix, socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: localhost reaches 127.0.0.1", NULL,
	  "smtp_tls_policy_maps = socketmap:inet:localhost:8642:QUERY\n", NULL, NULL, NULL, NULL, "", NULL },
	{ "policy maps: a second listen address matches", NULL,
	  "smtp_tls_policy_maps = socketmap:inet:[::1]:8643:QUERY\n",
	  "socketmap: { listen = [ \"inet:127.0.0.1:8642\", \"inet:[::1]:8643\" ]; };\n",
	  NULL, NULL, NULL, "", NULL },
	{ "policy maps: listen on every address, empty maps", NULL, "smtp_tls_policy_maps =\n",
	  "socketmap: { listen = [ \"inet:*:8642\" ]; };\n", NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = (empty): " MAPS_WANT
	  "socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: listen on every address, a LAN address is fine", NULL,
	  "smtp_tls_policy_maps = socketmap:inet:10.1.2.3:8642:QUERY\n",
	  "socketmap: { listen = [ \"inet:0.0.0.0:8642\" ]; };\n", NULL, NULL, NULL, "", NULL },
	{ "policy maps: listen on every IPv6 address", NULL, "smtp_tls_policy_maps =\n",
	  "socketmap: { listen = [ \"inet:[::]:8642\" ]; };\n", NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = (empty): want socketmap:inet:[::1]:8642:QUERY: add "
	  "\"smtp_tls_policy_maps = socketmap:inet:[::1]:8642:QUERY\" to main.cf", NULL },
	{ "policy maps: unix socket", NULL, "smtp_tls_policy_maps = socketmap:unix:/run/dm/sm.sock:QUERY\n",
	  "socketmap: { listen = [ \"unix:/run/dm/sm.sock\" ]; };\n", NULL, NULL, NULL, "", NULL },
	{ "policy maps: unix socket, chrooted smtp, path inside the chroot", NULL,
	  "smtp_tls_policy_maps = socketmap:unix:/dm/sm.sock:QUERY\n",
	  "socketmap: { listen = [ \"unix:/var/spool/postfix/dm/sm.sock\" ]; };\n",
	  master_chroot, NULL, NULL, "", NULL },
	{ "policy maps: unix socket, chrooted smtp, the outside path", NULL,
	  "smtp_tls_policy_maps = socketmap:unix:/var/spool/postfix/dm/sm.sock:QUERY\n",
	  "socketmap: { listen = [ \"unix:/var/spool/postfix/dm/sm.sock\" ]; };\n",
	  master_chroot, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:unix:/var/spool/postfix/dm/sm.sock:QUERY: "
	  "danemilter does not listen on unix:/var/spool/postfix/dm/sm.sock (socketmap.listen: "
	  "unix:/var/spool/postfix/dm/sm.sock): want socketmap:unix:/dm/sm.sock:QUERY: add "
	  "\"smtp_tls_policy_maps = socketmap:unix:/dm/sm.sock:QUERY\" to main.cf", NULL },
	{ "policy maps: unix socket outside the chroot of smtp", NULL,
	  "smtp_tls_policy_maps = socketmap:unix:/run/dm/sm.sock:QUERY\n",
	  "socketmap: { listen = [ \"unix:/run/dm/sm.sock\" ]; };\n", master_chroot, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = socketmap:unix:/run/dm/sm.sock:QUERY: smtp(8) runs "
	  "chrooted in /var/spool/postfix (master.cf smtp/unix) and no socketmap.listen socket "
	  "(unix:/run/dm/sm.sock) is inside it: want a danemilter socketmap that smtp(8) can reach: "
	  "in t.conf, listen on inet:127.0.0.1:PORT or on a unix socket under /var/spool/postfix", NULL },
	{ "socketmap.listen empty: the default address", NULL, "smtp_tls_policy_maps =\n",
	  "socketmap: { listen = [ ]; };\n", NULL, NULL, NULL,
	  "doctor: smtp_tls_policy_maps = (empty): " MAPS_WANT
	  "socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf", NULL },
	{ "socketmap.tlsrpt before Postfix 3.10", NULL, NULL,
	  "socketmap: { tlsrpt = true; };\n", NULL, NULL, NULL,
	  "doctor: socketmap.tlsrpt = true (t.conf): Postfix 3.7.11 rejects the TLSRPT attributes "
	  "in policy replies (they need Postfix 3.10): want false: set \"tlsrpt = false;\" in the "
	  "socketmap section of t.conf", NULL },
	{ "socketmap.tlsrpt with Postfix 3.10", NULL, "mail_version = 3.10.0\n",
	  "socketmap: { tlsrpt = true; };\n", NULL, NULL, NULL, "", NULL },

	/* the fleet's shared cache */
	{ "cache.shared without a key", NULL, NULL,
	  "cache: { shared = \"redis://10.0.0.5:6379/0\"; };\n", NULL, NULL, NULL,
	  "doctor: warning: cache.shared = \"redis://10.0.0.5:6379/0\" (t.conf) without "
	  "cache.shared_key_file: the shared values are not signed, and whoever can write to "
	  "that Redis can give every member a weaker policy: want a key shared by the fleet: "
	  "set shared_key_file in the cache section of t.conf", NULL },
	{ "cache.shared with a key", NULL, NULL,
	  "cache: { shared = \"unix:/run/redis/redis.sock\"; shared_key_file = \"/etc/k\"; };\n",
	  NULL, NULL, NULL, "", NULL },

	/* smtpd_milters */
	{ "milters empty", NULL, "smtpd_milters =\n", NULL, NULL, NULL, NULL,
	  "doctor: smtpd_milters = (empty): want inet:127.0.0.1:8895: add "
	  "\"smtpd_milters = inet:127.0.0.1:8895\" to main.cf", NULL },
	{ "milters: another milter only", NULL, "smtpd_milters = inet:127.0.0.1:8891\n", NULL, NULL, NULL, NULL,
	  "doctor: smtpd_milters = inet:127.0.0.1:8891: want inet:127.0.0.1:8895 in the list: add "
	  "\"smtpd_milters = inet:127.0.0.1:8891, inet:127.0.0.1:8895\" to main.cf", NULL },
	{ "milters: ours among others", NULL, "smtpd_milters = unix:/run/opendkim.sock inet:127.0.0.1:8895\n",
	  NULL, NULL, NULL, NULL, "", NULL },
	{ "milters: inet6", NULL, "smtpd_milters = inet:[::1]:8895\n",
	  "milter: { socket = \"inet6:8895@::1\"; };\n", NULL, NULL, NULL, "", NULL },
	{ "milters: inet6 missing", NULL, "smtpd_milters =\n",
	  "milter: { socket = \"inet6:8895@::1\"; };\n", NULL, NULL, NULL,
	  "doctor: smtpd_milters = (empty): want inet:[::1]:8895: add "
	  "\"smtpd_milters = inet:[::1]:8895\" to main.cf", NULL },
	{ "milters: every address, no host", NULL, "smtpd_milters =\n",
	  "milter: { socket = \"inet:8895\"; };\n", NULL, NULL, NULL,
	  "doctor: smtpd_milters = (empty): want inet:127.0.0.1:8895: add "
	  "\"smtpd_milters = inet:127.0.0.1:8895\" to main.cf", NULL },
	{ "milters: unix", NULL, "smtpd_milters = unix:/run/dm/milter.sock\n",
	  "milter: { socket = \"local:/run/dm/milter.sock\"; };\n", NULL, NULL, NULL, "", NULL },
	{ "milters: local: is unix: to Postfix", NULL, "smtpd_milters = local:/run/dm/milter.sock\n",
	  "milter: { socket = \"unix:/run/dm/milter.sock\"; };\n", NULL, NULL, NULL, "", NULL },
	{ "milters: wrong port", NULL, "smtpd_milters = inet:127.0.0.1:8896\n", NULL, NULL, NULL, NULL,
	  "doctor: smtpd_milters = inet:127.0.0.1:8896: want inet:127.0.0.1:8895 in the list: add "
	  "\"smtpd_milters = inet:127.0.0.1:8896, inet:127.0.0.1:8895\" to main.cf", NULL },
	{ "milters: unix outside the chroot of smtpd", NULL, "smtpd_milters = unix:/run/dm/milter.sock\n",
	  "milter: { socket = \"unix:/run/dm/milter.sock\"; };\n", master_chroot, NULL, NULL,
	  "doctor: smtpd_milters = unix:/run/dm/milter.sock: smtpd(8) runs chrooted in "
	  "/var/spool/postfix (master.cf smtp/inet) and milter.socket unix:/run/dm/milter.sock is "
	  "outside it: want a danemilter milter that smtpd(8) can reach: in t.conf, set "
	  "milter.socket to inet:PORT@127.0.0.1 or a unix socket under /var/spool/postfix", NULL },
	{ "no milter: smtpd_milters not checked", NULL, "smtpd_milters =\nmilter_default_action = accept\n",
	  "milter: { socket = \"\"; };\n", NULL, NULL, NULL, "",
	  "doctor: note: milter.socket is empty: danemilter runs no milter (smtpd_milters not checked)\n"
	  "doctor: note: /etc/resolv.conf: nameserver 127.0.0.1" },

	/* the default action */
	{ "milter_default_action accept", NULL, "milter_default_action = accept\n", NULL, NULL, NULL, NULL,
	  "doctor: warning: milter_default_action = accept: mail passes without danemilter's headers "
	  "and RCPT checks whenever danemilter is down or too slow: want tempfail: add "
	  "\"milter_default_action = tempfail\" to main.cf", NULL },
	{ "milter_default_action reject", NULL, "milter_default_action = reject\n", NULL, NULL, NULL, NULL,
	  "doctor: warning: milter_default_action = reject: mail is rejected for good whenever "
	  "danemilter is down or too slow: want tempfail: add \"milter_default_action = tempfail\" "
	  "to main.cf", NULL },
	{ "milter_default_action quarantine", NULL, "milter_default_action = quarantine\n",
	  NULL, NULL, NULL, NULL, "", NULL },
	{ "milter_default_action accept, no danemilter milter in the list yet", NULL,
	  "smtpd_milters =\nmilter_default_action = accept\n", NULL, NULL, NULL, NULL,
	  "doctor: smtpd_milters = (empty): want inet:127.0.0.1:8895: add "
	  "\"smtpd_milters = inet:127.0.0.1:8895\" to main.cf\n"
	  "doctor: warning: milter_default_action = accept: mail passes without danemilter's headers "
	  "and RCPT checks whenever danemilter is down or too slow: want tempfail: add "
	  "\"milter_default_action = tempfail\" to main.cf", NULL },
	{ "default_action=accept in danemilter's entry", NULL,
	  "smtpd_milters = { inet:127.0.0.1:8895, connect_timeout=10s, default_action=accept }\n",
	  NULL, NULL, NULL, NULL,
	  "doctor: warning: smtpd_milters = { inet:127.0.0.1:8895, connect_timeout=10s, "
	  "default_action=accept }: default_action=accept in danemilter's entry: mail passes without "
	  "danemilter's headers and RCPT checks whenever danemilter is down or too slow: want "
	  "tempfail: set default_action=tempfail in that entry in main.cf", NULL },
	{ "default_action=tempfail in the entry wins over a global accept", NULL,
	  "smtpd_milters = { inet:127.0.0.1:8895, default_action=tempfail }\n"
	  "milter_default_action = accept\n", NULL, NULL, NULL, NULL, "", NULL },
	{ "another milter's default_action does not count", NULL,
	  "smtpd_milters = { inet:127.0.0.1:8891, default_action=accept }, inet:127.0.0.1:8895\n",
	  NULL, NULL, NULL, NULL, "", NULL },

	/* master.cf overrides */
	{ "master.cf: smtp/inet drops the milters", NULL, NULL, NULL, NULL,
	  "smtp/inet/smtpd_milters =\n", NULL,
	  "doctor: warning: master.cf smtp/inet: -o smtpd_milters=(empty): want inet:127.0.0.1:8895: "
	  "run postconf -P \"smtp/inet/smtpd_milters=inet:127.0.0.1:8895\"", NULL },
	{ "master.cf: relay/unix with encrypt", NULL, NULL, NULL, NULL,
	  "relay/unix/smtp_tls_security_level = encrypt\nrelay/unix/syslog_name = postfix/relay\n", NULL,
	  "doctor: warning: master.cf relay/unix: -o smtp_tls_security_level=encrypt: want dane or "
	  "dane-only: run postconf -P \"relay/unix/smtp_tls_security_level=dane\"", NULL },
	{ "master.cf: a client setting on an smtpd service does not matter", NULL, NULL, NULL, NULL,
	  "submission/inet/smtp_tls_security_level = may\n", NULL, "", NULL },
	{ "master.cf: right overrides are fine", NULL, NULL, NULL, NULL,
	  "relay/unix/smtp_tls_policy_maps = hash:/x, socketmap:inet:127.0.0.1:8642:QUERY\n"
	  "submission/inet/smtpd_milters = inet:127.0.0.1:8891, inet:127.0.0.1:8895\n", NULL, "", NULL },
	{ "master.cf: default_action accept on submission", NULL, NULL, NULL, NULL,
	  "submission/inet/milter_default_action = accept\n", NULL,
	  "doctor: warning: master.cf submission/inet: -o milter_default_action=accept: mail passes "
	  "without danemilter's headers and RCPT checks whenever danemilter is down or too slow: "
	  "want tempfail: run postconf -P \"submission/inet/milter_default_action=tempfail\"", NULL },

	/* the resolver */
	{ "resolver: a remote nameserver without trust-ad", NULL, NULL, NULL, NULL, NULL,
	  "# comment\nsearch example.org\nnameserver 192.0.2.53\n",
	  "doctor: warning: /etc/resolv.conf: nameserver 192.0.2.53 is not on this host and "
	  "\"options trust-ad\" is absent: Postfix believes the AD bit of every listed nameserver, "
	  "so each must validate DNSSEC and be reached over a trusted path: run a validating "
	  "resolver on 127.0.0.1 and list only it, or add \"options trust-ad\" to /etc/resolv.conf "
	  "to state that 192.0.2.53 is one",
	  "doctor: note: /etc/resolv.conf: nameserver 192.0.2.53" },
	{ "resolver: remote nameservers with trust-ad", NULL, NULL, NULL, NULL, NULL,
	  "nameserver 192.0.2.53\nnameserver 2001:db8::53\noptions edns0 trust-ad\n", "",
	  "doctor: note: /etc/resolv.conf: nameserver 192.0.2.53\n"
	  "doctor: note: /etc/resolv.conf: nameserver 2001:db8::53" },
	{ "resolver: loopback ones", NULL, NULL, NULL, NULL, NULL,
	  "nameserver 127.0.0.53\nnameserver ::1\n", "",
	  "doctor: note: /etc/resolv.conf: nameserver 127.0.0.53\n"
	  "doctor: note: /etc/resolv.conf: nameserver ::1" },
	{ "resolver: a local and a remote one", NULL, NULL, NULL, NULL, NULL,
	  "nameserver 127.0.0.1\nnameserver 198.51.100.1\n",
	  "doctor: warning: /etc/resolv.conf: nameserver 198.51.100.1 is not on this host and "
	  "\"options trust-ad\" is absent: Postfix believes the AD bit of every listed nameserver, "
	  "so each must validate DNSSEC and be reached over a trusted path: run a validating "
	  "resolver on 127.0.0.1 and list only it, or add \"options trust-ad\" to /etc/resolv.conf "
	  "to state that 198.51.100.1 is one", NULL },
	{ "resolver: no nameserver line", NULL, NULL, NULL, NULL, NULL, "options trust-ad\n", "",
	  "doctor: note: /etc/resolv.conf: no nameserver line: Postfix asks 127.0.0.1" },

	/* dns.forward */
	{ "dns.forward: a note", NULL, NULL, "dns: { forward = [ \"192.0.2.1\", \"192.0.2.2@5353\" ]; };\n",
	  NULL, NULL, NULL, "",
	  "doctor: note: /etc/resolv.conf: nameserver 127.0.0.1\n"
	  "doctor: note: dns.forward: danemilter sends its DNS queries to 192.0.2.1, 192.0.2.2@5353 "
	  "and validates the answers itself: they must be reachable and pass DNSSEC records through, "
	  "but need not validate; Postfix uses the nameservers of /etc/resolv.conf, which must" },

	/* everything at once */
	{ "everything wrong", NULL,
	  "smtp_dns_support_level =\nsmtp_host_lookup = native\nsmtp_tls_security_level = may\n"
	  "smtp_tls_dane_insecure_mx_policy = may\nsmtp_tls_policy_maps =\nsmtpd_milters =\n"
	  "milter_default_action = accept\n", NULL, NULL, NULL, NULL,
	  "doctor: smtp_dns_support_level = (empty): want dnssec: add \"smtp_dns_support_level = "
	  "dnssec\" to main.cf\n"
	  "doctor: smtp_host_lookup = native: want dns: add \"smtp_host_lookup = dns\" to main.cf\n"
	  "doctor: smtp_tls_security_level = may: want dane or dane-only: add "
	  "\"smtp_tls_security_level = dane\" to main.cf\n"
	  "doctor: smtp_tls_policy_maps = (empty): " MAPS_WANT
	  "socketmap:inet:127.0.0.1:8642:QUERY\" to main.cf\n"
	  "doctor: smtpd_milters = (empty): want inet:127.0.0.1:8895: add "
	  "\"smtpd_milters = inet:127.0.0.1:8895\" to main.cf\n"
	  "doctor: warning: milter_default_action = accept: mail passes without danemilter's headers "
	  "and RCPT checks whenever danemilter is down or too slow: want tempfail: add "
	  "\"milter_default_action = tempfail\" to main.cf", NULL },
};

/* base_main without the line of param drop, then set. */
static char *
main_text(const struct row *r)
{
	struct sbuf sb = SBUF_INIT;
	const char *line, *end;
	size_t dl = r->drop ? strlen(r->drop) : 0;

	for (line = base_main; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (dl && strncmp(line, r->drop, dl) == 0 && line[dl] == ' ')
			continue;
		sbuf_appendn(&sb, line, (size_t)(end - line + 1));
	}
	if (r->set)
		sbuf_append(&sb, r->set);
	return sbuf_steal(&sb);
}

/* The lines of rep with (notes) or without (!notes) the note lines. */
static char *
lines_of(const struct doctor_report *rep, bool notes)
{
	struct sbuf sb = SBUF_INIT;
	size_t i;

	for (i = 0; i < rep->drp_n; i++) {
		if ((rep->drp_findings[i].df_severity == DOCTOR_NOTE) != notes)
			continue;
		sbuf_printf(&sb, "%s%s", sb.sb_len ? "\n" : "", rep->drp_findings[i].df_line);
	}
	return sbuf_steal(&sb);
}

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct postconf pf = POSTCONF_INIT;
		struct doctor_report rep = DOCTOR_REPORT_INIT;
		char *text = main_text(r), *err = NULL, *got, *desc;
		struct cfg *cfg;

		cfg = r->conf ? cfg_load_string(r->conf, "t.conf", &err) : cfg_default();
		if (cfg == NULL) {
			tap_ok(0, "%s: configuration loads", r->desc);
			tap_diag("%s", err);
			free(err);
			free(text);
			continue;
		}
		if (!postconf_parse_main(&pf, text, &err) ||
		    !postconf_parse_master(&pf, r->master ? r->master : master_plain, &err) ||
		    !postconf_parse_overrides(&pf, r->overrides ? r->overrides : "", &err)) {
			tap_ok(0, "%s: postconf text parses", r->desc);
			tap_diag("%s", err);
			free(err);
		} else {
			doctor_check(&pf, cfg, "/etc/resolv.conf",
			    r->resolv ? r->resolv : "nameserver 127.0.0.1\n", NULL, &rep);
			got = lines_of(&rep, false);
			tap_is_str(got, r->want, r->desc);
			free(got);
			if (r->want_notes != NULL) {
				got = lines_of(&rep, true);
				desc = xasprintf("%s: notes", r->desc);
				tap_is_str(got, r->want_notes, desc);
				free(desc);
				free(got);
			}
			doctor_report_free(&rep);
		}
		postconf_free(&pf);
		cfg_unref(cfg);
		free(text);
	}
}

static void
test_counts_and_summary(void)
{
	static const struct { unsigned p, w; const char *want; } sums[] = {
		{ 0, 0, "doctor: all good" },
		{ 0, 1, "doctor: no problems, 1 warning" },
		{ 0, 2, "doctor: no problems, 2 warnings" },
		{ 1, 0, "doctor: 1 problem" },
		{ 3, 0, "doctor: 3 problems" },
		{ 2, 1, "doctor: 2 problems, 1 warning" },
	};
	struct postconf pf = POSTCONF_INIT;
	struct doctor_report rep = DOCTOR_REPORT_INIT;
	struct cfg *cfg = cfg_default();
	char *err = NULL, *s;
	size_t i;

	for (i = 0; i < sizeof(sums) / sizeof(sums[0]); i++) {
		struct doctor_report r = DOCTOR_REPORT_INIT;

		r.drp_problems = sums[i].p;
		r.drp_warnings = sums[i].w;
		s = doctor_summary(&r);
		tap_is_str(s, sums[i].want, "summary line");
		free(s);
	}
	/* Nothing set at all: the three problems, the two milter/maps ones. */
	tap_ok(postconf_parse_main(&pf, "mail_version = 3.7.11\n", &err), "minimal main parses");
	doctor_check(&pf, cfg, "r", NULL, "No such file or directory", &rep);
	tap_is_long(rep.drp_problems, 5, "nothing set: 5 problems");
	tap_is_long(rep.drp_warnings, 1, "nothing set: 1 warning (resolv.conf unreadable)");
	s = lines_of(&rep, false);
	tap_ok(strstr(s, "doctor: warning: r: cannot read it (No such file or directory): "
	    "Postfix's resolver is not checked") != NULL, "unreadable resolver file: a warning");
	free(s);
	doctor_report_free(&rep);
	postconf_free(&pf);
	cfg_unref(cfg);
}

static void
test_parsers(void)
{
	struct postconf pf = POSTCONF_INIT;
	char *err = NULL;

	tap_ok(postconf_parse_main(&pf, "a = 1\n\nb =\nc = x = y\na = 2", &err), "main: parses");
	tap_is_str(postconf_param(&pf, "a"), "2", "main: the last definition wins");
	tap_is_str(postconf_param(&pf, "b"), "", "main: empty value");
	tap_is_str(postconf_param(&pf, "c"), "x = y", "main: '=' in the value");
	tap_is_str(postconf_param(&pf, "d"), NULL, "main: unknown parameter is NULL");
	tap_ok(!postconf_parse_main(&pf, "e = 1\nno equals sign\n", &err), "main: a bad line fails");
	tap_is_str(err, "unexpected postconf output line \"no equals sign\"", "main: the line is named");
	free(err);
	err = NULL;
	tap_is_str(postconf_param(&pf, "e"), "1", "main: lines before the bad one are kept");

	tap_ok(postconf_parse_master(&pf, master_chroot, &err), "master: parses");
	tap_is_long((long)pf.pc_nservices, 2, "master: two services");
	tap_is_str(pf.pc_services[1].pcs_command, "smtp", "master: command");
	tap_ok(pf.pc_services[1].pcs_chroot, "master: chroot y");
	tap_ok(!postconf_parse_master(&pf, "smtp inet n - y\n", &err), "master: short line fails");
	free(err);
	err = NULL;

	tap_ok(postconf_parse_overrides(&pf, "127.0.0.1:smtp/inet/smtpd_milters = inet:h:1, x\n", &err),
	    "overrides: parses");
	tap_is_str(pf.pc_overrides[0].pco_service, "127.0.0.1:smtp", "overrides: service");
	tap_is_str(pf.pc_overrides[0].pco_type, "inet", "overrides: type");
	tap_is_str(pf.pc_overrides[0].pco_name, "smtpd_milters", "overrides: name");
	tap_is_str(pf.pc_overrides[0].pco_value, "inet:h:1, x", "overrides: value");
	tap_ok(!postconf_parse_overrides(&pf, "smtpd_milters = x\n", &err), "overrides: no service fails");
	free(err);
	postconf_free(&pf);
}

static void
test_resolv_path(void)
{
	static const struct {
		const char *main, *master, *want, *desc;
	} paths[] = {
		{ "queue_directory = /var/spool/postfix\n", master_plain, "/etc/resolv.conf",
		  "smtp not chrooted: /etc/resolv.conf" },
		{ "queue_directory = /var/spool/postfix/\n", master_chroot,
		  "/var/spool/postfix/etc/resolv.conf", "smtp chrooted: the copy in the queue directory" },
		{ "queue_directory = /q\n", "relay unix - - y - - smtp\n", "/q/etc/resolv.conf",
		  "no smtp/unix: the first service running smtp(8)" },
		{ "queue_directory = /q\n", "", "/etc/resolv.conf", "no master.cf services" },
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct postconf pf = POSTCONF_INIT;
		char *err = NULL, *got;

		if (!postconf_parse_main(&pf, paths[i].main, &err) ||
		    !postconf_parse_master(&pf, paths[i].master, &err)) {
			tap_ok(0, "%s: parses", paths[i].desc);
			free(err);
		} else {
			got = postconf_resolv_path(&pf);
			tap_is_str(got, paths[i].want, paths[i].desc);
			free(got);
		}
		postconf_free(&pf);
	}
}

int
main(void)
{
	tap_watchdog(30);
	test_rows();
	test_counts_and_summary();
	test_parsers();
	test_resolv_path();
	return tap_done();
}
