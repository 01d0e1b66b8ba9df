-- Set fields of a chat only while it exists (Router.update): a late event must not bring
-- an ended chat back as a stray record.
-- KEYS[1] chat            the chat hash
-- ARGV[1..] fields        field, value, field, value, ...
-- Returns 1, or 0 when the chat has no record.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
