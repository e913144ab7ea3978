-- trusted.lua: submission is not a transport violation. A plaintext
-- message from usable.dane.test (dane usable, MTA-STS enforce) under
-- milter.plaintext_sender = "tag": from each client address in
-- MT_TRUSTED (in milter.trusted_networks) it is not tagged; from each in
-- MT_UNTRUSTED it is (violation=plaintext), unless the client
-- authenticated ({auth_authen} not empty at MAIL FROM); an empty
-- {auth_authen} is no authentication.
-- Environment: MT_QID (prefix of the queue ids), MT_TRUSTED and
-- MT_UNTRUSTED (client addresses, separated by spaces).
dofile(os.getenv("MT_LIB"))

local qid = os.getenv("MT_QID")
local function words(s)
	local r = {}
	for w in (s or ""):gmatch("%S+") do
		r[#r + 1] = w
	end
	return r
end
local trusted, untrusted = words(os.getenv("MT_TRUSTED")), words(os.getenv("MT_UNTRUSTED"))
T.plan(2 * #trusted + 6 * #untrusted)

local CLEAN = T.sender("usable.dane.test", "dane-only", "usable", "enforce")
local TAGGED = T.sender("usable.dane.test", "dane-only", "usable", "enforce", "; violation=plaintext")
local n = 0

-- One plaintext message from addr; extra: more MAIL macros. Returns the
-- X-DANE-Inbound and X-DANE-Sender values.
local function message(addr, extra)
	n = n + 1
	local conn = T.connect("client.example", addr)
	local q = qid .. n
	T.mail(conn, q, "<a@usable.dane.test>", extra)
	T.rcpt(conn, q, "<b@partial.dane.test>")
	T.eom(conn)
	local inbound, sender = T.hdr(conn, "X-DANE-Inbound"), T.hdr(conn, "X-DANE-Sender")
	mt.disconnect(conn)
	return inbound, sender
end

T.run(function()
	for _, a in ipairs(trusted) do
		local inbound, sender = message(a)
		T.is(inbound, T.AUTHSERV .. "; tls=none; client=client.example; addr=" .. a,
		    a .. ": X-DANE-Inbound names the client address")
		T.is(sender, CLEAN, a .. " (trusted), plaintext from a DANE domain: no violation")
	end
	for _, a in ipairs(untrusted) do
		local inbound, sender = message(a)
		T.is(inbound, T.AUTHSERV .. "; tls=none; client=client.example; addr=" .. a,
		    a .. ": X-DANE-Inbound names the client address")
		T.is(sender, TAGGED, a .. " (untrusted), plaintext from a DANE domain: violation=plaintext")
		_, sender = message(a, { "{auth_authen}", "alice" })
		T.is(sender, CLEAN, a .. " (untrusted), authenticated ({auth_authen} alice): no violation")
		_, sender = message(a, { "{auth_authen}", "" })
		T.is(sender, TAGGED, a .. " (untrusted), empty {auth_authen}: violation=plaintext")
		-- a TLS message from the same client stays clean, authenticated or not
		_, sender = message(a, T.TLS13)
		T.is(sender, CLEAN, a .. " (untrusted) over TLS: no violation")
		_, sender = message(a, T.cat(T.TLS13, { "{auth_authen}", "alice" }))
		T.is(sender, CLEAN, a .. " (untrusted) over TLS, authenticated: no violation")
	end
end)
