-- Take an ending chat out of routing (Router.release). The record stays, marked 'ending',
-- until the end is wound up (Router.wind_up, lua/routing_wind_up.lua): if the process dies in between, the sweeper
-- finds it due at resume_at_ms and winds it up.
-- KEYS[1] chat            the chat hash
-- KEYS[2] declined        the chat's refusals zset
-- KEYS[3] offers          the offers zset
-- KEYS[4] gone            the citizens-gone zset
-- KEYS[5] lives           the lifetime zset
-- KEYS[6] transfers       the transfer offers zset
-- KEYS[7] agent_load      agent -> chats assigned
-- KEYS[8] agent_pending   agent -> offers out
-- ARGV[1] cid
-- ARGV[2] agent_chats_prefix
-- ARGV[3] queue_prefix
-- ARGV[4] offer_prefix
-- ARGV[5] by              who ends it
-- ARGV[6] resume_at_ms
-- ARGV[7] session_prefix  the session key prefix (the chat's sid appended)
-- Returns {state, agent the offer was out to, offer id, colleague a transfer was offered
-- to, that offer's id, the agent it was assigned to, the session's sealed attributes (''
-- while pending or when the session is gone): the end's audit and notices need them},
-- or false when it was released already (or has no record).
local st = redis.call('HMGET', KEYS[1], 'state', 'agent', 'offered_to', 'purpose', 'offer',
                      'transfer_to', 'transfer_offer', 'sid')
if not st[1] then redis.call('ZREM', KEYS[5], ARGV[1]) redis.call('ZREM', KEYS[6], ARGV[1]) return false end
if st[1] == 'ending' then return false end
if st[6] then
  redis.call('HINCRBY', KEYS[8], st[6], -1)
  redis.call('DEL', ARGV[4] .. (st[7] or ''))
  redis.call('HDEL', KEYS[1], 'transfer_to', 'transfer_offer', 'pending_note', 'pending_by')
end
redis.call('ZREM', KEYS[6], ARGV[1])
if st[1] == 'assigned' then
  redis.call('HINCRBY', KEYS[7], st[2], -1)
  redis.call('SREM', ARGV[2] .. st[2], ARGV[1])
elseif st[1] == 'offered' then
  redis.call('HINCRBY', KEYS[8], st[3], -1)
  redis.call('DEL', ARGV[4] .. st[5])
end
redis.call('ZREM', ARGV[3] .. st[4], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'state', 'ending', 'ended_from', st[1], 'ended_by', ARGV[5])
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[1])
local sealed = st[8] and redis.call('HGET', ARGV[7] .. st[8], 'sealed')
return {st[1], st[3] or '', st[5] or '', st[6] or '', st[7] or '', st[2] or '', sealed or ''}
