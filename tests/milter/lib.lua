-- lib.lua: helpers for the miltertest scripts run by tests/milter/miltertest.sh
-- (loaded with dofile(os.getenv("MT_LIB"))).
--
-- Every assertion prints one line on stdout, which the shell turns into
-- one TAP line:
--   T:PLAN <TAB> N                      first: how many assertions follow
--   T:PASS <TAB> desc
--   T:FAIL <TAB> desc <TAB> got <TAB> want
--   T:DIED <TAB> error                  a Lua error (miltertest prints none)
--   T:DONE <TAB> N                      the script ran to its end
-- CR, LF, TAB and backslash in got/want are written as \r \n \t \\.
--
-- Environment: MT_PORT (the milter listens on inet:MT_PORT@127.0.0.1),
-- MT_AUTHSERV (the authserv-id the headers must start with), and what a
-- script says it reads itself.

T = {}

local ran = 0

local function show(v)
	if v == nil then
		return "nil"
	end
	return (tostring(v):gsub("\\", "\\\\"):gsub("\r", "\\r"):gsub("\n", "\\n"):gsub("\t", "\\t"))
end

function T.plan(n)
	mt.echo("T:PLAN\t" .. n)
end

function T.is(got, want, desc)
	ran = ran + 1
	if got == want then
		mt.echo("T:PASS\t" .. desc)
	else
		mt.echo("T:FAIL\t" .. desc .. "\t" .. show(got) .. "\t" .. show(want))
	end
end

function T.ok(cond, desc)
	T.is(cond and true or false, true, desc)
end

-- Run the script body; any Lua error becomes a T:DIED line.
function T.run(f)
	local ok, err = pcall(f)
	if not ok then
		mt.echo("T:DIED\t" .. show(err))
		return
	end
	mt.echo("T:DONE\t" .. ran)
end

-- A miltertest call returns nil or an error string: turn the latter into
-- a Lua error (caught by T.run).
function T.must(what, r)
	if r ~= nil then
		error(what .. ": " .. tostring(r), 2)
	end
end

T.AUTHSERV = os.getenv("MT_AUTHSERV") or "MT_AUTHSERV-unset"

local reply_names = {}
for _, n in ipairs({ "SMFIR_CONTINUE", "SMFIR_ACCEPT", "SMFIR_REJECT", "SMFIR_TEMPFAIL",
    "SMFIR_DISCARD", "SMFIR_REPLYCODE", "SMFIR_SKIP" }) do
	if _G[n] ~= nil then
		reply_names[_G[n]] = n
	end
end

-- The last reply on conn, by name ("SMFIR_CONTINUE", "SMFIR_REPLYCODE"...).
function T.reply(conn)
	local r = mt.getreply(conn)
	return reply_names[r] or ("reply " .. tostring(r))
end

-- Milliseconds since the epoch (os.clock counts CPU time only).
function T.ms()
	local p = io.popen("date +%s%3N")
	local s = p:read("*l")
	p:close()
	return tonumber(s)
end

-- CONNECT macros as Postfix sends them.
function T.postfix_macros(host, addr, j)
	return { "j", j or "mx.j.example", "{daemon_name}", "smtpd", "v", "Postfix 3.7.11",
	    "{client_addr}", addr, "{client_name}", host }
end

-- A new connection: the CONNECT macros (a list of name, value; default
-- T.postfix_macros(host, addr)), then the client host name and address.
function T.connect(host, addr, macros)
	local conn = mt.connect("inet:" .. os.getenv("MT_PORT") .. "@127.0.0.1")
	if conn == nil then
		error("cannot connect to the milter on port " .. tostring(os.getenv("MT_PORT")))
	end
	T.must("macro C", mt.macro(conn, SMFIC_CONNECT,
	    table.unpack(macros or T.postfix_macros(host, addr))))
	T.must("conninfo", mt.conninfo(conn, host, addr))
	return conn
end

-- Inbound TLS macro sets ({tls_version} {cipher} {cipher_bits} ...).
T.TLS13 = { "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256" }

-- MAIL FROM with the MAIL macros: i = qid, {mail_addr}, and the pairs of
-- the table extra (nil: plaintext, no TLS macros at all). Returns the
-- reply name.
function T.mail(conn, qid, from, extra)
	local m = { "i", qid, "{mail_addr}", (from:gsub("^<", ""):gsub(">$", "")),
	    "{auth_type}", "", "{mail_mailer}", "smtp" }
	for _, v in ipairs(extra or {}) do
		m[#m + 1] = v
	end
	T.must("macro M", mt.macro(conn, SMFIC_MAIL, table.unpack(m)))
	T.must("MAIL " .. from, mt.mailfrom(conn, from))
	return T.reply(conn)
end

-- RCPT TO with the RCPT macros; returns the reply name.
function T.rcpt(conn, qid, to)
	T.must("macro R", mt.macro(conn, SMFIC_RCPT, "i", qid,
	    "{rcpt_addr}", (to:gsub("^<", ""):gsub(">$", ""))))
	T.must("RCPT " .. to, mt.rcptto(conn, to))
	return T.reply(conn)
end

-- Send headers: a list of { name, value } pairs.
function T.headers(conn, list)
	for _, h in ipairs(list) do
		T.must("header " .. h[1], mt.header(conn, h[1], h[2]))
	end
end

-- End of message; returns the reply name. (The milter negotiates away
-- EOH and the body: miltertest then refuses mt.eoh / mt.bodystring.)
function T.eom(conn)
	T.must("EOM", mt.eom(conn))
	return T.reply(conn)
end

-- The n-th (0-based, in the order they end up in the message) header of
-- that name added at end of message, or nil.
function T.hdr(conn, name, n)
	return mt.getheader(conn, name, n or 0)
end

-- Expected header values.
function T.sender(domain, policy, dane, sts, extra)
	return T.AUTHSERV .. "; domain=" .. domain .. "; policy=" .. policy .. "; dane=" .. dane ..
	    "; mta-sts=" .. sts .. (extra or "")
end

function T.recipient(domain, policy, source, dane, sts, extra)
	return T.AUTHSERV .. "; domain=" .. domain .. "; policy=" .. policy .. "; source=" ..
	    source .. "; dane=" .. dane .. "; mta-sts=" .. sts .. (extra or "")
end

-- The concatenation of lists (macro name/value pairs).
function T.cat(...)
	local r = {}
	for _, l in ipairs({ ... }) do
		for _, v in ipairs(l) do
			r[#r + 1] = v
		end
	end
	return r
end
