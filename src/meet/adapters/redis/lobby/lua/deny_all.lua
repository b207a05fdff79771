-- Deny everyone waiting, in one call however many wait, each as decide.lua would (with the reason, barred
-- in the bars cache); the decisions go out a batch per message. Counted once against each participant and
-- each address (a deny-all is one decision, whoever knocked from one address).
-- args: at, by, now, ttl, room_ttl, cache_ttl, per_message, reason, block.
-- Returns {how many were denied, their ids, the blocks it set}.
local now = args.now
purge(now)
local ids = redis.call('ZRANGE', waiting, 0, -1)
local batch, subjects, counted = {}, {}, {}
for i, id in ipairs(ids) do
  local e = record(id, 'denied', args.at, args.by, now, args.ttl, args.reason)
  bar(id, now + args.ttl, args.cache_ttl)
  subjects[#subjects + 1] = 'blocked:' .. id
  if type(e.address) == 'string' and not counted[e.address] then
    counted[e.address] = true
    subjects[#subjects + 1] = 'address:' .. e.address
  end
  batch[#batch + 1] = e
  if #batch == args.per_message or i == #ids then
    emit({type = 'decided', entries = batch})
    batch = {}
  end
end
local blocked = {}
if #ids > 0 then
  count_denial(subjects, now, args.block, blocked)
  keep(args.room_ttl)
  log({action = 'lobby.denied', count = #ids, by = args.by, reason = args.reason, at = now})
  log_blocks(blocked, nil, args.by, now)
end
return {#ids, ids, blocked}
