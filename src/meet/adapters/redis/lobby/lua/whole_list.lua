-- The whole waiting list in arrival order, and its version (a digest of who waits and since when: a
-- waiting entry never changes while it waits). args: now, stamp (the room's stamp the caller read the
-- room under; absent for none), known (the version the caller holds; absent for none).
-- Returns 'stale' (nothing read) when the stamp changed, {version} when it is known, else
-- {version, entries}.
if not current(args.stamp) then return 'stale' end
purge(args.now)
local order = redis.call('ZRANGE', waiting, 0, -1, 'WITHSCORES')
local version = redis.sha1hex(table.concat(order, ' '))
if version == args.known then return {version} end
local found = {}
local ids = {}
for i = 1, #order, 2 do
  ids[#ids + 1] = order[i]
  if #ids == 1000 then  -- HMGET in slices: unpack has a bound on how many values it spreads
    for _, raw in ipairs(redis.call('HMGET', entries, unpack(ids))) do found[#found + 1] = raw end
    ids = {}
  end
end
if #ids > 0 then
  for _, raw in ipairs(redis.call('HMGET', entries, unpack(ids))) do found[#found + 1] = raw end
end
return {version, found}
