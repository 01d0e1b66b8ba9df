-- An agent accepts an offer (Router.accept).
-- KEYS[1] chat            the chat hash
-- KEYS[2] agent           the agent hash
-- KEYS[3] agent_chats     the agent's chats set
-- KEYS[4] offers          the offers zset
-- KEYS[5] offer           the offer key (offer id -> cid)
-- ARGV[1] offer_id
-- ARGV[2] agent_bare
-- ARGV[3] agent_full
-- ARGV[4] nick
-- ARGV[5] now_ms
-- ARGV[6] cid
-- ARGV[7] queue_prefix
-- Returns the chat's record as it is now (field, value, ...), or false when the offer is
-- not out to this agent any more.
local flat = redis.call('HGETALL', KEYS[1])
local rec = {}
for i = 1, #flat, 2 do rec[flat[i]] = flat[i + 1] end
if rec.state ~= 'offered' or rec.offer ~= ARGV[1] or rec.offered_to ~= ARGV[2] then return false end
redis.call('HSET', KEYS[1], 'state', 'assigned', 'agent', ARGV[2], 'agent_full', ARGV[3],
           'agent_nick', ARGV[4], 'assigned_ms', ARGV[5])
redis.call('HDEL', KEYS[1], 'offer', 'offered_to')
redis.call('HINCRBY', KEYS[2], 'pending', -1)
redis.call('HINCRBY', KEYS[2], 'load', 1)
redis.call('HSET', KEYS[2], 'last', ARGV[5])
redis.call('SADD', KEYS[3], ARGV[6])
redis.call('ZREM', ARGV[7] .. (rec.purpose or ''), ARGV[6])
redis.call('ZREM', KEYS[4], ARGV[6])
redis.call('DEL', KEYS[5])
rec.state, rec.agent, rec.agent_full, rec.agent_nick, rec.assigned_ms = 'assigned', ARGV[2], ARGV[3], ARGV[4], ARGV[5]
rec.offer, rec.offered_to = nil, nil
local out = {}
for k, v in pairs(rec) do out[#out + 1] = k out[#out + 1] = v end
return out
