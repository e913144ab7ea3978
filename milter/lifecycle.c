/*
 * lifecycle.c: the life of the filter (filter.h): registering with
 * libmilter and binding its socket (filter_open), the thread that runs
 * mfi_main (filter_run), the configuration new connections take
 * (filter_cfg_get: the generation in force), shutting down (filter_drain,
 * filter_stop, filter_poke, filter_join, filter_free) and the counters the
 * daemon drains by (filter_connections, filter_messages). The callbacks
 * are in milter/filter.c; what the two share is in milter/filter_private.h.
 *
 * Owns: nothing of the configuration: it reads the daemon's generation
 * (F.f_gen, policy/generation.h; each connection takes a cfg reference
 * of its own with filter_cfg_get and drops it at close), the socket spec given to
 * libmilter (F.f_conn: libmilter may keep the pointer), the mfi_main
 * thread, and filter_shared (filter_private.h). filter_free forgets the
 * generation and frees the spec, once no connection is left.
 *
 * Threads: filter_open, filter_run, filter_stop, filter_poke, filter_join
 * and filter_free on the engine thread; filter_cfg_get,
 * filter_drain and the counters on any thread. lifecycle_thread runs
 * mfi_main (and libmilter's threads start from it); libmilter's stop runs
 * on a detached thread of its own (lifecycle_stopper).
 *
 * Signals: the engine thread alone takes SIGHUP (reload), SIGTERM and
 * SIGINT (drain, then stop), SIGUSR1 and SIGUSR2; every other thread
 * blocks them. libmilter's own signal thread (started by smfi_main)
 * sigwait()s for SIGHUP, SIGTERM and SIGINT and stops the milter on any of
 * them, and the kernel gives a process-directed signal to any thread that
 * does not block it, a thread in sigwait() included: under load, a SIGHUP
 * stopped the milter (and the daemon with it) and a SIGTERM skipped the
 * drain. So this file defines sigwait() (below): the executable's
 * definition comes first in the dynamic link, libmilter's call lands here,
 * and a wait for that set parks the thread for good.
 */
#include "filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/deadline.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "milter/filter_private.h"
#include "milter/fmsg.h"
#include "milter/mfi.h"

struct filter_shared filter_shared;

static struct {
	pthread_mutex_t f_lock;         /* f_gen */
	struct generation *f_gen;       /* the daemon's: the configuration in force */
	char *f_conn;                   /* the socket spec given to libmilter */
	char *f_wake;                   /* where lifecycle_wake connects (libmilter's spec
	                                   form): f_conn, or the passed socket's address */
	pthread_t f_thread;
	bool f_started;
	bool f_stopping;                /* filter_stop() was called */
	bool f_stop_done;               /* atomic: mfi_stop() returned */
	void (*f_ended)(void *);
	void *f_ended_arg;
	pthread_mutex_t f_done_lock;
	pthread_cond_t f_done_cond;
	bool f_done;
} F = {
	.f_lock = PTHREAD_MUTEX_INITIALIZER,
	.f_done_lock = PTHREAD_MUTEX_INITIALIZER,
	.f_done_cond = PTHREAD_COND_INITIALIZER,
};

/* The family of socket fd, or -1. */
static int
lifecycle_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	return ss.ss_family;
}

/* Is fd a listening socket? */
static bool
lifecycle_listening(int fd)
{
	int val = 0;
	socklen_t len = sizeof(val);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val != 0;
}

#define LIFECYCLE_FD_SCAN       4096    /* descriptors looked at for libmilter's own */

/* The spec lifecycle_wake connects to for the listening socket fd. */
static char *
lifecycle_wake_spec(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return NULL;
	if (ss.ss_family == AF_UNIX)
		return xasprintf("unix:%s", ((struct sockaddr_un *)&ss)->sun_path);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		return xasprintf("inet:%u@%s", ntohs(sin->sin_port), addr);
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			sin6->sin6_addr = in6addr_loopback;
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		return xasprintf("inet6:%u@%s", ntohs(sin6->sin6_port), addr);
	}
	return NULL;
}

/*
 * A socket passed by systemd: libmilter can only listen on a socket it
 * binds itself (and takes only clients of that socket's family), so it
 * binds a private one of the same family (a unix socket in a temporary
 * directory, or port 0 on loopback), which is then replaced under the same
 * descriptor number by the passed one (dup2). 0, or -1 with *errp (fd is
 * closed either way).
 */
