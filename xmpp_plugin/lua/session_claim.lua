-- A citizen redeems the page's claim ticket (docs/protocol.md §1), every check in one step:
-- the ticket must be valid, the guest must not hold another session's claim, the session
-- must live, and a new chat's topic must be open. Only then is the ticket used up, and a
-- session without a chat yet gets the new chat's id in the lifetime index (before its room
-- exists: a crash from here on leaves an id the sweeper finds). A refusal changes nothing.
-- KEYS[1] ticket          the ticket key
-- KEYS[2] guest           this guest's claim (guest JID -> session id)
-- KEYS[3] lives           the chats' lifetime index (sorted set)
-- ARGV[1] session_prefix  the session key prefix (the ticket's session id appended)
-- ARGV[2] cid             the id a new chat gets
-- ARGV[3] deadline        its lifetime deadline (ms)
-- ARGV[4..] closed        the topics closed now (opening hours)
-- Returns {'ok', sid, purpose, created_at, status, attr_id, chat} (chat '' for a new one,
-- attr_id '' when none), or {'bad-ticket'}, {'conflict'}, {'gone'}, {'closed', purpose, sid}.
local sid = redis.call('GET', KEYS[1])
if not sid then return {'bad-ticket'} end
local already = redis.call('GET', KEYS[2])
if already and already ~= sid then return {'conflict'} end
local s = redis.call('HMGET', ARGV[1] .. sid, 'purpose', 'created_at', 'status', 'attr_id', 'chat')
if not s[1] then return {'gone'} end
if not s[5] then
  for i = 4, #ARGV do
    if ARGV[i] == s[1] then return {'closed', s[1], sid} end
  end
end
redis.call('DEL', KEYS[1])
if not s[5] then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2]) end
return {'ok', sid, s[1], s[2], s[3], s[4] or '', s[5] or ''}
