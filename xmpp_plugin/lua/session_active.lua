-- The citizen wrote (Chats._tell_active): ID Contact hears it at most once in ARGV[1]
-- seconds per session, over all instances. The session's sealed attributes (which hold
-- the session URL to tell) are read in the same step as the mark is set.
-- KEYS[1] session         the session hash
-- KEYS[2] mark            the session's activity mark
-- ARGV[1] seconds         how long the mark lives
-- Returns the sealed attributes when ID Contact is to be told now, or false: told lately
-- (the mark is there), or the attributes are pending, or the session ended (then no mark
-- is set).
local sealed = redis.call('HGET', KEYS[1], 'sealed')
if not sealed then return false end
if not redis.call('SET', KEYS[2], '1', 'EX', ARGV[1], 'NX') then return false end
return sealed
