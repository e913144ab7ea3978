/*
 * ctlproto.c: see ctlproto.h.
 *
 * The line is checked byte by byte first (length, bytes, single spaces),
 * then split into at most three words: the command and its arguments are
 * matched against a table; a fourth word is always too many.
 */
#include "ctlproto.h"

#include <stdbool.h>
#include <string.h>

#define CTLPROTO_WORDS_MAX      3

struct ctlproto_word {
	const char *w_p;
	size_t w_len;
};

static bool
ctlproto_word_is(const struct ctlproto_word *w, const char *s)
{
	return w->w_len == strlen(s) && memcmp(w->w_p, s, w->w_len) == 0;
}

enum ctlproto_status
ctlproto_parse(const char *line, size_t len, struct ctlproto_req *out)
{
	struct ctlproto_word w[CTLPROTO_WORDS_MAX];
	size_t i, nw = 0, start = 0;

	memset(out, 0, sizeof(*out));
	if (len > CTLPROTO_REQUEST_MAX)
		return CTLPROTO_ERR_LONG;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return CTLPROTO_ERR_EMPTY;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == ' ') {
			if (i == start)         /* leading, or two in a row */
				return CTLPROTO_ERR_BYTES;
			if (nw == CTLPROTO_WORDS_MAX)
				return CTLPROTO_ERR_ARGS;
			w[nw].w_p = line + start;
			w[nw++].w_len = i - start;
			start = i + 1;
			continue;
		}
		if (ch < 0x21 || ch > 0x7e)
			return CTLPROTO_ERR_BYTES;
	}
	if (start == len)                       /* a trailing space */
		return CTLPROTO_ERR_BYTES;
	if (nw == CTLPROTO_WORDS_MAX)
		return CTLPROTO_ERR_ARGS;
	w[nw].w_p = line + start;
	w[nw++].w_len = len - start;

	if (ctlproto_word_is(&w[0], "query") || ctlproto_word_is(&w[0], "purge")) {
		bool query = w[0].w_p[0] == 'q';

		if (nw != 2)
			return CTLPROTO_ERR_ARGS;
		if (!query && ctlproto_word_is(&w[1], "--all")) {
			out->cr_cmd = CTLPROTO_PURGE_ALL;
			return CTLPROTO_OK;
		}
		if (w[1].w_p[0] == '-')
			return CTLPROTO_ERR_ARGS;
		if (w[1].w_len > CTLPROTO_DOMAIN_MAX)
			return CTLPROTO_ERR_LONG;
		out->cr_cmd = query ? CTLPROTO_QUERY : CTLPROTO_PURGE;
		memcpy(out->cr_arg, w[1].w_p, w[1].w_len);
		out->cr_arg[w[1].w_len] = '\0';
		return CTLPROTO_OK;
	}
	if (ctlproto_word_is(&w[0], "dump")) {
		if (nw == 1) {
			out->cr_cmd = CTLPROTO_DUMP;
			return CTLPROTO_OK;
		}
		if (nw == 2 && ctlproto_word_is(&w[1], "json")) {
			out->cr_cmd = CTLPROTO_DUMP_JSON;
			return CTLPROTO_OK;
		}
		return CTLPROTO_ERR_ARGS;
	}
	if (ctlproto_word_is(&w[0], "reload") || ctlproto_word_is(&w[0], "stats")) {
		if (nw != 1)
			return CTLPROTO_ERR_ARGS;
		out->cr_cmd = w[0].w_p[0] == 'r' ? CTLPROTO_RELOAD : CTLPROTO_STATS;
		return CTLPROTO_OK;
	}
	return CTLPROTO_ERR_COMMAND;
}

const char *
ctlproto_status_text(enum ctlproto_status st)
{
	switch (st) {
	case CTLPROTO_OK:
		return "ok";
	case CTLPROTO_ERR_EMPTY:
		return "empty request";
	case CTLPROTO_ERR_LONG:
		return "request too long";
	case CTLPROTO_ERR_BYTES:
		return "request with bytes other than printable ASCII words and single spaces";
	case CTLPROTO_ERR_COMMAND:
		return "unknown command (want query, dump, purge, reload or stats)";
	case CTLPROTO_ERR_ARGS:
		return "wrong arguments (want query DOMAIN, dump [json], purge DOMAIN, "
		    "purge --all, reload, stats)";
	}
	return "?";
}
