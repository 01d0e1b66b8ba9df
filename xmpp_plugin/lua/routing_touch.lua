-- Activity (Router.touch): the chat lives another idle timeout, and its record says since
-- when; nothing when the record is gone (an ended chat is not brought back).
-- KEYS[1] chat            the chat hash
-- KEYS[2] lives           the lifetime zset
-- ARGV[1] record_ttl      seconds
-- ARGV[2] deadline_ms     the chat's new score in the lifetime index
-- ARGV[3] cid
-- ARGV[4] now_ms
-- Returns 1, or 0 when the chat has no record.
if redis.call('EXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[3])
redis.call('HSET', KEYS[1], 'alive_ms', ARGV[4])
return 1
