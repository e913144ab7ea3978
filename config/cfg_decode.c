/*
 * NAME
 *	cfg_decode - the generic libconfig decoder of the configuration
 * SUMMARY
 *	defaults, decoding and freeing of structs described by the schema
 * SYNOPSIS
 *	#include "config/cfg_private.h"
 *
 *	bool cfg_decode_fail(struct cfg_ld *ld, const config_setting_t *s,
 *	    const char *fmt, ...);
 *	void cfg_decode_defaults(const struct cfg_section *sec, void *obj);
 *	void cfg_decode_free(const struct cfg_section *sec, void *obj);
 *	bool cfg_decode_group(struct cfg_ld *ld, const config_setting_t *grp,
 *	    const struct cfg_section *sec, const char *where, bool entry,
 *	    void *obj);
 * DESCRIPTION
 *	Knows the kinds of keys (enum cfg_kind), not the keys: everything
 *	about a particular key is in the schema (cfg_schema.c). The fields
 *	of a struct are reached through the offsets of its keys.
 *
 *	cfg_decode_defaults() fills a struct with its keys' defaults,
 *	cfg_decode_free() frees what it owns, also when decoding stopped
 *	half-way. cfg_decode_group() checks the members of a libconfig group
 *	against a section (unknown keys first, then each key in table
 *	order: required, type, range, enumeration names, the key's check of
 *	each string) and stores their values; groups and lists of groups
 *	recurse. cfg_decode_fail() records the first error of a load.
 * DIAGNOSTICS
 *	"FILE:LINE: " + "unknown key \"k\" at top level" / "in dns",
 *	"dns.k is required", "dns.k must be a string" (and the other kinds'
 *	wordings, enumerations listing their names), or the message of a
 *	failed check. FILE is the file libconfig read the setting from (an
 *	@include), else the name of the load.
 */
#include "config/cfg_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "common/xmalloc.h"

bool
cfg_decode_fail(struct cfg_ld *ld, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = NULL;
	char *msg;
	va_list ap;
	int len;

	if (ld->ld_err != NULL)
		return false;
	if (s != NULL)
		file = config_setting_source_file(s);
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		log_abort("cfg: cannot format an error message");
	msg = xmalloc((size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)len + 1, fmt, ap);
	va_end(ap);
	ld->ld_err = xasprintf("%s:%u: %s", file ? file : ld->ld_name,
	    s ? config_setting_source_line(s) : 0, msg);
	free(msg);
	return false;
}

#define CFG_FIELD(obj, off, type)	((type *)(void *)((char *)(obj) + (off)))

/* Key k's default array of strings (copies) into obj. */
static void
cfg_decode_default_strs(const struct cfg_key *k, void *obj)
{
	char **arr = NULL;
	size_t i, n = 0;

	if (k->ck_defstrs != NULL) {
		while (k->ck_defstrs[n] != NULL)
			n++;
		arr = xcalloc(n ? n : 1, sizeof(*arr));
		for (i = 0; i < n; i++)
			arr[i] = xstrdup(k->ck_defstrs[i]);
	}
	*CFG_FIELD(obj, k->ck_off, char **) = arr;
	*CFG_FIELD(obj, k->ck_noff, size_t) = n;
}

/* Free key k's array of strings in obj and leave it empty. */
static void
cfg_decode_free_strs(const struct cfg_key *k, void *obj)
{
	char **v = *CFG_FIELD(obj, k->ck_off, char **);
	size_t i, n = *CFG_FIELD(obj, k->ck_noff, size_t);

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	*CFG_FIELD(obj, k->ck_off, char **) = NULL;
	*CFG_FIELD(obj, k->ck_noff, size_t) = 0;
}

void
cfg_decode_defaults(const struct cfg_section *sec, void *obj)
{
	const struct cfg_key *k;

	for (k = sec->sc_keys; k->ck_name != NULL; k++) {
		switch (k->ck_kind) {
		case CFG_K_STR:
			*CFG_FIELD(obj, k->ck_off, char *) =
			    k->ck_defstr ? xstrdup(k->ck_defstr) : NULL;
			break;
		case CFG_K_STRS:
			cfg_decode_default_strs(k, obj);
			break;
		case CFG_K_LIST:
			*CFG_FIELD(obj, k->ck_off, void *) = NULL;
			*CFG_FIELD(obj, k->ck_noff, size_t) = 0;
			break;
		case CFG_K_UINT:
			*CFG_FIELD(obj, k->ck_off, unsigned) =
			    (unsigned)k->ck_defint;
			break;
		case CFG_K_BOOL:
			*CFG_FIELD(obj, k->ck_off, bool) = k->ck_defint != 0;
			break;
		case CFG_K_TRI:
			*CFG_FIELD(obj, k->ck_off, enum cfg_tristate) = CFG_UNSET;
			break;
		case CFG_K_ENUM:
			*CFG_FIELD(obj, k->ck_off, int) = (int)k->ck_defint;
			break;
		case CFG_K_GROUP:
			cfg_decode_defaults(k->ck_sub, CFG_FIELD(obj, k->ck_off, char));
			break;
		}
	}
}

