-- plaintext.lua: a message that arrived without TLS from a sender domain
-- that publishes usable DANE (usable.dane.test) or MTA-STS enforce
-- (enforce.sts.test), under milter.plaintext_sender = MT_PLAINTEXT:
--   tag         X-DANE-Sender gets "; violation=plaintext"; the message goes on
--   quarantine  the same, plus smfi_quarantine (held)
--   reject      550 5.7.10 at end of message, no header changes
-- The same senders over TLS, and a plaintext message from a domain with
-- only partial DANE, are not violations. Environment: MT_PLAINTEXT, MT_QID
-- (prefix of the queue ids).
dofile(os.getenv("MT_LIB"))
T.plan(14)

local mode = os.getenv("MT_PLAINTEXT")
local qid = os.getenv("MT_QID")
local REASON = "danemilter: plaintext message from a domain that requires TLS"

T.run(function()
	local conn = T.connect("client.example", "192.0.2.1")
	for i, c in ipairs({
		{ "usable.dane.test", "dane-only", "usable", "enforce" },
		{ "enforce.sts.test", "secure", "none", "enforce" },
	}) do
		local d, policy, dane, sts = c[1], c[2], c[3], c[4]
		T.mail(conn, qid .. i, "<a@" .. d .. ">", nil)
		T.rcpt(conn, qid .. i, "<b@partial.dane.test>")
		T.headers(conn, { { "X-DANE-Sender", "forged" } })
		local reply = T.eom(conn)
		local what = "plaintext from " .. d .. ", " .. mode .. ": "
		if mode == "reject" then
			T.is(reply, "SMFIR_REPLYCODE", what .. "a reply code at end of message")
			T.ok(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.10", "Sender domain " .. d ..
			    " requires TLS (dane=" .. dane .. ", mta-sts=" .. sts ..
			    ") but this message arrived without it"), what .. "550 5.7.10 with the reason")
			T.ok(not mt.eom_check(conn, MT_HDRINSERT) and not mt.eom_check(conn, MT_HDRCHANGE),
			    what .. "no header changes")
			T.ok(not mt.eom_check(conn, MT_QUARANTINE), what .. "not quarantined")
		else
			T.is(reply, "SMFIR_CONTINUE", what .. "the message continues")
			T.is(T.hdr(conn, "X-DANE-Sender"), T.sender(d, policy, dane, sts, "; violation=plaintext"),
			    what .. "X-DANE-Sender with violation=plaintext")
			T.ok(mt.eom_check(conn, MT_HDRDELETE, "X-DANE-Sender", 1), what .. "the forged copy is deleted")
			if mode == "quarantine" then
				T.ok(mt.eom_check(conn, MT_QUARANTINE, REASON), what .. "quarantined: " .. REASON)
			else
				T.ok(not mt.eom_check(conn, MT_QUARANTINE), what .. "not quarantined")
			end
		end
	end

	-- no violation: the same sender over TLS; partial DANE in plaintext
	T.mail(conn, qid .. "3", "<a@usable.dane.test>", T.TLS13)
	T.rcpt(conn, qid .. "3", "<b@partial.dane.test>")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "usable.dane.test over TLS, " .. mode .. ": the message continues")
	T.is(T.hdr(conn, "X-DANE-Sender"), T.sender("usable.dane.test", "dane-only", "usable", "enforce"),
	    "usable.dane.test over TLS, " .. mode .. ": no violation")
	T.ok(not mt.eom_check(conn, MT_QUARANTINE), "usable.dane.test over TLS, " .. mode .. ": not quarantined")
	T.mail(conn, qid .. "4", "<a@partial.dane.test>", nil)
	T.rcpt(conn, qid .. "4", "<b@partial.dane.test>")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "partial.dane.test in plaintext, " .. mode .. ": the message continues")
	T.is(T.hdr(conn, "X-DANE-Sender"), T.sender("partial.dane.test", "dane", "partial", "absent"),
	    "partial.dane.test in plaintext, " .. mode .. ": no violation")
	T.ok(not mt.eom_check(conn, MT_QUARANTINE), "partial.dane.test in plaintext, " .. mode .. ": not quarantined")
	mt.disconnect(conn)
end)
