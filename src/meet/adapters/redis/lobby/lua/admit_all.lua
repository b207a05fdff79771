-- Accept everyone waiting (as many as the room's capacity leaves seats for, in arrival order), in one call
-- however many wait; the decisions go out a batch per message.
-- args: at, by, now, ttl, room_ttl, per_message, capacity (0: none), seat_ms, stamp (the room's stamp the
-- caller read the room under; absent for none). Returns how many were admitted, or 'stale' (nothing
-- decided) when the stamp changed.
-- A town hall admits thousands at once: each batch is read, written and published with a few commands
-- (not a few per entry), and each entry is encoded once, for its record and its event alike.
if not current(args.stamp) then return 'stale' end
local now = args.now
purge(now)
local last = -1
if (args.capacity or 0) > 0 then last = args.capacity - seats_taken(now) - 1 end
local ids = {}
if last >= 0 or (args.capacity or 0) == 0 then ids = redis.call('ZRANGE', waiting, 0, last) end
local seating = (args.capacity or 0) > 0
local admitted = 0
for first = 1, #ids, args.per_message do
  local batch = {unpack(ids, first, math.min(first + args.per_message - 1, #ids))}
  local stored = redis.call('HMGET', entries, unpack(batch))
  local records, encoded, expiries, seats = {}, {}, {}, {}
  for i, id in ipairs(batch) do
    if stored[i] then
      local e = cjson.decode(stored[i])
      e.status, e.decided_at, e.decided_by, e.reason = 'accepted', args.at, args.by, nil
      local s = cjson.encode(e)
      records[#records + 1] = id
      records[#records + 1] = s
      encoded[#encoded + 1] = s
      expiries[#expiries + 1] = now + args.ttl
      expiries[#expiries + 1] = id
      if seating then
        seats[#seats + 1] = now + args.seat_ms
        seats[#seats + 1] = id
      end
    end
  end
  if #encoded > 0 then
    redis.call('HSET', entries, unpack(records))
    redis.call('ZADD', expiry, unpack(expiries))
    if seating then
      redis.call('ZADD', present, 'NX', unpack(seats))
      redis.call('PEXPIRE', present, 86400000)
    end
    local members = redis.call('HMGET', held, unpack(batch))
    for i, id in ipairs(batch) do
      if members[i] then redis.call('HDEL', held, id, members[i]) end
    end
    emit_encoded('{"type":"decided","entries":[' .. table.concat(encoded, ',') .. ']}')
    admitted = admitted + #encoded
  end
end
if #ids > 0 then
  redis.call('ZREMRANGEBYRANK', waiting, 0, #ids - 1)
end
if admitted > 0 then
  keep(args.room_ttl)
  log({action = 'lobby.admitted', count = admitted, by = args.by, at = now})
end
return admitted
