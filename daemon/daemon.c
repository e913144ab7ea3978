/*
 * daemon.c: `danemilter [-c FILE] [-f] [-p PIDFILE]`: the long-running
 * daemon. The main thread runs one ivykis loop with the engine (resolver,
 * MTA-STS fetcher), the verdict cache, the Postfix socketmap policy server,
 * the Prometheus metrics endpoint (metrics.listen, when set) and the
 * signal handlers; the libmilter filter (milter/filter.h) runs on
 * threads of its own and reaches the engine through the call gate.
 *
 * Start-up errors (configuration, listeners, user, cache file) are
 * reported on stderr and exit EX_CONFIG / EX_OSERR before the process
 * detaches. Every socket is bound first, then the process drops to
 * daemon.user / daemon.group, then (without -f) detaches.
 * SIGTERM/SIGINT: new milter messages get a temporary failure, the
 * messages in progress are finished (milter.drain_timeout_ms), then
 * libmilter stops, the cache is saved, everything closed, exit 0.
 * SIGHUP (or SIGUSR1): reload the configuration (a broken new file is
 * logged and the old configuration kept; milter connections keep the configuration
 * they started with); listeners keep their addresses until a restart.
 * The cache file is also saved every cache.save_interval seconds.
 *
 * Signals: the milter threads block these signals and the main thread
 * alone takes them; libmilter's own signal thread, which would treat
 * SIGHUP as "stop", never gets one (milter/lifecycle.c says how). If
 * libmilter stops by itself all the same (an error), the daemon shuts
 * down cleanly. SIGUSR1 reloads too, as OpenDKIM's does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <iv_event.h>
#include <pthread.h>
#include <pwd.h>
#include <iv.h>
#include <iv_signal.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/deadline.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "dns/dns.h"
#include "milter/ask.h"
#include "cli/cli.h"
#include "daemon/activation.h"
#include "daemon/daemon.h"
#include "daemon/notify.h"
#include "daemon/ovwatch.h"
#include "milter/filter.h"
#include "policy/cache.h"
#include "policy/generation.h"
#include "http/hdweb.h"
#include "policy/havedane.h"
#include "policy/monitorsched.h"
#include "policy/mtasts.h"
#include "policy/probecache.h"
#include "policy/shared.h"
#include "policy/stsstore.h"
#include "control/ctld.h"
#include "http/metricsd.h"
#include "socketmap/socketmap.h"
#include "socketmap/tlspolicy.h"

struct daemon {
	const char *dm_cfgpath;
	struct generation *dm_gen;      /* the configuration and engine in force */
	struct cache *dm_cache;
	struct shared *dm_shared;       /* the fleet's cache on Redis, or NULL */
	struct tlspolicy *dm_tp;
	struct metricsd *dm_md;         /* the metrics endpoint, or NULL */
	struct ctld *dm_ctl;            /* the control socket, or NULL */
	struct ovwatch *dm_ov;          /* the overrides file */
	time_t dm_reload_time;          /* the last reload asked for, 0: none yet */
	bool dm_reload_ok;              /* ... and its outcome */
	char *dm_reload_msg;
	struct gate *dm_gate;
	struct probecache *dm_pc;       /* the milter's probe results */
	struct monitorsched *dm_ms;     /* the scheduled monitor (monitor.domains) */
	struct havedane *dm_hd;         /* havedane.zone's service, or NULL */
	struct hdweb *dm_hw;            /* its web face (havedane.listen), or NULL */
	bool dm_milter;                 /* the filter runs */
	bool dm_stopping;
	struct timespec dm_drain_end;
	struct iv_signal dm_sigterm, dm_sigint, dm_sighup, dm_sigusr1;
	struct iv_timer dm_save_timer;
	struct iv_timer dm_drain_timer;
	struct iv_event dm_milter_ended;
};

/* The configuration in force (loop thread). */
static const struct cfg *
daemon_cfg(const struct daemon *d)
{
	return generation_engine(d->dm_gen)->en_cfg;
}

