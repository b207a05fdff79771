-- Pass the gate, then add the entry unless its participant has one (a waiting one is kept alive).
-- args: participant_id, entry, now, waiting_ttl, room_ttl, gate, suspended (the member a sent-back
-- member's knock is for). Returns {'ok', entry, created, the latest messages to them ({to everyone, to
-- them})}, the gate's refusal ('barred' with the stored entry, if any) or the door's (no entry made).
local id, now = args.participant_id, args.now
local refused = gate(args.gate, now)
if refused then
  -- A participant barred by a denial still sees its entry while it lasts (the denial's reason).
  if refused[1] == 'barred' then refused[2] = redis.call('HGET', entries, id) end
  return refused
end
purge(now)
local current = redis.call('HGET', entries, id)
if current then
  if redis.call('ZSCORE', waiting, id) then
    redis.call('ZADD', expiry, now + args.waiting_ttl, id)
    keep(args.room_ttl)
  end
  return {'ok', current, 0, messages_of(id)}
end
local kept_out = shut(args.gate, now, false)
if kept_out then return kept_out end
local e = args.entry
e.position = redis.call('INCR', position)
local s = cjson.encode(e)
redis.call('HSET', entries, id, s)
redis.call('ZADD', waiting, e.position, id)
redis.call('ZADD', expiry, now + args.waiting_ttl, id)
if args.suspended then redis.call('HSET', held, id, args.suspended) end
keep(args.room_ttl)
emit({type = 'knocked', participant_id = id, entry = e})
log({action = 'lobby.knocked', participant_id = id, name = e.username, at = now})
return {'ok', s, 1, messages_of(id)}
