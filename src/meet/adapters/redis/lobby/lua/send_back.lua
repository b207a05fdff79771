-- Send a participant back to the lobby; their seat is freed. A guest's entry (the identity is its
-- participant id) waits again, same id, at the end of the line, told on its channel (``knocked``); anyone
-- else (a member, who entered directly) is suspended for this meeting: their knock makes them wait.
-- args: identity, by, now, waiting_ttl, room_ttl. Returns 'guest' or 'member'.
local id, now = args.identity, args.now
purge(now)
redis.call('ZREM', present, id)
local stored = redis.call('HGET', entries, id)
local kind = 'member'
if stored then
  kind = 'guest'
  if not redis.call('ZSCORE', waiting, id) then
    local e = cjson.decode(stored)
    e.status = 'waiting'
    e.decided_at = nil
    e.decided_by = nil
    e.position = redis.call('INCR', position)
    redis.call('HSET', entries, id, cjson.encode(e))
    redis.call('ZADD', waiting, e.position, id)
    redis.call('ZADD', expiry, now + args.waiting_ttl, id)
    keep(args.room_ttl)
    emit({type = 'knocked', participant_id = id, entry = e})
  end
else
  redis.call('HSET', held, id, '1')
  redis.call('PEXPIRE', held, 86400000)
end
log({action = 'participant.sent_to_lobby', participant_id = id, by = args.by, at = now})
return kind