static void
daemon_log_setup(const struct cfg *cfg, bool foreground)
{
	const struct cfg_log *cl = &cfg->c_log;

	(void)foreground;
	log_init(cl->clg_dest == CFG_LOG_SYSLOG ? LOG_DEST_SYSLOG : LOG_DEST_STDERR,
	    "danemilter", cl->clg_facility, cl->clg_level);
}

/*
 * Every face's metric families into the render list of common/metrics.h,
 * in the order of the exposition (README.md's table), whether the face
 * runs or not: verdicts and the cache's numbers, DNS, MTA-STS fetches,
 * the MTA-STS policy store, probes, the milter, the socketmap server. A
 * new face with families adds its call here.
 */
static void
daemon_metrics_register(struct daemon *d)
{
	cache_metrics_register(d->dm_cache);
	dns_metrics_register();
	mtasts_metrics_register();
	stsstore_metrics_register(cache_stsstore(d->dm_cache));
	probecache_metrics_register();
	filter_metrics_register();
	socketmap_metrics_register();
	shared_metrics_register();
	monitorsched_metrics_register(d->dm_ms);
}

static void
daemon_save(struct daemon *d)
{
	const char *path = daemon_cfg(d)->c_cache.cca_file;
	char *err = NULL;

	if (path == NULL || *path == '\0')
		return;
	if (cache_save(d->dm_cache, path, time(NULL), &err) != 0) {
		log_warnx("cache: %s", err);
		free(err);
	}
}

static void
daemon_arm_save(struct daemon *d)
{
	unsigned every = daemon_cfg(d)->c_cache.cca_save_interval;

	if (iv_timer_registered(&d->dm_save_timer))
		iv_timer_unregister(&d->dm_save_timer);
	if (every == 0 || *daemon_cfg(d)->c_cache.cca_file == '\0')
		return;
	iv_validate_now();
	d->dm_save_timer.expires = iv_now;
	deadline_add_ms(&d->dm_save_timer.expires, every * 1000);
	iv_timer_register(&d->dm_save_timer);
}

static void
daemon_save_timer(void *cookie)
{
	struct daemon *d = cookie;

	daemon_save(d);
	daemon_arm_save(d);
}

static void
daemon_quit(struct daemon *d)
{
	log_notice("stopping: saving the cache and closing");
	daemon_save(d);
	iv_quit();
}

/* Every 100 ms while stopping: quit once no message is open, or at the
 * drain bound. */
static void
daemon_drain(void *cookie)
{
	struct daemon *d = cookie;
	int open = filter_messages();

	if (open > 0 && !deadline_passed(&d->dm_drain_end)) {
		iv_validate_now();
		d->dm_drain_timer.expires = iv_now;
		deadline_add_ms(&d->dm_drain_timer.expires, 100);
		iv_timer_register(&d->dm_drain_timer);
		return;
	}
	if (open > 0)
		log_warnx("milter: %d messages still open after milter.drain_timeout_ms: "
		    "their MTAs will apply their milter default action", open);
	filter_stop();
	daemon_quit(d);
}

static void
daemon_stop(void *cookie)
{
	struct daemon *d = cookie;
	unsigned ms;

	if (d->dm_stopping)
		return;
	d->dm_stopping = true;
	notify_stopping("stopping: draining the milter, saving the cache");
	if (!d->dm_milter) {
		daemon_quit(d);
		return;
	}
	filter_drain();
	ms = daemon_cfg(d)->c_milter.cm_drain_timeout_ms;
	log_notice("stopping: new milter messages get 451 4.3.2; waiting up to %u ms for "
	    "%d open messages", ms, filter_messages());
	deadline_in(&d->dm_drain_end, CLOCK_MONOTONIC, ms);
	daemon_drain(d);
}

/* The filter's thread ended (any thread): back on the loop, unless the
 * loop is gone already (the event is unregistered under the same lock). */
static pthread_mutex_t daemon_ended_lock = PTHREAD_MUTEX_INITIALIZER;
static bool daemon_ended_live;

