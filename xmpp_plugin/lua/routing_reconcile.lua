-- Recount every agent's load and pending offers from the chats themselves, dropping ids of
-- chats that are not theirs any more (Router.reconcile). A transfer offered to a colleague
-- counts as one of their pending offers. The duty hash is made to follow the on-duty set
-- again (an entry missing or left over). Counters an older version kept in the agent's own
-- record ('load', 'pending', 'last') are dropped from it.
-- KEYS[1] agents_known    every agent seen on duty or busy
-- KEYS[2] offers          the offers zset
-- KEYS[3] transfers       the transfer offers zset
-- KEYS[4] agents          the set of agents on duty
-- KEYS[5] duty            the duty hash (agent -> "<max> <purposes>")
-- KEYS[6] agent_load      agent -> chats assigned
-- KEYS[7] agent_pending   agent -> offers out
-- ARGV[1] agent_prefix
-- ARGV[2] agent_chats_prefix
-- ARGV[3] chat_prefix
-- Returns the agents whose numbers were wrong (now fixed).
local pending = {}
for _, cid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local st = redis.call('HMGET', ARGV[3] .. cid, 'state', 'offered_to')
  if st[1] == 'offered' and st[2] then
    pending[st[2]] = (pending[st[2]] or 0) + 1
  else
    redis.call('ZREM', KEYS[2], cid)
  end
end
for _, cid in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  local st = redis.call('HMGET', ARGV[3] .. cid, 'state', 'transfer_to')
  if st[1] == 'assigned' and st[2] then
    pending[st[2]] = (pending[st[2]] or 0) + 1
  else
    redis.call('ZREM', KEYS[3], cid)
  end
end
local fixed = {}
local on_duty, duty = {}, {}
for _, a in ipairs(redis.call('SMEMBERS', KEYS[4])) do on_duty[a] = true end
local dv = redis.call('HGETALL', KEYS[5])
for i = 1, #dv, 2 do duty[dv[i]] = dv[i + 1] end
for _, a in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local ak, ack = ARGV[1] .. a, ARGV[2] .. a
  for _, cid in ipairs(redis.call('SMEMBERS', ack)) do
    local st = redis.call('HMGET', ARGV[3] .. cid, 'state', 'agent')
    if st[1] ~= 'assigned' or st[2] ~= a then redis.call('SREM', ack, cid) end
  end
  local load, pend = redis.call('SCARD', ack), pending[a] or 0
  local had_load = tonumber(redis.call('HGET', KEYS[6], a)) or 0
  local had_pend = tonumber(redis.call('HGET', KEYS[7], a)) or 0
  local rec = redis.call('HMGET', ak, 'max', 'purposes', 'load')
  if rec[3] then redis.call('HDEL', ak, 'load', 'pending', 'last') end  -- an older version's
  if on_duty[a] then
    local want = (rec[1] or '0') .. ' ' .. (rec[2] or '*')
    if duty[a] ~= want then redis.call('HSET', KEYS[5], a, want) end
    on_duty[a], duty[a] = nil, nil
  end
  if redis.call('EXISTS', ak) == 1 and (had_load ~= load or had_pend ~= pend) then
    redis.call('HSET', KEYS[6], a, load)
    redis.call('HSET', KEYS[7], a, pend)
    fixed[#fixed + 1] = a
  end
end
for a, _ in pairs(duty) do if not on_duty[a] then redis.call('HDEL', KEYS[5], a) end end
return fixed
