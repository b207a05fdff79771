-- The whole waiting list in arrival order, and its version. args: now, stamp (the room's stamp the
-- caller read the room under; absent for none), known (the version the caller holds; absent for none).
-- Returns 'stale' (nothing read) when the stamp changed, {version} when it is known, else
-- {version, entries}.
--
-- The version is read in O(1), not from the whole list: within one life of the room's keys, the list
-- only grows by knocks (each takes the next position, so the counter moves) and only shrinks for good
-- (an entry that leaves never comes back under its position), and a waiting entry is never rewritten;
-- so the counter and the count name the list. A new life of the keys (expired, cleared, Redis
-- restarted) starts the counter again: the first waiting entry as stored (its id and its knock time, in
-- ms) tells the lives apart.
if not current(args.stamp) then return 'stale' end
purge(args.now)
local count = redis.call('ZCARD', waiting)
local first = redis.call('ZRANGE', waiting, 0, 0)[1]
local head = first and redis.call('HGET', entries, first) or ''
local version = redis.sha1hex((redis.call('GET', position) or '0') .. ' ' .. count .. ' ' .. head)
if version == args.known then return {version} end
local found = {}
local ids = redis.call('ZRANGE', waiting, 0, -1)
for from = 1, #ids, 1000 do  -- HMGET in slices: unpack has a bound on how many values it spreads
  local slice = redis.call('HMGET', entries, unpack(ids, from, math.min(from + 999, #ids)))
  for _, raw in ipairs(slice) do found[#found + 1] = raw end
end
return {version, found}
