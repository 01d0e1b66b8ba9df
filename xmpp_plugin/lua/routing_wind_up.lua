-- The last step of a chat's end (Chats._wind_up), after its room is gone and the end is
-- told and audited: the session with its attribute URLs, its activity marks and the
-- guest's claim are deleted, the handling time is sampled for the expected wait, and the
-- chat's record and lifetime entry go. Run again after a crash, it deletes what is left.
-- KEYS[1] session         the session hash
-- KEYS[2] chat            the chat hash
-- KEYS[3] lives           the chats' lifetime index
-- KEYS[4] handling        the list of recent handling times (ms)
-- KEYS[5] purposes        the set of topics with a queue
-- ARGV[1] cid
-- ARGV[2] attr_url_prefix the attribute-URL key prefix (attr_id, auth_attr_id appended)
-- ARGV[3] handling_ms     this chat's handling time, '' when it was never assigned
-- ARGV[4] samples         how many handling times are kept
-- ARGV[5] queue_prefix
-- ARGV[6] purpose         the chat's topic
-- ARGV[7..] also          more keys of the chat to delete (activity marks, guest claim)
-- Returns {chats waiting for this topic, chats waiting for any topic}.
local ids = redis.call('HMGET', KEYS[1], 'attr_id', 'auth_attr_id')
local gone = {KEYS[1], KEYS[2]}
for i = 1, 2 do
  if ids[i] then gone[#gone + 1] = ARGV[2] .. ids[i] end
end
for i = 7, #ARGV do gone[#gone + 1] = ARGV[i] end
redis.call('DEL', unpack(gone))
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[4], ARGV[3])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[4]) - 1)
end
local here, all = 0, 0
for _, pu in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  local n = redis.call('ZCARD', ARGV[5] .. pu)
  all = all + n
  if pu == ARGV[6] then here = n end
end
return {here, all}
