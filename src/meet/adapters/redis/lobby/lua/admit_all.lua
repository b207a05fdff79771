-- Accept everyone waiting, in one call however many wait; the decisions go out a batch per message.
-- args: at, by, now, ttl, room_ttl, per_message. Returns how many were admitted.
local now = args.now
purge(now)
local ids = redis.call('ZRANGE', waiting, 0, -1)
local batch = {}
for i, id in ipairs(ids) do
  batch[#batch + 1] = record(id, 'accepted', args.at, args.by, now, args.ttl)
  if #batch == args.per_message or i == #ids then
    emit({type = 'decided', entries = batch})
    batch = {}
  end
end
if #ids > 0 then
  keep(args.room_ttl)
  log({action = 'lobby.admitted', count = #ids, by = args.by, at = now})
end
return #ids
