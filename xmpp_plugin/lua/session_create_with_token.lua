-- Create a session that arrives with its token (SessionStore.create, with a token):
-- refuse a token that an earlier session already holds.
-- KEYS[1] session         the session hash
-- KEYS[2] token           the accepted-token memory of this token (holds the sid)
-- ARGV[1] purpose
-- ARGV[2] created_at      seconds since the epoch
-- ARGV[3] status          'verified' or 'not_verified'
-- ARGV[4] sealed          the attributes, sealed (Sealer)
-- ARGV[5] fingerprint     the token's
-- ARGV[6] session_ttl     seconds (an unclaimed session's)
-- ARGV[7] sid
-- ARGV[8] token_ttl       seconds, until the token expires (plus leeway)
-- Returns 'ok', or 'replayed' when the token is already taken (nothing written).
local owner = redis.call('GET', KEYS[2])
if owner then return 'replayed' end
redis.call('HSET', KEYS[1], 'purpose', ARGV[1], 'created_at', ARGV[2], 'status', ARGV[3],
           'sealed', ARGV[4], 'fingerprint', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('SET', KEYS[2], ARGV[7], 'EX', ARGV[8])
return 'ok'
