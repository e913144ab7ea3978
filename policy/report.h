/*
 * report.h: a DANE result as text for people and as JSON for programs.
 * Both append to a caller-owned sbuf; nothing else is allocated.
 */
#ifndef DM_REPORT_H
#define DM_REPORT_H

#include "common/sbuf.h"
#include "policy/dane.h"

/*
 * Text, one line for the DANE verdict then one per MX host and per TLSA record:
 *     dane: V ttl=N rounds=R reason="..."
 *     mx PREF HOST [cname=C] addrs=A,B dnssec=S tlsa=STATE [base=B] [owner=O] [why="..."]
 *       tlsa U S M HEX: usable|ignored (digest agility)|unusable: why
 */
void report_text(struct sbuf *sb, const struct dane_result *res);
/* One JSON object, no trailing newline. */
void report_json(struct sbuf *sb, const struct dane_result *res);

#endif
