-- ID Chat: Prosody 0.12 configuration
--
-- This file ships with the project and is used as-is by the demo and the
-- tests (scripts/prosody_server.py runs `prosody --config <this file> -F`).
-- Every value that differs between installations comes from the environment,
-- so the file itself never has to be edited or templated:
--
--   IDCHAT_PROSODY_DATA_DIR        data, pid file and logs (default: ./prosody-data)
--   IDCHAT_PROSODY_INTERFACE       address every port listens on (default: 127.0.0.1;
--                                  0.0.0.0 inside a container, see docker-compose.yml)
--   IDCHAT_XMPP_AGENT_DOMAIN       agent accounts host (default: agents.idchat.localhost)
--   IDCHAT_XMPP_GUEST_DOMAIN       anonymous citizen host (default: guest.idchat.localhost)
--   IDCHAT_XMPP_MUC_DOMAIN         chat rooms (default: rooms.idchat.localhost)
--   IDCHAT_XMPP_COMPONENT_DOMAIN   our external component (default: component.idchat.localhost)
--   IDCHAT_XMPP_COMPONENT_SECRET   component password (REQUIRED, no default)
--   IDCHAT_XMPP_C2S_PORT           client port (default: 15222)
--   IDCHAT_XMPP_COMPONENT_PORT     component port (default: 15347)
--   IDCHAT_XMPP_HTTP_PORT          WebSocket/HTTP port (default: 15280)
--   IDCHAT_HTTP_EXTERNAL_URL       public URL of the ID Chat web pages, its
--                                  origin is allowed by CORS (default: http://127.0.0.1:8002)
--
-- Check the syntax with:
--   IDCHAT_XMPP_COMPONENT_SECRET=x prosodyctl --config prosody/prosody.cfg.lua check config
--
-- The section order follows Prosody's shipped prosody.cfg.lua.dist.

-- Reading the environment. `local` variables stay out of Prosody's option
-- table; `os` and `error` are reachable because the config sandbox falls back
-- to Lua's globals. A local must never share its name with an option: an
-- assignment to that name would then set the local, not the option.

local function env(name, default)
	local value = os.getenv(name);
	if value == nil or value == "" then
		return default;
	end
	return value;
end

local function env_port(name, default)
	local value = env(name, default);
	local port = tonumber(value);
	if port == nil or port < 1 or port > 65535 or port % 1 ~= 0 then
		error(("ID Chat: %s must be a TCP port number, got %q"):format(name, tostring(value)), 0);
	end
	return port;
end

local data_dir = env("IDCHAT_PROSODY_DATA_DIR", "prosody-data");
local listen_address = env("IDCHAT_PROSODY_INTERFACE", "127.0.0.1");
local agent_domain = env("IDCHAT_XMPP_AGENT_DOMAIN", "agents.idchat.localhost");
local guest_domain = env("IDCHAT_XMPP_GUEST_DOMAIN", "guest.idchat.localhost");
local muc_domain = env("IDCHAT_XMPP_MUC_DOMAIN", "rooms.idchat.localhost");
local component_domain = env("IDCHAT_XMPP_COMPONENT_DOMAIN", "component.idchat.localhost");
local secret_from_env = env("IDCHAT_XMPP_COMPONENT_SECRET", nil);
local c2s_port = env_port("IDCHAT_XMPP_C2S_PORT", "15222");
local component_port = env_port("IDCHAT_XMPP_COMPONENT_PORT", "15347");
local http_port = env_port("IDCHAT_XMPP_HTTP_PORT", "15280");
local external_url = env("IDCHAT_HTTP_EXTERNAL_URL", "http://127.0.0.1:8002");

-- A component secret must never have a built-in default: a guessable secret
-- would let anyone act as our component (create rooms, read attributes).
if secret_from_env == nil then
	error("ID Chat: IDCHAT_XMPP_COMPONENT_SECRET is not set; refusing to start without a component secret", 0);
end

-- CORS compares the Origin header, which is scheme://host[:port] without a path.
local external_origin = external_url:match("^(%a[%w+.-]*://[^/?#]+)");
if external_origin == nil then
	error(("ID Chat: IDCHAT_HTTP_EXTERNAL_URL is not an absolute URL: %q"):format(external_url), 0);
end


---------- Server-wide settings ----------

-- No server-wide admin accounts: nobody administers Prosody over XMPP. (The
-- only admin is our component, and only on the MUC host, see below.)
admins = { }

-- Modules for the VirtualHosts. Components (MUC, ours) do not load these.
modules_enabled = {

	-- Generally required
		"disco"; -- Service discovery: clients and the component discover the MUC
		"roster"; -- Agents may keep contacts; Converse expects roster support
		"saslauth"; -- Authentication (passwords for agents, ANONYMOUS for guests)
		"tls"; -- STARTTLS when an operator adds certificates (not used on loopback)

	-- Not essential, but recommended
		"carbons"; -- Keeps an agent's several browser tabs/devices in sync (nothing stored)
		"limits"; -- Rate limits for client connections (anonymous guests are untrusted)
		"smacks"; -- Stream management (XEP-0198): survives short network drops, in memory only

	-- Nice to have
		"ping"; -- Replies to XMPP pings; clients use them as keepalives

	-- HTTP modules
		"websocket"; -- XMPP over WebSocket for Converse.js in the browser

	-- Other specific functionality
		"posix"; -- Writes the pid file that the launcher and operators use

	-- Deliberately NOT loaded:
	--   "register"  (no in-band registration: agent accounts are created with prosodyctl)
	--   "mam"       (no message archive: nothing about a chat may remain on disk)
	--   "bosh"      (WebSocket is enough for Converse.js)
	--   "admin_shell", "admin_adhoc" (no admin interface on a socket or over XMPP)
	--   "version", "uptime", "time" (do not advertise server details to anonymous users)
}

-- Auto-loaded modules we turn off.
modules_disabled = {
	"offline"; -- Offline storage would write undelivered chat messages to disk (it ignores no-store hints)
	"s2s"; -- No federation: ID Chat users never talk to other servers, and no s2s port is opened
}

-- Keep the pid file with the rest of this instance's files so several
-- instances (tests, demo) can run side by side without root-owned paths.
pidfile = data_dir .. "/prosody.pid";

-- All data (agent accounts) goes to the folder given by the environment
-- instead of /var/lib/prosody.
data_path = data_dir;

-- Prosody must not fork: the launcher runs it as a child process. In 0.12 the
-- `daemonize` option is deprecated (prosodyctl check flags it); the launcher
-- passes -F (--foreground) instead.

-- The demo and the tests run as root in a container without a "prosody" user.
-- In production run Prosody as its own user and remove this line.
run_as_root = true;

-- Listen on IPv4 loopback only: the WebSocket port is reached through the
-- project's HTTPS reverse proxy, c2s and the component port are local.
-- "Private" services (the component port) use local_interfaces, whose
-- default also includes ::1, so both options are set.
interfaces = { listen_address };
local_interfaces = { listen_address };

-- Client-to-server port (agents and tests; the browsers use WebSocket).
c2s_ports = { c2s_port };

-- Port for our external component (XEP-0114).
component_ports = { component_port };

-- HTTP port for WebSocket; TLS is terminated by the reverse proxy.
http_ports = { http_port };

-- No HTTPS listener: Prosody has no certificates here, and the default port
-- 5281 would collide between instances.
https_ports = { };

-- Latency: with Nagle's algorithm a lone chat message waits 20-40 ms per hop.
network_settings = {
	nagle = false; -- send small stanzas immediately
};

-- Demo/test values. The c2s port listens on 127.0.0.1 only and has no
-- certificate; test clients log in with SASL PLAIN over plain TCP on loopback.
-- Browsers never use this port (they use WebSocket behind TLS).
-- In production, with certificates on c2s, remove these two lines.
c2s_require_encryption = false;
allow_unencrypted_plain_auth = true;

-- Rate limits for client connections. Prosody 0.12 pauses a connection for
-- bytes/rate after every read, with no burst: at the dist default of 10kb/s each
-- request waits 10-30 ms (bench/chat_sessions.py). At 512kb/s a chat-sized stanza
-- passes at once while a flooding guest is still held back.
limits = {
	c2s = {
		rate = "512kb/s";
	};
}

-- Stream management keeps a dropped session resumable (a reload or a short
-- network drop keeps the same guest JID). The default of 600 s would keep a
-- citizen who simply closed the tab "in the room" for ten minutes.
smacks_hibernation_time = 60;

-- Agent accounts are stored hashed (SCRAM) in Prosody's internal storage.
authentication = "internal_hashed"

-- Flat files under data_path, for agent accounts. Hosts that could hold chat
-- content (guest host, MUC) override this with "memory" below.
storage = "internal"

-- Log to files in the data folder at level info. No debug level: at debug
-- Prosody logs whole stanzas, i.e. chat messages and attributes.
log = {
	info = data_dir .. "/prosody.log"; -- info, warn, error
	error = data_dir .. "/prosody.err"; -- errors only, for a quick look
}

-- Certificates, if an operator adds them, live in the data folder
-- (Prosody resolves this relative to the config file otherwise). The launcher
-- creates the folder; Prosody logs an error at startup if it is missing.
certificates = data_dir .. "/certs"

-- WebSocket: the reverse proxy terminates TLS, so Prosody must treat the
-- WebSocket connection as secure; otherwise, once the demo values above are
-- removed, agents could not log in with a password over wss://.
consider_websocket_secure = true;

-- Requests arrive as http://127.0.0.1:<port>/xmpp-websocket, whose Host header
-- matches no VirtualHost; serve them from the guest host. The stream's "to"
-- still selects the host, so agents use the same endpoint.
http_default_host = guest_domain;

-- CORS: only the ID Chat web pages may call Prosody's WebSocket endpoint.
-- Not `access_control_allow_origins`: in 0.12.3 that option crashes mod_http
-- as soon as two hosts serve an HTTP app ("attempt to call a nil value
-- (method 'empty')") and is never applied anyway. The per-app override works.
http_cors_override = {
	websocket = {
		enabled = true; -- keep CORS headers on the WebSocket endpoint
		origins = { external_origin }; -- ... but only for our own web pages
	};
};


----------- Virtual hosts -----------

-- Agents (KCC employees) log in with accounts created by
-- `prosodyctl --config prosody/prosody.cfg.lua register USER HOST PASSWORD`.
VirtualHost (agent_domain)
	authentication = "internal_hashed"; -- password accounts, stored hashed
	-- The rooms and the component are not subdomains of this host: link them
	-- so clients can discover them.
	disco_items = {
		{ muc_domain, "ID Chat rooms" };
		{ component_domain, "ID Chat" };
	};

-- Citizens: anonymous accounts with a random, server-assigned JID per login.
VirtualHost (guest_domain)
	authentication = "anonymous"; -- SASL ANONYMOUS, nothing to register
	storage = "memory"; -- a guest session leaves nothing on disk
	-- Same discovery links as on the agent host.
	disco_items = {
		{ muc_domain, "ID Chat rooms" };
		{ component_domain, "ID Chat" };
	};


------ Components ------

-- Chat rooms: one members-only, non-persistent room per chat.
Component (muc_domain) "muc"
	-- Only our component may create rooms (admins = the bare component domain;
	-- "local" would not match a sibling subdomain).
	restrict_room_creation = true;
	admins = { component_domain };
	-- Rooms live in memory only: otherwise live rooms (with member JIDs) are
	-- written to disk at shutdown. No muc_mam is loaded on this component.
	storage = "memory";
	-- Rooms die with the chat; the component destroys them explicitly.
	muc_room_default_persistent = false;
	-- Nobody gets in unless the component made them a member.
	muc_room_default_members_only = true;
	-- Rooms are hidden from disco#items: room names are nobody's business.
	muc_room_default_public = false;
	-- A short history, in memory only (storage above; rooms die at the end of
	-- the chat): the agent who joins reads the question the citizen typed while
	-- waiting, and a reloaded citizen page gets the conversation back. Attributes
	-- never go into a room.
	muc_room_default_history_length = 50;
	-- Live rooms beyond the cache (default 100) are evicted and restored all the
	-- time, which makes every new chat dearer; keep all live chats cached.
	muc_room_cache_size = 10000;
	max_history_messages = 50;

-- Our external component (slixmpp): rooms, claims, routing, attributes.
Component (component_domain)
	component_secret = secret_from_env; -- from the environment only, never in this file
	-- A standby component instance takes over only when it holds the connection
	-- lease in Redis; if the old connection still lingers here, the newcomer wins.
	component_conflict_resolve = "kick_old";

---------- End of the Prosody Configuration file ----------
-- Global settings must go above the first VirtualHost/Component line.
