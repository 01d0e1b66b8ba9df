-- The authentication request is over (done, refused, withdrawn, expired): exactly one
-- caller wins (Router.auth_end).
-- KEYS[1] chat            the chat hash
-- ARGV[1] attr_id         the attribute URL id it must be for ('' any)
-- Returns {method, attr id}, or false when no request (or another one) was out.
local st = redis.call('HMGET', KEYS[1], 'auth_state', 'auth_method', 'auth_attr')
if not st[1] then return false end
if ARGV[1] ~= '' and st[3] ~= ARGV[1] then return false end
redis.call('HDEL', KEYS[1], 'auth_state', 'auth_method', 'auth_url', 'auth_attr', 'auth_deadline')
return {st[2] or '', st[3] or ''}
