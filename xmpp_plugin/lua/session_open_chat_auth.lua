-- A fresh attribute URL for an authentication during the chat (SessionStore.open_chat_auth,
-- docs/protocol.md §11). The session names it (auth_attr_id), so purge and touch find it;
-- an earlier one of the session is deleted.
-- KEYS[1] session         the session hash
-- KEYS[2] attr_url        the new attribute URL (holds the sid)
-- ARGV[1] sid
-- ARGV[2] attr_id         the new attribute URL's id
-- ARGV[3] ttl             seconds
-- ARGV[4] attr_url_prefix the attribute-URL key prefix (the earlier id appended)
-- Returns 1, or 0 when there is no session.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local old = redis.call('HGET', KEYS[1], 'auth_attr_id')
if old then redis.call('DEL', ARGV[4] .. old) end
redis.call('HSET', KEYS[1], 'auth_attr_id', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
return 1
