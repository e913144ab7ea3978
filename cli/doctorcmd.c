/*
 * doctorcmd.c: `danemilter doctor [-c FILE] [--postfix-config DIR]
 *     [--resolv-conf FILE]`
 *
 * Says what Postfix still needs for DANE with danemilter. Reads Postfix's
 * effective configuration from `postconf [-c DIR] -x` (main.cf),
 * `postconf [-c DIR] -M -x` (master.cf services) and `postconf [-c DIR]
 * -P -x` (master.cf -o overrides), danemilter's configuration as the other
 * commands load it (-c), and the resolver configuration smtp(8) reads
 * (postconf_resolv_path(): /etc/resolv.conf, or its copy in the chroot; or
 * --resolv-conf FILE); the rules are in doctor.c. Prints one line per
 * finding, "doctor: ..." (problems), "doctor: warning: ...", "doctor:
 * note: ...", postconf's own warnings as notes, and a last line "doctor:
 * all good", "doctor: no problems, N warnings" or "doctor: N problems[, M
 * warnings]".
 *
 * postconf runs as a child with /dev/null as stdin, in its own process
 * group, found on PATH (else /usr/sbin/postconf); each run is killed
 * (the whole group) after DOCTORCMD_TIMEOUT_MS.
 *
 * Exit codes: 0 no problems (warnings allowed); 1 problems; EX_USAGE (64);
 * EX_TEMPFAIL (75) postconf could not be run, failed, timed out or printed
 * something unexpected; EX_CONFIG (78) danemilter's configuration is bad.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/sbuf.h"
#include "common/deadline.h"
#include "common/endpoint.h"
#include "common/xmalloc.h"
#include "cli/cli.h"
#include "cli/doctor.h"

/* One postconf run, start to exit. */
#define DOCTORCMD_TIMEOUT_MS   10000
/* More output than any Postfix configuration prints: a runaway. */
#define DOCTORCMD_MAX_OUTPUT   (16u << 20)
#define DOCTORCMD_MAX_STDERR   (64u << 10)
#define DOCTORCMD_MAX_RESOLV   (1u << 20)

static void
doctorcmd_usage(void)
{
	fprintf(stderr, "usage: danemilter doctor [-c FILE] [--postfix-config DIR] "
	    "[--resolv-conf FILE]\n");
}

/* The command line as text, for messages. */
static char *
doctorcmd_argv_text(char *const args[])
{
	struct sbuf sb = SBUF_INIT;
	size_t i;

	for (i = 0; args[i] != NULL; i++)
		sbuf_printf(&sb, "%s%s", i ? " " : "", args[i]);
	return sbuf_steal(&sb);
}

/* The first line of s, without its newline, for a message. */
static char *
doctorcmd_first_line(const char *s)
{
	s += strspn(s, " \t\r\n");
	return xstrndup(s, strcspn(s, "\r\n"));
}

/* The child: postconf with stdout/stderr on the pipes; never returns. */
static void __attribute__((noreturn))
doctorcmd_child(char *const args[], int outfd, int errfd)
{
	int null = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(outfd, STDOUT_FILENO) < 0 ||
	    dup2(errfd, STDERR_FILENO) < 0)
		_exit(127);
	execvp("postconf", args);
	if (errno == ENOENT)
		execv("/usr/sbin/postconf", args);
	dprintf(STDERR_FILENO, "cannot run postconf: %s\n", strerror(errno));
	_exit(127);
}

/*
 * Run postconf with args (args[0] = "postconf"), bounded in time. Returns
 * true with *out (stdout) and *errtext (stderr) malloc'ed, or false with
 * *why malloc'ed: it could not start, timed out, printed too much or
 * exited other than 0.
 */
