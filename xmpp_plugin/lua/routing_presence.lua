-- The citizen's guest came into or left the chat's room (Chats.citizen_joined_room and
-- citizen_left_room): only the guest the chat names counts (another occupant, or a stale
-- guest after a reload, changes nothing). In: present, and not marked gone. Out: not
-- present, and marked gone until the grace period ends (the sweeper then ends the chat).
-- KEYS[1] chat            the chat hash
-- KEYS[2] gone            the index of citizens away (cid -> when their grace ends, ms)
-- ARGV[1] cid
-- ARGV[2] occupant        the occupant's real full JID
-- ARGV[3] present         '1' in, '0' out
-- ARGV[4] grace_until     ms when a citizen who left is gone for good
-- Returns 1 when the chat changed, 0 when it has no record or names another guest.
if redis.call('HGET', KEYS[1], 'citizen') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'present', ARGV[3])
if ARGV[3] == '1' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
return 1
