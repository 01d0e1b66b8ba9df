-- ID Chat: per-host byte rates and a per-address session cap for client connections.
--
-- Prosody 0.12's mod_limits gives every client connection one byte rate, set
-- when the connection opens, before anyone knows whether a guest or an agent
-- is on the other end. Loaded on a VirtualHost, this module adds:
--
--   idchat_limits_rate = N
--     bytes per second for client sessions of this host, applied the moment a
--     session authenticates on it (guests strict, agents generous).
--   idchat_limits_sessions_per_address = N
--     at most N bound sessions on this host from one IP address; the next one
--     is refused at resource binding with a policy-violation stream error.
--     Behind a reverse proxy the address is the one mod_http took from the
--     proxy's X-Forwarded-For (trusted_proxies). A session that resumes with
--     stream management binds nothing and is never refused.
--
-- Component connections are not client sessions and are never touched.
-- Addresses are personal data: they are never logged.

local rate = module:get_option_number("idchat_limits_rate", 0);
local per_address = module:get_option_number("idchat_limits_sessions_per_address", 0);

if rate > 0 then
	module:hook("authentication-success", function (event)
		local conn = event.session.conn;
		-- server_epoll (Prosody 0.12's default network backend) throttles reads
		-- per connection; a WebSocket session's conn is its HTTP connection.
		if conn and conn.setlimit then
			conn:setlimit(rate);
		end
	end);
end

if per_address > 0 then
	local bound = {}; -- [address] = number of bound sessions on this host

	module:hook("pre-resource-bind", function (event)
		local session = event.session;
		local address = session.ip;
		if address and (bound[address] or 0) >= per_address then
			module:log("info", "Refused a session: its address already holds %d on this host", per_address);
			session:close({
				condition = "policy-violation";
				text = "Te veel gelijktijdige gesprekken vanaf dit adres. / Too many simultaneous sessions from this address.";
			});
			return false;
		end
	end);

	module:hook("resource-bind", function (event)
		local session = event.session;
		local address = session.ip;
		if address then
			session.idchat_counted_address = address;
			bound[address] = (bound[address] or 0) + 1;
		end
	end);

	module:hook("resource-unbind", function (event)
		local session = event.session;
		local address = session.idchat_counted_address;
		if address then
			session.idchat_counted_address = nil;
			local left = (bound[address] or 1) - 1;
			bound[address] = left > 0 and left or nil;
		end
	end);
end
