-- Offer waiting chats to the best free agents, as many as fit (Router.dispatch). An agent
-- who declined or missed a chat gets it again once the pause has passed since their last
-- refusal, or at once when they came on duty again after it ('since').
-- KEYS: none (every key is built from the prefixes below).
-- ARGV[1] chat_prefix
-- ARGV[2] queue_prefix
-- ARGV[3] agent_prefix
-- ARGV[4] declined_prefix
-- ARGV[5] offer_prefix
-- ARGV[6] agents          the set of agents on duty
-- ARGV[7] purposes        the set of purposes
-- ARGV[8] offers          the offers zset (deadline ms)
-- ARGV[9] now_ms
-- ARGV[10] timeout_ms     an offer's timeout
-- ARGV[11] pause_ms       the re-offer pause
-- ARGV[12..] offer_ids    fresh offer ids, one used per offer made
-- Returns {offers made, lost}: each offer {cid, agent bare, agent full, offer id, purpose,
-- queue score, citizen}; lost: chat ids found in a queue without a record (taken out).
local chat_p, queue_p, agent_p, declined_p, offer_p = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local agents_k, purposes_k, offers_k = ARGV[6], ARGV[7], ARGV[8]
local now, timeout, pause = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local ids = {}
for i = 12, #ARGV do ids[#ids + 1] = ARGV[i] end
-- The first waiting chats of every queue; records that vanished are taken out on the way.
-- The queues are read first: with nobody waiting, no agent's record is read at all.
local lost = {}
local cands = {}
for _, pu in ipairs(redis.call('SMEMBERS', purposes_k)) do
  local qk, start, found = queue_p .. pu, 0, 0
  while found < 100 and start < 2000 do
    local q = redis.call('ZRANGE', qk, start, start + 99, 'WITHSCORES')
    if #q == 0 then break end
    local removed = 0
    for i = 1, #q, 2 do
      local rec = redis.call('HMGET', chat_p .. q[i], 'state', 'citizen')
      local st = rec[1]
      if not st then
        redis.call('ZREM', qk, q[i])
        removed = removed + 1
        lost[#lost + 1] = q[i]
      elseif st == 'queued' then
        cands[#cands + 1] = {q[i], tonumber(q[i + 1]), pu, rec[2] or ''}
        found = found + 1
      end
    end
    if #q < 200 then break end  -- a short page is the end of the queue
    start = start + 100 - removed
  end
end
if #cands == 0 then return {{}, lost} end
local free = {}
for _, a in ipairs(redis.call('SMEMBERS', agents_k)) do
  local info = redis.call('HMGET', agent_p .. a, 'max', 'load', 'pending', 'last', 'purposes', 'full', 'since')
  local used = (tonumber(info[2]) or 0) + (tonumber(info[3]) or 0)
  if info[6] and used < (tonumber(info[1]) or 0) then
    free[#free + 1] = {a = a, used = used, max = tonumber(info[1]), last = tonumber(info[4]) or 0,
                       purposes = info[5] or '', full = info[6], since = tonumber(info[7]) or 0}
  end
end
if #free == 0 then return {{}, lost} end
table.sort(cands, function(a, b) return a[2] < b[2] end)
local out = {}
for _, c in ipairs(cands) do
  if #ids == 0 or #free == 0 then break end
  local cid, pu = c[1], c[3]
  local best, bi
  local refusals = {}  -- this chat's refusals, read once: agent -> when
  local dr = redis.call('ZRANGE', declined_p .. cid, 0, -1, 'WITHSCORES')
  for i = 1, #dr, 2 do refusals[dr[i]] = tonumber(dr[i + 1]) end
  for i, f in ipairs(free) do
    local serves = f.purposes == '*' or string.find(',' .. f.purposes .. ',', ',' .. pu .. ',', 1, true)
    if serves then
      local d = refusals[f.a]
      local refused = d and d >= f.since and d + pause > now
      if not refused and (best == nil or f.used < best.used or (f.used == best.used and f.last < best.last)) then
        best, bi = f, i
      end
    end
  end
  if best then
    local oid = table.remove(ids)
    local ck = chat_p .. cid
    redis.call('HSET', ck, 'state', 'offered', 'offer', oid, 'offered_to', best.a)
    redis.call('HINCRBY', agent_p .. best.a, 'pending', 1)
    redis.call('ZADD', offers_k, now + timeout, cid)
    redis.call('SET', offer_p .. oid, cid, 'PX', timeout + 60000)
    out[#out + 1] = {cid, best.a, best.full, oid, pu, tostring(c[2]), c[4]}
    best.used = best.used + 1
    if best.used >= best.max then table.remove(free, bi) end
  end
end
return {out, lost}
