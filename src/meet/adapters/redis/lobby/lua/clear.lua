-- Reset the room's lobby (its bars stay). args: none.
redis.call('DEL', entries, waiting, expiry, position)
emit({type = 'cleared'})
return 1
