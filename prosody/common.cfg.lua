-- ID Chat: Prosody 0.12 configuration shared by both profiles
--
-- Never loaded on its own: prosody/prosody.cfg.lua (demo and tests) and
-- prosody/prosody.production.cfg.lua set what differs between the two
-- profiles first and then `Include` this file. Every value that differs
-- between installations comes from the environment, so no file ever has to be
-- edited or templated:
--
--   IDCHAT_PROSODY_DATA_DIR        data, pid file, logs and the generated firewall
--                                  rules (default: ./prosody-data)
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
--   IDCHAT_AGENTS_MODE             how agents log in: xmpp-accounts (password accounts,
--                                  the default) or oidc (the short-lived credential the
--                                  HTTP service issues; prosody/modules/mod_auth_idchat_jwt.lua)
--   IDCHAT_AGENTS_CREDENTIAL_KEY_FILE  oidc: the file with the credential key (or
--                                  IDCHAT_AGENTS_CREDENTIAL_KEY), shared with the HTTP service
--
-- Flood limits (docs/deployment.md, "XMPP server hardening"; same names on ejabberd):
--
--   IDCHAT_LIMITS_GUEST_RATE       bytes per second a guest connection may send (default: 16000)
--   IDCHAT_LIMITS_AGENT_RATE       bytes per second an agent connection may send (default: 512000)
--   IDCHAT_LIMITS_BURST_SECONDS    seconds' worth of its rate a connection may send at once
--                                  before the rate holds it (default: 1; Prosody only)
--   IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS
--                                  guest sessions one IP address may hold at once (default: 10)
--   IDCHAT_LIMITS_MAX_STANZA_BYTES largest stanza a client may send (default: 65536)
--   IDCHAT_LIMITS_TRUSTED_PROXIES  reverse proxies whose X-Forwarded-For header names
--                                  the client's address, comma-separated addresses or
--                                  CIDR ranges (default: 127.0.0.1,::1)
--
-- The component connection is never rate limited: the limits apply to client
-- connections (c2s and WebSocket) only.
--
-- The section order follows Prosody's shipped prosody.cfg.lua.dist.

-- Reading the environment. `local` variables stay out of Prosody's option
-- table; `os`, `io` and `error` are reachable because the config sandbox falls
-- back to Lua's globals. A local must never share its name with an option: an
-- assignment to that name would then set the local, not the option.

local function env(name, default)
	local value = os.getenv(name);
	if value == nil or value == "" then
		return default;
	end
	return value;
end

local function env_integer(name, default, minimum, maximum)
	local value = env(name, default);
	local number = tonumber(value);
	if number == nil or number % 1 ~= 0 or number < minimum or number > maximum then
		error(("ID Chat: %s must be a whole number from %d to %d, got %q"):format(
			name, minimum, maximum, tostring(value)), 0);
	end
	return number;
end

local function env_port(name, default)
	return env_integer(name, default, 1, 65535);
end

