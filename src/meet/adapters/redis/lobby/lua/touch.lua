-- The participant's entry, kept alive if waiting, and the latest messages to them.
-- args: participant_id, now, waiting_ttl, room_ttl. Returns {entry or false, {to everyone, to them}}.
local id, now = args.participant_id, args.now
purge(now)
local current = redis.call('HGET', entries, id)
if current and redis.call('ZSCORE', waiting, id) then
  redis.call('ZADD', expiry, now + args.waiting_ttl, id)
  keep(args.room_ttl)
end
return {current, messages_of(id)}
