-- The room's stamp, set to ARGV[1] (for ARGV[2] ms) when it has none. KEYS[1]: the stamp key.
-- (Standalone: no prelude, it touches only the stamp.)
local stamp = redis.call('GET', KEYS[1])
if stamp then return stamp end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
