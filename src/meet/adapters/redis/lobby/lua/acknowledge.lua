-- Standalone (no prelude). Acknowledge moved records and drop them; a stream left empty goes with its
-- group (atomically here, so a record added meanwhile is never dropped with it).
-- KEYS[1]: the room's audit stream. ARGV[1]: the group. ARGV[2..]: the record ids.
local stream, group = KEYS[1], ARGV[1]
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
if #ids > 0 then
  redis.call('XACK', stream, group, unpack(ids))
  redis.call('XDEL', stream, unpack(ids))
end
if redis.call('XLEN', stream) == 0 then redis.call('DEL', stream) end
return 1
