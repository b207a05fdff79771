-- Accept everyone waiting (as many as the room's capacity leaves seats for, in arrival order), in one call
-- however many wait; the decisions go out a batch per message.
-- args: at, by, now, ttl, room_ttl, per_message, capacity (0: none), seat_ms. Returns how many were admitted.
local now = args.now
purge(now)
local last = -1
if (args.capacity or 0) > 0 then last = args.capacity - seats_taken(now) - 1 end
local ids = {}
if last >= 0 or (args.capacity or 0) == 0 then ids = redis.call('ZRANGE', waiting, 0, last) end
local batch = {}
for i, id in ipairs(ids) do
  batch[#batch + 1] = record(id, 'accepted', args.at, args.by, now, args.ttl)
  if (args.capacity or 0) > 0 then hold_seat(id, now, args.seat_ms) end
  lift(id)
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
