-- Withdraw a transfer offer (declined, timed out, colleague away, sender gone); the chat
-- stays with its agent (Transfers._withdraw_one).
-- KEYS[1] chat            the chat hash
-- KEYS[2] transfers       the transfer offers zset
-- KEYS[3] agent_pending   agent -> offers out
-- ARGV[1] offer_id        '' any
-- ARGV[2] colleague       the colleague who declines ('' any)
-- ARGV[3] deadline_check  '' or now_ms (then only an offer past its deadline)
-- ARGV[4] cid
-- ARGV[5] offer_prefix
-- Returns {colleague, offer id, sender}, or false.
local st = redis.call('HMGET', KEYS[1], 'transfer_to', 'transfer_offer', 'agent')
if not st[1] then redis.call('ZREM', KEYS[2], ARGV[4]) return false end
if ARGV[1] ~= '' and st[2] ~= ARGV[1] then return false end
if ARGV[2] ~= '' and st[1] ~= ARGV[2] then return false end
if ARGV[3] ~= '' then
  local deadline = redis.call('ZSCORE', KEYS[2], ARGV[4])
  if deadline and tonumber(deadline) > tonumber(ARGV[3]) then return false end
end
redis.call('HINCRBY', KEYS[3], st[1], -1)
redis.call('HDEL', KEYS[1], 'transfer_to', 'transfer_offer', 'pending_note', 'pending_by')
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('DEL', ARGV[5] .. (st[2] or ''))
return {st[1], st[2] or '', st[3] or ''}
