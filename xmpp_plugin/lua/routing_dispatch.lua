-- Offer waiting chats to the best free agents, as many as fit (Router.dispatch). An agent
-- who declined or missed a chat gets it again once the pause has passed since their last
-- refusal, or at once when they came on duty again after it ('since').
-- The agents are read in a constant number of commands, however many are on duty: the
-- duty hash (who, capacity, topics) and one HMGET per counter hash. An agent's own record
-- is read only for what few need: 'since' of those who refused a waiting chat, 'full' of
-- those offered one.
-- KEYS: none (every key is built from the prefixes below).
-- ARGV[1] chat_prefix
-- ARGV[2] queue_prefix
-- ARGV[3] agent_prefix
-- ARGV[4] declined_prefix
-- ARGV[5] offer_prefix
-- ARGV[6] duty            agents on duty -> '<max chats> <topics served: * or a,b>'
-- ARGV[7] purposes        the set of purposes
-- ARGV[8] offers          the offers zset (deadline ms)
-- ARGV[9] now_ms
-- ARGV[10] timeout_ms     an offer's timeout
-- ARGV[11] pause_ms       the re-offer pause
-- ARGV[12] agent_load     agent -> chats assigned
-- ARGV[13] agent_pending  agent -> offers out
-- ARGV[14] agent_last     agent -> when they last took a chat (ms)
-- ARGV[15..] offer_ids    fresh offer ids, one used per offer made
-- Returns {offers made, lost}: each offer {cid, agent bare, agent full, offer id, purpose,
-- queue score, citizen}; lost: chat ids found in a queue without a record (taken out).
local chat_p, queue_p, agent_p, declined_p, offer_p = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local duty_k, purposes_k, offers_k = ARGV[6], ARGV[7], ARGV[8]
local now, timeout, pause = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local load_k, pending_k, last_k = ARGV[12], ARGV[13], ARGV[14]
local ids = {}
for i = 15, #ARGV do ids[#ids + 1] = ARGV[i] end
-- The first waiting chats of every queue; records that vanished are taken out on the way.
-- The queues are read first: with nobody waiting, no agent's figures are read at all.
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
-- HMGET of one counter for every agent, in slices (unpack has a limit on its arguments).
local function counts(key, names)
  local out = {}
  for i = 1, #names, 1000 do
    local part = redis.call('HMGET', key, unpack(names, i, math.min(i + 999, #names)))
    for _, v in ipairs(part) do out[#out + 1] = tonumber(v) or 0 end
  end
  return out
end
local dv = redis.call('HGETALL', duty_k)
local names, specs = {}, {}
for i = 1, #dv, 2 do names[#names + 1], specs[#specs + 1] = dv[i], dv[i + 1] end
if #names == 0 then return {{}, lost} end
local loads, pends, lasts = counts(load_k, names), counts(pending_k, names), counts(last_k, names)
local free = {}
for i, a in ipairs(names) do
  local most, purposes = string.match(specs[i], '^(%S+) ?(.*)$')
  local used = loads[i] + pends[i]
  most = tonumber(most) or 0
  if used < most then
    free[#free + 1] = {a = a, used = used, max = most, last = lasts[i], purposes = purposes or ''}
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
      if d and not f.since then
        f.since = tonumber(redis.call('HGET', agent_p .. f.a, 'since')) or 0
      end
      local refused = d and d >= f.since and d + pause > now
      if not refused and (best == nil or f.used < best.used or (f.used == best.used and f.last < best.last)) then
        best, bi = f, i
      end
    end
  end
  if best and not best.full then
    best.full = redis.call('HGET', agent_p .. best.a, 'full')
    if not best.full then table.remove(free, bi) best = nil end  -- no record: never offered
  end
  if best then
    local oid = table.remove(ids)
    local ck = chat_p .. cid
    redis.call('HSET', ck, 'state', 'offered', 'offer', oid, 'offered_to', best.a)
    redis.call('HINCRBY', pending_k, best.a, 1)
    redis.call('ZADD', offers_k, now + timeout, cid)
    redis.call('SET', offer_p .. oid, cid, 'PX', timeout + 60000)
    out[#out + 1] = {cid, best.a, best.full, oid, pu, tostring(c[2]), c[4]}
    best.used = best.used + 1
    if best.used >= best.max then table.remove(free, bi) end
  end
end
return {out, lost}
