-- Keep the waiting ones alive; announce those without an entry as left.
-- args: now, waiting_ttl, room_ttl, participant_ids.
local now = args.now
purge(now)
local kept = false
for _, id in ipairs(args.participant_ids) do
  if redis.call('ZSCORE', waiting, id) then
    redis.call('ZADD', expiry, now + args.waiting_ttl, id)
    kept = true
  elseif redis.call('HEXISTS', entries, id) == 0 then
    emit({type = 'left', participant_id = id})
  end
end
if kept then keep(args.room_ttl) end
return 1
