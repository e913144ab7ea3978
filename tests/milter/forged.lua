-- forged.lua: forgery protection. Incoming copies of X-DANE-Inbound /
-- X-DANE-Sender / X-DANE-Recipient (any case) are all deleted (one
-- SMFIR_CHGHEADER with an empty value per index; a near-miss name is kept)
-- and fresh ones go on top; text from the MTA (macros, client name, queue
-- id) that tries to add a key or a header line comes out percent-encoded
-- on one line. Daemon: milter.authserv_id = MT_AUTHSERV.
--
-- miltertest 2.11 ignores the index given to MT_HDRCHANGE (it reads the
-- value as the index): MT_HDRDELETE (name, index), which matches a change
-- to an empty value at that index, checks each deletion;
-- MT_HDRCHANGE (name, "") that deletions were sent for the name at all.
dofile(os.getenv("MT_LIB"))
T.plan(24)

local A = T.AUTHSERV

T.run(function()
	local conn = T.connect("client.example", "192.0.2.1")
	T.mail(conn, "FORGE1", "<a@partial.dane.test>", T.TLS13)
	T.rcpt(conn, "FORGE1", "<b@unusable.dane.test>")
	T.headers(conn, {
		{ "X-DANE-Inbound", A .. "; tls=TLSv1.3; client-cert=verified" },
		{ "From", "a@partial.dane.test" },
		{ "X-DANE-Sender", A .. "; domain=partial.dane.test; policy=dane-only; dane=usable" },
		{ "x-dane-recipient", A .. "; domain=unusable.dane.test; policy=dane-only" },
		{ "X-Dane-Sender", "forged 2" },
		{ "Subject", "forged" },
		{ "X-DANE-Senders", "a near miss: not ours" },
		{ "x-dane-inbound", "forged 2" },
		{ "X-DANE-SENDER", "forged 3" },
		{ "X-DANE-Recipient", "forged 2" },
	})
	T.is(T.eom(conn), "SMFIR_CONTINUE", "forged copies: the message continues")
	for _, c in ipairs({ { "X-DANE-Inbound", 2 }, { "X-DANE-Sender", 3 }, { "X-DANE-Recipient", 2 } }) do
		local name, n = c[1], c[2]
		T.ok(mt.eom_check(conn, MT_HDRCHANGE, name, ""), name .. ": deletions sent (MT_HDRCHANGE to \"\")")
		for i = 1, n do
			T.ok(mt.eom_check(conn, MT_HDRDELETE, name, i), name .. " #" .. i .. " of " .. n .. " deleted")
		end
		T.ok(not mt.eom_check(conn, MT_HDRDELETE, name, n + 1), name .. ": no deletion past #" .. n)
	end
	T.ok(not mt.eom_check(conn, MT_HDRDELETE, "X-DANE-Senders"), "the near-miss X-DANE-Senders is kept")
	T.ok(mt.eom_check(conn, MT_HDRINSERT, "X-DANE-Inbound",
	    A .. "; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; client-cert=none; " ..
	    "client=client.example; addr=192.0.2.1", 0), "fresh X-DANE-Inbound inserted at index 0")
	T.ok(mt.eom_check(conn, MT_HDRINSERT, "X-DANE-Sender",
	    T.sender("partial.dane.test", "dane", "partial", "absent"), 0),
	    "fresh X-DANE-Sender inserted at index 0")
	T.ok(mt.eom_check(conn, MT_HDRINSERT, "X-DANE-Recipient",
	    T.recipient("unusable.dane.test", "dane", "dane", "unusable", "absent"), 0),
	    "fresh X-DANE-Recipient inserted at index 0")
	T.is(T.hdr(conn, "X-DANE-Sender", 1), nil, "exactly one X-DANE-Sender added")

	-- Injection attempts through the macros of the next message.
	T.mail(conn, "FORGE2", "<a@partial.dane.test>", {
		"{tls_version}", "TLSv1.3",
		"{cipher}", "X; dane=usable\r\nX-Evil: 1",
		"{cipher_bits}", "256 (x)",
		"{cert_subject}", "client.example; dane=usable",
		"{cert_issuer}", "CA\"\\<>%'",
	})
	T.rcpt(conn, "FORGE2", "<b@unusable.dane.test>")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "injection: the message continues")
	local v = T.hdr(conn, "X-DANE-Inbound")
	T.is(v, A .. "; tls=TLSv1.3; cipher=X%3B%20dane=usable%0D%0AX-Evil:%201; bits=256%20%28x%29; " ..
	    "client-cert=verified; cert-subject=client.example%3B%20dane=usable; " ..
	    "cert-issuer=CA%22%5C%3C%3E%25%27; client=client.example; addr=192.0.2.1",
	    "injection in {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}: percent-encoded")
	T.ok(v ~= nil and not v:find("[\r\n]"), "injection: X-DANE-Inbound stays on one line")
	T.ok(not mt.eom_check(conn, MT_HDRINSERT, "X-Evil") and not mt.eom_check(conn, MT_HDRADD, "X-Evil"),
	    "injection: no X-Evil header")
	mt.disconnect(conn)

	-- ... and through the client name.
	conn = T.connect("evil.example; dane=usable", "192.0.2.9")
	-- (the queue id too: the shell checks its log line)
	local qid = "FORGE3 x;\r\nX-Evil: 1"
	T.mail(conn, qid, "<a@partial.dane.test>", nil)
	T.rcpt(conn, qid, "<b@unusable.dane.test>")
	T.eom(conn)
	T.is(T.hdr(conn, "X-DANE-Inbound"), A .. "; tls=none; client=evil.example%3B%20dane=usable; addr=192.0.2.9",
	    "injection in the client name: percent-encoded")
	mt.disconnect(conn)
end)
