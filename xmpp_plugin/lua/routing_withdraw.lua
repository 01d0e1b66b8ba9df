-- Decline or time out one offer (Router.decline, expire_offers, withdraw_offers_of). Only
-- the agent the offer went to can decline it; the refusal is remembered with its time
-- (see routing_dispatch.lua).
-- KEYS[1] chat            the chat hash
-- KEYS[2] declined        the chat's refusals zset (agent -> ms)
-- KEYS[3] offers          the offers zset
-- KEYS[4] offer           the offer key
-- KEYS[5] agent_pending   agent -> offers out
-- ARGV[1] offer_id
-- ARGV[2] deadline_check  '' or now_ms (then only an offer past its deadline)
-- ARGV[3] declined_ttl    seconds
-- ARGV[4] cid
-- ARGV[5] agent           the agent who declines ('' for a timeout)
-- ARGV[6] now_ms          the refusal's time
-- Returns the bare JID of the agent the offer was out to, or false.
local st = redis.call('HMGET', KEYS[1], 'state', 'offer', 'offered_to')
if st[1] ~= 'offered' or st[2] ~= ARGV[1] then return false end
if ARGV[5] ~= '' and st[3] ~= ARGV[5] then return false end
if ARGV[2] ~= '' then
  local deadline = redis.call('ZSCORE', KEYS[3], ARGV[4])
  if deadline and tonumber(deadline) > tonumber(ARGV[2]) then return false end
end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('HDEL', KEYS[1], 'offer', 'offered_to')
redis.call('HINCRBY', KEYS[5], st[3], -1)
redis.call('ZADD', KEYS[2], ARGV[6], st[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[4])
redis.call('DEL', KEYS[4])
return st[3]
