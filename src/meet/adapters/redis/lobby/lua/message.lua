-- Speak to those waiting: keep the message as the latest to everyone (or to one waiting participant) and
-- publish it, within the room's rate limit (the rate counter of keys.MESSAGE_BUCKET).
-- args: text, sent_at, participant_id (absent: everyone), now, limit, window, room_ttl, by.
-- Returns {'ok', how many it reached}, {'limited', ms left} or {'absent'} (that participant is not waiting).
local id = args.participant_id
purge(args.now)
if id and not redis.call('ZSCORE', waiting, id) then return {'absent'} end
local left = over_limit(args.limit, args.window)
if left then return {'limited', left} end
local message = {text = args.text, sent_at = args.sent_at}
redis.call('HSET', messages, id or '*', cjson.encode(message))
redis.call('PEXPIRE', messages, args.room_ttl)
emit({type = 'message', participant_id = id, message = message})
local reached = id and 1 or redis.call('ZCARD', waiting)
-- The record says who spoke to how many (or to whom), never what was said.
log({action = 'lobby.messaged', participant_id = id, count = reached, by = args.by, at = args.now})
return {'ok', reached}
