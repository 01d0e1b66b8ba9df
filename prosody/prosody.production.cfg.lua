-- ID Chat: Prosody 0.12, production profile
--
-- What a municipality runs (docker-compose.yml uses it):
--   prosody --config prosody/prosody.production.cfg.lua -F      (as the prosody user)
-- Everything both profiles share, and the environment variables it reads, is
-- in common.cfg.lua (included at the end). This profile adds:
--
--   IDCHAT_XMPP_TLS_CERT_FILE   certificate (PEM, with its chain) for the XMPP
--                               domains, presented on the c2s port (REQUIRED)
--   IDCHAT_XMPP_TLS_KEY_FILE    its private key (PEM, REQUIRED), readable by the
--                               prosody user only
--
-- and differs from the demo profile (prosody.cfg.lua) in this:
--
--   * Prosody never runs as root: this file refuses to load in a Prosody
--     started as root (prosodyctl, which switches to the prosody user itself,
--     may read it as root). Start Prosody as the `prosody` user (Debian's
--     package creates it; the image in prosody/Dockerfile runs as it).
--   * Client connections must be encrypted: c2s offers nothing but STARTTLS
--     until TLS is up, and SASL PLAIN is never offered without TLS.
--   * A WebSocket connection counts as encrypted only when it comes through a
--     trusted reverse proxy (IDCHAT_LIMITS_TRUSTED_PROXIES) that says
--     `X-Forwarded-Proto: https`. Without that, no login is offered at all.
--   * No server-to-server and no admin interface: as in the demo (common.cfg.lua
--     disables s2s and loads none of admin_shell, admin_telnet, admin_adhoc).
--
-- Check the syntax with (as the prosody user):
--   IDCHAT_XMPP_COMPONENT_SECRET=x IDCHAT_XMPP_TLS_CERT_FILE=... IDCHAT_XMPP_TLS_KEY_FILE=... \
--     prosodyctl --config prosody/prosody.production.cfg.lua check config

local function required_file(name)
	local path = os.getenv(name);
	if path == nil or path == "" then
		error(("ID Chat: %s is not set; the production profile needs a TLS certificate and key"):format(name), 0);
	end
	local file, err = io.open(path, "r");
	if not file then
		error(("ID Chat: %s cannot be read: %s"):format(name, tostring(err)), 0);
	end
	file:close();
	return path;
end

-- Never as root. Without run_as_root, mod_posix is meant to refuse, but in
-- Prosody 0.12.3 its refusal fails half-way ("attempt to index a nil value
-- (field 'main_thread')") and leaves a half-started server running as root.
-- So the profile refuses first, before anything starts.
if prosody.process_type == "prosody" and require "util.pposix".getuid() == 0 then
	error("ID Chat: the production profile never runs as root; start Prosody as the prosody user", 0);
end

local cert_file = required_file("IDCHAT_XMPP_TLS_CERT_FILE");
local key_file = required_file("IDCHAT_XMPP_TLS_KEY_FILE");

-- Encryption required on c2s; PLAIN only inside TLS (Prosody's defaults,
-- written out because the demo profile turns them off).
c2s_require_encryption = true;
allow_unencrypted_plain_auth = false;

-- TLS for the browsers ends at the reverse proxy: only a trusted proxy's
-- X-Forwarded-Proto makes a WebSocket connection count as encrypted.
consider_websocket_secure = false;

-- The certificate for every host (agents and guests; the components have no
-- client connections). Prosody's own TLS defaults: TLS 1.2 or newer.
ssl = {
	certificate = cert_file;
	key = key_file;
};

-- Where Prosody looks for more certificates: the certificate's own folder.
certificates = cert_file:match("^(.*)/[^/]*$") or ".";

Include "common.cfg.lua"
