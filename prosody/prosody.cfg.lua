-- ID Chat: Prosody 0.12, demo and test profile
--
-- Used as-is by `make demo` and the tests (scripts/prosody_server.py runs
-- `prosody --config <this file> -F`). Everything both profiles share, and the
-- environment variables it reads, is in common.cfg.lua (included at the end).
-- What this profile allows and production does not:
--
--   * Prosody may run as root (the demo and test containers have no other user);
--   * the c2s port needs no TLS, and SASL PLAIN travels without it: test
--     clients log in over plain TCP on 127.0.0.1, which has no certificate;
--   * WebSocket connections count as encrypted whoever makes them.
--
-- Production uses prosody.production.cfg.lua instead. Check the syntax with:
--   IDCHAT_XMPP_COMPONENT_SECRET=x prosodyctl --config prosody/prosody.cfg.lua check config

-- The demo and the tests run as root in a container without a "prosody"
-- user; mod_posix refuses to run as root without this line.
run_as_root = true;

-- Loopback only, no certificate: no TLS on c2s, PLAIN without it.
c2s_require_encryption = false;
allow_unencrypted_plain_auth = true;

-- The browsers reach the WebSocket through the demo's plain HTTP.
consider_websocket_secure = true;

-- Prosody looks for certificates here (none in this profile); the launcher
-- creates the folder, so Prosody does not log an error at every start.
certificates = (os.getenv("IDCHAT_PROSODY_DATA_DIR") or "prosody-data") .. "/certs";

Include "common.cfg.lua"
