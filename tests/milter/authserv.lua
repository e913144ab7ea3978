-- authserv.lua: without milter.authserv_id the authserv-id is the MTA's j
-- macro; a j that is not a header-safe token, or no j at all, gives the
-- host name (MT_HOSTNAME). Then one message (queue id MT_QID) whose JSON
-- summary line the shell checks: TLS with a trusted client certificate,
-- one recipient accepted (ta.dane.test), one refused (nodata.dane.test,
-- require = "dane").
dofile(os.getenv("MT_LIB"))
T.plan(6)

local host = os.getenv("MT_HOSTNAME")
local qid = os.getenv("MT_QID")

local function inbound(conn, q)
	T.mail(conn, q, "<a@partial.dane.test>", nil)
	T.rcpt(conn, q, "<b@unusable.dane.test>")
	T.eom(conn)
	local v = T.hdr(conn, "X-DANE-Inbound")
	mt.disconnect(conn)
	return v
end

T.run(function()
	T.is(inbound(T.connect("client.example", "192.0.2.1",
	    T.postfix_macros("client.example", "192.0.2.1", "mx.j.example")), "AUTH1"),
	    "mx.j.example; tls=none; client=client.example; addr=192.0.2.1",
	    "no authserv_id: the j macro is the authserv-id")
	T.is(inbound(T.connect("client.example", "192.0.2.1",
	    T.postfix_macros("client.example", "192.0.2.1", "mx.j.example; dane=usable")), "AUTH2"),
	    host .. "; tls=none; client=client.example; addr=192.0.2.1",
	    "no authserv_id, j not a token: the host name")
	T.is(inbound(T.connect("client.example", "192.0.2.1", { "{client_addr}", "192.0.2.1" }), "AUTH3"),
	    host .. "; tls=none; client=client.example; addr=192.0.2.1",
	    "no authserv_id, no j: the host name")

	local conn = T.connect("client.example", "192.0.2.1",
	    T.postfix_macros("client.example", "192.0.2.1", "mx.j.example"))
	T.mail(conn, qid, "<a@partial.dane.test>", T.cat(T.TLS13,
	    { "{cert_subject}", "client.example", "{cert_issuer}", "danemilter test CA" }))
	T.is(T.rcpt(conn, qid, "<b@ta.dane.test>"), "SMFIR_CONTINUE", "JSON message: RCPT ta.dane.test accepted")
	T.is(T.rcpt(conn, qid, "<b@nodata.dane.test>"), "SMFIR_REPLYCODE", "JSON message: RCPT nodata.dane.test refused")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "JSON message: the message continues")
	mt.disconnect(conn)
end)
