-- lifecycle.lua: an MTA that aborts a message after its headers and sends
-- another on the same connection (nothing of the first may leak into the
-- second: recipients, TLS macros, forged-header counts); MTAs that drop
-- the connection mid-message (abruptly after the headers; with QUIT after
-- RCPT while a lookup is still running, dead.test); then a new connection
-- works. The shell checks the daemon survives and stops cleanly.
-- Environment: MT_QID (prefix of the queue ids).
dofile(os.getenv("MT_LIB"))
T.plan(10)

local q = os.getenv("MT_QID")

T.run(function()
	local conn = T.connect("client.example", "192.0.2.1")
	T.mail(conn, q .. "ABORT", "<a@partial.dane.test>", T.TLS13)
	T.rcpt(conn, q .. "ABORT", "<b@unusable.dane.test>")
	T.headers(conn, { { "X-DANE-Sender", "forged 1" }, { "X-DANE-Sender", "forged 2" }, { "Subject", "1" } })
	T.must("abort", mt.abort(conn))

	T.mail(conn, q .. "NEXT", "<a@testing.sts.test>", nil)
	T.rcpt(conn, q .. "NEXT", "<b@enforce.sts.test>")
	T.headers(conn, { { "Subject", "2" } })
	T.is(T.eom(conn), "SMFIR_CONTINUE", "after an abort: the next message continues")
	T.is(T.hdr(conn, "X-DANE-Inbound"), T.AUTHSERV .. "; tls=none; client=client.example; addr=192.0.2.1",
	    "after an abort: X-DANE-Inbound of the new message (plaintext)")
	T.is(T.hdr(conn, "X-DANE-Sender"), T.sender("testing.sts.test", "none", "none", "testing"),
	    "after an abort: X-DANE-Sender of the new sender")
	T.is(T.hdr(conn, "X-DANE-Recipient", 0), T.recipient("enforce.sts.test", "secure", "mta-sts", "none", "enforce"),
	    "after an abort: X-DANE-Recipient of the new recipient")
	T.is(T.hdr(conn, "X-DANE-Recipient", 1), nil, "after an abort: no recipient of the aborted message")
	T.ok(not mt.eom_check(conn, MT_HDRCHANGE), "after an abort: no deletions (the forged copies were in the aborted message)")
	mt.disconnect(conn)

	-- dropped abruptly after the headers
	conn = T.connect("client.example", "192.0.2.1")
	T.mail(conn, q .. "DROP1", "<a@partial.dane.test>", T.TLS13)
	T.rcpt(conn, q .. "DROP1", "<b@unusable.dane.test>")
	T.headers(conn, { { "Subject", "dropped" } })
	mt.disconnect(conn, false)

	-- QUIT after RCPT, the recipient's lookup still running
	conn = T.connect("client.example", "192.0.2.1")
	T.mail(conn, q .. "DROP2", "<a@partial.dane.test>", T.TLS13)
	T.rcpt(conn, q .. "DROP2", "<b@dead.test>")
	mt.disconnect(conn, true)

	-- a new connection works
	conn = T.connect("client.example", "192.0.2.1")
	T.mail(conn, q .. "AFTER", "<a@partial.dane.test>", T.TLS13)
	T.rcpt(conn, q .. "AFTER", "<b@unusable.dane.test>")
	T.headers(conn, { { "x-dane-recipient", "forged" } })
	T.is(T.eom(conn), "SMFIR_CONTINUE", "after dropped connections: a new connection's message continues")
	T.is(T.hdr(conn, "X-DANE-Sender"), T.sender("partial.dane.test", "dane", "partial", "absent"),
	    "after dropped connections: X-DANE-Sender")
	T.is(T.hdr(conn, "X-DANE-Recipient"), T.recipient("unusable.dane.test", "dane", "dane", "unusable", "absent"),
	    "after dropped connections: X-DANE-Recipient")
	T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-DANE-Recipient", 1)
	    and not mt.eom_check(conn, MT_HDRDELETE, "X-DANE-Recipient", 2),
	    "after dropped connections: the one forged copy is deleted")
	mt.disconnect(conn)
end)
