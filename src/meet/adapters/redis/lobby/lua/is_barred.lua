-- Whether a bar holds the identity now. args: identity, now. Returns 1, 0, or 'cold' (not loaded).
if not redis.call('ZSCORE', bars, '') then return 'cold' end
local until_ms = redis.call('ZSCORE', bars, args.identity)
if until_ms and tonumber(until_ms) > args.now then return 1 end
return 0
