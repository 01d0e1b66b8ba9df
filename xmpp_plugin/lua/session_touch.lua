-- Activity (SessionStore.touch): the session and its attribute URLs live another idle
-- timeout; a session with a chat lives chat_ttl after its last activity, one without
-- unclaimed_ttl.
-- KEYS[1] session         the session hash
-- ARGV[1] chat_ttl        seconds
-- ARGV[2] attr_url_prefix the attribute-URL key prefix (attr_id, auth_attr_id appended)
-- ARGV[3] unclaimed_ttl   seconds
-- Returns 1, or 0 when the session is gone.
local ttl = ARGV[3]
local rec = redis.call('HMGET', KEYS[1], 'chat', 'attr_id', 'auth_attr_id')
if rec[1] then ttl = ARGV[1] end
if redis.call('EXPIRE', KEYS[1], ttl) == 0 then return 0 end
for i = 2, 3 do
  if rec[i] then redis.call('EXPIRE', ARGV[2] .. rec[i], ttl) end
end
return 1
