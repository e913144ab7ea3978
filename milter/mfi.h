/*
 * mfi.h: the one thin wrapper around every libmilter call (smfi_*) the
 * filter makes. Nothing in milter/ but mfi.c calls libmilter directly, so
 * that a test can link a fake mfi.c and drive the callbacks (milter/filter.c)
 * without an MTA, as OpenDMARC does.
 *
 * No logic here: each mfi_X(args) is smfi_X(args), returning what it
 * returns (MI_SUCCESS or MI_FAILURE for the int ones). Strings are only
 * borrowed for the call, except mfi_setconn's (libmilter may keep the
 * pointer: the caller keeps it alive until mfi_main() has returned).
 *
 * Threads as libmilter says: the per-connection calls (ctx) on the
 * libmilter thread that runs that connection's callback; mfi_setconn,
 * mfi_register, mfi_setbacklog and mfi_opensocket once, before mfi_main();
 * mfi_main on the filter's own thread; mfi_stop from any thread.
 */
#ifndef DM_MFI_H
#define DM_MFI_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

/* Per connection (libmilter's private pointer, macros, replies). */
void *mfi_getpriv(SMFICTX *ctx);
int mfi_setpriv(SMFICTX *ctx, void *priv);
/* The macro's value, or NULL when the MTA did not send it. */
const char *mfi_getsymval(SMFICTX *ctx, const char *name);
/* stage: SMFIM_*; macros: space-separated names ("i {rcpt_addr}"). */
int mfi_setsymlist(SMFICTX *ctx, int stage, const char *macros);
int mfi_setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text);

/* Per message, at end of message only. */
int mfi_insheader(SMFICTX *ctx, int idx, const char *name, const char *value);
/* value NULL deletes the idx-th (1-based) header called name. */
int mfi_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value);
int mfi_quarantine(SMFICTX *ctx, const char *reason);

/* The filter's life. */
int mfi_setconn(char *conn);
int mfi_register(const struct smfiDesc *desc);
int mfi_setbacklog(int backlog);
int mfi_opensocket(bool rmsocket);
int mfi_main(void);
int mfi_stop(void);

#endif
