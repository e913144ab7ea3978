/*
 * mfi.c: see mfi.h. One line per libmilter call; libmilter's prototypes
 * predate const, so the borrowed strings are cast here and only here.
 */
#include "mfi.h"

void *
mfi_getpriv(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

int
mfi_setpriv(SMFICTX *ctx, void *priv)
{
	return smfi_setpriv(ctx, priv);
}

const char *
mfi_getsymval(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

int
mfi_setsymlist(SMFICTX *ctx, int stage, const char *macros)
{
	return smfi_setsymlist(ctx, stage, (char *)macros);
}

int
mfi_setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text)
{
	return smfi_setreply(ctx, (char *)rcode, (char *)xcode, (char *)text);
}

int
mfi_insheader(SMFICTX *ctx, int idx, const char *name, const char *value)
{
	return smfi_insheader(ctx, idx, (char *)name, (char *)value);
}

int
mfi_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value)
{
	return smfi_chgheader(ctx, (char *)name, idx, (char *)value);
}

int
mfi_quarantine(SMFICTX *ctx, const char *reason)
{
	return smfi_quarantine(ctx, (char *)reason);
}

int
mfi_setconn(char *conn)
{
	return smfi_setconn(conn);
}

int
mfi_register(const struct smfiDesc *desc)
{
	return smfi_register(*desc);
}

int
mfi_setbacklog(int backlog)
{
	return smfi_setbacklog(backlog);
}

int
mfi_opensocket(bool rmsocket)
{
	return smfi_opensocket(rmsocket);
}

int
mfi_main(void)
{
	return smfi_main();
}

int
mfi_stop(void)
{
	return smfi_stop();
}
