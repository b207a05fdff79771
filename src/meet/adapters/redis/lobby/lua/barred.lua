-- Which of the identities a bar holds now. args: identities, now, stamp (for the join's check: the room's
-- stamp the caller read the room under, checked first; absent for none). Returns them, 'cold' (not
-- loaded) or 'stale' (the room changed since the caller read it).
if not current(args.stamp) then return 'stale' end
if not redis.call('ZSCORE', bars, '') then return 'cold' end
local held = {}
for _, identity in ipairs(args.identities) do
  local until_ms = redis.call('ZSCORE', bars, identity)
  if until_ms and tonumber(until_ms) > args.now then held[#held + 1] = identity end
end
return held
