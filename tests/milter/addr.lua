-- addr.lua: the domain of an envelope address is the one the MTA routes to:
-- the last '@' outside quotes, from the MTA's {mail_addr} / {rcpt_addr}
-- when it sends them, else from the MAIL / RCPT argument itself. Quoted
-- local parts hold '@', '>', '<', spaces and backslashes; a rewritten
-- address (the macro names another domain than the argument) follows the
-- macro. Every recipient is at nodata.dane.test (dane none) or
-- partial.dane.test; an address without a usable domain (address literal,
-- the last '@' quoted) is domain=invalid.
-- Environment: MT_QID (prefix of the queue ids), MT_REQUIRE = 1 when the
-- daemon has require = "dane" for nodata.dane.test (each RCPT there is
-- refused, and so is each invalid recipient domain: the domain it is
-- routed to might require DANE), 0 when it has no domains entries at all
-- (every RCPT accepted, the headers name each real domain, an invalid one
-- as domain=invalid).
dofile(os.getenv("MT_LIB"))
T.plan(35)

local qid = os.getenv("MT_QID")
local require = os.getenv("MT_REQUIRE") == "1"

-- MAIL FROM with {mail_addr} = mac (nil: no such macro) and the macro
-- pairs of extra.
local function mail(conn, q, from, mac, extra)
	local m = { "i", q }
	if mac ~= nil then
		m[#m + 1] = "{mail_addr}"
		m[#m + 1] = mac
	end
	for _, v in ipairs(extra or {}) do
		m[#m + 1] = v
	end
	T.must("macro M", mt.macro(conn, SMFIC_MAIL, table.unpack(m)))
	T.must("MAIL " .. from, mt.mailfrom(conn, from))
	return T.reply(conn)
end

-- RCPT TO with {rcpt_addr} = mac (nil: the RCPT macros without it).
local function rcpt(conn, q, to, mac)
	if mac ~= nil then
		T.must("macro R", mt.macro(conn, SMFIC_RCPT, "i", q, "{rcpt_addr}", mac))
	else
		T.must("macro R", mt.macro(conn, SMFIC_RCPT, "i", q))
	end
	T.must("RCPT " .. to, mt.rcptto(conn, to))
	return T.reply(conn)
end

local NODATA = T.recipient("nodata.dane.test", "none", "none", "none", "absent")
local PARTIAL = T.recipient("partial.dane.test", "dane", "dane", "partial", "absent")
local PARTIAL_SENDER = T.sender("partial.dane.test", "dane", "partial", "absent")
local AT_NODATA = require and "SMFIR_REPLYCODE" or "SMFIR_CONTINUE"
local INVALID = require and "SMFIR_REPLYCODE" or "SMFIR_CONTINUE"
local what = require and "require = dane: refused" or "no rule: accepted"

-- { RCPT argument, {rcpt_addr} as Postfix gives it (quoted local part),
--   the same unquoted, description }: all routed to nodata.dane.test
local AT_NODATA_CASES = {
	{ '<"x@partial.dane.test>"@nodata.dane.test>', '"x@partial.dane.test>"@nodata.dane.test',
	    'x@partial.dane.test>@nodata.dane.test', "quoted '@' and '>'" },
	{ '<"a>b"@nodata.dane.test>', '"a>b"@nodata.dane.test', 'a>b@nodata.dane.test',
	    "quoted '>' before the only '@'" },
	{ '<"x y\\"z\\\\<@partial.dane.test"@nodata.dane.test>',
	    '"x y\\"z\\\\<@partial.dane.test"@nodata.dane.test',
	    'x y"z\\<@partial.dane.test@nodata.dane.test', "quoted spaces, backslashes, '<'" },
}

T.run(function()
	local conn = T.connect("client.example", "192.0.2.1")

	-- 1: Postfix's macros, quoted local parts
	local q = qid .. "M"
	mail(conn, q, '<"s@nodata.dane.test>"@partial.dane.test>', '"s@nodata.dane.test>"@partial.dane.test',
	    T.TLS13)
	for _, c in ipairs(AT_NODATA_CASES) do
		T.is(rcpt(conn, q, c[1], c[2]), AT_NODATA, "{rcpt_addr}, " .. c[4] .. ": nodata.dane.test, " .. what)
	end
	T.is(rcpt(conn, q, '<"x@nodata.dane.test>"@partial.dane.test>', '"x@nodata.dane.test>"@partial.dane.test'),
	    "SMFIR_CONTINUE", "{rcpt_addr}, quoted '@nodata.dane.test>': partial.dane.test, accepted")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "{rcpt_addr}: the message continues")
	T.is(T.hdr(conn, "X-DANE-Sender"), PARTIAL_SENDER,
	    "{mail_addr} with a quoted '@nodata.dane.test>': X-DANE-Sender names partial.dane.test")
	if require then
		T.is(T.hdr(conn, "X-DANE-Recipient", 0), PARTIAL, "{rcpt_addr}: X-DANE-Recipient names partial.dane.test")
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), nil, "{rcpt_addr}: no header for the refused nodata.dane.test")
	else
		T.is(T.hdr(conn, "X-DANE-Recipient", 0), NODATA, "{rcpt_addr}: X-DANE-Recipient names nodata.dane.test")
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), PARTIAL, "{rcpt_addr}: then partial.dane.test")
	end

	-- 2: the same without the macros: the argument, parsed
	q = qid .. "A"
	mail(conn, q, '<"s@nodata.dane.test>"@partial.dane.test>', nil, T.TLS13)
	for _, c in ipairs(AT_NODATA_CASES) do
		T.is(rcpt(conn, q, c[1], nil), AT_NODATA, "argument, " .. c[4] .. ": nodata.dane.test, " .. what)
	end
	T.is(rcpt(conn, q, '<@r1.example,@r2.example:"x@nodata.dane.test>"@partial.dane.test>', nil),
	    "SMFIR_CONTINUE", "argument with a source route and a quoted '@nodata.dane.test>': accepted")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "argument: the message continues")
	T.is(T.hdr(conn, "X-DANE-Sender"), PARTIAL_SENDER,
	    "MAIL argument with a quoted '@nodata.dane.test>': X-DANE-Sender names partial.dane.test")
	if require then
		T.is(T.hdr(conn, "X-DANE-Recipient", 0), PARTIAL, "argument: X-DANE-Recipient names partial.dane.test")
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), nil, "argument: no header for the refused nodata.dane.test")
	else
		T.is(T.hdr(conn, "X-DANE-Recipient", 0), NODATA, "argument: X-DANE-Recipient names nodata.dane.test")
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), PARTIAL, "argument: then partial.dane.test")
	end

	-- 3: unquoted macros (the local part as the MTA keeps it), and a
	-- macro that names another domain than the argument (the MTA rewrote
	-- the address): the macro is where the mail goes. An unquoted local
	-- part with a '"' and a backslash cannot be read safely: invalid.
	q = qid .. "U"
	mail(conn, q, '<s@partial.dane.test>', 's@partial.dane.test', T.TLS13)
	for i = 1, 2 do
		local c = AT_NODATA_CASES[i]
		T.is(rcpt(conn, q, c[1], c[3]), AT_NODATA, "unquoted {rcpt_addr}, " .. c[4] .. ": nodata.dane.test, " .. what)
	end
	T.is(rcpt(conn, q, AT_NODATA_CASES[3][1], AT_NODATA_CASES[3][3]), INVALID,
	    "unquoted {rcpt_addr} with '\"' and a backslash: domain=invalid, " .. what)
	T.is(rcpt(conn, q, '<x@partial.dane.test>', 'x@nodata.dane.test'), AT_NODATA,
	    "argument at partial.dane.test, {rcpt_addr} at nodata.dane.test: the macro wins, " .. what)
	T.is(rcpt(conn, q, '<x@nodata.dane.test>', 'y@partial.dane.test'), "SMFIR_CONTINUE",
	    "argument at nodata.dane.test, {rcpt_addr} at partial.dane.test: accepted")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "unquoted macros: the message continues")
	if require then
		T.is(T.hdr(conn, "X-DANE-Recipient", 0), PARTIAL, "unquoted macros: X-DANE-Recipient names partial.dane.test")
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), nil, "unquoted macros: no other header")
	else
		T.is(T.hdr(conn, "X-DANE-Recipient", 0), NODATA, "unquoted macros: X-DANE-Recipient names nodata.dane.test")
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), T.AUTHSERV .. "; domain=invalid",
		    "unquoted macros: then domain=invalid")
	end

	-- 4: no usable domain: an address literal, the last '@' quoted, no '@'
	q = qid .. "I"
	mail(conn, q, '<"s@partial.dane.test">', '"s@partial.dane.test"', nil)
	T.is(rcpt(conn, q, '<user@[192.0.2.1]>', 'user@[192.0.2.1]'), INVALID,
	    "address literal: domain=invalid, " .. what)
	T.is(rcpt(conn, q, '<"user@partial.dane.test">', '"user@partial.dane.test"'), INVALID,
	    "the last '@' quoted: domain=invalid, " .. what)
	T.is(rcpt(conn, q, '<"user@partial.dane.test">', nil), INVALID,
	    "the last '@' quoted, no macro: domain=invalid, " .. what)
	T.is(rcpt(conn, q, '<b@partial.dane.test>', 'b@partial.dane.test'), "SMFIR_CONTINUE",
	    "then a recipient at partial.dane.test: accepted")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "invalid domains: the message continues")
	T.is(T.hdr(conn, "X-DANE-Sender"), T.AUTHSERV .. "; domain=invalid",
	    "MAIL FROM with the last '@' quoted, plaintext: domain=invalid, no violation")
	if require then
		T.is(T.hdr(conn, "X-DANE-Recipient", 0), PARTIAL, "invalid domains refused: the header of partial.dane.test")
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), nil, "invalid domains refused: no other header")
	else
		T.is(T.hdr(conn, "X-DANE-Recipient", 0), T.AUTHSERV .. "; domain=invalid",
		    "invalid domains accepted: one X-DANE-Recipient domain=invalid for all of them")
		T.is(T.hdr(conn, "X-DANE-Recipient", 1), PARTIAL, "invalid domains accepted: then partial.dane.test")
	end

	-- 5: the null sender stays domain=none
	q = qid .. "N"
	mail(conn, q, '<>', '', T.TLS13)
	rcpt(conn, q, '<b@partial.dane.test>', 'b@partial.dane.test')
	T.is(T.eom(conn), "SMFIR_CONTINUE", "null sender: the message continues")
	T.is(T.hdr(conn, "X-DANE-Sender"), T.AUTHSERV .. "; domain=none", "null sender, empty {mail_addr}: domain=none")
	mail(conn, q .. "2", '<>', nil, T.TLS13)
	rcpt(conn, q .. "2", '<b@partial.dane.test>', nil)
	T.eom(conn)
	T.is(T.hdr(conn, "X-DANE-Sender"), T.AUTHSERV .. "; domain=none", "null sender, no {mail_addr}: domain=none")
	mt.disconnect(conn)
end)