static void
daemon_milter_ended_post(void *cookie)
{
	struct daemon *d = cookie;

	pthread_mutex_lock(&daemon_ended_lock);
	if (daemon_ended_live)
		iv_event_post(&d->dm_milter_ended);
	pthread_mutex_unlock(&daemon_ended_lock);
}

static void
daemon_milter_ended(void *cookie)
{
	struct daemon *d = cookie;

	if (d->dm_stopping)
		return;
	log_errx("milter: libmilter stopped by itself (a signal it caught, or an "
	    "error): shutting down");
	daemon_stop(d);
}

/* Remember the outcome of a reload for `ctl stats`; msg is taken. */
static void
daemon_reload_outcome(struct daemon *d, bool ok, char *msg)
{
	d->dm_reload_time = time(NULL);
	d->dm_reload_ok = ok;
	free(d->dm_reload_msg);
	d->dm_reload_msg = msg;
}

/* The STATUS= line for the service manager: entries and the last reload. */
static char *
daemon_status(const struct daemon *d)
{
	struct cache_stats cs;

	cache_stats(d->dm_cache, &cs);
	if (d->dm_reload_time == 0)
		return xasprintf("%lu cache entries; generation %u; no reload yet", cs.cs_entries,
		    generation_number(d->dm_gen));
	return xasprintf("%lu cache entries; generation %u; last reload %s", cs.cs_entries,
	    generation_number(d->dm_gen), d->dm_reload_ok ? "ok" : "refused (see the log)");
}

static void
daemon_notify_ready(const struct daemon *d)
{
	char *status = daemon_status(d);

	notify_ready(status);
	free(status);
}

/*
 * The reload (SIGHUP, SIGUSR1, `ctl reload`): 0 with a malloc'ed *msg
 * saying what was loaded, or -1 with a malloc'ed *msg saying why not
 * (the running configuration stays). Both are logged.
 */
static int
daemon_reload_now(struct daemon *d, char **msg)
{
	struct engine *en = NULL;
	struct cfg *cfg;
	char *err = NULL;

	notify_reloading();
	if ((cfg = cfg_load(d->dm_cfgpath, &err)) == NULL ||
	    (en = engine_new(cfg, false, &err)) == NULL ||
	    ovwatch_reload_check(d->dm_ov, cfg->c_overrides_file, &err) != 0) {
		*msg = xasprintf("reload refused, keeping the running configuration: %s", err);
		free(err);
		if (en != NULL)
			engine_unref(en);
		if (cfg != NULL)
			cfg_unref(cfg);
		log_errx("%s", *msg);
		daemon_reload_outcome(d, false, xstrdup(*msg));
		daemon_notify_ready(d);
		return -1;
	}
	daemon_log_setup(cfg, true);
	/* The one reload point: every face reads the generation in force. */
	generation_swap(d->dm_gen, en);
	ovwatch_reload_commit(d->dm_ov);
	engine_unref(en);
	cfg_unref(cfg);
	daemon_arm_save(d);
	*msg = xasprintf("configuration reloaded from %s (generation %u)", d->dm_cfgpath,
	    generation_number(d->dm_gen));
	log_notice("%s", *msg);
	daemon_reload_outcome(d, true, xstrdup(*msg));
	daemon_notify_ready(d);
	return 0;
}

static void
daemon_reload(void *cookie)
{
	char *msg = NULL;

	(void)daemon_reload_now(cookie, &msg);
	free(msg);
}

/* ctld_ops */
static int
daemon_ctl_reload(void *arg, char **msg)
{
	return daemon_reload_now(arg, msg);
}

