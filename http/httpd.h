/*
 * httpd.h: what the two libmicrohttpd servers of http/ share: the
 * /metrics endpoint (http/metricsd.c, driven by the engine's ivykis loop)
 * and the HaveDane web face (http/hdweb.c, libmicrohttpd's own thread).
 * One place for each rule they keep alike: the memory a connection may use
 * (which bounds the request head: past it libmicrohttpd answers 431 and
 * closes), libmicrohttpd's idle timeout derived from a bound in ms, its
 * messages sent to our log, and the client's address in messages.
 *
 * No state; any thread (each function works on what it is given).
 */
#ifndef DM_HTTPD_H
#define DM_HTTPD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <microhttpd.h>

/*
 * The request line and headers live in the connection's memory
 * (MHD_OPTION_CONNECTION_MEMORY_LIMIT, which also holds the reply's head;
 * the body lies outside it): a head that does not fit, with libmicrohttpd
 * 0.9.75 anything over the limit less 288 bytes, gets 431 and the
 * connection is closed (the client may see a reset when it sent more
 * than was read). So the limit is the bound of the request head: each
 * server's own (METRICSD_CONN_MEMORY), HTTPD_CONN_MEMORY unless it needs
 * another. MHD_OPTION_EXTERNAL_LOGGER must be the first option given to
 * MHD_start_daemon() (libmicrohttpd says so on stderr otherwise).
 */
#define HTTPD_CONN_MEMORY       (16 * 1024)
/* Room for "[IPV6]:PORT" or "unix" and the NUL. */
#define HTTPD_PEER_MAX          64

/*
 * MHD_OPTION_CONNECTION_TIMEOUT for a bound of ms milliseconds: whole
 * seconds, rounded up (libmicrohttpd counts idle seconds; 0 would mean
 * never).
 */
unsigned httpd_timeout_s(unsigned ms);

/*
 * MHD_OPTION_EXTERNAL_LOGGER: cls is the server's name ("metrics",
 * "havedane"). libmicrohttpd's message, one line, at info level:
 * "NAME: libmicrohttpd: MESSAGE" (the HTML body it quotes in an error
 * reply left out).
 */
void httpd_log(void *cls, const char *fmt, va_list ap);

/*
 * The peer sa (len bytes; NULL or anything but AF_INET / AF_INET6 is
 * "unix") as text into buf: "ADDR:PORT" or "[ADDR6]:PORT" with
 * with_port, the bare address without.
 */
void httpd_peer(const struct sockaddr *sa, socklen_t len, bool with_port, char *buf,
    size_t size);

/* The client of conn as httpd_peer() writes it. */
void httpd_client(struct MHD_Connection *conn, bool with_port, char *buf, size_t size);

#endif
