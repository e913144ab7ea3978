-- havedane_send.lua: deliver one message per address of MT_RCPTS
-- (space-separated) through the milter, each on its own connection from
-- mail.sender.example [192.0.2.7] over TLSv1.3, as a sending MTA would:
-- each RCPT accepted, each message discarded at end of data.
-- Environment: MT_RCPTS, MT_QID (queue id prefix).
dofile(os.getenv("MT_LIB"))

local rcpts = {}
for a in string.gmatch(os.getenv("MT_RCPTS"), "%S+") do
	rcpts[#rcpts + 1] = a
end
T.plan(2 * #rcpts)
T.run(function()
	for i, a in ipairs(rcpts) do
		local q = os.getenv("MT_QID") .. i
		local conn = T.connect("mail.sender.example", "192.0.2.7")
		T.must("HELO", mt.helo(conn, "out.sender.example"))
		local m = T.mail(conn, q, "<probe@sender.example>", T.TLS13)
		if m ~= "SMFIR_CONTINUE" then
			error("MAIL: " .. m)
		end
		T.is(T.rcpt(conn, q, "<" .. a .. ">"), "SMFIR_CONTINUE", "RCPT " .. a .. ": accepted")
		T.is(T.eom(conn), "SMFIR_DISCARD", a .. ": recorded and discarded")
		mt.disconnect(conn)
	end
end)
