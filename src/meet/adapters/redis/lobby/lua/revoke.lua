-- Drop the participant's entry whatever its state. args: participant_id. Returns 1 when there was one.
local id = args.participant_id
if redis.call('HDEL', entries, id) == 0 then return 0 end
redis.call('ZREM', waiting, id)
redis.call('ZREM', expiry, id)
emit({type = 'left', participant_id = id})
return 1
