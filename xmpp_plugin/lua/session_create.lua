-- Create a session that waits for its token: the session and its attribute URL
-- (SessionStore.create, without a token).
-- KEYS[1] session         the session hash
-- KEYS[2] attr_url        the session's attribute URL (holds the sid)
-- ARGV[1] purpose
-- ARGV[2] created_at      seconds since the epoch
-- ARGV[3] status          'pending'
-- ARGV[4] attr_id         the attribute URL's id
-- ARGV[5] ttl             seconds, for both keys (an unclaimed session's)
-- ARGV[6] sid
-- Returns 'ok'.
redis.call('HSET', KEYS[1], 'purpose', ARGV[1], 'created_at', ARGV[2], 'status', ARGV[3],
           'attr_id', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[6], 'EX', ARGV[5])
return 'ok'
