/*
 * NAME
 *	hdweb - the HaveDane web face on libmicrohttpd
 * SYNOPSIS
 *	#include "http/hdweb.h"
 * DESCRIPTION
 *	One libmicrohttpd daemon per listening socket (endpoint_listen()
 *	binds them, MHD_OPTION_LISTEN_SOCKET hands them over), each with its
 *	internal polling thread. The access handler routes by method and
 *	path; a POST's body is counted (not kept) and a body over
 *	HDWEB_BODY_MAX gets 413. Every answer is JSON from http/hdapi.c with
 *	Cache-Control: no-store. The bounds, the client's address and
 *	libmicrohttpd's messages follow http/httpd.h, as for /metrics.
 * DIAGNOSTICS
 *	hdweb_new() and hdweb_start() name the endpoint; a request is not
 *	logged; libmicrohttpd's own messages are, as "havedane:
 *	libmicrohttpd: ..." at info level.
 */
#include "http/hdweb.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/endpoint.h"
#include "common/xmalloc.h"
#include "http/hdapi.h"
#include "http/hdpage.h"
#include "http/httpd.h"

struct hdweb {
	struct havedane *hw_hd;
	struct hdapi_rate *hw_rate;
	struct endpoint_fd *hw_fds;
	size_t hw_nfds;
	char **hw_names;                /* the endpoint of each fd */
	struct MHD_Daemon **hw_mhd;
	unsigned hw_max_connections;
	unsigned hw_timeout_s;
};

/* Per request: the body bytes seen so far. */
struct hdweb_req {
	size_t hq_body;
};

#define HDWEB_PREFIX    "/api/tests/"

static enum MHD_Result
hdweb_send(struct MHD_Connection *conn, int status, char *body, unsigned retry_after)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char ra[16];

	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    "GET, POST");
	if (retry_after > 0) {
		snprintf(ra, sizeof(ra), "%u", retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* GET /: the page (http/hdpage.h). */
static enum MHD_Result
hdweb_page(struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(hdpage_html), (void *)(uintptr_t)hdpage_html,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", HDPAGE_CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
hdweb_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct hdweb *w = cls;
	struct hdweb_req *rq = *con_cls;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	char client[HTTPD_PEER_MAX], *body = NULL;
	unsigned wait;
	int status;

	(void)version;
	if (rq == NULL) {
		rq = *con_cls = xcalloc(1, sizeof(*rq));
		return MHD_YES;         /* the headers; the body (if any) comes next */
	}
	if (*upload_data_size > 0) {
		(void)upload_data;
		rq->hq_body += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->hq_body > HDWEB_BODY_MAX) {
		status = hdapi_error(413, "request body too large", &body);
		return hdweb_send(conn, status, body, 0);
	}
	if (strcmp(url, "/") == 0) {
		if (!get) {
			status = hdapi_error(405, "use GET for the page", &body);
			return hdweb_send(conn, status, body, 0);
		}
		return hdweb_page(conn);
	}
	if (strcmp(url, "/api/tests") == 0) {
		if (!post) {
			status = hdapi_error(405, "use POST to create a test", &body);
			return hdweb_send(conn, status, body, 0);
		}
		httpd_client(conn, false, client, sizeof(client));
		if ((wait = hdapi_rate_take(w->hw_rate, client, time(NULL))) > 0) {
			status = hdapi_error(429, "too many tests created from this address; "
			    "try again later", &body);
			return hdweb_send(conn, status, body, wait);
		}
		status = hdapi_create(w->hw_hd, time(NULL), &body);
		return hdweb_send(conn, status, body, 0);
	}
	if (strncmp(url, HDWEB_PREFIX, strlen(HDWEB_PREFIX)) == 0) {
		if (!get) {
			status = hdapi_error(405, "use GET to read a test", &body);
			return hdweb_send(conn, status, body, 0);
		}
		status = hdapi_result(w->hw_hd, url + strlen(HDWEB_PREFIX), time(NULL), &body);
		return hdweb_send(conn, status, body, 0);
	}
	status = hdapi_error(404, "not found", &body);
	return hdweb_send(conn, status, body, 0);
}

static void
hdweb_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

struct hdweb *
hdweb_new(struct havedane *hd, const struct cfg_havedane *c, char **errp)
{
	struct hdweb *w = xcalloc(1, sizeof(*w));
	size_t i, before;
	int n;

	*errp = NULL;
	w->hw_hd = hd;
	w->hw_rate = hdapi_rate_new(c->chd_creates_per_minute);
	w->hw_max_connections = c->chd_max_connections;
	w->hw_timeout_s = httpd_timeout_s(c->chd_timeout_ms);
	for (i = 0; i < c->chd_nlisten; i++) {
		before = w->hw_nfds;
		n = endpoint_listen("havedane", c->chd_listen[i], 0666, &w->hw_fds, &w->hw_nfds, errp);
		if (n < 0) {
			hdweb_free(w);
			return NULL;
		}
		w->hw_names = xreallocarray(w->hw_names, w->hw_nfds, sizeof(*w->hw_names));
		for (; before < w->hw_nfds; before++)
			w->hw_names[before] = xstrdup(c->chd_listen[i]);
	}
	return w;
}

int
hdweb_start(struct hdweb *w, char **errp)
{
	size_t i;

	*errp = NULL;
	w->hw_mhd = xcalloc(w->hw_nfds ? w->hw_nfds : 1, sizeof(*w->hw_mhd));
	for (i = 0; i < w->hw_nfds; i++) {
		w->hw_mhd[i] = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
		    MHD_USE_ERROR_LOG,
		    0, NULL, NULL, hdweb_access, w,
		    MHD_OPTION_EXTERNAL_LOGGER, httpd_log, (void *)(uintptr_t)"havedane",
		    MHD_OPTION_LISTEN_SOCKET, w->hw_fds[i].ef_fd,
		    MHD_OPTION_CONNECTION_LIMIT, w->hw_max_connections,
		    MHD_OPTION_CONNECTION_TIMEOUT, w->hw_timeout_s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_CONN_MEMORY,
		    MHD_OPTION_NOTIFY_COMPLETED, hdweb_completed, w,
		    MHD_OPTION_END);
		if (w->hw_mhd[i] == NULL) {
			*errp = xasprintf("havedane: %s: libmicrohttpd cannot serve it",
			    w->hw_names[i]);
			return -1;
		}
	}
	return 0;
}

void
hdweb_free(struct hdweb *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->hw_nfds; i++) {
		if (w->hw_mhd != NULL && w->hw_mhd[i] != NULL) {
			MHD_stop_daemon(w->hw_mhd[i]);  /* it closes the socket */
			w->hw_fds[i].ef_fd = -1;
		}
		endpoint_close(&w->hw_fds[i]);
		free(w->hw_names[i]);
	}
	free(w->hw_mhd);
	free(w->hw_fds);
	free(w->hw_names);
	hdapi_rate_free(w->hw_rate);
	free(w);
}
