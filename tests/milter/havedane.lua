-- havedane.lua: HaveDane test addresses at the milter (milter/hdmilter.c).
-- Environment: MT_ZONE (havedane.zone), MT_QID (queue id prefix),
-- MT_PHASE, and the tokens the shell made with Python's hmac: MT_VALID,
-- MT_VALID2, MT_VALID3 (fresh), MT_EXPIRED (older than token_ttl_s),
-- MT_FORGED (a MAC digit changed), MT_FUTURE (a genuine MAC, 1 hour ahead).
-- Phase 1: a test message from a TLS client is accepted at RCPT for do and
-- wrong, discarded at end of data (no X-DANE-* headers added); refused
-- tokens get a reply at RCPT; test and other recipients are not mixed in
-- one message; a normal message still gets its headers.
-- Phase 2: one more test message (the oldest record goes, keep = 3).
-- Phase 3 (after a restart): a repeat for wrong and a new one for do.
dofile(os.getenv("MT_LIB"))

local zone = os.getenv("MT_ZONE")
local qid = os.getenv("MT_QID")
local phase = os.getenv("MT_PHASE")
local V, V2, V3 = os.getenv("MT_VALID"), os.getenv("MT_VALID2"), os.getenv("MT_VALID3")
local CERT = { "{cert_subject}", "CN=mail.sender.example", "{cert_issuer}", "CN=Sender CA" }

local function session(n)
	local conn = T.connect("mail.sender.example", "192.0.2.1")
	T.must("HELO", mt.helo(conn, "helo" .. n .. ".sender.example"))
	return conn
end

if phase == "1" then
	T.plan(19)
	T.run(function()
		local conn = session(1)
		T.is(T.mail(conn, qid .. "1", "<bounce@sender.example>", T.cat(T.TLS13, CERT)),
		    "SMFIR_CONTINUE", "MAIL over TLS: continue")
		T.is(T.rcpt(conn, qid .. "1", "<" .. V .. "@do." .. zone .. ">"), "SMFIR_CONTINUE",
		    "RCPT valid token at do: accepted")
		T.is(T.rcpt(conn, qid .. "1", "<" .. V .. "@wrong." .. zone .. ">"), "SMFIR_CONTINUE",
		    "RCPT valid token at wrong, same message: accepted")
		T.headers(conn, { { "Subject", "HaveDane test" } })
		T.is(T.eom(conn), "SMFIR_DISCARD", "end of data: discarded")
		T.is(T.hdr(conn, "X-DANE-Inbound"), nil, "no X-DANE-Inbound header on the test message")

		conn = session(2)
		T.is(T.mail(conn, qid .. "2", "<>", T.TLS13), "SMFIR_CONTINUE", "MAIL null sender: continue")
		T.is(T.rcpt(conn, qid .. "2", "<" .. os.getenv("MT_FORGED") .. "@dont." .. zone .. ">"),
		    "SMFIR_REPLYCODE", "RCPT forged token: refused")
		T.is(T.rcpt(conn, qid .. "2", "<" .. os.getenv("MT_EXPIRED") .. "@do." .. zone .. ">"),
		    "SMFIR_REPLYCODE", "RCPT expired token: refused")
		T.is(T.rcpt(conn, qid .. "2", "<" .. os.getenv("MT_FUTURE") .. "@do." .. zone .. ">"),
		    "SMFIR_REPLYCODE", "RCPT token from an hour ahead: refused")
		T.is(T.rcpt(conn, qid .. "2", "<not-a-token@wrong." .. zone .. ">"),
		    "SMFIR_REPLYCODE", "RCPT malformed token: refused")
		T.is(T.rcpt(conn, qid .. "2", "<" .. V:upper() .. "@DONT." .. zone:upper() .. ".>"),
		    "SMFIR_CONTINUE", "RCPT valid token in upper case at DONT.ZONE.: accepted")
		T.is(T.rcpt(conn, qid .. "2", "<b@nodata.dane.test>"), "SMFIR_REPLYCODE",
		    "RCPT an ordinary address after a test address: refused (452)")
		T.is(T.eom(conn), "SMFIR_DISCARD", "end of data: discarded")

		conn = session(3)
		T.is(T.mail(conn, qid .. "3", "<a@sender.example>"), "SMFIR_CONTINUE", "plaintext MAIL: continue")
		T.is(T.rcpt(conn, qid .. "3", "<b@nodata.dane.test>"), "SMFIR_CONTINUE",
		    "RCPT an ordinary address: accepted")
		T.is(T.rcpt(conn, qid .. "3", "<" .. V2 .. "@dont." .. zone .. ">"), "SMFIR_REPLYCODE",
		    "RCPT a test address after an ordinary one: refused (452)")
		T.is(T.rcpt(conn, qid .. "3", "<c@" .. zone .. ">"), "SMFIR_CONTINUE",
		    "RCPT at the zone itself (not a test domain): an ordinary address")
		T.is(T.eom(conn), "SMFIR_CONTINUE", "the ordinary message goes on")
		T.ok(T.hdr(conn, "X-DANE-Inbound") ~= nil, "... with its X-DANE-Inbound header")
	end)
elseif phase == "2" then
	T.plan(3)
	T.run(function()
		local conn = session(4)
		T.is(T.mail(conn, qid .. "4", "<x@other.example>", T.TLS13), "SMFIR_CONTINUE", "MAIL")
		T.is(T.rcpt(conn, qid .. "4", "<" .. V3 .. "@do." .. zone .. ">"), "SMFIR_CONTINUE",
		    "RCPT a third test: accepted")
		T.is(T.eom(conn), "SMFIR_DISCARD", "discarded")
	end)
else
	T.plan(4)
	T.run(function()
		local conn = session(5)
		T.is(T.mail(conn, qid .. "5", "<x@other.example>", T.TLS13), "SMFIR_CONTINUE", "MAIL")
		T.is(T.rcpt(conn, qid .. "5", "<" .. V .. "@wrong." .. zone .. ">"), "SMFIR_CONTINUE",
		    "RCPT wrong again (recorded before the restart)")
		T.is(T.rcpt(conn, qid .. "5", "<" .. V .. "@do." .. zone .. ">"), "SMFIR_CONTINUE",
		    "RCPT do again (its record went: keep = 3)")
		T.is(T.eom(conn), "SMFIR_DISCARD", "discarded")
	end)
end
