-- inbound.lua: X-DANE-Inbound from the MTA's macros: the Postfix macro set
-- (plaintext; TLS without and with a trusted client certificate), the
-- Sendmail macro set ({verify} OK / FAIL / NO / NONE, full DNs with spaces),
-- client names Postfix and Sendmail send for an unresolved client.
-- Daemon: milter.authserv_id = MT_AUTHSERV (the j macro must not win).
dofile(os.getenv("MT_LIB"))
T.plan(12)

local A = T.AUTHSERV
local CERT = { "{cert_subject}", "client.example", "{cert_issuer}", "danemilter test CA" }
local SM_TLS = { "{tls_version}", "TLSv1.2", "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384",
    "{cipher_bits}", "256" }
local SM_CERT = { "{cert_subject}", "/C=NL/O=Example Org/CN=client.example",
    "{cert_issuer}", "/C=NL/O=Example Org/CN=Example Issuing CA" }

-- One message; returns the X-DANE-Inbound value added.
local function message(conn, qid, macros)
	T.mail(conn, qid, "<a@partial.dane.test>", macros)
	T.rcpt(conn, qid, "<b@unusable.dane.test>")
	T.headers(conn, { { "From", "a@partial.dane.test" }, { "Subject", qid } })
	T.eom(conn)
	return T.hdr(conn, "X-DANE-Inbound")
end

T.run(function()
	-- Postfix
	local conn = T.connect("client.example", "192.0.2.1",
	    T.postfix_macros("client.example", "192.0.2.1", "mx.postfix.example"))
	local v = message(conn, "INB1", nil)
	T.is(T.reply(conn), "SMFIR_CONTINUE", "Postfix plaintext: message continues")
	T.is(v, A .. "; tls=none; client=client.example; addr=192.0.2.1",
	    "Postfix plaintext: X-DANE-Inbound (authserv_id wins over the j macro)")
	T.ok(mt.eom_check(conn, MT_HDRINSERT, "X-DANE-Inbound", v, 0),
	    "Postfix plaintext: X-DANE-Inbound inserted at the top (index 0)")
	T.is(message(conn, "INB2", T.TLS13),
	    A .. "; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; client-cert=none; " ..
	    "client=client.example; addr=192.0.2.1",
	    "Postfix TLSv1.3 without a client certificate")
	T.is(message(conn, "INB3", T.cat(T.TLS13, CERT)),
	    A .. "; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; client-cert=verified; " ..
	    "cert-subject=client.example; cert-issuer=danemilter%20test%20CA; " ..
	    "client=client.example; addr=192.0.2.1",
	    "Postfix TLSv1.3 with a trusted client certificate ({cert_subject}, {cert_issuer})")
	T.is(message(conn, "INB4", nil), A .. "; tls=none; client=client.example; addr=192.0.2.1",
	    "Postfix: the next plaintext message on the connection is plaintext again")
	mt.disconnect(conn)

	-- Sendmail
	local sm = { "j", "mx.sendmail.example", "_", "client.example [192.0.2.1]",
	    "{daemon_name}", "MTA", "{client_addr}", "192.0.2.1", "{client_name}", "client.example" }
	conn = T.connect("client.example", "192.0.2.1", sm)
	T.is(message(conn, "SM1", T.cat(SM_TLS, SM_CERT, { "{verify}", "OK" })),
	    A .. "; tls=TLSv1.2; cipher=ECDHE-RSA-AES256-GCM-SHA384; bits=256; client-cert=verified; " ..
	    "cert-subject=/C=NL/O=Example%20Org/CN=client.example; " ..
	    "cert-issuer=/C=NL/O=Example%20Org/CN=Example%20Issuing%20CA; " ..
	    "client=client.example; addr=192.0.2.1",
	    "Sendmail {verify} OK: verified, DNs with spaces percent-encoded")
	T.is(message(conn, "SM2", T.cat(SM_TLS, SM_CERT, { "{verify}", "FAIL" })),
	    A .. "; tls=TLSv1.2; cipher=ECDHE-RSA-AES256-GCM-SHA384; bits=256; client-cert=fail; " ..
	    "client=client.example; addr=192.0.2.1",
	    "Sendmail {verify} FAIL: client-cert=fail, no certificate names")
	T.is(message(conn, "SM3", T.cat(SM_TLS, { "{verify}", "NO" })),
	    A .. "; tls=TLSv1.2; cipher=ECDHE-RSA-AES256-GCM-SHA384; bits=256; client-cert=none; " ..
	    "client=client.example; addr=192.0.2.1",
	    "Sendmail {verify} NO: client-cert=none")
	T.is(message(conn, "SM4", { "{verify}", "NONE" }),
	    A .. "; tls=none; client=client.example; addr=192.0.2.1",
	    "Sendmail without STARTTLS ({verify} NONE): tls=none")
	mt.disconnect(conn)

	-- unresolved clients: Sendmail's "[addr]", Postfix's "unknown"
	conn = T.connect("[192.0.2.7]", "192.0.2.7",
	    { "j", "mx.sendmail.example", "{client_addr}", "192.0.2.7" })
	T.is(message(conn, "SM5", nil), A .. "; tls=none; client=unknown; addr=192.0.2.7",
	    "Sendmail client without a name ([192.0.2.7]): client=unknown")
	mt.disconnect(conn)
	conn = T.connect("unknown", "192.0.2.8")
	T.is(message(conn, "INB5", nil), A .. "; tls=none; client=unknown; addr=192.0.2.8",
	    "Postfix client without a name (unknown): client=unknown")
	mt.disconnect(conn)
end)
