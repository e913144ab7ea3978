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
 * Signals: libmilter's own signal thread would treat SIGHUP as "stop";
 * the milter threads block these signals and the main thread takes them
 * (the kernel prefers the main thread for a process-directed signal). If
 * libmilter stops by itself all the same, the daemon shuts down cleanly.
 * SIGUSR1 reloads too (as OpenDKIM does): libmilter never waits for it, so
 * it cannot be taken for "stop" under any timing.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "dns/dns.h"
#include "milter/ask.h"
#include "cli/cli.h"
#include "daemon/daemon.h"
#include "milter/filter.h"
#include "policy/cache.h"
#include "policy/generation.h"
#include "policy/monitorsched.h"
#include "policy/mtasts.h"
#include "policy/probecache.h"
#include "policy/stsstore.h"
#include "http/metricsd.h"
#include "socketmap/socketmap.h"
#include "socketmap/tlspolicy.h"

struct daemon {
	const char *dm_cfgpath;
	struct generation *dm_gen;      /* the configuration and engine in force */
	struct cache *dm_cache;
	struct tlspolicy *dm_tp;
	struct metricsd *dm_md;         /* the metrics endpoint, or NULL */
	struct gate *dm_gate;
	struct probecache *dm_pc;       /* the milter's probe results */
	struct monitorsched *dm_ms;     /* the scheduled monitor (monitor.domains) */
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

static void
daemon_reload(void *cookie)
{
	struct daemon *d = cookie;
	struct engine *en;
	struct cfg *cfg;
	char *err = NULL;

	if ((cfg = cfg_load(d->dm_cfgpath, &err)) == NULL) {
		log_errx("reload refused, keeping the running configuration: %s", err);
		free(err);
		return;
	}
	if ((en = engine_new(cfg, false, &err)) == NULL) {
		log_errx("reload refused, keeping the running configuration: %s", err);
		free(err);
		cfg_unref(cfg);
		return;
	}
	daemon_log_setup(cfg, true);
	/* The one reload point: every face reads the generation in force. */
	generation_swap(d->dm_gen, en);
	engine_unref(en);
	cfg_unref(cfg);
	daemon_arm_save(d);
	log_notice("configuration reloaded from %s", d->dm_cfgpath);
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
	struct daemon d;
	struct engine *en;
	struct cfg *cfg;
	char *err = NULL;
	long loaded;
	struct stsstore_stats sts_loaded;
	int c, uid, gid, open_conns, pidfd = -1;

	memset(&d, 0, sizeof(d));
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

	if (daemon_account(cfg, &uid, &gid) != 0) {
		cfg_unref(cfg);
		return EX_CONFIG;
	}
	if (pidfile == NULL && *cfg->c_daemon.cdm_pidfile != '\0') {
		/* a copy: the cfg is freed by a reload or at exit, before the unlink */
		snprintf(pidabs, sizeof(pidabs), "%s", cfg->c_daemon.cdm_pidfile);
		pidfile = pidabs;
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
	d.dm_cache = cache_new(d.dm_gen);
	d.dm_ms = monitorsched_new(d.dm_gen);
	daemon_metrics_register(&d);
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
	if ((d.dm_tp = tlspolicy_new(d.dm_cache, d.dm_gen, &err)) == NULL) {
		fprintf(stderr, "danemilter: socketmap: %s\n", err);
		free(err);
		return EX_OSERR;
	}
	d.dm_gate = gate_new();
	d.dm_pc = probecache_new();
	ask_engine_init(d.dm_cache, d.dm_gen, d.dm_pc);
	if (*daemon_cfg(&d)->c_milter.cm_socket != '\0') {
		if (filter_open(d.dm_gen, d.dm_gate, uid, gid, &err) != 0) {
			fprintf(stderr, "danemilter: %s\n", err);
			free(err);
			return EX_OSERR;
		}
		d.dm_milter = true;
	}
	if (*daemon_cfg(&d)->c_metrics.cmt_listen != '\0' &&
	    (d.dm_md = metricsd_new(daemon_cfg(&d), &err)) == NULL) {
		fprintf(stderr, "danemilter: %s\n", err);
		free(err);
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
	log_notice("danemilter %s started: %ld cache entries loaded (%lu MTA-STS policies)%s%s%s%s",
	    PACKAGE_VERSION, loaded, sts_loaded.ss_policies,
	    d.dm_milter ? ", milter on " : ", no milter",
	    d.dm_milter ? daemon_cfg(&d)->c_milter.cm_socket : "",
	    d.dm_md != NULL ? ", metrics on " : "",
	    d.dm_md != NULL ? daemon_cfg(&d)->c_metrics.cmt_listen : "");

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
	metricsd_free(d.dm_md);
	monitorsched_free(d.dm_ms);
	tlspolicy_free(d.dm_tp);
	probecache_free(d.dm_pc);
	cache_free(d.dm_cache);
	/* Open connections keep their own cfg; new ones would get none. */
	if (d.dm_milter)
		filter_forget_generation();
	generation_free(d.dm_gen);
	open_conns = d.dm_milter ? filter_connections() : 0;
	if (open_conns == 0) {
		/* no milter thread can reach these any more */
		gate_destroy(d.dm_gate);
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