void
cfg_decode_free(const struct cfg_section *sec, void *obj)
{
	const struct cfg_key *k;
	size_t i, n;

	for (k = sec->sc_keys; k->ck_name != NULL; k++) {
		switch (k->ck_kind) {
		case CFG_K_STR:
			free(*CFG_FIELD(obj, k->ck_off, char *));
			break;
		case CFG_K_STRS:
			cfg_decode_free_strs(k, obj);
			break;
		case CFG_K_LIST: {
			char *v = *CFG_FIELD(obj, k->ck_off, char *);

			n = *CFG_FIELD(obj, k->ck_noff, size_t);
			for (i = 0; i < n; i++)
				cfg_decode_free(k->ck_sub,
				    v + i * k->ck_sub->sc_size);
			free(v);
			break;
		}
		case CFG_K_GROUP:
			cfg_decode_free(k->ck_sub, CFG_FIELD(obj, k->ck_off, char));
			break;
		default:
			break;
		}
	}
}

static const struct cfg_key *
cfg_key_find(const struct cfg_section *sec, const char *name)
{
	const struct cfg_key *k;

	for (k = sec->sc_keys; k->ck_name != NULL; k++)
		if (strcmp(k->ck_name, name) == 0)
			return k;
	return NULL;
}

/* The type error for key k, named label, at setting s. */
static bool
cfg_type_error(struct cfg_ld *ld, const config_setting_t *s,
    const struct cfg_key *k, const char *label)
{
	const struct cfg_name *n;
	struct sbuf sb = SBUF_INIT;
	bool r;

	switch (k->ck_kind) {
	case CFG_K_STR:
		return cfg_decode_fail(ld, s, "%s must be a string", label);
	case CFG_K_STRS:
		return cfg_decode_fail(ld, s, "%s must be %s array of strings", label,
		    (k->ck_flags & CFG_F_NONEMPTY) ? "a non-empty" : "an");
	case CFG_K_UINT:
		return cfg_decode_fail(ld, s, "%s must be an integer from %lld to %lld",
		    label, k->ck_min, k->ck_max);
	case CFG_K_BOOL:
	case CFG_K_TRI:
		return cfg_decode_fail(ld, s, "%s must be true or false", label);
	case CFG_K_ENUM:
		for (n = k->ck_names; n->cn_name != NULL; n++)
			sbuf_printf(&sb, "%s\"%s\"", n == k->ck_names ? "" :
			    n[1].cn_name == NULL ? " or " : ", ", n->cn_name);
		r = cfg_decode_fail(ld, s, "%s must be %s", label, sbuf_str(&sb));
		sbuf_free(&sb);
		return r;
	case CFG_K_GROUP:
		return cfg_decode_fail(ld, s, "%s must be a group { ... }", label);
	case CFG_K_LIST:
		return cfg_decode_fail(ld, s, "%s must be a list of groups ( { ... }, "
		    "... )", label);
	}
	log_abort("cfg: unknown key kind %d", (int)k->ck_kind);
}

/* Decode the list of groups s into key k's array inside obj. */
static bool
cfg_decode_list(struct cfg_ld *ld, const config_setting_t *s,
    const struct cfg_key *k, const char *label, void *obj)
{
	const struct cfg_section *sub = k->ck_sub;
	config_setting_t *e, *lm;
	char *arr, *where;
	size_t i, n;
	bool ok;

	if (!config_setting_is_list(s) &&
	    !(config_setting_is_array(s) && config_setting_length(s) == 0))
		return cfg_type_error(ld, s, k, label);
	if ((n = (size_t)config_setting_length(s)) == 0)
		return true;
	arr = xcalloc(n, sub->sc_size);
	*CFG_FIELD(obj, k->ck_off, char *) = arr;
	*CFG_FIELD(obj, k->ck_noff, size_t) = n;
	for (i = 0; i < n; i++) {
		void *eobj = arr + i * sub->sc_size;

		cfg_decode_defaults(sub, eobj);
		e = config_setting_get_elem(s, (unsigned)i);
		if (!config_setting_is_group(e))
			return cfg_type_error(ld, e, k, label);
		lm = sub->sc_label_key ?
		    config_setting_get_member(e, sub->sc_label_key) : NULL;
		if (lm != NULL && config_setting_type(lm) == CONFIG_TYPE_STRING)
			where = xasprintf("%s entry \"%s\"", label,
			    config_setting_get_string(lm));
		else
			where = xasprintf("%s entry", label);
		if (sub->sc_line_off >= 0)
			*CFG_FIELD(eobj, (size_t)sub->sc_line_off, int) =
			    (int)config_setting_source_line(e);
		ok = cfg_decode_group(ld, e, sub, where, true, eobj);
		free(where);
		if (!ok)
			return false;
	}
	return true;
}

