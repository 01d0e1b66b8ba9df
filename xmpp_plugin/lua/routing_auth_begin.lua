-- One authentication request in flight per chat, only by its agent (Router.auth_begin,
-- docs/protocol.md §11).
-- KEYS[1] chat            the chat hash
-- ARGV[1] agent_bare
-- ARGV[2] method
-- ARGV[3] deadline_ms
-- Returns 'ok', 'busy' or 'not-yours'.
local st = redis.call('HMGET', KEYS[1], 'state', 'agent', 'auth_state')
if st[1] ~= 'assigned' or st[2] ~= ARGV[1] then return 'not-yours' end
if st[3] then return 'busy' end
redis.call('HSET', KEYS[1], 'auth_state', 'starting', 'auth_method', ARGV[2], 'auth_deadline', ARGV[3])
return 'ok'