local function env_list(name, default)
	local items = {};
	for item in env(name, default):gmatch("[^,%s]+") do
		items[#items + 1] = item;
	end
	return items;
end

-- Paths Prosody resolves later (firewall rules, plugins) must be absolute:
-- Prosody changes its working directory to the data folder at startup.
local function absolute(path)
	if path:sub(1, 1) == "/" then
		return path;
	end
	return require "lfs".currentdir() .. "/" .. path;
end

-- The folder of the profile file that included this one (prosody/ in the
-- project, /etc/idchat in a container); our own modules sit beside it.
local config_dir = absolute(prosody.paths.config or ".");

local data_dir = absolute(env("IDCHAT_PROSODY_DATA_DIR", "prosody-data"));
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
local agents_mode = env("IDCHAT_AGENTS_MODE", "xmpp-accounts");
local agents_key_file = env("IDCHAT_AGENTS_CREDENTIAL_KEY_FILE", nil);
local agents_key = env("IDCHAT_AGENTS_CREDENTIAL_KEY", nil);

local guest_rate = env_integer("IDCHAT_LIMITS_GUEST_RATE", "16000", 1000, 1000000000);
local agent_rate = env_integer("IDCHAT_LIMITS_AGENT_RATE", "512000", 1000, 1000000000);
local burst_seconds = env_integer("IDCHAT_LIMITS_BURST_SECONDS", "1", 0, 60);
local guest_sessions_per_address = env_integer("IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS", "10", 1, 1000000);
local max_stanza_bytes = env_integer("IDCHAT_LIMITS_MAX_STANZA_BYTES", "65536", 10000, 16777216);
local proxies = env_list("IDCHAT_LIMITS_TRUSTED_PROXIES", "127.0.0.1,::1");

-- A component secret must never have a built-in default: a guessable secret
-- would let anyone act as our component (create rooms, read attributes).
if secret_from_env == nil then
	error("ID Chat: IDCHAT_XMPP_COMPONENT_SECRET is not set; refusing to start without a component secret", 0);
end

if agents_mode ~= "xmpp-accounts" and agents_mode ~= "oidc" then
	error(("ID Chat: IDCHAT_AGENTS_MODE must be xmpp-accounts or oidc, got %q"):format(agents_mode), 0);
end

-- CORS compares the Origin header, which is scheme://host[:port] without a path.
local external_origin = external_url:match("^(%a[%w+.-]*://[^/?#]+)");
if external_origin == nil then
	error(("ID Chat: IDCHAT_HTTP_EXTERNAL_URL is not an absolute URL: %q"):format(external_url), 0);
end

-- mod_firewall reads its rules from files; the domains come from the
-- environment, so the rules are written into the data folder here (only when
-- they changed: prosodyctl reads this file too, possibly as another user).
local function firewall_rules(name, text)
	local path = data_dir .. "/" .. name;
	local current = io.open(path, "r");
	if current then
		local old = current:read("*a");
		current:close();
		if old == text then
			return path;
		end
	end
	local file, err = io.open(path, "w");
	if not file then
		error(("ID Chat: cannot write the firewall rules %s: %s"):format(path, tostring(err)), 0);
	end
	file:write(text);
	file:close();
	return path;
end


---------- Server-wide settings ----------

-- No server-wide admin accounts: nobody administers Prosody over XMPP. (The
-- only admin is our component, and only on the MUC host, see below.)
admins = { }

-- Our own module (mod_idchat_limits) lives in prosody/modules beside this
-- file; Debian's prosody-modules package provides mod_firewall.
plugin_paths = { config_dir .. "/modules" }

-- Modules for the VirtualHosts. Components (MUC, ours) do not load these.
modules_enabled = {

	-- Generally required
		"disco"; -- Service discovery: clients and the component discover the MUC
		"roster"; -- Agents may keep contacts; Converse expects roster support
		"saslauth"; -- Authentication (passwords for agents, ANONYMOUS for guests)
		"tls"; -- STARTTLS (required on c2s in the production profile)

	-- Not essential, but recommended
		"carbons"; -- Keeps an agent's several browser tabs/devices in sync (nothing stored)
		"smacks"; -- Stream management (XEP-0198): survives short network drops, in memory only

	-- Nice to have
		"ping"; -- Replies to XMPP pings; clients use them as keepalives

	-- HTTP modules
		"websocket"; -- XMPP over WebSocket for Converse.js in the browser

	-- Other specific functionality
		"posix"; -- Writes the pid file; refuses to run as root unless run_as_root is set
		"idchat_limits"; -- Byte rates with a burst per client connection, the per-address guest cap (prosody/modules)

	-- Deliberately NOT loaded:
	--   "register"  (no in-band registration: agent accounts are created with prosodyctl)
	--   "limits"    (no burst: it pauses a connection after every read; idchat_limits replaces it)
	--   "mam"       (no message archive: nothing about a chat may remain on disk)
	--   "bosh"      (WebSocket is enough for Converse.js)
	--   "admin_shell", "admin_telnet", "admin_adhoc" (no admin interface on a socket or over XMPP)
	--   "http_openmetrics", "http_files" (nothing else on the HTTP port)
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

-- No HTTPS listener: TLS for the browsers ends at the reverse proxy, and the
-- default port 5281 would collide between instances.
https_ports = { };

-- Latency: with Nagle's algorithm a lone chat message waits 20-40 ms per hop.
network_settings = {
	nagle = false; -- send small stanzas immediately
};

-- CPU: Prosody's own garbage collector setting (incremental, threshold 105,
-- speed 500) starts a new cycle as soon as memory grows 5 % and spent more
-- CPU per chat than all the XMPP work: in bench/chat_sessions.py 12-15 ms of
-- Prosody CPU per chat, against 5-6.5 ms with the collector waiting for memory
-- to double (Lua's own default) and working twice as fast as allocation. The
-- price is memory: up to about twice the live data between cycles.
gc = { mode = "incremental"; threshold = 200; speed = 200 };

-- Flood limits for client connections (c2s and WebSocket); the component
-- connection has its own session type and is never limited.
--
-- mod_idchat_limits (prosody/modules) keeps a token bucket per client
-- connection: it refills at the rate up to burst_seconds' worth, and a read
-- that empties it stops the connection reading until the deficit has refilled.
-- A login or a chat message passes at once, a flood is held to the rate.
-- Before it authenticates nobody can tell a guest from an agent, so every new
-- client connection gets the guest rate (this global value); at login the
-- rate of the host the session authenticated on applies (below).
idchat_limits_rate = guest_rate;
idchat_limits_burst_seconds = burst_seconds;

-- The largest stanza a client may send once authenticated (before: 10,000
-- bytes). A chat message is far below; applies to WebSocket frames too.
c2s_stanza_size_limit = max_stanza_bytes;

-- The reverse proxies whose X-Forwarded-For (client address, used by the
-- per-address guest cap) and X-Forwarded-Proto (https: the connection counts
-- as encrypted) Prosody believes. Anyone else's headers are ignored.
trusted_proxies = proxies;

-- Stream management keeps a dropped session resumable (a reload or a short
-- network drop keeps the same guest JID). The default of 600 s would keep a
-- citizen who simply closed the tab "in the room" for ten minutes.
smacks_hibernation_time = 60;

-- Agent accounts are stored hashed (SCRAM) in Prosody's internal storage.
authentication = "internal_hashed"

-- Flat files under data_path, for agent accounts. Hosts that could hold chat
-- content (guest host, MUC) override this with "memory" below.
storage = "internal"

-- Log to files in the data folder from level warn. No debug level: at debug
-- Prosody logs whole stanzas, i.e. chat messages and attributes; and not info
-- either: at info it logs every citizen's address and guest JID as they connect
-- and authenticate (personal data), as ejabberd's loglevel warning avoids too.
log = {
	warn = data_dir .. "/prosody.log"; -- warn, error
	error = data_dir .. "/prosody.err"; -- errors only, for a quick look
}

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


----------- Firewall rules (mod_firewall, Debian's prosody-modules) -----------

-- Guests talk to the component and their own room, nothing else. The rules
-- run before Prosody routes a guest's stanza ("preroute"), so a refused
-- stanza never reaches anyone: no message, IQ or presence, and no pending
-- subscription in an agent's roster. Refused stanzas bounce with
-- policy-violation; errors and IQ results are dropped silently.
local guest_rules = firewall_rules("idchat-guests.pfw", ([[
# Generated by prosody/common.cfg.lua from the environment; edit that file.
%%ZONE idchat_services: %s, %s

::preroute

# The guest's own account (no 'to', or its own bare JID) and its own server:
# roster, disco, ping, presence broadcast.
TO SELF?
PASS.

TO: %s
PASS.

# Room private messages to another occupant: off.
KIND: message
TYPE: chat, normal, headline
TO: <*>@%s/<*>
BOUNCE=policy-violation (Privéberichten staan uit. / Private messages are off.)

# The component and the chat rooms.
ENTERING: idchat_services
PASS.

# Everything else: agents, other guests, other domains.
BOUNCE=policy-violation (Gasten kunnen alleen hun eigen gesprek bereiken. / Guests can only reach their own chat.)
]]):format(component_domain, muc_domain, guest_domain, muc_domain));

-- A second fence on the agent host: nothing addressed to an agent is ever
-- delivered when it comes straight from a guest (room messages come from the
-- room, the component from its own domain).
local agent_rules = firewall_rules("idchat-agents.pfw", ([[
# Generated by prosody/common.cfg.lua from the environment; edit that file.
::deliver

FROM: <*>@%s
BOUNCE=policy-violation (Gasten kunnen alleen hun eigen gesprek bereiken. / Guests can only reach their own chat.)
]]):format(guest_domain));

-- In the rooms: no private messages and no queries between occupants, for
-- anyone (Prosody 0.12's MUC has no allowpm setting). A <ping/> still passes:
-- the MUC answers an occupant's ping to its own nickname itself (XEP-0410
-- self-ping; Converse rejoins when it fails); a ping to another occupant is
-- passed on, and carries nothing.
local room_rules = firewall_rules("idchat-rooms.pfw", [[
# Generated by prosody/common.cfg.lua; edit that file.
::deliver

KIND: message
TYPE: chat, normal, headline
TO: <*>@<*>/<*>
BOUNCE=policy-violation (Privéberichten staan uit. / Private messages are off.)

KIND: iq
TYPE: get, set
TO: <*>@<*>/<*>
NOT INSPECT: {urn:xmpp:ping}ping
BOUNCE=policy-violation (Vragen aan andere deelnemers staan uit. / Queries to other occupants are off.)
]]);


----------- Virtual hosts -----------

-- Agents (KCC employees). In xmpp-accounts mode they log in with accounts
-- created by `prosodyctl --config <profile file> register USER HOST PASSWORD`;
-- in oidc mode there are no password accounts: the HTTP service signs them in
-- with the OpenID Provider and issues a short-lived credential, which
-- mod_auth_idchat_jwt (prosody/modules) checks, ending the session when it
-- expires without renewal.
VirtualHost (agent_domain)
	authentication = agents_mode == "oidc" and "idchat_jwt" or "internal_hashed";
	idchat_credential_key_file = agents_key_file; -- oidc only, shared with the HTTP service
	idchat_credential_key = agents_key; -- ... or the key itself (environment)
	-- The rooms and the component are not subdomains of this host: link them
	-- so clients can discover them.
	disco_items = {
		{ muc_domain, "ID Chat rooms" };
		{ component_domain, "ID Chat" };
	};
	-- Agents' consoles fetch their chats and attributes: a generous rate.
	idchat_limits_rate = agent_rate;
	-- Refuse anything a guest addresses to an agent directly (rules above).
	modules_enabled = { "firewall" };
	firewall_scripts = { agent_rules };

-- Citizens: anonymous accounts with a random, server-assigned JID per login.
VirtualHost (guest_domain)
	authentication = "anonymous"; -- SASL ANONYMOUS, nothing to register
	storage = "memory"; -- a guest session leaves nothing on disk
	-- Same discovery links as on the agent host.
	disco_items = {
		{ muc_domain, "ID Chat rooms" };
		{ component_domain, "ID Chat" };
	};
	-- Guests are anonymous and untrusted: a strict rate, and a cap on the
	-- sessions one address may hold (behind a proxy: its X-Forwarded-For).
	idchat_limits_rate = guest_rate;
	idchat_limits_sessions_per_address = guest_sessions_per_address;
	-- Guests reach the component and their room only (rules above).
	modules_enabled = { "firewall" };
	firewall_scripts = { guest_rules };


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
	-- No private messages or queries between occupants (rules above).
	modules_enabled = { "firewall" };
	firewall_scripts = { room_rules };

-- Our external component (slixmpp): rooms, claims, routing, attributes.
Component (component_domain)
	component_secret = secret_from_env; -- from the environment only, never in this file
	-- A standby component instance takes over only when it holds the connection
	-- lease in Redis; if the old connection still lingers here, the newcomer wins.
	component_conflict_resolve = "kick_old";

---------- End of the shared Prosody configuration ----------
-- Global settings must go above the first VirtualHost/Component line.
