-- timeout.lua: the engine is slow. A recipient at lame.test (its name
-- server never answers) with milter.timeout_ms = 300: end of message waits
-- about 300 ms, then either goes on with policy=temperror; reason=timeout
-- (on_timeout = "continue") or answers 451 4.4.3 without touching the
-- headers (on_timeout = "tempfail"). Environment: MT_ON_TIMEOUT (continue |
-- tempfail), MT_QID.
dofile(os.getenv("MT_LIB"))
T.plan(5)

local qid = os.getenv("MT_QID")
local tempfail = os.getenv("MT_ON_TIMEOUT") == "tempfail"

T.run(function()
	local conn = T.connect("client.example", "192.0.2.1")
	T.mail(conn, qid, "<a@usable.dane.test>", T.TLS13)
	T.rcpt(conn, qid, "<b@lame.test>")
	T.headers(conn, { { "X-DANE-Recipient", "forged" } })
	local t0 = T.ms()
	local reply = T.eom(conn)
	local ms = T.ms() - t0
	T.ok(ms >= 250 and ms < 1000, "end of message waited for the bound, not longer (" .. ms ..
	    " ms; want 250..999)")
	if tempfail then
		T.is(reply, "SMFIR_REPLYCODE", "on_timeout = tempfail: a reply code at end of message")
		T.ok(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.4.3",
		    "TLS policy lookups did not finish in time; try again later"),
		    "on_timeout = tempfail: 451 4.4.3 TLS policy lookups did not finish in time; try again later")
		T.ok(not mt.eom_check(conn, MT_HDRINSERT), "on_timeout = tempfail: no header added")
		T.ok(not mt.eom_check(conn, MT_HDRCHANGE), "on_timeout = tempfail: no header deleted")
	else
		T.is(reply, "SMFIR_CONTINUE", "on_timeout = continue: the message continues")
		T.is(T.hdr(conn, "X-DANE-Recipient"), T.AUTHSERV .. "; domain=lame.test; policy=temperror; reason=timeout",
		    "on_timeout = continue: X-DANE-Recipient policy=temperror; reason=timeout")
		T.is(T.hdr(conn, "X-DANE-Sender"), T.sender("usable.dane.test", "dane-only", "usable", "enforce"),
		    "on_timeout = continue: X-DANE-Sender (known in time) as usual")
		T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-DANE-Recipient", 1),
		    "on_timeout = continue: the forged X-DANE-Recipient is deleted")
	end
	mt.disconnect(conn)
end)
