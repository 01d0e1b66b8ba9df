-- Decline or time out one offer (Router.decline, expire_offers, withdraw_offers_of). Only
-- the agent the offer went to can decline it; the refusal is remembered with its time
-- (see routing_dispatch.lua).
-- KEYS[1] chat            the chat hash
-- KEYS[2] declined        the chat's refusals zset (agent -> ms)
-- KEYS[3] offers          the offers zset
-- KEYS[4] offer           the offer key
-- ARGV[1] offer_id
-- ARGV[2] agent_prefix
-- ARGV[3] deadline_check  '' or now_ms (then only an offer past its deadline)
-- ARGV[4] declined_ttl    seconds
-- ARGV[5] cid
-- ARGV[6] agent           the agent who declines ('' for a timeout)
-- ARGV[7] now_ms          the refusal's time
-- Returns the bare JID of the agent the offer was out to, or false.
local st = redis.call('HMGET', KEYS[1], 'state', 'offer', 'offered_to')
if st[1] ~= 'offered' or st[2] ~= ARGV[1] then return false end
if ARGV[6] ~= '' and st[3] ~= ARGV[6] then return false end
if ARGV[3] ~= '' then
  local deadline = redis.call('ZSCORE', KEYS[3], ARGV[5])
  if deadline and tonumber(deadline) > tonumber(ARGV[3]) then return false end
end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('HDEL', KEYS[1], 'offer', 'offered_to')
redis.call('HINCRBY', ARGV[2] .. st[3], 'pending', -1)
redis.call('ZADD', KEYS[2], ARGV[7], st[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('DEL', KEYS[4])
return st[3]
