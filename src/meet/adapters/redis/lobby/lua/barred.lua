-- Which of the identities a bar holds now. args: identities, now, with_stamp (for the join's check: the
-- room's stamp too, read in the same step). Returns them (with_stamp: {the stamp or false, them}), or
-- 'cold' (not loaded).
if not redis.call('ZSCORE', bars, '') then return 'cold' end
local held = {}
for _, identity in ipairs(args.identities) do
  local until_ms = redis.call('ZSCORE', bars, identity)
  if until_ms and tonumber(until_ms) > args.now then held[#held + 1] = identity end
end
if args.with_stamp then return {redis.call('GET', stamp), held} end
return held
