-- Bind a session to the first browser that opens it (SessionStore.bind_browser).
-- KEYS[1] session         the session hash
-- ARGV[1] browser_hash    the opening browser's
-- Returns the browser hash the session is bound to, or false when there is no session.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'browser', ARGV[1])
return redis.call('HGET', KEYS[1], 'browser')
