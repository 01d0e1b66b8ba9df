-- Withdraw a transfer offer (declined, timed out, colleague away, sender gone); the chat
-- stays with its agent (Transfers._withdraw_one).
-- KEYS[1] chat            the chat hash
-- KEYS[2] transfers       the transfer offers zset
-- ARGV[1] offer_id        '' any
-- ARGV[2] agent_prefix
-- ARGV[3] colleague       the colleague who declines ('' any)
-- ARGV[4] deadline_check  '' or now_ms (then only an offer past its deadline)
-- ARGV[5] cid
-- ARGV[6] offer_prefix
-- Returns {colleague, offer id, sender}, or false.
local st = redis.call('HMGET', KEYS[1], 'transfer_to', 'transfer_offer', 'agent')
if not st[1] then redis.call('ZREM', KEYS[2], ARGV[5]) return false end
if ARGV[1] ~= '' and st[2] ~= ARGV[1] then return false end
if ARGV[3] ~= '' and st[1] ~= ARGV[3] then return false end
if ARGV[4] ~= '' then
  local deadline = redis.call('ZSCORE', KEYS[2], ARGV[5])
  if deadline and tonumber(deadline) > tonumber(ARGV[4]) then return false end
end
redis.call('HINCRBY', ARGV[2] .. st[1], 'pending', -1)
redis.call('HDEL', KEYS[1], 'transfer_to', 'transfer_offer', 'pending_note', 'pending_by')
redis.call('ZREM', KEYS[2], ARGV[5])
redis.call('DEL', ARGV[6] .. (st[2] or ''))
return {st[1], st[2] or '', st[3] or ''}
