-- Which of the identities a bar holds now. args: identities, now, with_stamp (for the join's check: the
-- room's stamp and its door too, read in the same step). Returns them (with_stamp: {the stamp or false,
-- them, the door: {locked, ended_until, seats taken, the identities sent back, those in the room}}), or
-- 'cold' (not loaded; no identity to check needs no bars).
if #args.identities > 0 and not redis.call('ZSCORE', bars, '') then return 'cold' end
local held_out = {}
for _, identity in ipairs(args.identities) do
  local until_ms = redis.call('ZSCORE', bars, identity)
  if until_ms and tonumber(until_ms) > args.now then held_out[#held_out + 1] = identity end
end
if not args.with_stamp then return held_out end
local sent_back, inside = {}, {}
for _, identity in ipairs(args.identities) do
  if redis.call('HEXISTS', held, identity) == 1 then sent_back[#sent_back + 1] = identity end
  if redis.call('ZSCORE', present, identity) then inside[#inside + 1] = identity end
end
local state = redis.call('HMGET', door, 'locked', 'ended_until')
local taken = redis.call('ZCOUNT', present, '(' .. args.now, '+inf')
return {redis.call('GET', stamp), held_out, {state[1] and 1 or 0, tonumber(state[2] or 0), taken, sent_back, inside}}
