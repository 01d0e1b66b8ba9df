-- Fill a pending session with its attributes (SessionStore.deliver), and tell the
-- component in the same step: a crash cannot store without telling.
-- KEYS[1] session         the session hash
-- KEYS[2] token           the accepted-token memory of this token
-- KEYS[3] attr_url        the session's own attribute URL, or the one the token was
--                         posted to when via_attr_url is '1' (it must still hold the sid)
-- KEYS[4] events          the component's event stream
-- ARGV[1] sid
-- ARGV[2] status          'verified' or 'not_verified'
-- ARGV[3] sealed          the attributes, sealed (Sealer)
-- ARGV[4] fingerprint     the token's
-- ARGV[5] token_ttl       seconds
-- ARGV[6] via_attr_url    '1' when posted to an attribute URL, else '0'
-- ARGV[7] maxlen          the stream's bound (events.MAXLEN), approximate
-- ARGV[8] type_field      the field naming the kind ('type')
-- ARGV[9] kind            'attributes' (events.AttributesArrived)
-- ARGV[10] sid_field      'sid'
-- (ARGV[7..10]: events.attributes_xadd_args(in_chat=False))
-- Returns 'ok'; 'same' (this token is stored here already), 'present' (another token's
-- attributes are), 'replayed' (the token is another session's), 'no-session' or
-- 'no-attr-url': nothing written.
if redis.call('EXISTS', KEYS[1]) == 0 then return 'no-session' end
if ARGV[6] == '1' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return 'no-attr-url' end
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[1] then return 'replayed' end
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then
  if owner == ARGV[1] then return 'same' end
  return 'present'
end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'sealed', ARGV[3], 'fingerprint', ARGV[4])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[5])
redis.call('DEL', KEYS[3])
redis.call('HDEL', KEYS[1], 'attr_id')
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', ARGV[8], ARGV[9], ARGV[10], ARGV[1])
return 'ok'
