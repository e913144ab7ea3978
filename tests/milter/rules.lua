-- rules.lua: the RCPT-time rules. require = "dane" (domain entries for
-- nodata.dane.test: dane none; ta.dane.test: usable; badtlsa.dane.test:
-- bogus) refuses RCPT with a reply unless the domain has usable DANE;
-- milter.bogus_tempfail refuses RCPT to bogus.test. The reply code and text
-- are in the daemon's log (miltertest does not show the text of a RCPT
-- reply): the shell checks them for queue id MT_QID. Headers at the end of
-- the message name the accepted domains only.
-- Environment: MT_BOGUS_TEMPFAIL = 1 when bogus_tempfail = true.
dofile(os.getenv("MT_LIB"))
T.plan(8)

local qid = os.getenv("MT_QID")
local bogus_tempfail = os.getenv("MT_BOGUS_TEMPFAIL") == "1"

T.run(function()
	local conn = T.connect("client.example", "192.0.2.1")
	T.mail(conn, qid, "<a@partial.dane.test>", T.TLS13)
	T.is(T.rcpt(conn, qid, "<b@nodata.dane.test>"), "SMFIR_REPLYCODE",
	    "require = dane, dane=none: RCPT refused with a reply code")
	T.is(T.rcpt(conn, qid, "<b@ta.dane.test>"), "SMFIR_CONTINUE",
	    "require = dane, dane=usable: RCPT accepted")
	T.is(T.rcpt(conn, qid, "<b@bogus.test>"), bogus_tempfail and "SMFIR_REPLYCODE" or "SMFIR_CONTINUE",
	    bogus_tempfail and "bogus_tempfail, dane=bogus: RCPT refused with a reply code"
	    or "without bogus_tempfail, dane=bogus: RCPT accepted")
	T.is(T.rcpt(conn, qid, "<b@badtlsa.dane.test>"), "SMFIR_REPLYCODE",
	    "require = dane, dane=bogus: RCPT refused with a reply code")
	T.is(T.rcpt(conn, qid, "<c@ta.dane.test>"), "SMFIR_CONTINUE",
	    "after refusals the next RCPT is accepted")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "the message (accepted recipients) continues")
	T.is(T.hdr(conn, "X-DANE-Recipient", 0), T.recipient("ta.dane.test", "dane-only", "dane", "usable", "absent"),
	    "X-DANE-Recipient for the accepted require = dane domain")
	if bogus_tempfail then
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), nil, "no X-DANE-Recipient for the refused domains")
	else
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), T.recipient("bogus.test", "temperror", "dane", "bogus", "error"),
		    "X-DANE-Recipient for bogus.test; none for the refused domains")
	end
	mt.disconnect(conn)
end)
