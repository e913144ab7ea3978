/*
 * httpd.c: see httpd.h.
 */
#include "http/httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

unsigned
httpd_timeout_s(unsigned ms)
{
	return ms / 1000 + (ms % 1000 != 0) + (ms == 0);
}

void
httpd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512], *p;
	size_t n;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	/* "... code is 431 ('<html>...</html>')). Closing ..." -> "... 431). Closing ..." */
	if ((p = strstr(msg, " ('")) != NULL) {
		char *end = strstr(p, "')");

		if (end != NULL)
			memmove(p, end + 2, strlen(end + 2) + 1);
		else
			*p = '\0';
	}
	for (p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == ' ')
		msg[--n] = '\0';
	log_info("%s: libmicrohttpd: %s", (const char *)cls, msg);
}

void
httpd_peer(const struct sockaddr *sa, socklen_t len, bool with_port, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	snprintf(buf, size, "unix");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		if (with_port)
			snprintf(buf, size, "%s:%u", addr, ntohs(sin->sin_port));
		else
			snprintf(buf, size, "%s", addr);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		if (with_port)
			snprintf(buf, size, "[%s]:%u", addr, ntohs(sin6->sin6_port));
		else
			snprintf(buf, size, "%s", addr);
	}
}

void
httpd_client(struct MHD_Connection *conn, bool with_port, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	/* libmicrohttpd keeps the address it was given, at least a sockaddr_in6
	 * for an inet6 one. */
	httpd_peer(sa, sa == NULL ? 0 : sa->sa_family == AF_INET6 ?
	    (socklen_t)sizeof(struct sockaddr_in6) : (socklen_t)sizeof(struct sockaddr_in),
	    with_port, buf, size);
}
