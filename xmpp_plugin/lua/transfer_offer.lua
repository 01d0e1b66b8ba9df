-- Offer a chat to a colleague (Transfers.to_colleague, docs/protocol.md §12).
-- KEYS[1] chat            the chat hash
-- KEYS[2] colleague       the colleague's agent hash
-- KEYS[3] transfers       the transfer offers zset
-- KEYS[4] offer           the offer key (offer id -> cid)
-- KEYS[5] agents          the set of agents on duty
-- KEYS[6] agent_load      agent -> chats assigned
-- KEYS[7] agent_pending   agent -> offers out
-- ARGV[1] sender_bare
-- ARGV[2] colleague_bare
-- ARGV[3] offer_id
-- ARGV[4] deadline_ms
-- ARGV[5] offer_ttl_ms    of the offer key
-- ARGV[6] sealed_note
-- ARGV[7] sender_nick     the sender's display name
-- ARGV[8] cid
-- Returns {colleague's full JID}, or a refusal: 'not-yours', 'pending' (a transfer is
-- already out), 'unavailable' (off duty, or full).
local st = redis.call('HMGET', KEYS[1], 'state', 'agent', 'transfer_to')
if st[1] ~= 'assigned' or st[2] ~= ARGV[1] then return 'not-yours' end
if st[3] then return 'pending' end
if redis.call('SISMEMBER', KEYS[5], ARGV[2]) == 0 then return 'unavailable' end
local a = redis.call('HMGET', KEYS[2], 'max', 'full')
local used = (tonumber(redis.call('HGET', KEYS[6], ARGV[2])) or 0)
             + (tonumber(redis.call('HGET', KEYS[7], ARGV[2])) or 0)
if not a[2] or used >= (tonumber(a[1]) or 0) then
  return 'unavailable'
end
redis.call('HSET', KEYS[1], 'transfer_to', ARGV[2], 'transfer_offer', ARGV[3],
           'pending_note', ARGV[6], 'pending_by', ARGV[7])
redis.call('HINCRBY', KEYS[7], ARGV[2], 1)
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[8])
redis.call('SET', KEYS[4], ARGV[8], 'PX', ARGV[5])
return {a[2]}
