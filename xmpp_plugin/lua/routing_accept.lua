-- An agent accepts an offer (Router.accept), found by its id: the chat becomes theirs, in
-- one step with everything the component needs to go on (no read after it).
-- KEYS[1] offer           the offer key (offer id -> cid)
-- KEYS[2] agent           the agent hash
-- KEYS[3] agent_chats     the agent's chats set
-- KEYS[4] offers          the offers zset
-- KEYS[5] agent_load      agent -> chats assigned
-- KEYS[6] agent_pending   agent -> offers out
-- KEYS[7] agent_last      agent -> when they last took a chat (ms)
-- KEYS[8] day_stats       today's figures (answered, within the service level)
-- KEYS[9] day_waits       today's waits (seconds), the last ARGV[10] kept
-- ARGV[1] offer_id
-- ARGV[2] agent_bare
-- ARGV[3] agent_full
-- ARGV[4] nick            the agent's display name when their hash names none
-- ARGV[5] now_ms
-- ARGV[6] chat_prefix     the chat key prefix (the cid appended)
-- ARGV[7] queue_prefix
-- ARGV[8] session_prefix  the session key prefix (the chat's sid appended)
-- ARGV[9] service_level   seconds: a wait up to this is within the service level
-- ARGV[10] samples        how many waits today's list keeps
-- ARGV[11] day_ttl        seconds today's figures live (set when a key is made)
-- A chat answered for the first time (not one a colleague handed to the queue) counts in
-- today's figures (component/supervision.py reads them): its wait is from its arrival in
-- the queue to now.
-- Returns {'accepted', chats still waiting in the topic's queue, cid, the session's sealed
-- attributes ('' while pending), the chat's record as it is now (field, value, ...)}, {'transfer', cid} when the id is a colleague's transfer offer
-- (component/transfers.py takes over), or false when the offer is not out to this agent
-- any more.
local cid = redis.call('GET', KEYS[1])
if not cid then return false end
local ck = ARGV[6] .. cid
local flat = redis.call('HGETALL', ck)
local rec = {}
for i = 1, #flat, 2 do rec[flat[i]] = flat[i + 1] end
if rec.transfer_offer == ARGV[1] then return {'transfer', cid} end
if rec.state ~= 'offered' or rec.offer ~= ARGV[1] or rec.offered_to ~= ARGV[2] then return false end
local nick = redis.call('HGET', KEYS[2], 'nick')
if not nick or nick == '' then nick = ARGV[4] end
redis.call('HSET', ck, 'state', 'assigned', 'agent', ARGV[2], 'agent_full', ARGV[3],
           'agent_nick', nick, 'assigned_ms', ARGV[5])
redis.call('HDEL', ck, 'offer', 'offered_to')
redis.call('HINCRBY', KEYS[6], ARGV[2], -1)
redis.call('HINCRBY', KEYS[5], ARGV[2], 1)
redis.call('HSET', KEYS[7], ARGV[2], ARGV[5])
redis.call('SADD', KEYS[3], cid)
local queue = ARGV[7] .. (rec.purpose or '')
redis.call('ZREM', queue, cid)
redis.call('ZREM', KEYS[4], cid)
redis.call('DEL', KEYS[1])
rec.state, rec.agent, rec.agent_full, rec.agent_nick, rec.assigned_ms = 'assigned', ARGV[2], ARGV[3], nick, ARGV[5]
rec.offer, rec.offered_to = nil, nil
if (rec.transferred_by or '') == '' then
  local enq = tonumber(rec.enqueued_ms) or tonumber(ARGV[5])
  local wait = math.max(0, math.floor((tonumber(ARGV[5]) - enq) / 1000))
  if redis.call('HINCRBY', KEYS[8], 'answered', 1) == 1 then redis.call('EXPIRE', KEYS[8], ARGV[11]) end
  if wait <= tonumber(ARGV[9]) then redis.call('HINCRBY', KEYS[8], 'within', 1) end
  local kept = redis.call('RPUSH', KEYS[9], wait)
  if kept == 1 then redis.call('EXPIRE', KEYS[9], ARGV[11])
  elseif kept > tonumber(ARGV[10]) then redis.call('LTRIM', KEYS[9], -tonumber(ARGV[10]), -1) end
end
local sealed = redis.call('HGET', ARGV[8] .. (rec.sid or ''), 'sealed')
local out = {'accepted', redis.call('ZCARD', queue), cid, sealed or ''}
for k, v in pairs(rec) do out[#out + 1] = k out[#out + 1] = v end
return out