/* Decode setting s (present in the file) for key k into obj. */
static bool
cfg_decode_key(struct cfg_ld *ld, const config_setting_t *s,
    const struct cfg_key *k, const char *label, void *obj)
{
	const struct cfg_name *nm;
	config_setting_t *e;
	long long v;
	const char *str;
	char *val;
	char **arr;
	size_t i, n;
	int type = config_setting_type(s);

	switch (k->ck_kind) {
	case CFG_K_STR:
		if (type != CONFIG_TYPE_STRING)
			return cfg_type_error(ld, s, k, label);
		val = xstrdup(config_setting_get_string(s));
		if (k->ck_check != NULL && !k->ck_check(ld, s, label, val)) {
			free(val);
			return false;
		}
		free(*CFG_FIELD(obj, k->ck_off, char *));
		*CFG_FIELD(obj, k->ck_off, char *) = val;
		return true;
	case CFG_K_STRS:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			return cfg_type_error(ld, s, k, label);
		n = (size_t)config_setting_length(s);
		if (n == 0 && (k->ck_flags & CFG_F_NONEMPTY))
			return cfg_type_error(ld, s, k, label);
		cfg_decode_free_strs(k, obj);   /* what is written replaces the default */
		if (n == 0)
			return true;
		arr = xcalloc(n, sizeof(*arr));
		*CFG_FIELD(obj, k->ck_off, char **) = arr;
		*CFG_FIELD(obj, k->ck_noff, size_t) = n;
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, (unsigned)i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return cfg_type_error(ld, e, k, label);
			arr[i] = xstrdup(config_setting_get_string(e));
			if (k->ck_check != NULL &&
			    !k->ck_check(ld, e, label, arr[i]))
				return false;
		}
		return true;
	case CFG_K_UINT:
		if (type == CONFIG_TYPE_INT)
			v = config_setting_get_int(s);
		else if (type == CONFIG_TYPE_INT64)
			v = config_setting_get_int64(s);
		else
			return cfg_type_error(ld, s, k, label);
		if (v < k->ck_min || v > k->ck_max)
			return cfg_type_error(ld, s, k, label);
		*CFG_FIELD(obj, k->ck_off, unsigned) = (unsigned)v;
		return true;
	case CFG_K_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			return cfg_type_error(ld, s, k, label);
		*CFG_FIELD(obj, k->ck_off, bool) = config_setting_get_bool(s);
		return true;
	case CFG_K_TRI:
		if (type != CONFIG_TYPE_BOOL)
			return cfg_type_error(ld, s, k, label);
		*CFG_FIELD(obj, k->ck_off, enum cfg_tristate) =
		    config_setting_get_bool(s) ? CFG_TRUE : CFG_FALSE;
		return true;
	case CFG_K_ENUM:
		if (type != CONFIG_TYPE_STRING)
			return cfg_type_error(ld, s, k, label);
		str = config_setting_get_string(s);
		for (nm = k->ck_names; nm->cn_name != NULL; nm++) {
			if (strcmp(nm->cn_name, str) == 0) {
				*CFG_FIELD(obj, k->ck_off, int) = nm->cn_value;
				return true;
			}
		}
		return cfg_type_error(ld, s, k, label);
	case CFG_K_GROUP:
		if (type != CONFIG_TYPE_GROUP)
			return cfg_type_error(ld, s, k, label);
		return cfg_decode_group(ld, s, k->ck_sub, label, false,
		    CFG_FIELD(obj, k->ck_off, char));
	case CFG_K_LIST:
		return cfg_decode_list(ld, s, k, label, obj);
	}
	log_abort("cfg: unknown key kind %d", (int)k->ck_kind);
}

bool
cfg_decode_group(struct cfg_ld *ld, const config_setting_t *grp,
    const struct cfg_section *sec, const char *where, bool entry, void *obj)
{
	const struct cfg_key *k;
	config_setting_t *s;
	char *label;
	int i, n = config_setting_length(grp);
	bool ok;

	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(grp, (unsigned)i);
		if (cfg_key_find(sec, config_setting_name(s)) == NULL)
			return cfg_decode_fail(ld, s, "unknown key \"%s\" %s%s",
			    config_setting_name(s),
			    where ? "in " : "at top level", where ? where : "");
	}
	for (k = sec->sc_keys; k->ck_name != NULL; k++) {
		if (where == NULL)
			label = xstrdup(k->ck_name);
		else
			label = xasprintf("%s%s%s", where, entry ? ": " : ".",
			    k->ck_name);
		s = config_setting_get_member(grp, k->ck_name);
		if (s == NULL)
			ok = !(k->ck_flags & CFG_F_REQUIRED) ||
			    cfg_decode_fail(ld, grp, "%s is required", label);
		else
			ok = cfg_decode_key(ld, s, k, label, obj);
		free(label);
		if (!ok)
			return false;
	}
	return true;
}
