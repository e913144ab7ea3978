/*
 * cfg_private.h: what the files of config/ share, and nothing outside
 * config/ includes: the description of the schema (struct cfg_key, one
 * per key, in tables of struct cfg_section), the state of one load
 * (struct cfg_ld) and the table-driven machinery of cfg_decode.c.
 *
 *	cfg.c           cfg_load() and the other functions of cfg.h
 *	cfg_schema.c    the schema: sections, keys, defaults, value checks
 *	cfg_decode.c    defaults, decoding and freeing driven by the schema
 *
 * Ownership: the tables are static and constant; struct cfg_ld's error
 * belongs to the load that recorded it (cfg_build() hands it to its
 * caller).
 */
#ifndef DM_CFG_PRIVATE_H
#define DM_CFG_PRIVATE_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/log.h"
#include "config/cfg.h"

/* What a key holds and how its C field is typed. */
enum cfg_kind {
	CFG_K_STR,		/* char *; ck_check on the copy */
	CFG_K_STRS,		/* char ** + size_t count; array or list */
	CFG_K_UINT,		/* unsigned, ck_min..ck_max */
	CFG_K_BOOL,		/* bool */
	CFG_K_TRI,		/* enum cfg_tristate, CFG_UNSET when absent */
	CFG_K_ENUM,		/* int-sized enum, one of ck_names */
	CFG_K_GROUP,		/* embedded struct described by ck_sub */
	CFG_K_LIST		/* array of ck_sub structs + size_t count */
};

#define CFG_F_REQUIRED	(1 << 0)	/* absent is an error */
#define CFG_F_NONEMPTY	(1 << 1)	/* CFG_K_STRS: at least one */

struct cfg_ld;
struct cfg_section;

/* Checks (and may rewrite in place) one string value; false = error set. */
typedef bool (*cfg_check_fn)(struct cfg_ld *, const config_setting_t *,
    const char *label, char *val);

struct cfg_name {
	const char *cn_name;
	int cn_value;
};

struct cfg_key {
	const char *ck_name;
	enum cfg_kind ck_kind;
	int ck_flags;
	size_t ck_off;			/* the field */
	size_t ck_noff;			/* its count (STRS, LIST) */
	long long ck_min, ck_max;	/* UINT */
	long long ck_defint;		/* UINT, BOOL, ENUM default */
	const char *ck_defstr;		/* STR default, NULL = none */
	const char *const *ck_defstrs;	/* STRS default (NULL-terminated), NULL = [ ] */
	cfg_check_fn ck_check;		/* STR, STRS: per string */
	const struct cfg_name *ck_names; /* ENUM */
	const struct cfg_section *ck_sub; /* GROUP, LIST */
};

struct cfg_section {
	size_t sc_size;			/* sizeof the struct it fills */
	const struct cfg_key *sc_keys;	/* ends with a NULL ck_name */
	const char *sc_label_key;	/* list entries: member naming the entry */
	long sc_line_off;		/* int field for the entry's line, or -1 */
};

/* One load in progress. */
struct cfg_ld {
	const char *ld_name;		/* file name for messages */
	char *ld_err;			/* the first error, malloc'ed */
};

/* The schema: the top-level group, struct cfg (cfg_schema.c). */
extern const struct cfg_section cfg_schema_top;

/*
 * Record the first error of ld as "FILE:LINE: message" at setting s (NULL:
 * line 0); later ones are dropped. Always returns false, so that a check
 * can "return cfg_decode_fail(...)".
 */
bool cfg_decode_fail(struct cfg_ld *ld, const config_setting_t *s,
    const char *fmt, ...) DM_PRINTF(3, 4);

/* Fill obj, a struct described by sec, with the defaults (strings copied). */
void cfg_decode_defaults(const struct cfg_section *sec, void *obj);

/* Free what obj owns (not obj itself). Safe on partly decoded structs. */
void cfg_decode_free(const struct cfg_section *sec, void *obj);

/*
 * Decode group grp against sec into obj (defaults already applied): true,
 * or false with the first error recorded in ld. Unknown keys, wrong types,
 * values out of range and failed value checks are errors. where names the
 * group in messages: NULL at top level, "dns" for a section (keys shown as
 * "dns.key"), "domains entry \"x\"" for a list entry, with entry true
 * (keys shown as "domains entry \"x\": key").
 */
bool cfg_decode_group(struct cfg_ld *ld, const config_setting_t *grp,
    const struct cfg_section *sec, const char *where, bool entry, void *obj);

#endif
