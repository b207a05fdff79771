-- Lock (args.locked) or unlock the meeting's door; a lock lasts until unlocked or the meeting ends (a day
-- at most, should its end never be told). args: locked, by, now. Returns 1 when it changed.
local was = redis.call('HEXISTS', door, 'locked') == 1
if args.locked == was then return 0 end
if args.locked then
  redis.call('HSET', door, 'locked', '1')
  redis.call('PEXPIRE', door, 86400000)
else
  redis.call('HDEL', door, 'locked')
end
log({action = args.locked and 'room.locked' or 'room.unlocked', by = args.by, at = args.now})
return 1
