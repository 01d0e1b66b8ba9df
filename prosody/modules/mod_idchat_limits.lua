-- ID Chat: byte rates with a burst and a per-address session cap for client
-- connections.
--
-- Prosody 0.12's mod_limits (through server_epoll's conn:setlimit) pauses a
-- connection for bytes/rate seconds after every read, without any burst, so
-- even a login waits for its own bytes; and it sets one rate when the
-- connection opens, before anyone knows whether a guest or an agent is on the
-- other end. This module replaces it (do not load mod_limits with it): a token
-- bucket per client connection (c2s and WebSocket), refilled at the rate up to
-- the burst. A read that takes the bucket below zero is handled, and then the
-- connection reads nothing for deficit/rate seconds: a login or a chat message
-- passes at once, a flood is held to the rate once the burst is spent.
--
-- Loaded globally (modules_enabled), it reads:
--
--   idchat_limits_rate = N            (global)
--     bytes per second for every client connection until it authenticates,
--     and on any host without a rate of its own: the guest rate.
--   idchat_limits_burst_seconds = S   (global)
--     the bucket holds S seconds' worth of the connection's rate (default 1,
--     like ejabberd's shaper).
--   idchat_limits_rate = N            (on a VirtualHost)
--     bytes per second for client sessions of this host, applied the moment a
--     session authenticates on it (guests strict, agents generous).
--   idchat_limits_sessions_per_address = N   (on a VirtualHost)
--     at most N bound sessions on this host from one IP address; the next one
--     is refused at resource binding with a policy-violation stream error.
--     Behind a reverse proxy the address is the one mod_http took from the
--     proxy's X-Forwarded-For (trusted_proxies). A session that resumes with
--     stream management binds nothing and is never refused.
--
-- Component connections are not client sessions and are never touched.
-- Addresses are personal data: they are never logged.

module:set_global();

local filters = require "util.filters";
local time = require "util.time";

local now = time.monotonic or time.now;
local min = math.min;

local prelogin_rate = module:get_option_number("idchat_limits_rate", 0);
local burst_seconds = module:get_option_number("idchat_limits_burst_seconds", 1);

-- The bucket of one connection: `tokens` bytes may still be read at once
-- (negative: the connection is paused until the deficit has refilled).
local function set_rate(bucket, rate)
	bucket.rate = rate;
	bucket.burst = rate * burst_seconds;
end

local function refill(bucket)
	local t = now();
	bucket.tokens = min(bucket.burst, bucket.tokens + (t - bucket.last) * bucket.rate);
	bucket.last = t;
end

-- Stop reading from the connection until the deficit has refilled; the bytes
-- already read are handled first (as server_epoll's own limit does).
local function hold(session, bucket)
	local conn = session.conn;
	if bucket.tokens < 0 and conn and conn.pausefor then
		if conn.setreadtimeout then
			conn:setreadtimeout(false); -- no read timeout while we hold it
		end
		conn:pausefor(-bucket.tokens / bucket.rate);
	end
end

-- bytes/in sees what the socket delivered: on a WebSocket, the raw frames
-- (this filter runs before mod_websocket's frame decoder).
local function bytes_in(bytes, session)
	local bucket = session.idchat_bucket;
	if bucket and bytes then
		refill(bucket);
		bucket.tokens = bucket.tokens - #bytes;
		hold(session, bucket);
	end
	return bytes;
end

local function filter_hook(session)
	if session.type and session.type:match("^c2s") and not session.idchat_bucket then
		local bucket = { tokens = 0; last = now() };
		set_rate(bucket, prelogin_rate);
		bucket.tokens = bucket.burst;
		session.idchat_bucket = bucket;
		filters.add_filter(session, "bytes/in", bytes_in, 1000);
	end
end

if prelogin_rate > 0 then
	function module.load()
		filters.add_filter_hook(filter_hook);
	end

	function module.unload()
		filters.remove_filter_hook(filter_hook);
	end
end

function module.add_host(module)
	local rate = module:get_option_number("idchat_limits_rate", 0);
	local per_address = module:get_option_number("idchat_limits_sessions_per_address", 0);

	if rate > 0 then
		module:hook("authentication-success", function (event)
			local session = event.session;
			local bucket = session.idchat_bucket;
			if bucket then
				-- Settle what was read at the old rate, then go on at this
				-- host's rate (a pause still running is recomputed with it).
				refill(bucket);
				set_rate(bucket, rate);
				bucket.tokens = min(bucket.tokens, bucket.burst);
				hold(session, bucket);
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
end
