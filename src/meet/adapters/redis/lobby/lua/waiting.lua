-- A page of the waiting list in arrival order. args: now, after (a ZRANGEBYSCORE bound), limit, stamp
-- (the room's stamp the caller read the room under; absent for none).
-- Returns {how many wait, up to limit + 1 entries}, or 'stale' (nothing read) when the stamp changed.
if not current(args.stamp) then return 'stale' end
purge(args.now)
local ids = redis.call('ZRANGEBYSCORE', waiting, args.after, '+inf', 'LIMIT', 0, args.limit + 1)
local found = {}
if #ids > 0 then found = redis.call('HMGET', entries, unpack(ids)) end
return {redis.call('ZCARD', waiting), found}
