/*
 * noop_milter: the milter protocol work of danemilter without its policy,
 * the baseline of bench/run-milter.sh.
 *
 *   noop_milter inet:PORT@127.0.0.1
 *
 * Same negotiation as danemilter: actions ADDHDRS|CHGHDRS|QUARANTINE;
 * connect, envfrom, envrcpt, header, eom, abort and close are kept; helo,
 * data, unknown, eoh and body are declined; no reply for connect, MAIL and
 * headers when the MTA offers it (SMFIP_NR_*); the same macros are asked
 * for per stage (smfi_setsymlist). Per connection it keeps a struct
 * (smfi_setpriv), reads those macros, notes headers named like its own
 * (removed at EOM, as a filter that owns these names must) and at EOM
 * inserts three headers at index 0. It never rejects anything.
 *
 * Build: cc -O2 -Wall -Wextra -o noop_milter noop_milter.c -lmilter -lpthread
 * smfi_main handles SIGTERM/SIGINT/SIGHUP (stops).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libmilter/mfapi.h>

#define H_INBOUND "X-Noop-Inbound"
#define H_SENDER "X-Noop-Sender"
#define H_RCPT "X-Noop-Recipient"

struct conn {
	unsigned long nr;	/* SMFIP_NR_* flags agreed with the MTA */
	char client[300];	/* "name [addr]" from connect */
	char qid[64];		/* Postfix's queue id ("i" at MAIL FROM) */
	char sender[1024];	/* MAIL FROM address + TLS details */
	char rcpt[512];		/* first recipient */
	unsigned nrcpt;
	/* how many of each of our headers the message already has */
	int own_inbound, own_sender, own_rcpt;
};

static const char *
mac(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);

	return v != NULL ? v : "";
}

static sfsistat
reply(const struct conn *c, unsigned long flag)
{
	return (c->nr & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void
reset_message(struct conn *c)
{
	c->qid[0] = '\0';
	c->sender[0] = '\0';
	c->rcpt[0] = '\0';
	c->nrcpt = 0;
	c->own_inbound = c->own_sender = c->own_rcpt = 0;
}

static sfsistat
xx_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long want_nr = SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_HDR;
	const unsigned long skip = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_NOEOH | SMFIP_NOBODY;
	struct conn *c;

	(void)f2;
	(void)f3;
	if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS))
		return SMFIS_REJECT;	/* cannot do its job: not contacted again */
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	c->nr = f1 & want_nr;
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		free(c);
		return SMFIS_TEMPFAIL;
	}
	*pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | (f0 & SMFIF_QUARANTINE);
	*pf1 = (f1 & skip) | c->nr;
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		if (smfi_setsymlist(ctx, SMFIM_CONNECT, "j {client_addr} {client_name}") != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {mail_addr} {tls_version} {cipher} "
			"{cipher_bits} {cert_subject} {cert_issuer} {verify}") != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i {rcpt_addr}") != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_EOM, "i") != MI_SUCCESS)
			fprintf(stderr, "noop_milter: smfi_setsymlist failed\n");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
xx_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct conn *c = smfi_getpriv(ctx);

	(void)sa;
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	snprintf(c->client, sizeof(c->client), "%s [%s] at %s",
	    *mac(ctx, "{client_name}") ? mac(ctx, "{client_name}") : hostname,
	    mac(ctx, "{client_addr}"), mac(ctx, "j"));
	reset_message(c);
	return reply(c, SMFIP_NR_CONN);
}

static sfsistat
xx_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	const char *tls = mac(ctx, "{tls_version}");
	const char *subj = mac(ctx, "{cert_subject}");

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	reset_message(c);
	snprintf(c->qid, sizeof(c->qid), "%s", mac(ctx, "i"));
	if (*tls)
		snprintf(c->sender, sizeof(c->sender),
		    "<%s> tls=%s cipher=%s/%s verify=%s cert=%s issuer=%s",
		    *mac(ctx, "{mail_addr}") ? mac(ctx, "{mail_addr}") : argv[0],
		    tls, mac(ctx, "{cipher}"), mac(ctx, "{cipher_bits}"),
		    mac(ctx, "{verify}"), *subj ? subj : "-",
		    *mac(ctx, "{cert_issuer}") ? mac(ctx, "{cert_issuer}") : "-");
	else
		snprintf(c->sender, sizeof(c->sender), "<%s> tls=no",
		    *mac(ctx, "{mail_addr}") ? mac(ctx, "{mail_addr}") : argv[0]);
	return reply(c, SMFIP_NR_MAIL);
}

static sfsistat
xx_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (c->nrcpt++ == 0)
		snprintf(c->rcpt, sizeof(c->rcpt), "<%s>",
		    *mac(ctx, "{rcpt_addr}") ? mac(ctx, "{rcpt_addr}") : argv[0]);
	return SMFIS_CONTINUE;
}

static sfsistat
xx_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);

	(void)value;
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (strcasecmp(name, H_INBOUND) == 0)
		c->own_inbound++;
	else if (strcasecmp(name, H_SENDER) == 0)
		c->own_sender++;
	else if (strcasecmp(name, H_RCPT) == 0)
		c->own_rcpt++;
	return reply(c, SMFIP_NR_HDR);
}

/* remove N headers called NAME (indexes are 1-based per name; delete from
 * the last so that the others keep theirs) */
static int
remove_own(SMFICTX *ctx, const char *name, int n)
{
	for (; n > 0; n--)
		if (smfi_chgheader(ctx, (char *)name, n, NULL) != MI_SUCCESS)
			return -1;
	return 0;
}

static sfsistat
xx_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	char v[1400];

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (remove_own(ctx, H_INBOUND, c->own_inbound) < 0 ||
	    remove_own(ctx, H_SENDER, c->own_sender) < 0 ||
	    remove_own(ctx, H_RCPT, c->own_rcpt) < 0)
		return SMFIS_TEMPFAIL;
	snprintf(v, sizeof(v), "%s; id=%s", c->client,
	    *mac(ctx, "i") ? mac(ctx, "i") : c->qid);
	if (smfi_insheader(ctx, 0, H_INBOUND, v) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	if (smfi_insheader(ctx, 0, H_SENDER, c->sender) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	snprintf(v, sizeof(v), "%s (%u)", c->rcpt, c->nrcpt);
	if (smfi_insheader(ctx, 0, H_RCPT, v) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	reset_message(c);
	return SMFIS_CONTINUE;
}

static sfsistat
xx_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		reset_message(c);
	return SMFIS_CONTINUE;
}

static sfsistat
xx_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "noop_milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = xx_connect,
	.xxfi_envfrom = xx_envfrom,
	.xxfi_envrcpt = xx_envrcpt,
	.xxfi_header = xx_header,
	.xxfi_eom = xx_eom,
	.xxfi_abort = xx_abort,
	.xxfi_close = xx_close,
	.xxfi_negotiate = xx_negotiate,
};

int
main(int argc, char **argv)
{
	if (argc != 2 || strncmp(argv[1], "inet:", 5) != 0) {
		fprintf(stderr, "usage: noop_milter inet:PORT@127.0.0.1\n");
		return 64;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_setbacklog(1024) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "noop_milter: cannot set up %s\n", argv[1]);
		return 1;
	}
	/* bind now, so that a port in use is an error at start */
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "noop_milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
