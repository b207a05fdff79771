-- The first decision on a waiting entry; a denial (with its reason) also bars the participant (the bars
-- cache) and is counted against the participant and its address: one too many blocks them. An admission
-- beyond the room's capacity is refused; an admitted participant holds a seat until the SFU sees them.
-- args: participant_id, status, at, by, now, ttl, room_ttl, cache_ttl, reason, subjects, block, capacity
-- (0: none), seat_ms.
-- Returns false (no entry), {entry, 0} (decided already), 'full' (an admission beyond the capacity) or
-- {entry, 1, the blocks it set}.
local id, now = args.participant_id, args.now
purge(now)
local current = redis.call('HGET', entries, id)
if not current then return false end
if not redis.call('ZSCORE', waiting, id) then return {current, 0} end
if args.status == 'accepted' and (args.capacity or 0) > 0 and seats_taken(now) >= args.capacity then return 'full' end
local e, s = record(id, args.status, args.at, args.by, now, args.ttl, args.reason)
local blocked = {}
if args.status == 'denied' then
  bar(id, now + args.ttl, args.cache_ttl)
  local subjects = {'blocked:' .. id}
  if type(e.address) == 'string' then subjects[2] = 'address:' .. e.address end
  count_denial(subjects, now, args.block, blocked)
end
if args.status == 'accepted' then
  hold_seat(id, now, args.seat_ms or 0)
  lift(id)
end
emit({type = 'decided', participant_id = id, entry = e})
local action = args.status == 'denied' and 'lobby.denied' or 'lobby.admitted'
log({action = action, participant_id = id, name = e.username, by = args.by, reason = args.reason, at = now})
log_blocks(blocked, id, args.by, now)
keep(args.room_ttl)
return {s, 1, blocked}
