-- ID Chat: agents sign in with a short-lived credential instead of a password
-- (agents.mode = "oidc"; docs/deployment.md, "Agents: OpenID Connect or XMPP accounts").
--
-- The HTTP service signs the agent in with the municipality's OpenID Provider
-- and issues a JWT (HS256, a few minutes) that the console gives as its SASL
-- PLAIN password. This auth provider accepts it when the signature is right
-- (the key the HTTP service signs with, shared with this server only), the
-- issuer is "idchat", it has not expired and its "jid" claim is the account
-- signing in. There are no password accounts on the host.
--
-- A session lives as long as its credential: at the credential's expiry the
-- session is closed (not-authorized) unless the console renewed it in-band
-- before, with the next credential of the same account:
--
--   <iq type='set' to='<agent host>' id='r1'>
--     <credential xmlns='https://idchat.nl/protocol/credential/1'>JWT</credential>
--   </iq>
--
-- So signing out, or the provider refusing a renewal (the HTTP service then
-- issues no credential), ends the session within the credential's lifetime.
--
--   authentication = "idchat_jwt"
--   idchat_credential_key_file = "/run/secrets/idchat-credential-key"
--     (or idchat_credential_key = "..."; at least 32 bytes)
--
-- Tokens and names are never logged.

local jwt = require "util.jwt";
local new_sasl = require "util.sasl".new;
local st = require "util.stanza";

local host = module.host;
local NS = "https://idchat.nl/protocol/credential/1";
local ISSUER = "idchat";
local MIN_KEY_BYTES = 32;

local function read_key()
	local path = module:get_option_string("idchat_credential_key_file");
	if path then
		local file, err = io.open(path, "r");
		if not file then
			error(("ID Chat: cannot read idchat_credential_key_file: %s"):format(tostring(err)), 0);
		end
		local text = file:read("*a");
		file:close();
		return (text:gsub("^%s+", ""):gsub("%s+$", ""));
	end
	return module:get_option_string("idchat_credential_key");
end

local key = read_key();
if not key or #key < MIN_KEY_BYTES then
	error(("ID Chat: mod_auth_idchat_jwt needs idchat_credential_key(_file) of at least %d bytes"):format(MIN_KEY_BYTES), 0);
end

-- The claims of a valid credential for username@host, or nil.
local function check(username, token)
	if type(token) ~= "string" or #token > 4096 then
		return nil;
	end
	local ok, claims = jwt.verify(key, token);
	if not ok or type(claims) ~= "table" then
		return nil;
	end
	if claims.iss ~= ISSUER or type(claims.exp) ~= "number" or claims.exp <= os.time() then
		return nil;
	end
	if claims.jid ~= username .. "@" .. host then
		return nil;
	end
	return claims;
end

local provider = {};

function provider.test_password(username, password)
	return check(username, password) ~= nil;
end

function provider.get_password()
	return nil, "Agents have no passwords here";
end

function provider.set_password()
	return nil, "Agents have no passwords here";
end

function provider.user_exists()
	-- An account exists while its credential does; nothing is stored.
	return true;
end

function provider.users()
	return function() return nil; end;
end

function provider.create_user()
	return nil, "Agent accounts come from the identity provider";
end

function provider.delete_user()
	return nil, "Agent accounts come from the identity provider";
end

function provider.get_sasl_handler()
	return new_sasl(host, {
		plain_test = function(sasl, username, password)
			local claims = check(username, password);
			if claims then
				sasl.idchat_exp = claims.exp;
			end
			return claims ~= nil, true;
		end;
	});
end

module:provides("auth", provider);

-- Close the session at its credential's expiry, unless a renewal moved it on.
local function watch(session)
	module:add_timer(math.max(0, session.idchat_exp - os.time()) + 1, function()
		if session.destroyed or session.idchat_superseded then
			return;
		end
		local left = (session.idchat_exp or 0) - os.time();
		if left > 0 then
			return left + 1;
		end
		module:log("info", "An agent session ended: its credential expired without renewal");
		session:close({
			condition = "not-authorized";
			text = "Uw aanmelding is verlopen. / Your sign-in has expired.";
		});
	end);
end

module:hook("authentication-success", function(event)
	local session = event.session;
	local sasl = session.sasl_handler;
	if sasl and sasl.idchat_exp then
		session.idchat_exp = sasl.idchat_exp;
		watch(session);
	end
end);

-- XEP-0198 resumption: the resumed session takes the new connection's credential;
-- the short-lived session that carried it is never closed by its own timer.
module:hook("smacks-hibernation-end", function(event)
	local new, resumed = event.origin, event.resumed;
	if new.idchat_exp then
		new.idchat_superseded = true;
		resumed.idchat_exp = math.max(resumed.idchat_exp or 0, new.idchat_exp);
	end
end);

module:hook("iq-set/host/" .. NS .. ":credential", function(event)
	local session, stanza = event.origin, event.stanza;
	local token = stanza:get_child_text("credential", NS);
	local claims = session.username and check(session.username, token);
	if not claims then
		session.send(st.error_reply(stanza, "auth", "not-authorized", "Geen geldige aanmelding. / Not a valid credential."));
		return true;
	end
	session.idchat_exp = math.max(session.idchat_exp or 0, claims.exp);
	session.send(st.reply(stanza));
	return true;
end);