static void
daemon_ctl_stats(void *arg, struct sbuf *sb)
{
	struct daemon *d = arg;
	struct socketmap_stats ss;
	char when[32];
	struct tm tm;

	tlspolicy_stats(d->dm_tp, &ss);
	sbuf_printf(sb, "socketmap_connections %lu\nsocketmap_requests %lu\n"
	    "milter_messages_open %d\n", ss.ss_connections, ss.ss_requests,
	    d->dm_milter ? filter_messages() : 0);
	if (d->dm_reload_time == 0) {
		sbuf_append(sb, "last_reload none\n");
		return;
	}
	gmtime_r(&d->dm_reload_time, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sbuf_printf(sb, "last_reload %s %s: %s\n", when, d->dm_reload_ok ? "ok" : "refused",
	    d->dm_reload_msg);
}

/*
 * The control socket (control.socket, "" = none). The default path is
 * optional: when it cannot be opened (no /run/danemilter, another daemon
 * there) the daemon says so and runs without one; a socket the
 * configuration names otherwise must open. 0, or -1 after the message.
 */
static int
daemon_control_open(struct daemon *d, int fd)
{
	const struct cfg_control *cc = &daemon_cfg(d)->c_control;
	struct ctld_ops ops = { daemon_ctl_reload, daemon_ctl_stats, d };
	char *err = NULL, name[64];

	if (fd >= 0) {
		snprintf(name, sizeof(name), "systemd:fd%d", fd);
		d->dm_ctl = ctld_new(name, 0, fd, d->dm_cache, d->dm_gen, &ops, &err);
		if (d->dm_ctl != NULL)
			return 0;
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
		return -1;
	}
	if (*cc->cc_socket == '\0')
		return 0;
	d->dm_ctl = ctld_new(cc->cc_socket, (unsigned)strtoul(cc->cc_mode, NULL, 8), -1,
	    d->dm_cache, d->dm_gen, &ops, &err);
	if (d->dm_ctl != NULL)
		return 0;
	if (strcmp(cc->cc_socket, cfg_default_control_socket) == 0) {
		fprintf(stderr, "danemilter: warning: %s: running without a control socket\n", err);
		free(err);
		return 0;
	}
	fprintf(stderr, "danemilter: %s\n", err);
	free(err);
	return -1;
}

/* The pid file is opened before dropping privileges (its directory may
 * be root's) and written after detaching (the pid changes). */
static int
daemon_pidfile_open(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static int
daemon_pidfile_write(int fd)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void
daemon_signal(struct iv_signal *s, int signum, void (*handler)(void *), void *cookie)
{
	IV_SIGNAL_INIT(s);
	s->signum = signum;
	s->flags = 0;
	s->cookie = cookie;
	s->handler = handler;
	iv_signal_register(s);
}

/* daemon.user / daemon.group into uid/gid (-1 = keep). 0, or -1 with a
 * message on stderr. */
static int
daemon_account(const struct cfg *cfg, int *uid, int *gid)
{
	const struct cfg_daemon *cd = &cfg->c_daemon;
	struct passwd *pw;
	struct group *gr;

	*uid = *gid = -1;
	if (*cd->cdm_user != '\0') {
		if ((pw = getpwnam(cd->cdm_user)) == NULL) {
			fprintf(stderr, "danemilter: %s: daemon.user \"%s\": no such user\n",
			    cfg->c_file ? cfg->c_file : "(defaults)", cd->cdm_user);
			return -1;
		}
		*uid = (int)pw->pw_uid;
		*gid = (int)pw->pw_gid;
	}
	if (*cd->cdm_group != '\0') {
		if ((gr = getgrnam(cd->cdm_group)) == NULL) {
			fprintf(stderr, "danemilter: %s: daemon.group \"%s\": no such group\n",
			    cfg->c_file ? cfg->c_file : "(defaults)", cd->cdm_group);
			return -1;
		}
		*gid = (int)gr->gr_gid;
	}
	return 0;
}

/*
 * The owner and group of a face's unix sockets: owner / group named in
 * the configuration (what: "socketmap", "milter"), else the daemon's
 * account (duid/dgid, -1 = as created). 0, or -1 with a message.
 */
static int
daemon_sock_account(const struct cfg *cfg, const char *what, const char *owner,
    const char *group, int duid, int dgid, int *uid, int *gid)
{
	struct passwd *pw;
	struct group *gr;

	*uid = duid;
	*gid = dgid;
	if (*owner != '\0') {
		if ((pw = getpwnam(owner)) == NULL) {
			fprintf(stderr, "danemilter: %s: %s.owner \"%s\": no such user\n",
			    cfg->c_file ? cfg->c_file : "(defaults)", what, owner);
			return -1;
		}
		*uid = (int)pw->pw_uid;
		if (*group == '\0')
			*gid = (int)pw->pw_gid;
	}
	if (*group != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			fprintf(stderr, "danemilter: %s: %s.group \"%s\": no such group\n",
			    cfg->c_file ? cfg->c_file : "(defaults)", what, group);
			return -1;
		}
		*gid = (int)gr->gr_gid;
	}
	return 0;
}

/* Give socketmap.listen's unix sockets their owner and group (a Postfix
 * in its chroot connects as mail_owner). 0, or -1 with a message. */
static int
daemon_socketmap_chown(const struct cfg *cfg, int uid, int gid)
{
	const struct cfg_socketmap *cs = &cfg->c_socketmap;
	struct endpoint ep;
	size_t i;

	if (uid == -1 && gid == -1)
		return 0;
	for (i = 0; i < cs->csm_nlisten; i++) {
		if (endpoint_parse(cs->csm_listen[i], ENDPOINT_LISTEN, 0, &ep) != ENDPOINT_OK ||
		    ep.ep_kind != ENDPOINT_UNIX)
			continue;
		if (chown(ep.ep_path, (uid_t)uid, (gid_t)gid) != 0) {
			fprintf(stderr, "danemilter: socketmap: %s: chown: %s\n", cs->csm_listen[i],
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Drop to uid/gid (after every socket is bound). */
static int
daemon_drop(int uid, int gid)
{
	if (gid != -1) {
		if (setgroups(0, NULL) != 0 && errno != EPERM)
			return -1;
		if (setgid((gid_t)gid) != 0)
			return -1;
	}
	if (uid != -1 && setuid((uid_t)uid) != 0)
		return -1;
	if (uid != -1 && uid != 0 && setuid(0) == 0) {
		errno = EPERM;          /* could get root back: refuse to run */
		return -1;
	}
	return 0;
}

/*
 * glibc gives every thread that allocates an arena of its own, up to 8 per
 * core, and an arena keeps the pages it grew to: libmilter's threads come
 * and go with the MTA's connections, so the footprint drifts up for hours.
 * Two arenas serve one event-loop thread and the milter threads without
 * contention worth measuring. MALLOC_ARENA_MAX in the environment wins.
 * Called before any thread starts.
 */
static void
daemon_malloc_setup(void)
{
#ifdef __GLIBC__
	if (getenv("MALLOC_ARENA_MAX") == NULL)
		(void)mallopt(M_ARENA_MAX, 2);
#endif
}

static void
daemon_usage(void)
{
	fprintf(stderr, "usage: danemilter [-c FILE] [-f] [-p PIDFILE]\n");
}

int
daemon_main(int argc, char **argv)
{
	const char *pidfile = NULL;
	bool foreground = false;
	static char cfgabs[PATH_MAX], pidabs[PATH_MAX + 256];
	char cwd[PATH_MAX];
	/* static: a start-up failure returns at once and the process exits; what
	 * it set up stays reachable until then (freed by the exit, not leaked) */
	static struct daemon d;
	struct engine *en;
	struct cfg *cfg;
	char *err = NULL;
	long loaded;
	struct stsstore_stats sts_loaded;
	struct activation act;
	int sm_fds[64];
	char milter_name[32], metrics_name[32], control_name[32];
	size_t sm_nfds = 0;
	int c, uid, gid, open_conns, pidfd = -1, fd, milter_fd, metrics_fd;
	int sm_uid, sm_gid, m_uid, m_gid;

	memset(&d, 0, sizeof(d));
	daemon_malloc_setup();
	optind = 1;
	while ((c = getopt(argc, argv, "c:fp:")) != -1) {
		switch (c) {
		case 'c': d.dm_cfgpath = optarg; break;
		case 'f': foreground = true; break;
		case 'p': pidfile = optarg; break;
		default: daemon_usage(); return EX_USAGE;
		}
	}
	if (optind != argc) {
		daemon_usage();
		return EX_USAGE;
	}
	if (d.dm_cfgpath == NULL)
		d.dm_cfgpath = CLI_DEFAULT_CONFIG;
	/* daemon() moves to "/": reloads and the pid file need absolute paths. */
	if (*d.dm_cfgpath != '/' && realpath(d.dm_cfgpath, cfgabs) != NULL)
		d.dm_cfgpath = cfgabs;
	if (pidfile != NULL && *pidfile != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
		snprintf(pidabs, sizeof(pidabs), "%s/%s", cwd, pidfile);
		pidfile = pidabs;
	}
	if ((cfg = cli_load_config(d.dm_cfgpath)) == NULL)
		return EX_CONFIG;

	if (daemon_account(cfg, &uid, &gid) != 0 ||
	    daemon_sock_account(cfg, "socketmap", cfg->c_socketmap.csm_owner,
	    cfg->c_socketmap.csm_group, uid, gid, &sm_uid, &sm_gid) != 0 ||
	    daemon_sock_account(cfg, "milter", cfg->c_milter.cm_owner, cfg->c_milter.cm_group,
	    uid, gid, &m_uid, &m_gid) != 0) {
		cfg_unref(cfg);
		return EX_CONFIG;
	}
	if (pidfile == NULL && *cfg->c_daemon.cdm_pidfile != '\0') {
		/* a copy: the cfg is freed by a reload or at exit, before the unlink */
		snprintf(pidabs, sizeof(pidabs), "%s", cfg->c_daemon.cdm_pidfile);
		pidfile = pidabs;
	}

	/* Sockets passed by systemd, by FileDescriptorName=. */
	if (activation_load(&act, &err) != 0) {
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
		return EX_OSERR;
	}
	while (sm_nfds < sizeof(sm_fds) / sizeof(sm_fds[0]) &&
	    (fd = activation_take(&act, "socketmap")) >= 0)
		sm_fds[sm_nfds++] = fd;
	milter_fd = activation_take(&act, "milter");
	metrics_fd = activation_take(&act, "metrics");
	fd = activation_take(&act, "control");
	activation_free(&act);

	/* Before anything else is made: a bad key or state file only
	 * needs the configuration freed. */
	if (*cfg->c_havedane.chd_zone != '\0' &&
	    (d.dm_hd = havedane_open(&cfg->c_havedane, &err)) == NULL) {
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
		cfg_unref(cfg);
		return EX_CONFIG;
	}
	iv_init();
	if ((en = engine_new(cfg, false, &err)) == NULL) {
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
		return EX_CONFIG;
	}
	cfg_unref(cfg);
	d.dm_gen = generation_new(en);
	engine_unref(en);
	/* Before the cache file: its verdicts are built under these. */
	if ((d.dm_ov = ovwatch_new(d.dm_gen, daemon_cfg(&d)->c_overrides_file, &err)) == NULL) {
		fprintf(stderr, "danemilter: overrides: %s\n", err);
		free(err);
		generation_free(d.dm_gen);      /* and the engine: nothing else is up yet */
		iv_deinit();
		return EX_CONFIG;
	}
	d.dm_cache = cache_new(d.dm_gen);
	d.dm_ms = monitorsched_new(d.dm_gen);
	daemon_metrics_register(&d);
	/* Read once at start-up (secrets before the privileges go). */
	d.dm_shared = shared_new(&daemon_cfg(&d)->c_cache, &err);
	if (err != NULL) {
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
		return EX_CONFIG;
	}
	cache_set_shared(d.dm_cache, d.dm_shared);
	if (*daemon_cfg(&d)->c_cache.cca_file != '\0') {
		loaded = cache_load(d.dm_cache, daemon_cfg(&d)->c_cache.cca_file, time(NULL), &err);
		if (loaded < 0) {
			fprintf(stderr, "danemilter: cache: %s\n", err);
			free(err);
			return EX_CONFIG;
		}
	} else {
		loaded = 0;
	}
	if (d.dm_hd != NULL && daemon_cfg(&d)->c_havedane.chd_nlisten > 0 &&
	    (d.dm_hw = hdweb_new(d.dm_hd, &daemon_cfg(&d)->c_havedane, &err)) == NULL) {
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
		return EX_OSERR;
	}
	if ((d.dm_tp = tlspolicy_new(d.dm_cache, d.dm_gen, sm_fds, sm_nfds, &err)) == NULL) {
		fprintf(stderr, "danemilter: socketmap: %s\n", err);
		free(err);
		return EX_OSERR;
	}
	if (sm_nfds == 0 && daemon_socketmap_chown(daemon_cfg(&d), sm_uid, sm_gid) != 0)
		return EX_OSERR;
	d.dm_gate = gate_new();
	d.dm_pc = probecache_new();
	probecache_set_shared(d.dm_pc, d.dm_shared);
	ask_engine_init(d.dm_cache, d.dm_gen, d.dm_pc);
	if (milter_fd >= 0 || *daemon_cfg(&d)->c_milter.cm_socket != '\0') {
		if (filter_open(d.dm_gen, d.dm_gate, m_uid, m_gid, milter_fd, &err) != 0) {
			fprintf(stderr, "danemilter: %s\n", err);
			free(err);
			return EX_OSERR;
		}
		d.dm_milter = true;
		filter_set_havedane(d.dm_hd);
	}
	if ((metrics_fd >= 0 || *daemon_cfg(&d)->c_metrics.cmt_listen != '\0') &&
	    (d.dm_md = metricsd_new(daemon_cfg(&d), metrics_fd, &err)) == NULL) {
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
		gate_destroy(d.dm_gate);        /* no milter thread runs yet */
		return EX_OSERR;
	}
	if (daemon_control_open(&d, fd) != 0) {
		gate_destroy(d.dm_gate);        /* no milter thread runs yet */
		return EX_OSERR;
	}
	if (pidfile && (pidfd = daemon_pidfile_open(pidfile)) < 0) {
		fprintf(stderr, "danemilter: cannot write the pid file %s: %s\n",
		    pidfile, strerror(errno));
		return EX_CANTCREAT;
	}
	if (daemon_drop(uid, gid) != 0) {
		fprintf(stderr, "danemilter: cannot drop to %s/%s: %s\n",
		    daemon_cfg(&d)->c_daemon.cdm_user, daemon_cfg(&d)->c_daemon.cdm_group,
		    strerror(errno));
		return EX_OSERR;
	}
	if (!foreground && daemon(0, 0) != 0) {
		fprintf(stderr, "danemilter: cannot detach: %s\n", strerror(errno));
		return EX_OSERR;
	}
	daemon_log_setup(daemon_cfg(&d), foreground);
	if (d.dm_hw != NULL && hdweb_start(d.dm_hw, &err) != 0) {
		log_errx("%s", err);
		free(err);
		return EX_OSERR;
	}
	if (pidfd >= 0 && daemon_pidfile_write(pidfd) != 0)
		log_warn("cannot write the pid file %s", pidfile);

	daemon_signal(&d.dm_sigterm, SIGTERM, daemon_stop, &d);
	daemon_signal(&d.dm_sigint, SIGINT, daemon_stop, &d);
	daemon_signal(&d.dm_sighup, SIGHUP, daemon_reload, &d);
	daemon_signal(&d.dm_sigusr1, SIGUSR1, daemon_reload, &d);
	IV_TIMER_INIT(&d.dm_save_timer);
	d.dm_save_timer.cookie = &d;
	d.dm_save_timer.handler = daemon_save_timer;
	IV_TIMER_INIT(&d.dm_drain_timer);
	d.dm_drain_timer.cookie = &d;
	d.dm_drain_timer.handler = daemon_drain;
	IV_EVENT_INIT(&d.dm_milter_ended);
	d.dm_milter_ended.cookie = &d;
	d.dm_milter_ended.handler = daemon_milter_ended;
	iv_event_register(&d.dm_milter_ended);
	daemon_ended_live = true;
	daemon_arm_save(&d);
	monitorsched_start(d.dm_ms);
	if (d.dm_milter && filter_run(daemon_milter_ended_post, &d, &err) != 0) {
		log_errx("%s", err);
		free(err);
		return EX_OSERR;
	}
	stsstore_stats(cache_stsstore(d.dm_cache), &sts_loaded);
	snprintf(milter_name, sizeof(milter_name), "systemd:fd%d", milter_fd);
	snprintf(metrics_name, sizeof(metrics_name), "systemd:fd%d", metrics_fd);
	snprintf(control_name, sizeof(control_name), "systemd:fd%d", fd);
	log_notice("danemilter %s started: %ld cache entries loaded (%lu MTA-STS policies)%s%s%s%s%s%s",
	    PACKAGE_VERSION, loaded, sts_loaded.ss_policies,
	    d.dm_milter ? ", milter on " : ", no milter",
	    !d.dm_milter ? "" : milter_fd >= 0 ? milter_name : daemon_cfg(&d)->c_milter.cm_socket,
	    d.dm_md != NULL ? ", metrics on " : "",
	    d.dm_md == NULL ? "" : metrics_fd >= 0 ? metrics_name :
	    daemon_cfg(&d)->c_metrics.cmt_listen,
	    d.dm_ctl != NULL ? ", control on " : "",
	    d.dm_ctl == NULL ? "" : fd >= 0 ? control_name : daemon_cfg(&d)->c_control.cc_socket);
	if (sm_nfds > 0)
		log_notice("socket activation: the socketmap server accepts on %zu socket(s) "
		    "from systemd (fd %d...) instead of socketmap.listen", sm_nfds, sm_fds[0]);
	/* Every listener is bound, the cache loaded, the milter running. */
	daemon_notify_ready(&d);

	iv_main();

	/* Late asks find the gate closed, queued ones end at once, and the
	 * lookups still in flight end now. */
	gate_close(d.dm_gate);
	ask_engine_shutdown();
	if (d.dm_milter && !filter_join(6000))
		log_warnx("milter: libmilter's listener did not stop in time");
	if (iv_timer_registered(&d.dm_save_timer))
		iv_timer_unregister(&d.dm_save_timer);
	if (iv_timer_registered(&d.dm_drain_timer))
		iv_timer_unregister(&d.dm_drain_timer);
	pthread_mutex_lock(&daemon_ended_lock);
	daemon_ended_live = false;
	iv_event_unregister(&d.dm_milter_ended);
	pthread_mutex_unlock(&daemon_ended_lock);
	iv_signal_unregister(&d.dm_sigterm);
	iv_signal_unregister(&d.dm_sigint);
	iv_signal_unregister(&d.dm_sighup);
	iv_signal_unregister(&d.dm_sigusr1);
	ctld_free(d.dm_ctl);
	free(d.dm_reload_msg);
	metricsd_free(d.dm_md);
	hdweb_free(d.dm_hw);
	monitorsched_free(d.dm_ms);
	tlspolicy_free(d.dm_tp);
	probecache_free(d.dm_pc);
	cache_free(d.dm_cache);
	shared_free(d.dm_shared);       /* after the cache: its jobs hold claims */
	/* Open connections keep their own cfg; new ones would get none. */
	if (d.dm_milter)
		filter_forget_generation();
	ovwatch_free(d.dm_ov);
	generation_free(d.dm_gen);
	open_conns = d.dm_milter ? filter_connections() : 0;
	if (open_conns == 0) {
		/* no milter thread can reach these any more */
		gate_destroy(d.dm_gate);
		filter_set_havedane(NULL);
		havedane_free(d.dm_hd);
		filter_free();
		iv_deinit();
	} else {
		log_notice("milter: %d idle connections closed at exit", open_conns);
	}
	if (pidfile)
		(void)unlink(pidfile);
	log_notice("stopped");
	return 0;
}