static bool
doctorcmd_postconf(char *const args[], char **out, char **errtext, char **why)
{
	struct sbuf ob = SBUF_INIT, eb = SBUF_INIT;
	int op[2], ep[2], status = 0, rc;
	long long deadline = deadline_now_ms() + DOCTORCMD_TIMEOUT_MS, left;
	bool oopen = true, eopen = true, exited = false, toolong = false;
	char buf[8192], *cmd = doctorcmd_argv_text(args);
	pid_t pid;
	ssize_t nr;

	*out = *errtext = *why = NULL;
	if (pipe2(op, O_CLOEXEC) != 0) {
		*why = xasprintf("%s: pipe: %s", cmd, strerror(errno));
		free(cmd);
		return false;
	}
	if (pipe2(ep, O_CLOEXEC) != 0) {
		*why = xasprintf("%s: pipe: %s", cmd, strerror(errno));
		close(op[0]);
		close(op[1]);
		free(cmd);
		return false;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		*why = xasprintf("%s: fork: %s", cmd, strerror(errno));
		close(op[0]);
		close(op[1]);
		close(ep[0]);
		close(ep[1]);
		free(cmd);
		return false;
	}
	if (pid == 0)
		doctorcmd_child(args, op[1], ep[1]);
	setpgid(pid, pid);      /* also here: whichever runs first */
	close(op[1]);
	close(ep[1]);
	while ((oopen || eopen || !exited) && (left = deadline - deadline_now_ms()) > 0) {
		struct pollfd pfd[2];
		nfds_t n = 0;

		if (!oopen && !eopen) {
			/* Both closed: wait for the exit, politely. */
			if ((rc = waitpid(pid, &status, WNOHANG)) == pid)
				exited = true;
			else if (rc < 0 && errno != EINTR)
				break;
			else
				poll(NULL, 0, left < 10 ? (int)left : 10);
			continue;
		}
		if (oopen)
			pfd[n++] = (struct pollfd){ .fd = op[0], .events = POLLIN };
		if (eopen)
			pfd[n++] = (struct pollfd){ .fd = ep[0], .events = POLLIN };
		if (poll(pfd, n, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (nfds_t i = 0; i < n; i++) {
			bool isout = pfd[i].fd == op[0];

			if (pfd[i].revents == 0)
				continue;
			nr = read(pfd[i].fd, buf, sizeof(buf));
			if (nr < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (nr <= 0) {
				if (isout)
					oopen = false;
				else
					eopen = false;
				continue;
			}
			if (isout && ob.sb_len + (size_t)nr > DOCTORCMD_MAX_OUTPUT)
				toolong = true;
			else if (isout)
				sbuf_appendn(&ob, buf, (size_t)nr);
			else if (eb.sb_len + (size_t)nr <= DOCTORCMD_MAX_STDERR)
				sbuf_appendn(&eb, buf, (size_t)nr);
		}
		if (toolong)
			break;
	}
	close(op[0]);
	close(ep[0]);
	if (!exited) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (toolong)
			*why = xasprintf("%s printed more than %u bytes", cmd,
			    DOCTORCMD_MAX_OUTPUT);
		else
			*why = xasprintf("%s did not finish within %d s (killed)", cmd,
			    DOCTORCMD_TIMEOUT_MS / 1000);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *first = doctorcmd_first_line(sbuf_str(&eb));

		if (WIFEXITED(status))
			*why = xasprintf("%s failed (exit %d)%s%s", cmd, WEXITSTATUS(status),
			    *first ? ": " : "", first);
		else
			*why = xasprintf("%s died (signal %d)%s%s", cmd, WTERMSIG(status),
			    *first ? ": " : "", first);
		free(first);
	}
	free(cmd);
	if (*why != NULL) {
		sbuf_free(&ob);
		sbuf_free(&eb);
		return false;
	}
	*out = sbuf_steal(&ob);
	*errtext = sbuf_steal(&eb);
	return true;
}

/* Read a whole (small) file; NULL with *err (static text) when it cannot. */
static char *
doctorcmd_read_file(const char *path, const char **err)
{
	struct sbuf sb = SBUF_INIT;
	char buf[4096];
	size_t nr;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		*err = strerror(errno);
		return NULL;
	}
	while ((nr = fread(buf, 1, sizeof(buf), f)) > 0 && sb.sb_len < DOCTORCMD_MAX_RESOLV)
		sbuf_appendn(&sb, buf, nr);
	if (ferror(f)) {
		*err = strerror(errno);
		fclose(f);
		sbuf_free(&sb);
		return NULL;
	}
	fclose(f);
	return sbuf_steal(&sb);
}

/* postconf's stderr lines (warnings about main.cf) as notes. */
static void
doctorcmd_print_stderr(const char *text)
{
	const char *line, *end;

	for (line = text; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		if (end > line)
			printf("doctor: note: %.*s\n", (int)(end - line), line);
	}
}

/* One unix socket of danemilter's, stat'ed for doctor_check_socket(). */
static void
doctorcmd_socket(const char *what, const char *path, const struct doctor_user *du,
    const char *cfgname, struct doctor_report *rep)
{
	struct doctor_socket ds;
	struct passwd *pw;
	struct group *gr;
	struct stat st;
	char owner[32], group[32];

	memset(&ds, 0, sizeof(ds));
	ds.ds_what = what;
	ds.ds_path = path;
	if (stat(path, &st) != 0) {
		ds.ds_errno = errno;
	} else {
		ds.ds_is_socket = S_ISSOCK(st.st_mode);
		ds.ds_mode = (unsigned)(st.st_mode & 07777);
		ds.ds_uid = (unsigned)st.st_uid;
		ds.ds_gid = (unsigned)st.st_gid;
	}
	if ((pw = getpwuid((uid_t)ds.ds_uid)) != NULL)
		snprintf(owner, sizeof(owner), "%s", pw->pw_name);
	else
		snprintf(owner, sizeof(owner), "%u", ds.ds_uid);
	if ((gr = getgrgid((gid_t)ds.ds_gid)) != NULL)
		snprintf(group, sizeof(group), "%s", gr->gr_name);
	else
		snprintf(group, sizeof(group), "%u", ds.ds_gid);
	ds.ds_owner = owner;
	ds.ds_group = group;
	doctor_check_socket(&ds, du, cfgname, rep);
}

/*
 * danemilter's unix sockets (socketmap.listen, milter.socket) against
 * Postfix's mail_owner: can smtp(8) and smtpd(8) connect?
 */
static void
doctorcmd_sockets(const struct postconf *pf, const struct cfg *cfg, struct doctor_report *rep)
{
	const char *name = postconf_param(pf, "mail_owner");
	const char *cfgname = cfg->c_file ? cfg->c_file : "danemilter's configuration";
	struct doctor_user du;
	struct endpoint ep;
	struct passwd *pw;
	gid_t groups[256];
	unsigned ugroups[256];
	int ng = 256, i;
	size_t k;

	if (name == NULL || *name == '\0')
		name = "postfix";
	if ((pw = getpwnam(name)) == NULL) {
		printf("doctor: note: mail_owner %s is not a user here: the unix sockets' "
		    "permissions are not checked\n", name);
		return;
	}
	if (getgrouplist(name, pw->pw_gid, groups, &ng) < 0)
		ng = 256;
	for (i = 0; i < ng; i++)
		ugroups[i] = (unsigned)groups[i];
	du.du_name = name;
	du.du_uid = (unsigned)pw->pw_uid;
	du.du_groups = ugroups;
	du.du_ngroups = (size_t)ng;
	for (k = 0; k < cfg->c_socketmap.csm_nlisten; k++)
		if (endpoint_parse(cfg->c_socketmap.csm_listen[k], ENDPOINT_LISTEN, 0, &ep) ==
		    ENDPOINT_OK && ep.ep_kind == ENDPOINT_UNIX)
			doctorcmd_socket("socketmap.listen", ep.ep_path, &du, cfgname, rep);
	if (endpoint_parse(cfg->c_milter.cm_socket, ENDPOINT_MILTER, 0, &ep) == ENDPOINT_OK &&
	    ep.ep_kind == ENDPOINT_UNIX)
		doctorcmd_socket("milter.socket", ep.ep_path, &du, cfgname, rep);
}

int
doctorcmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "postfix-config", required_argument, NULL, 'C' },
		{ "resolv-conf", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const what[3] = { "-x", "-M", "-P" };
	const char *cfgpath = NULL, *pfdir = NULL, *resolv = NULL;
	const char *rerr = NULL;
	struct postconf pf = POSTCONF_INIT;
	struct doctor_report rep = DOCTOR_REPORT_INIT;
	char *out[3] = { NULL, NULL, NULL }, *errtext[3] = { NULL, NULL, NULL };
	char *why = NULL, *rtext, *sum, *rpath = NULL;
	struct cfg *cfg;
	int c, i, rc = 0;
	size_t k;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'C': pfdir = optarg; break;
		case 'r': resolv = optarg; break;
		case 'h': doctorcmd_usage(); return 0;
		default: doctorcmd_usage(); return EX_USAGE;
		}
	}
	if (optind != argc) {
		doctorcmd_usage();
		return EX_USAGE;
	}
	if ((cfg = cli_load_config(cfgpath)) == NULL)
		return EX_CONFIG;
	for (i = 0; i < 3 && why == NULL; i++) {
		char *args[6];
		int a = 0;

		args[a++] = (char *)"postconf";
		if (pfdir != NULL) {
			args[a++] = (char *)"-c";
			args[a++] = (char *)pfdir;
		}
		if (i > 0)
			args[a++] = (char *)what[i];
		args[a++] = (char *)"-x";
		args[a] = NULL;
		if (!doctorcmd_postconf(args, &out[i], &errtext[i], &why))
			break;
		if (!(i == 0 ? postconf_parse_main(&pf, out[i], &why) :
		    i == 1 ? postconf_parse_master(&pf, out[i], &why) :
		    postconf_parse_overrides(&pf, out[i], &why)))
			break;
	}
	if (why != NULL) {
		fprintf(stderr, "danemilter doctor: cannot read Postfix's configuration: "
		    "%s\n", why);
		rc = EX_TEMPFAIL;
		goto done;
	}
	if (resolv == NULL)
		resolv = rpath = postconf_resolv_path(&pf);
	rtext = doctorcmd_read_file(resolv, &rerr);
	doctor_check(&pf, cfg, resolv, rtext, rerr, &rep);
	free(rtext);
	doctorcmd_sockets(&pf, cfg, &rep);
	printf("doctor: note: Postfix %s, configuration in %s; danemilter "
	    "configuration %s\n", postconf_param(&pf, "mail_version") ?
	    postconf_param(&pf, "mail_version") : "?",
	    postconf_param(&pf, "config_directory") ?
	    postconf_param(&pf, "config_directory") : (pfdir ? pfdir : "?"),
	    cfg->c_file ? cfg->c_file : "(built-in defaults)");
	doctorcmd_print_stderr(errtext[0]);
	for (k = 0; k < rep.drp_n; k++)
		printf("%s\n", rep.drp_findings[k].df_line);
	sum = doctor_summary(&rep);
	printf("%s\n", sum);
	free(sum);
	fflush(stdout);
	rc = rep.drp_problems > 0 ? 1 : 0;
	doctor_report_free(&rep);
done:
	for (i = 0; i < 3; i++) {
		free(out[i]);
		free(errtext[i]);
	}
	free(why);
	free(rpath);
	postconf_free(&pf);
	cfg_unref(cfg);
	return rc;
}
