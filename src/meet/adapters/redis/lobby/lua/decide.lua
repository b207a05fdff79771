-- The first decision on a waiting entry; a denial (with its reason) also bars the participant (the bars
-- cache) and is counted against the participant and its address: one too many blocks them.
-- args: participant_id, status, at, by, now, ttl, room_ttl, cache_ttl, reason, subjects, block.
-- Returns false (no entry), {entry, 0} (decided already) or {entry, 1, the blocks it set}.
local id, now = args.participant_id, args.now
purge(now)
local current = redis.call('HGET', entries, id)
if not current then return false end
if not redis.call('ZSCORE', waiting, id) then return {current, 0} end
local e, s = record(id, args.status, args.at, args.by, now, args.ttl, args.reason)
local blocked = {}
if args.status == 'denied' then
  bar(id, now + args.ttl, args.cache_ttl)
  local subjects = {'blocked:' .. id}
  if type(e.address) == 'string' then subjects[2] = 'address:' .. e.address end
  count_denial(subjects, now, args.block, blocked)
end
emit({type = 'decided', participant_id = id, entry = e})
local action = args.status == 'denied' and 'lobby.denied' or 'lobby.admitted'
log({action = action, participant_id = id, name = e.username, by = args.by, reason = args.reason, at = now})
log_blocks(blocked, id, args.by, now)
keep(args.room_ttl)
return {s, 1, blocked}
