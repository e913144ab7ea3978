/*
 * NAME
 *	postconf - Postfix's configuration as postconf(1) prints it
 * SUMMARY
 *	parse main.cf parameters, master.cf services and overrides, and the
 *	values danemilter doctor reads
 * SYNOPSIS
 *	#include "cli/postconf.h"
 * DESCRIPTION
 *	postconf_parse_main(), postconf_parse_master() and
 *	postconf_parse_overrides() read the output of `postconf -x`,
 *	`postconf -M -x` and `postconf -P -x`, one line at a time (empty
 *	lines skipped), into a struct postconf; postconf_param(),
 *	postconf_service() and postconf_service_running() look things up in
 *	it, postconf_resolv_path() says which resolv.conf smtp(8) reads.
 *	postconf_list_next() and postconf_list_has() walk a list value as
 *	Postfix splits it, postconf_milter_entry() takes an smtpd_milters
 *	element apart. Pure: no processes (cli/doctorcmd.c runs postconf),
 *	no files.
 * LINE FORMATS
 *	main:       "name = value" (value may be empty or hold '=')
 *	master:     "name type private unpriv chroot wakeup maxproc command
 *	            [args]" (eight fields at least)
 *	overrides:  "service/type/name = value" (service may hold '/')
 * DIAGNOSTICS
 *	"unexpected postconf output line \"LINE\"" (cut at 200 bytes) for
 *	the first line that does not have its form.
 */
#include "postconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xmalloc.h"

#define POSTCONF_WS     " \t\r\n"
#define POSTCONF_SEP    ", \t\r\n"   /* between the elements of a list */

/* ---- postconf output ---- */

/* s[0..n) without leading and trailing white space, malloc'ed. */
static char *
postconf_trimdup(const char *s, size_t n)
{
	while (n > 0 && strchr(POSTCONF_WS, *s) != NULL && *s != '\0') {
		s++;
		n--;
	}
	while (n > 0 && strchr(POSTCONF_WS, s[n - 1]) != NULL && s[n - 1] != '\0')
		n--;
	return xstrndup(s, n);
}

/* Call fn for each non-empty line of text; stop at the first false. */
static bool
postconf_lines(struct postconf *pc, const char *text, char **errp,
    bool (*fn)(struct postconf *, const char *, size_t))
{
	const char *line, *end;
	size_t len;

	for (line = text; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		len = (size_t)(end - line);
		if (strspn(line, POSTCONF_WS) >= len)
			continue;
		if (!fn(pc, line, len)) {
			*errp = xasprintf("unexpected postconf output line \"%.*s\"",
			    (int)(len > 200 ? 200 : len), line);
			return false;
		}
	}
	return true;
}

/* "name = value" into *name / *value (malloc'ed). */
static bool
postconf_split_eq(const char *line, size_t len, char **name, char **value)
{
	const char *eq = memchr(line, '=', len);

	if (eq == NULL)
		return false;
	*name = postconf_trimdup(line, (size_t)(eq - line));
	if (**name == '\0') {
		free(*name);
		return false;
	}
	*value = postconf_trimdup(eq + 1, len - (size_t)(eq + 1 - line));
	return true;
}

static bool
postconf_main_line(struct postconf *pc, const char *line, size_t len)
{
	struct postconf_param p;

	if (!postconf_split_eq(line, len, &p.pcp_name, &p.pcp_value))
		return false;
	pc->pc_params = xreallocarray(pc->pc_params, pc->pc_nparams + 1,
	    sizeof(*pc->pc_params));
	pc->pc_params[pc->pc_nparams++] = p;
	return true;
}

bool
postconf_parse_main(struct postconf *pc, const char *text, char **errp)
{
	return postconf_lines(pc, text, errp, postconf_main_line);
}

/* "name type private unpriv chroot wakeup maxproc command [args]" */
static bool
postconf_master_line(struct postconf *pc, const char *line, size_t len)
{
	char *copy = xstrndup(line, len), *save = NULL, *f[8];
	struct postconf_service s;
	int i;

	for (i = 0; i < 8; i++)
		if ((f[i] = strtok_r(i == 0 ? copy : NULL, POSTCONF_WS, &save)) == NULL) {
			free(copy);
			return false;
		}
	s.pcs_name = xstrdup(f[0]);
	s.pcs_type = xstrdup(f[1]);
	s.pcs_chroot = strcmp(f[4], "y") == 0;
	s.pcs_command = xstrdup(f[7]);
	free(copy);
	pc->pc_services = xreallocarray(pc->pc_services, pc->pc_nservices + 1,
	    sizeof(*pc->pc_services));
	pc->pc_services[pc->pc_nservices++] = s;
	return true;
}

bool
postconf_parse_master(struct postconf *pc, const char *text, char **errp)
{
	return postconf_lines(pc, text, errp, postconf_master_line);
}

