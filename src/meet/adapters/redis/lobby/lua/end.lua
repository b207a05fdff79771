-- End the meeting for everyone: the lobby emptied (everyone waiting told it ended), the lock, the count and
-- the send-backs forgotten, and the door shut to all but admins until until_ms. args: by, now, until_ms.
-- Returns how many were waiting.
local left = redis.call('ZCARD', waiting)
redis.call('DEL', entries, waiting, expiry, position, present, held)
redis.call('HDEL', door, 'locked')
redis.call('HSET', door, 'ended_until', args.until_ms)
redis.call('PEXPIRE', door, math.max(args.until_ms - args.now, 0) + 60000)
emit({type = 'ended'})
log({action = 'room.ended', count = left, by = args.by, at = args.now})
return left
