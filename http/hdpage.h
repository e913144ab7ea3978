/*
 * hdpage.h: the HaveDane web page (GET /): one HTML document with its
 * style and script inline, no external assets. It creates a test with
 * POST /api/tests, shows the three addresses with copy buttons, keeps the
 * token in the URL fragment (#TOKEN: a reload or a shared link shows the
 * same test), polls GET /api/tests/TOKEN every 2 seconds and explains
 * what arrived, over which TLS, and what the verdict means. /?start=1
 * creates a test at once (a link to hand out; the browser test uses it).
 *
 * Elements a test reads: #start, #addr-do, #addr-dont, #addr-wrong, #verdict
 * (its data-verdict attribute is the API's verdict), #res-do, #res-dont,
 * #res-wrong (data-received "true" / "false"), #explain.
 */
#ifndef DM_HDPAGE_H
#define DM_HDPAGE_H

/* The page (static, NUL-terminated). */
extern const char hdpage_html[];

/* Its Content-Security-Policy: nothing but itself and the API. */
#define HDPAGE_CSP "default-src 'none'; script-src 'unsafe-inline'; " \
	"style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

#endif
