-- Everyone waiting for a topic, in queue order (Chats._queue_moved pushes their places):
-- the queue and each chat's citizen and state in one step, unless the topic's citizens
-- were told nobody is on duty (that is what stays true for them).
-- KEYS[1] queue           the topic's queue
-- KEYS[2] told_off_duty   the topics whose citizens were told nobody is on duty
-- ARGV[1] purpose         the topic
-- ARGV[2] chat_prefix     the chat key prefix (the cid appended)
-- Returns {cid, citizen, state, ...} of the chats in the queue that have a record (a chat
-- being offered keeps its place), {} when nobody waits, or false when the topic's
-- citizens were told nobody is on duty.
local cids = redis.call('ZRANGE', KEYS[1], 0, -1)
if #cids == 0 then return {} end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return false end
local out = {}
for _, cid in ipairs(cids) do
  local r = redis.call('HMGET', ARGV[2] .. cid, 'citizen', 'state')
  if r[1] then
    out[#out + 1] = cid
    out[#out + 1] = r[1]
    out[#out + 1] = r[2] or ''
  end
end
return out
