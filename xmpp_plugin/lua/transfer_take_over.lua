-- The colleague accepts a transfer offer (Transfers.take_over).
-- KEYS[1] chat            the chat hash
-- KEYS[2] agent_load      agent -> chats assigned
-- KEYS[3] colleague_chats the colleague's chats set
-- KEYS[4] transfers       the transfer offers zset
-- KEYS[5] offer           the offer key
-- KEYS[6] agent_pending   agent -> offers out
-- KEYS[7] agent_last      agent -> when they last took a chat (ms)
-- ARGV[1] offer_id
-- ARGV[2] colleague_bare
-- ARGV[3] colleague_full
-- ARGV[4] nick            the colleague's display name
-- ARGV[5] now_ms
-- ARGV[6] cid
-- ARGV[7] agent_chats_prefix
-- Returns the bare JID of the agent who handed it on, or false.
local st = redis.call('HMGET', KEYS[1], 'state', 'transfer_offer', 'transfer_to', 'agent',
                      'pending_note', 'pending_by')
if st[1] ~= 'assigned' or st[2] ~= ARGV[1] or st[3] ~= ARGV[2] then return false end
redis.call('HINCRBY', KEYS[2], st[4], -1)
redis.call('SREM', ARGV[7] .. st[4], ARGV[6])
redis.call('HSET', KEYS[1], 'agent', ARGV[2], 'agent_full', ARGV[3], 'agent_nick', ARGV[4],
           'assigned_ms', ARGV[5], 'ready', '0', 'transfer_note', st[5] or '',
           'transferred_by', st[6] or '', 'handed_from', st[4])
redis.call('HDEL', KEYS[1], 'transfer_to', 'transfer_offer', 'pending_note', 'pending_by')
redis.call('HINCRBY', KEYS[6], ARGV[2], -1)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('HSET', KEYS[7], ARGV[2], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[6])
redis.call('ZREM', KEYS[4], ARGV[6])
redis.call('DEL', KEYS[5])
return st[4]
