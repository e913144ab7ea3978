/*
 * smtpreply.h: one SMTP reply (RFC 5321 §4.2) at the start of what a
 * remote server sent: the pure parser behind the TLS probe (tls/probe.c),
 * which reads a server's banner, its EHLO reply and its STARTTLS reply.
 * The input is untrusted (fuzzed: fuzz/smtpreply_fuzz.c). libc only: no
 * I/O, no state, nothing allocated; any thread.
 *
 * A reply is one or more lines, each ending in LF (a CR before the LF is
 * part of the line and ignored); a line begins with a three-digit code
 * whose first digit is 2 to 5; "CODE-" continues the reply, and the line
 * that is "CODE" alone or "CODE" followed by SP or CR ends it
 * (§4.2.1). Every line of a reply carries the same code (§4.2.1: "the
 * same reply code on each line"). Anything else is not SMTP.
 * In an EHLO reply (§4.1.1.1) the first line names the server and each
 * further line is a keyword with its parameters: sr_starttls says that
 * one of those lines is the keyword STARTTLS (case-insensitive, alone or
 * followed by SP or CR), never a line that merely begins with it, and
 * never the server's name.
 */
#ifndef DM_SMTPREPLY_H
#define DM_SMTPREPLY_H

#include <stdbool.h>
#include <stddef.h>

#define SMTPREPLY_MAX   16384   /* longest reply read (the probe's input buffer): longer is garbage */

enum smtpreply_status {
	SMTPREPLY_INCOMPLETE,   /* no complete reply yet, and fewer than SMTPREPLY_MAX bytes */
	SMTPREPLY_DONE,         /* a complete reply: *r set */
	SMTPREPLY_BAD           /* not SMTP, or SMTPREPLY_MAX bytes without a complete reply */
};

struct smtpreply {
	int sr_code;            /* 200-599 */
	size_t sr_len;          /* bytes of the reply, up to its last LF (<= len) */
	bool sr_starttls;       /* a line after the first is the keyword STARTTLS */
};

/*
 * The reply at the start of buf[0..len) (len <= SMTPREPLY_MAX; buf need
 * not be NUL-terminated, nothing past len is read). *r is written only
 * with SMTPREPLY_DONE; what follows the reply (sr_len .. len) is not
 * looked at.
 */
enum smtpreply_status smtpreply_parse(const char *buf, size_t len, struct smtpreply *r);

/* "incomplete", "done", "bad". */
const char *smtpreply_status_name(enum smtpreply_status st);

#endif
