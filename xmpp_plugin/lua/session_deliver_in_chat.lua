-- Attributes posted to a chat's own attribute URL (SessionStore.deliver, §11). Only while
-- the session still waits for exactly this attribute URL (the component drops it when the
-- request is refused, withdrawn or expires, and the chat's end purges the session); a
-- failed login never replaces verified details. The component hears it in the same step.
-- KEYS[1] session         the session hash
-- KEYS[2] token           the accepted-token memory of this token
-- KEYS[3] attr_url        the chat's attribute URL
-- KEYS[4] events          the component's event stream
-- ARGV[1] sid
-- ARGV[2] status          'verified' or 'not_verified'
-- ARGV[3] sealed          the attributes, sealed (Sealer)
-- ARGV[4] fingerprint     the token's
-- ARGV[5] token_ttl       seconds
-- ARGV[6] attr_id         the chat's attribute URL id
-- ARGV[7] maxlen          the stream's bound (events.MAXLEN), approximate
-- ARGV[8] type_field      the field naming the kind ('type')
-- ARGV[9] kind            'attributes' (events.AttributesArrived)
-- ARGV[10] sid_field      'sid'
-- ARGV[11] auth_field     'auth' ('verified' or 'failed')
-- ARGV[12] attr_field     'attr' (the attribute URL id)
-- (ARGV[7..12]: events.attributes_xadd_args(in_chat=True))
-- Returns 'ok'; 'no-session', 'no-attr-url' or 'replayed': nothing written.
if redis.call('EXISTS', KEYS[1]) == 0 then return 'no-session' end
if redis.call('GET', KEYS[3]) ~= ARGV[1] or redis.call('HGET', KEYS[1], 'auth_attr_id') ~= ARGV[6] then
  return 'no-attr-url'
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'replayed' end
local result = 'failed'
if ARGV[2] == 'verified' then result = 'verified' end
if result == 'verified' or redis.call('HGET', KEYS[1], 'status') ~= 'verified' then
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'sealed', ARGV[3], 'fingerprint', ARGV[4])
end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[5])
redis.call('DEL', KEYS[3])
redis.call('HDEL', KEYS[1], 'auth_attr_id')
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', ARGV[8], ARGV[9], ARGV[10], ARGV[1],
           ARGV[11], result, ARGV[12], ARGV[6])
return 'ok'
