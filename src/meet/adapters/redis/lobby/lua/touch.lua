-- The participant's entry, kept alive if waiting. args: participant_id, now, waiting_ttl, room_ttl.
local id, now = args.participant_id, args.now
purge(now)
local current = redis.call('HGET', entries, id)
if current and redis.call('ZSCORE', waiting, id) then
  redis.call('ZADD', expiry, now + args.waiting_ttl, id)
  keep(args.room_ttl)
end
return current