static int
lifecycle_open_passed(int fd, char **errp)
{
	char dir[] = "/tmp/danemilter-milter.XXXXXX", *path = NULL;
	bool before[LIFECYCLE_FD_SCAN];
	int family = lifecycle_family(fd), lfd, i, rc = -1;

	if ((F.f_wake = lifecycle_wake_spec(fd)) == NULL ||
	    (family != AF_UNIX && family != AF_INET && family != AF_INET6)) {
		*errp = xasprintf("milter: systemd:fd%d: not a unix or inet socket", fd);
		close(fd);
		return -1;
	}
	free(F.f_conn);
	if (family == AF_UNIX) {
		if (mkdtemp(dir) == NULL) {
			*errp = xasprintf("milter: %s: %s", dir, strerror(errno));
			close(fd);
			return -1;
		}
		path = xasprintf("%s/m", dir);
		F.f_conn = xasprintf("unix:%s", path);
	} else {
		F.f_conn = xstrdup(family == AF_INET ? "inet:0@127.0.0.1" : "inet6:0@::1");
	}
	for (i = 0; i < LIFECYCLE_FD_SCAN; i++)
		before[i] = fcntl(i, F_GETFD) != -1;
	if (mfi_setconn(F.f_conn) != MI_SUCCESS || mfi_register(&filter_desc) != MI_SUCCESS ||
	    mfi_setbacklog(256) != MI_SUCCESS || mfi_opensocket(true) != MI_SUCCESS) {
		*errp = xasprintf("milter: cannot set up libmilter for systemd:fd%d", fd);
		goto out;
	}
	for (lfd = -1, i = 0; i < LIFECYCLE_FD_SCAN && lfd < 0; i++)
		if (!before[i] && fcntl(i, F_GETFD) != -1 && lifecycle_listening(i) &&
		    lifecycle_family(i) == family)
			lfd = i;
	if (lfd < 0) {
		*errp = xasprintf("milter: systemd:fd%d: libmilter's own socket not found", fd);
		goto out;
	}
	if (dup2(fd, lfd) < 0 || fcntl(lfd, F_SETFD, FD_CLOEXEC) < 0) {
		*errp = xasprintf("milter: systemd:fd%d: dup2: %s", fd, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	if (path != NULL) {
		unlink(path);
		rmdir(dir);
		free(path);
	}
	return rc;
}

int
filter_open(struct generation *gen, struct gate *g, int uid, int gid, int fd, char **errp)
{
	struct cfg *cfg = generation_cfg(gen);
	const char *spec = cfg->c_milter.cm_socket;
	struct endpoint ep;
	const char *path;
	int rc = -1;
	char *host = filter_shared.fs_hostname;
	const size_t hostlen = sizeof(filter_shared.fs_hostname);

	if (gethostname(host, hostlen - 1) != 0 || !filter_token_ok(host))
		filter_copy(host, hostlen, "localhost");
	filter_shared.fs_gate = g;
	F.f_gen = gen;
	if (fd >= 0) {
		rc = lifecycle_open_passed(fd, errp);
		goto out;
	}
	free(F.f_conn);
	F.f_conn = xstrdup(spec);
	if (mfi_setconn(F.f_conn) != MI_SUCCESS || mfi_register(&filter_desc) != MI_SUCCESS ||
	    mfi_setbacklog(256) != MI_SUCCESS) {
		*errp = xasprintf("milter: cannot set up libmilter for %s", spec);
		goto out;
	}
	errno = 0;
	if (mfi_opensocket(true) != MI_SUCCESS) {
		*errp = xasprintf("milter: cannot listen on %s: %s", spec,
		    errno ? strerror(errno) : "in use, or not permitted");
		goto out;
	}
	if (endpoint_parse(spec, ENDPOINT_MILTER, 0, &ep) == ENDPOINT_OK &&
	    ep.ep_kind == ENDPOINT_UNIX) {
		path = ep.ep_path;
		if (chmod(path, (mode_t)strtoul(cfg->c_milter.cm_mode, NULL, 8)) != 0 ||
		    ((uid != -1 || gid != -1) && chown(path, (uid_t)uid, (gid_t)gid) != 0)) {
			*errp = xasprintf("milter: %s: %s", path, strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	cfg_unref(cfg);
	return rc;
}

static void *
lifecycle_thread(void *arg)
{
	int r;

	(void)arg;
	r = mfi_main();
	if (r != MI_SUCCESS)
		log_errx("milter: libmilter stopped with an error");
	pthread_mutex_lock(&F.f_done_lock);
	F.f_done = true;
	pthread_cond_broadcast(&F.f_done_cond);
	pthread_mutex_unlock(&F.f_done_lock);
	if (F.f_ended)
		F.f_ended(F.f_ended_arg);
	return NULL;
}

int
filter_run(void (*ended)(void *), void *arg, char **errp)
{
	sigset_t block, old;
	int e;

	F.f_ended = ended;
	F.f_ended_arg = arg;
	/* The thread (and every thread libmilter starts from it) inherits
	 * this mask: the engine thread alone takes these signals. */
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	e = pthread_create(&F.f_thread, NULL, lifecycle_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		*errp = xasprintf("milter: cannot start its thread: %s", strerror(e));
		return -1;
	}
	F.f_started = true;
	return 0;
}

/*
 * sigwait(3) for the whole process. Nothing of danemilter's waits for
 * signals this way; libmilter's signal thread does (see the top of this
 * file), with SIGHUP and SIGTERM in its set: that thread sleeps until the
 * process exits (pause() returns only after a handler ran on it, and it
 * blocks every signal the daemon handles). Any other caller gets what
 * sigwait() gives: 0 and the signal, or an errno value.
 */
int
sigwait(const sigset_t *set, int *sig)
{
	int s;

	if (sigismember(set, SIGHUP) == 1 && sigismember(set, SIGTERM) == 1)
		for (;;)
			pause();
	do
		s = sigwaitinfo(set, NULL);
	while (s < 0 && errno == EINTR);
	if (s < 0)
		return errno;
	*sig = s;
	return 0;
}

struct cfg *
filter_cfg_get(void)
{
	struct cfg *c;

	pthread_mutex_lock(&F.f_lock);
	c = F.f_gen ? generation_cfg(F.f_gen) : NULL;
	pthread_mutex_unlock(&F.f_lock);
	return c;
}

/*
 * libmilter's listener only looks at its stop flag between polls of up to
 * five seconds: one connection to our own socket wakes it at once.
 */
static void
lifecycle_wake(const char *spec)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_un sun;
	struct endpoint ep;
	char port[16], host[ENDPOINT_HOST_MAX];
	size_t n;
	int fd;

	if (endpoint_parse(spec, ENDPOINT_MILTER, 0, &ep) != ENDPOINT_OK)
		return;
	if (ep.ep_kind == ENDPOINT_UNIX) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		filter_copy(sun.sun_path, sizeof(sun.sun_path), ep.ep_path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
			(void)connect(fd, (struct sockaddr *)&sun, sizeof(sun));
			close(fd);
		}
		return;
	}
	snprintf(port, sizeof(port), "%u", ep.ep_port);
	/* No host: libmilter listens on every address; loopback reaches it.
	 * A host written [addr] loses its brackets for getaddrinfo. */
	if (ep.ep_host[0] == '\0')
		filter_copy(host, sizeof(host), ep.ep_kind == ENDPOINT_INET6 ? "::1" : "127.0.0.1");
	else if (ep.ep_host[0] == '[' && (n = strlen(ep.ep_host)) > 2 && ep.ep_host[n - 1] == ']') {
		filter_copy(host, sizeof(host), ep.ep_host + 1);
		host[n - 2] = '\0';
	} else
		filter_copy(host, sizeof(host), ep.ep_host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = ep.ep_kind == ENDPOINT_INET6 ? AF_INET6 : AF_INET;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
		return;
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		(void)connect(fd, res->ai_addr, res->ai_addrlen);
		close(fd);
	}
	freeaddrinfo(res);
}

void
filter_drain(void)
{
	__atomic_store_n(&filter_shared.fs_draining, true, __ATOMIC_RELEASE);
}

/* libmilter's stop waits for the listener's lock, which the listener holds
 * while it polls: call it off the engine thread. */
static void *
lifecycle_stopper(void *arg)
{
	(void)arg;
	(void)mfi_stop();
	__atomic_store_n(&F.f_stop_done, true, __ATOMIC_RELEASE);
	return NULL;
}

void
filter_stop(void)
{
	sigset_t block, old;
	pthread_t t;

	if (!F.f_started || F.f_stopping)
		return;
	F.f_stopping = true;
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (pthread_create(&t, NULL, lifecycle_stopper, NULL) == 0)
		pthread_detach(t);
	else
		log_errx("milter: cannot start the thread that stops libmilter");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	lifecycle_wake(F.f_wake != NULL ? F.f_wake : F.f_conn);
}

void
filter_poke(void)
{
	if (F.f_stopping && !__atomic_load_n(&F.f_stop_done, __ATOMIC_ACQUIRE))
		lifecycle_wake(F.f_wake != NULL ? F.f_wake : F.f_conn);
}

bool
filter_join(unsigned timeout_ms)
{
	struct timespec deadline;
	unsigned waited;
	bool done = false;

	if (!F.f_started)
		return true;
	for (waited = 0; !done && waited <= timeout_ms; waited += 50) {
		deadline_in(&deadline, CLOCK_REALTIME, 50);
		pthread_mutex_lock(&F.f_done_lock);
		if (!F.f_done)
			(void)pthread_cond_timedwait(&F.f_done_cond, &F.f_done_lock, &deadline);
		done = F.f_done;
		pthread_mutex_unlock(&F.f_done_lock);
		if (!done)
			filter_poke();
	}
	if (done) {
		pthread_join(F.f_thread, NULL);
		F.f_started = false;
	}
	return done;
}

int
filter_connections(void)
{
	return __atomic_load_n(&filter_shared.fs_conns, __ATOMIC_RELAXED);
}

int
filter_messages(void)
{
	return fmsg_count();
}

void
filter_forget_generation(void)
{
	pthread_mutex_lock(&F.f_lock);
	F.f_gen = NULL;
	pthread_mutex_unlock(&F.f_lock);
}

void
filter_set_havedane(struct havedane *hd)
{
	__atomic_store_n(&filter_shared.fs_havedane, hd, __ATOMIC_RELEASE);
}

void
filter_free(void)
{
	filter_forget_generation();
	free(F.f_conn);
	F.f_conn = NULL;
	free(F.f_wake);
	F.f_wake = NULL;
}
