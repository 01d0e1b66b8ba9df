-- A new chat, opened for a claimed session in one step (its room exists already): the
-- session is linked to it, unless a concurrent claim linked another chat first; the chat's
-- record is written at the back of its topic's queue; the guest's claim is remembered; and
-- the session and its attribute URLs live a chat's idle timeout from now on.
-- KEYS[1] session         the session hash
-- KEYS[2] chat            the new chat's record
-- KEYS[3] queue           its topic's queue
-- KEYS[4] purposes        the set of topics with a queue
-- KEYS[5] guest           the guest's claim (guest JID -> session id)
-- KEYS[6] told_off_duty   the topics whose citizens were told nobody is on duty
-- KEYS[7] duty            agents on duty -> '<max chats> <topics served: * or a,b>'
-- KEYS[8] off_duty        topics nobody serves -> since when (ms)
-- ARGV[1] cid             the chat id
-- ARGV[2] sid             the session id
-- ARGV[3] purpose         the topic
-- ARGV[4] citizen         the guest's full JID
-- ARGV[5] now_ms          now, the chat's arrival in the queue
-- ARGV[6] record_ttl      seconds the chat's record lives
-- ARGV[7] session_ttl     seconds the session, the guest's claim and attribute URLs live
-- ARGV[8] attr_url_prefix the attribute-URL key prefix (attr_id, auth_attr_id appended)
-- ARGV[9] grace_ms        how long a topic is without anyone before its citizens are told
--                         (routing.no_agent_timeout_seconds; Chats.duty does the same)
-- Returns {'opened', queue position (1 = next), 1 when the topic's citizens are told
-- nobody is on duty (now, by this claim, when nobody has served it for the grace period)
-- else 0}, {'taken', the chat linked first}, or {'gone'} when the
-- session ended meanwhile.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
if redis.call('HSETNX', KEYS[1], 'chat', ARGV[1]) == 0 then
  return {'taken', redis.call('HGET', KEYS[1], 'chat')}
end
redis.call('HSET', KEYS[2], 'sid', ARGV[2], 'purpose', ARGV[3], 'state', 'queued',
           'citizen', ARGV[4], 'enqueued_ms', ARGV[5], 'alive_ms', ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('SET', KEYS[5], ARGV[2], 'EX', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[7])
local ids = redis.call('HMGET', KEYS[1], 'attr_id', 'auth_attr_id')
for i = 1, 2 do
  if ids[i] then redis.call('EXPIRE', ARGV[8] .. ids[i], ARGV[7]) end
end
local told = redis.call('SISMEMBER', KEYS[6], ARGV[3])
if told == 0 then
  local served = false
  for _, v in ipairs(redis.call('HVALS', KEYS[7])) do
    local topics = string.match(v, '^%S+ (.*)$') or ''
    if topics == '*' or string.find(',' .. topics .. ',', ',' .. ARGV[3] .. ',', 1, true) then
      served = true
      break
    end
  end
  if not served then
    redis.call('HSETNX', KEYS[8], ARGV[3], ARGV[5])
    if tonumber(ARGV[5]) - tonumber(redis.call('HGET', KEYS[8], ARGV[3])) >= tonumber(ARGV[9]) then
      redis.call('SADD', KEYS[6], ARGV[3])
      told = 1
    end
  end
end
return {'opened', redis.call('ZRANK', KEYS[3], ARGV[1]) + 1, told}
