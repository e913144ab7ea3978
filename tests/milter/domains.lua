-- domains.lua: X-DANE-Sender and X-DANE-Recipient for each class of world
-- domain, as sender and as recipient (one TLS message each, so no
-- plaintext violation); the null sender; domain normalization; the cap on
-- recipient headers (milter.max_recipient_headers = 2: more=N on the last).
-- The expected values are the world table (tests/world/world.sh) mapped
-- through policy/verdict.c: dane usable -> dane-only, partial/unusable ->
-- dane, bogus/temperror -> temperror (source dane), else MTA-STS enforce ->
-- secure (source mta-sts), else none (source none). Daemon: authserv_id =
-- MT_AUTHSERV, max_recipient_headers = 2, no domain entries for these.
dofile(os.getenv("MT_LIB"))
T.plan(33)

-- domain, policy, source, dane, mta-sts
local CASES = {
	{ "usable.dane.test", "dane-only", "dane", "usable", "enforce" },
	{ "partial.dane.test", "dane", "dane", "partial", "absent" },
	{ "unusable.dane.test", "dane", "dane", "unusable", "absent" },
	{ "notlsa.dane.test", "none", "none", "none", "absent" },
	{ "unsigned.test", "none", "none", "insecure", "absent" },
	{ "nullmx.dane.test", "none", "none", "nullmx", "absent" },
	{ "bogus.test", "temperror", "dane", "bogus", "error" },
	{ "enforce.sts.test", "secure", "mta-sts", "none", "enforce" },
	{ "testing.sts.test", "none", "none", "none", "testing" },
	{ "nosts.sts.test", "none", "none", "none", "absent" },
}

T.run(function()
	local conn = T.connect("client.example", "192.0.2.1")
	for i, c in ipairs(CASES) do
		local d, policy, source, dane, sts = c[1], c[2], c[3], c[4], c[5]
		local qid = "DOM" .. i
		T.mail(conn, qid, "<sender@" .. d .. ">", T.TLS13)
		T.rcpt(conn, qid, "<rcpt@" .. d .. ">")
		T.eom(conn)
		T.is(T.hdr(conn, "X-DANE-Sender"), T.sender(d, policy, dane, sts), d .. " as sender")
		T.is(T.hdr(conn, "X-DANE-Recipient"), T.recipient(d, policy, source, dane, sts), d .. " as recipient")
	end

	-- the null sender; two recipients of one domain give one header
	T.mail(conn, "DOMNULL", "<>", T.TLS13)
	T.rcpt(conn, "DOMNULL", "<a@partial.dane.test>")
	T.rcpt(conn, "DOMNULL", "<b@partial.dane.test>")
	T.is(T.eom(conn), "SMFIR_CONTINUE", "null sender: the message continues")
	T.is(T.hdr(conn, "X-DANE-Sender"), T.AUTHSERV .. "; domain=none", "null sender: domain=none")
	T.is(T.hdr(conn, "X-DANE-Recipient", 0), T.recipient("partial.dane.test", "dane", "dane", "partial", "absent"),
	    "two recipients at one domain: its header")
	T.is(T.hdr(conn, "X-DANE-Recipient", 1), nil, "two recipients at one domain: one header")

	-- case and a trailing dot do not make another domain
	T.mail(conn, "DOMCASE", "<Sender@USABLE.Dane.Test>", T.TLS13)
	T.rcpt(conn, "DOMCASE", "<Rcpt@Partial.DANE.test.>")
	T.rcpt(conn, "DOMCASE", "<rcpt2@partial.dane.test>")
	T.eom(conn)
	T.is(T.hdr(conn, "X-DANE-Sender"), T.sender("usable.dane.test", "dane-only", "usable", "enforce"),
	    "sender domain in mixed case: normalized")
	T.is(T.hdr(conn, "X-DANE-Recipient", 0), T.recipient("partial.dane.test", "dane", "dane", "partial", "absent"),
	    "recipient domain in mixed case with a trailing dot: normalized")
	T.is(T.hdr(conn, "X-DANE-Recipient", 1), nil, "... and the same domain as its lower-case form")

	-- max_recipient_headers = 2: two domains fit, four give more=2
	T.mail(conn, "DOMTWO", "<a@partial.dane.test>", T.TLS13)
	T.rcpt(conn, "DOMTWO", "<b@enforce.sts.test>")
	T.rcpt(conn, "DOMTWO", "<c@testing.sts.test>")
	T.eom(conn)
	T.is(T.hdr(conn, "X-DANE-Recipient", 0), T.recipient("enforce.sts.test", "secure", "mta-sts", "none", "enforce"),
	    "2 recipient domains: the first header")
	T.is(T.hdr(conn, "X-DANE-Recipient", 1), T.recipient("testing.sts.test", "none", "none", "none", "testing"),
	    "2 recipient domains: the second header, without more=")

	T.mail(conn, "DOMMORE", "<a@partial.dane.test>", T.TLS13)
	for _, r in ipairs({ "<a@unusable.dane.test>", "<b@enforce.sts.test>", "<c@unusable.dane.test>",
	    "<d@testing.sts.test>", "<e@nosts.sts.test>" }) do
		T.rcpt(conn, "DOMMORE", r)
	end
	T.is(T.eom(conn), "SMFIR_CONTINUE", "4 recipient domains: the message continues")
	T.is(T.hdr(conn, "X-DANE-Recipient", 0), T.recipient("unusable.dane.test", "dane", "dane", "unusable", "absent"),
	    "4 recipient domains, cap 2: the first header")
	T.is(T.hdr(conn, "X-DANE-Recipient", 1),
	    T.recipient("enforce.sts.test", "secure", "mta-sts", "none", "enforce", "; more=2"),
	    "4 recipient domains, cap 2: the second header ends with more=2")
	T.is(T.hdr(conn, "X-DANE-Recipient", 2), nil, "4 recipient domains, cap 2: no third header")
	mt.disconnect(conn)
end)
