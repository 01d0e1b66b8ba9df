-- Take the lease if free, extend it if ours (Leases.renew): one atomic step, no
-- GET-then-PEXPIRE race.
-- KEYS[1] lease           the lease key (holds the instance)
-- ARGV[1] instance        this component instance
-- ARGV[2] ms              how long the lease lasts
-- Returns 1 when the lease is ours now, 0 when another instance holds it.
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
