-- A chat whose record was lost (evicted, deleted, a Redis that forgot): take its id out of
-- every index (Router.forget).
-- KEYS[1] purposes        the set of purposes
-- KEYS[2] offers          the offers zset
-- KEYS[3] gone            the citizens-gone zset
-- KEYS[4] lives           the lifetime zset
-- KEYS[5] declined        the chat's refusals zset
-- KEYS[6] transfers       the transfer offers zset
-- ARGV[1] cid
-- ARGV[2] queue_prefix
-- Returns 1.
for _, pu in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('ZREM', ARGV[2] .. pu, ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[5])
return 1
