-- What the SFU told of the live room (webhooks: at least once, unordered). args: kind ('joined', 'left',
-- 'finished'), identity. A join is counted once however often told, unless the door keeps that identity
-- out (sent back to the lobby: waiting there, or a member suspended): then 'kept_out', for the caller to
-- remove them from the live room again. 'finished' forgets the count, the send-backs and the lock.
if args.kind == 'joined' then
  if redis.call('HEXISTS', held, args.identity) == 1 or redis.call('ZSCORE', waiting, args.identity) then
    return 'kept_out'
  end
  redis.call('ZADD', present, '+inf', args.identity)
  redis.call('PEXPIRE', present, 86400000)
elseif args.kind == 'left' then
  redis.call('ZREM', present, args.identity)
else
  redis.call('DEL', present, held)
  redis.call('HDEL', door, 'locked')
end
return 'ok'
