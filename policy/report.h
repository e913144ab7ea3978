/*
 * report.h: a DANE result as text for people and as JSON for programs.
 * report_text() appends to a caller-owned sbuf; report_json() returns a
 * new jansson object the caller owns (json_decref(), or hand it to a
 * parent with jsonout_set(); common/jsonout.h).
 */
#ifndef DM_REPORT_H
#define DM_REPORT_H

#include "common/jsonout.h"
#include "common/sbuf.h"
#include "policy/dane.h"

/*
 * Text, one line for the DANE verdict then one per MX host and per TLSA record:
 *     dane: V ttl=N rounds=R reason="..."
 *     mx PREF HOST [cname=C] addrs=A,B dnssec=S tlsa=STATE [base=B] [owner=O] [why="..."]
 *       tlsa U S M HEX: usable|ignored (digest agility)|unusable: why
 */
void report_text(struct sbuf *sb, const struct dane_result *res);
/*
 * One JSON object: domain, policy, dane, ttl, reason, mx_dnssec,
 * implicit_mx, cname, rounds, queries, elapsed_ms, hosts_dropped, hosts
 * (name, preference, cname, addresses, address_dnssec, tlsa_state,
 * tlsa_base, tlsa_owner, why, tlsa: usage, selector, mtype, data,
 * status, why), in that order; absent texts are null. Never NULL.
 */
json_t *report_json(const struct dane_result *res);

#endif
