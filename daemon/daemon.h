/*
 * daemon.h: the long-running daemon: every face wired to one engine, the
 * signals, and the one reload point (daemon.c).
 */
#ifndef DM_DAEMON_H
#define DM_DAEMON_H

/* `danemilter [-c FILE] [-f] [-p PIDFILE]`: runs until SIGTERM/SIGINT;
 * returns the process exit code (sysexits.h on start-up errors). */
int daemon_main(int argc, char **argv);

#endif
