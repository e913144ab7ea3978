/*
 * daemon.c: `danemilter [-c FILE] [-f] [-p PIDFILE]`: the long-running
 * daemon. One ivykis loop runs the engine (resolver, MTA-STS fetcher), the
 * verdict cache and the Postfix socketmap policy server.
 *
 * Start-up errors (configuration, listeners, cache file) are reported on
 * stderr and exit EX_CONFIG / EX_OSERR before the process detaches. Without
 * -f it detaches after binding. SIGTERM/SIGINT: save the cache, close
 * everything, exit 0. SIGHUP: reload the configuration (a broken new file
 * is logged and the old configuration kept); listeners keep their
 * addresses until a restart. The cache file is also saved every
 * cache.save_interval seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#include "common/log.h"
#include "common/xmalloc.h"
#include "milter/cmd.h"
#include "policy/cache.h"
#include "policy/tlspolicy.h"

struct daemon {
	const char *dm_cfgpath;
	struct engine *dm_en;
	struct cache *dm_cache;
	struct tlspolicy *dm_tp;
	struct iv_signal dm_sigterm, dm_sigint, dm_sighup;
	struct iv_timer dm_save_timer;
};

static void
daemon_log_setup(const struct cfg *cfg, bool foreground)
{
	const struct cfg_log *cl = &cfg->c_log;

	(void)foreground;
	log_init(cl->clg_dest == CFG_LOG_SYSLOG ? LOG_DEST_SYSLOG : LOG_DEST_STDERR,
	    "danemilter", cl->clg_facility, cl->clg_level);
}

static void
daemon_save(struct daemon *d)
{
	const char *path = d->dm_en->en_cfg->c_cache.cca_file;
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
	unsigned every = d->dm_en->en_cfg->c_cache.cca_save_interval;

	if (iv_timer_registered(&d->dm_save_timer))
		iv_timer_unregister(&d->dm_save_timer);
	if (every == 0 || *d->dm_en->en_cfg->c_cache.cca_file == '\0')
		return;
	iv_validate_now();
	d->dm_save_timer.expires = iv_now;
	d->dm_save_timer.expires.tv_sec += every;
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
daemon_stop(void *cookie)
{
	struct daemon *d = cookie;

	log_notice("stopping: saving the cache and closing");
	daemon_save(d);
	iv_quit();
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
	cache_set_engine(d->dm_cache, en);
	tlspolicy_set_cfg(d->dm_tp, cfg);
	engine_unref(d->dm_en);
	d->dm_en = en;
	cfg_unref(cfg);
	daemon_arm_save(d);
	log_notice("configuration reloaded from %s", d->dm_cfgpath);
}

static int
daemon_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -1;
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
	struct cfg *cfg;
	char *err = NULL;
	long loaded;
	int c;

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
		d.dm_cfgpath = CMD_DEFAULT_CONFIG;
	/* daemon() moves to "/": reloads and the pid file need absolute paths. */
	if (*d.dm_cfgpath != '/' && realpath(d.dm_cfgpath, cfgabs) != NULL)
		d.dm_cfgpath = cfgabs;
	if (pidfile != NULL && *pidfile != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
		snprintf(pidabs, sizeof(pidabs), "%s/%s", cwd, pidfile);
		pidfile = pidabs;
	}
	if ((cfg = cmd_load_config(d.dm_cfgpath)) == NULL)
		return EX_CONFIG;

	iv_init();
	if ((d.dm_en = engine_new(cfg, false, &err)) == NULL) {
		fprintf(stderr, "danemilter: %s\n", err);
		return EX_CONFIG;
	}
	cfg_unref(cfg);
	d.dm_cache = cache_new(d.dm_en);
	if (*d.dm_en->en_cfg->c_cache.cca_file != '\0') {
		loaded = cache_load(d.dm_cache, d.dm_en->en_cfg->c_cache.cca_file, time(NULL), &err);
		if (loaded < 0) {
			fprintf(stderr, "danemilter: cache: %s\n", err);
			return EX_CONFIG;
		}
	} else {
		loaded = 0;
	}
	if ((d.dm_tp = tlspolicy_new(d.dm_cache, d.dm_en->en_cfg, &err)) == NULL) {
		fprintf(stderr, "danemilter: socketmap: %s\n", err);
		return EX_OSERR;
	}
	if (!foreground && daemon(0, 0) != 0) {
		fprintf(stderr, "danemilter: cannot detach: %s\n", strerror(errno));
		return EX_OSERR;
	}
	daemon_log_setup(d.dm_en->en_cfg, foreground);
	if (pidfile && daemon_pidfile(pidfile) != 0)
		log_warn("cannot write the pid file %s", pidfile);

	daemon_signal(&d.dm_sigterm, SIGTERM, daemon_stop, &d);
	daemon_signal(&d.dm_sigint, SIGINT, daemon_stop, &d);
	daemon_signal(&d.dm_sighup, SIGHUP, daemon_reload, &d);
	IV_TIMER_INIT(&d.dm_save_timer);
	d.dm_save_timer.cookie = &d;
	d.dm_save_timer.handler = daemon_save_timer;
	daemon_arm_save(&d);
	log_notice("danemilter %s started: %ld cache entries loaded", PACKAGE_VERSION, loaded);

	iv_main();

	if (iv_timer_registered(&d.dm_save_timer))
		iv_timer_unregister(&d.dm_save_timer);
	iv_signal_unregister(&d.dm_sigterm);
	iv_signal_unregister(&d.dm_sigint);
	iv_signal_unregister(&d.dm_sighup);
	tlspolicy_free(d.dm_tp);
	cache_free(d.dm_cache);
	engine_unref(d.dm_en);
	iv_deinit();
	if (pidfile)
		(void)unlink(pidfile);
	log_notice("stopped");
	return 0;
}
