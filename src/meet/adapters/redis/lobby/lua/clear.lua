-- Reset the room's lobby and its messages (its bars and denial counts stay). args: none.
local left = redis.call('ZCARD', waiting)
if left > 0 then
  local t = redis.call('TIME')
  log({action = 'lobby.left', count = left, reason = 'room_finished', at = t[1] * 1000 + math.floor(t[2] / 1000)})
end
redis.call('DEL', entries, waiting, expiry, position, messages)
emit({type = 'cleared'})
return 1
