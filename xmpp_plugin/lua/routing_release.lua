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
-- ARGV[8] owner           '' (anyone may), or the agent whose chat it must be (an agent's
--                         end request: the check and the end in one step)
-- Returns {'released', the session's sealed attributes ('' while pending or when the
-- session is gone: the end's audit and notices need them), then the chat's record as it
-- was before the release (field, value, ...): its state, offer, transfer offer and agent};
-- {'ending'} when it was released already; {'not-yours'} when it is not the owner's
-- (nothing changes); or false when it has no record (without an owner, its stray index
-- entries are taken out).
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then
  if ARGV[8] == '' then redis.call('ZREM', KEYS[5], ARGV[1]) redis.call('ZREM', KEYS[6], ARGV[1]) end
  return false
end
local rec = {}
for i = 1, #flat, 2 do rec[flat[i]] = flat[i + 1] end
if ARGV[8] ~= '' and rec.agent ~= ARGV[8] then return {'not-yours'} end
local state = rec.state
if state == 'ending' then return {'ending'} end
if rec.transfer_to then
  redis.call('HINCRBY', KEYS[8], rec.transfer_to, -1)
  redis.call('DEL', ARGV[4] .. (rec.transfer_offer or ''))
  redis.call('HDEL', KEYS[1], 'transfer_to', 'transfer_offer', 'pending_note', 'pending_by')
end
redis.call('ZREM', KEYS[6], ARGV[1])
if state == 'assigned' then
  redis.call('HINCRBY', KEYS[7], rec.agent, -1)
  redis.call('SREM', ARGV[2] .. rec.agent, ARGV[1])
elseif state == 'offered' then
  redis.call('HINCRBY', KEYS[8], rec.offered_to, -1)
  redis.call('DEL', ARGV[4] .. rec.offer)
end
redis.call('ZREM', ARGV[3] .. rec.purpose, ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'state', 'ending', 'ended_from', state, 'ended_by', ARGV[5])
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[1])
local sealed = rec.sid and redis.call('HGET', ARGV[7] .. rec.sid, 'sealed')
local out = {'released', sealed or ''}
for i = 1, #flat do out[#out + 1] = flat[i] end
return out
