-- An agent is gone (Router.agent_gone): their chats go back to the front of the queue,
-- their offers are withdrawn. A transfer still offered for a chat put back is withdrawn
-- too (component/transfers.py tells the colleague first when it can).
-- KEYS[1] agent_load      agent -> chats assigned
-- KEYS[2] agent_chats     the agent's chats set
-- KEYS[3] agents          the set of agents on duty
-- KEYS[4] offers          the offers zset
-- KEYS[5] transfers       the transfer offers zset
-- KEYS[6] duty            the duty hash
-- KEYS[7] agent_pending   agent -> offers out
-- ARGV[1] agent_bare
-- ARGV[2] chat_prefix
-- ARGV[3] queue_prefix
-- ARGV[4] offer_prefix
-- ARGV[5] front           FRONT, subtracted from a score to put a chat in front
-- Returns {chat ids put back, offer ids withdrawn}.
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
local back = {}
for _, cid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local ck = ARGV[2] .. cid
  local st = redis.call('HMGET', ck, 'state', 'agent', 'purpose', 'enqueued_ms', 'transfer_to',
                        'transfer_offer')
  if st[1] == 'assigned' and st[2] == ARGV[1] then
    if st[5] then
      redis.call('HINCRBY', KEYS[7], st[5], -1)
      redis.call('DEL', ARGV[4] .. (st[6] or ''))
      redis.call('HDEL', ck, 'transfer_to', 'transfer_offer', 'pending_note', 'pending_by')
      redis.call('ZREM', KEYS[5], cid)
    end
    redis.call('HSET', ck, 'state', 'queued', 'interrupted', '1')
    redis.call('HDEL', ck, 'agent', 'agent_full', 'agent_nick', 'assigned_ms')
    redis.call('ZADD', ARGV[3] .. st[3], tonumber(st[4]) - tonumber(ARGV[5]), cid)
    back[#back + 1] = cid
  end
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], 0)
redis.call('HSET', KEYS[7], ARGV[1], 0)
local withdrawn = {}
for _, cid in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  local ck = ARGV[2] .. cid
  local st = redis.call('HMGET', ck, 'state', 'offered_to', 'offer')
  if st[1] == 'offered' and st[2] == ARGV[1] then
    redis.call('HSET', ck, 'state', 'queued')
    redis.call('HDEL', ck, 'offer', 'offered_to')
    redis.call('ZREM', KEYS[4], cid)
    redis.call('DEL', ARGV[4] .. st[3])
    withdrawn[#withdrawn + 1] = st[3]
  end
end
return {back, withdrawn}
