-- Hand a chat to the front of a topic's queue (Transfers.to_queue). The sender counts as
-- having declined it (routing.reoffer_pause_seconds): it is not offered straight back.
-- KEYS[1] chat            the chat hash
-- KEYS[2] declined        the chat's refusals zset
-- KEYS[3] purposes        the set of purposes
-- KEYS[4] agent_load      agent -> chats assigned
-- ARGV[1] sender_bare
-- ARGV[2] purpose         the topic it goes to
-- ARGV[3] cid
-- ARGV[4] agent_chats_prefix
-- ARGV[5] queue_prefix
-- ARGV[6] front           FRONT
-- ARGV[7] sealed_note
-- ARGV[8] sender_nick     the sender's display name
-- ARGV[9] now_ms
-- ARGV[10] declined_ttl   seconds
-- Returns 'ok', 'not-yours' or 'pending'.
local st = redis.call('HMGET', KEYS[1], 'state', 'agent', 'enqueued_ms', 'transfer_to', 'purpose')
if st[1] ~= 'assigned' or st[2] ~= ARGV[1] then return 'not-yours' end
if st[4] then return 'pending' end
redis.call('HINCRBY', KEYS[4], st[2], -1)
redis.call('SREM', ARGV[4] .. st[2], ARGV[3])
redis.call('ZREM', ARGV[5] .. st[5], ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'queued', 'purpose', ARGV[2], 'transfer_note', ARGV[7],
           'transferred_by', ARGV[8], 'handed_from', st[2])
redis.call('HDEL', KEYS[1], 'agent', 'agent_full', 'agent_nick', 'assigned_ms', 'ready')
redis.call('ZADD', ARGV[5] .. ARGV[2], tonumber(st[3]) - tonumber(ARGV[6]), ARGV[3])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[9], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[10])
return 'ok'
