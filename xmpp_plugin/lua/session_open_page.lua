-- The citizen opens the chat page (pages.get_client_page), in one step: the session is
-- bound to the first browser that opens it, and for that browser only it lives another
-- idle timeout (as session_touch.lua) and gets a fresh single-use claim ticket. Another
-- browser changes nothing.
-- KEYS[1] session         the session hash
-- KEYS[2] ticket          the new ticket's key
-- ARGV[1] cookie_hash     the hash of the browser cookie sent, '' when none
-- ARGV[2] fresh_hash      the hash of a fresh cookie, for a first visit without one
-- ARGV[3] ticket_ttl      seconds the ticket lives
-- ARGV[4] chat_ttl        seconds a session with a chat lives after activity
-- ARGV[5] attr_url_prefix the attribute-URL key prefix (attr_id, auth_attr_id appended)
-- ARGV[6] unclaimed_ttl   seconds a session without a chat lives
-- ARGV[7] sid             the session id (the ticket's value)
-- Returns {'ok', 'cookie' or 'fresh' (the browser is known by the cookie it sent, or must
-- be given the fresh one), purpose, created_at, status, attr_id or ''}, {'other'} when
-- another browser holds the chat, or {'gone'} when there is no such session.
local s = redis.call('HMGET', KEYS[1], 'purpose', 'created_at', 'status', 'attr_id', 'browser',
                     'chat', 'auth_attr_id')
if not s[1] then return {'gone'} end
local bound, which = s[5], nil
if not bound then
  bound = ARGV[1] ~= '' and ARGV[1] or ARGV[2]
  redis.call('HSET', KEYS[1], 'browser', bound)
end
if ARGV[1] ~= '' and bound == ARGV[1] then which = 'cookie'
elseif bound == ARGV[2] then which = 'fresh'
else return {'other'} end
local ttl = s[6] and ARGV[4] or ARGV[6]
redis.call('EXPIRE', KEYS[1], ttl)
if s[4] then redis.call('EXPIRE', ARGV[5] .. s[4], ttl) end
if s[7] then redis.call('EXPIRE', ARGV[5] .. s[7], ttl) end
redis.call('SET', KEYS[2], ARGV[7], 'EX', ARGV[3])
return {'ok', which, s[1], s[2], s[3], s[4] or ''}