/* "service/type/name = value" */
static bool
postconf_override_line(struct postconf *pc, const char *line, size_t len)
{
	struct postconf_override o;
	char *key, *s1, *s2;

	if (!postconf_split_eq(line, len, &key, &o.pco_value))
		return false;
	if ((s2 = strrchr(key, '/')) == NULL || s2 == key) {
		free(key);
		free(o.pco_value);
		return false;
	}
	*s2 = '\0';
	if ((s1 = strrchr(key, '/')) == NULL || s1 == key || s2[1] == '\0') {
		free(key);
		free(o.pco_value);
		return false;
	}
	*s1 = '\0';
	o.pco_service = xstrdup(key);
	o.pco_type = xstrdup(s1 + 1);
	o.pco_name = xstrdup(s2 + 1);
	free(key);
	pc->pc_overrides = xreallocarray(pc->pc_overrides, pc->pc_noverrides + 1,
	    sizeof(*pc->pc_overrides));
	pc->pc_overrides[pc->pc_noverrides++] = o;
	return true;
}

bool
postconf_parse_overrides(struct postconf *pc, const char *text, char **errp)
{
	return postconf_lines(pc, text, errp, postconf_override_line);
}

void
postconf_free(struct postconf *pc)
{
	size_t i;

	for (i = 0; i < pc->pc_nparams; i++) {
		free(pc->pc_params[i].pcp_name);
		free(pc->pc_params[i].pcp_value);
	}
	for (i = 0; i < pc->pc_nservices; i++) {
		free(pc->pc_services[i].pcs_name);
		free(pc->pc_services[i].pcs_type);
		free(pc->pc_services[i].pcs_command);
	}
	for (i = 0; i < pc->pc_noverrides; i++) {
		free(pc->pc_overrides[i].pco_service);
		free(pc->pc_overrides[i].pco_type);
		free(pc->pc_overrides[i].pco_name);
		free(pc->pc_overrides[i].pco_value);
	}
	free(pc->pc_params);
	free(pc->pc_services);
	free(pc->pc_overrides);
	memset(pc, 0, sizeof(*pc));
}

const char *
postconf_param(const struct postconf *pc, const char *name)
{
	size_t i;

	for (i = pc->pc_nparams; i > 0; i--)
		if (strcmp(pc->pc_params[i - 1].pcp_name, name) == 0)
			return pc->pc_params[i - 1].pcp_value;
	return NULL;
}

/* ---- Postfix lists ---- */

/* The next element of a Postfix list: separated by ", \t\r\n" outside
 * braces, "{...}" (nested) kept inside one element. */
bool
postconf_list_next(const char **pp, const char **start, size_t *len)
{
	const char *p = *pp;
	int depth = 0;

	p += strspn(p, POSTCONF_SEP);
	if (*p == '\0') {
		*pp = p;
		return false;
	}
	*start = p;
	for (; *p != '\0'; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		else if (depth == 0 && strchr(POSTCONF_SEP, *p) != NULL)
			break;
	}
	*len = (size_t)(p - *start);
	*pp = p;
	return true;
}

/* Does the list hold word (case-insensitive)? */
bool
postconf_list_has(const char *list, const char *word)
{
	const char *p = list, *s;
	size_t n;

	while (postconf_list_next(&p, &s, &n))
		if (n == strlen(word) && strncasecmp(s, word, n) == 0)
			return true;
	return false;
}

/* ---- smtpd_milters entries ---- */

/* The address of a smtpd_milters element ("{ ADDR, attr=value ... }" or
 * ADDR) and its default_action attribute (NULL when none). */
void
postconf_milter_entry(const char *s, size_t n, char **addr, char **action)
{
	const char *p, *t;
	char *inner;
	size_t tn;
	bool first = true;

	*addr = *action = NULL;
	if (n < 2 || s[0] != '{' || s[n - 1] != '}') {
		*addr = xstrndup(s, n);
		return;
	}
	inner = xstrndup(s + 1, n - 2);
	for (p = inner; postconf_list_next(&p, &t, &tn); first = false) {
		if (first)
			*addr = xstrndup(t, tn);
		else if (tn > 15 && strncmp(t, "default_action=", 15) == 0 && *action == NULL)
			*action = xstrndup(t + 15, tn - 15);
	}
	free(inner);
	if (*addr == NULL)
		*addr = xstrdup("");
}


/* ---- lookups ---- */

const struct postconf_service *
postconf_service(const struct postconf *pc, const char *name, const char *type)
{
	size_t i;

	for (i = 0; i < pc->pc_nservices; i++)
		if (strcmp(pc->pc_services[i].pcs_name, name) == 0 &&
		    strcmp(pc->pc_services[i].pcs_type, type) == 0)
			return &pc->pc_services[i];
	return NULL;
}

/* The service "name/type" if it runs command, else the first that does. */
const struct postconf_service *
postconf_service_running(const struct postconf *pc, const char *name,
    const char *type, const char *command)
{
	const struct postconf_service *s = postconf_service(pc, name, type);
	size_t i;

	if (s != NULL && strcmp(s->pcs_command, command) == 0)
		return s;
	for (i = 0; i < pc->pc_nservices; i++)
		if (strcmp(pc->pc_services[i].pcs_command, command) == 0)
			return &pc->pc_services[i];
	return NULL;
}

char *
postconf_resolv_path(const struct postconf *pc)
{
	const struct postconf_service *s = postconf_service_running(pc, "smtp", "unix", "smtp");
	const char *q = postconf_param(pc, "queue_directory");
	size_t ql;

	if (s == NULL || !s->pcs_chroot || q == NULL || *q == '\0')
		return xstrdup("/etc/resolv.conf");
	ql = strlen(q);
	while (ql > 1 && q[ql - 1] == '/')
		ql--;
	return xasprintf("%.*s/etc/resolv.conf", (int)ql, q);
}
