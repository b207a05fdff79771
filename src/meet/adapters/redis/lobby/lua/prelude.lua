-- Shared by every lobby script (prepended once, when the scripts are loaded).
-- KEYS are the room's keys in the order of keys.LobbyKeys (the stamp only for a script that checks it,
-- the rate counter only for a gated one);
-- ARGV[1] is the publishing command (PUBLISH, or SPUBLISH on a Redis Cluster), ARGV[2] the script's
-- named arguments as JSON (built in scripts.py, one typed builder per script).
-- The host's controls' keys (denials, messages) come last, only for a script given them
-- (keys.LobbyKeys.controlled).
local entries, waiting, expiry, position, channel, bars, audit, door, present, held, stamp, rate, denials, messages =
  unpack(KEYS)
local publish_command, args = ARGV[1], cjson.decode(ARGV[2])

-- Every event of the lobby is encoded here, once, and decoded by codec.py.
local function emit_encoded(message)
  redis.call(publish_command, channel, message)
end

local function emit(event)
  emit_encoded(cjson.encode(event))
end

-- A decision's record for the audit log, in the same step as the decision: the room's audit stream,
-- which a consumer group moves into the database (records.py). Kept a week at most if nobody moves it.
local function log(record)
  redis.call('XADD', audit, '*', 'r', cjson.encode(record))
  redis.call('PEXPIRE', audit, 604800000)
end

local function purge(now)
  local gone = redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, 500)
  if #gone == 0 then return end
  for _, id in ipairs(gone) do
    -- A waiting entry that expired: its participant left the lobby (decided entries just end).
    if redis.call('ZSCORE', waiting, id) then
      local stored = redis.call('HGET', entries, id)
      local name = stored and cjson.decode(stored).username or nil
      log({action = 'lobby.left', participant_id = id, name = name, reason = 'expired', at = now})
    end
  end
  redis.call('HDEL', entries, unpack(gone))
  redis.call('ZREM', waiting, unpack(gone))
  redis.call('ZREM', expiry, unpack(gone))
  for _, id in ipairs(gone) do
    emit({type = 'left', participant_id = id})
  end
end

local function keep(room_ttl)
  redis.call('PEXPIRE', entries, room_ttl)
  redis.call('PEXPIRE', waiting, room_ttl)
  redis.call('PEXPIRE', expiry, room_ttl)
  redis.call('PEXPIRE', position, room_ttl)
end

local function bar(identity, until_ms, cache_ttl)
  local current = redis.call('ZSCORE', bars, identity)
  if not current or tonumber(current) < until_ms then redis.call('ZADD', bars, until_ms, identity) end
  if redis.call('PTTL', bars) < 0 then redis.call('PEXPIRE', bars, cache_ttl) end
end

-- Decide a waiting entry: the entry as a table (for the event) and as stored (for the caller).
local function record(id, status, at, by, now, ttl, reason)
  local e = cjson.decode(redis.call('HGET', entries, id))
  e.status = status
  e.decided_at = at
  e.decided_by = by
  e.reason = reason
  local s = cjson.encode(e)
  redis.call('HSET', entries, id, s)
  redis.call('ZREM', waiting, id)
  redis.call('ZADD', expiry, now + ttl, id)
  return e, s
end

-- The gate of a knock (args.gate: limit, window, identities, stamp): nil when passed, else why not.
-- ``stamp`` is the room's stamp the caller read the room under (absent for none).
-- Whether the room is still as the caller read it under ``expected`` (absent: nothing to check).
local function current(expected)
  return not expected or redis.call('GET', stamp) == expected
end

-- One hit on the rate counter (KEYS' ``rate``): nil within ``limit`` per ``window`` ms, else the ms left.
local function over_limit(limit, window)
  local n = redis.call('INCR', rate)
  if n == 1 then redis.call('PEXPIRE', rate, window) end
  if n <= limit then return nil end
  local left = redis.call('PTTL', rate)
  if left < 0 then left = window end
  return left
end

local function gate(g, now)
  if not current(g.stamp) then return {'stale'} end
  local blocks = g.blocks or {}
  if #g.identities > 0 or #blocks > 0 then
    if not redis.call('ZSCORE', bars, '') then return {'cold'} end
    redis.call('ZREMRANGEBYSCORE', bars, '-inf', now)
  end
  local left = over_limit(g.limit, g.window)
  if left then return {'limited', left} end
  for _, block in ipairs(blocks) do
    if redis.call('ZSCORE', bars, block) then return {'blocked'} end
  end
  for _, identity in ipairs(g.identities) do
    if redis.call('ZSCORE', bars, identity) then return {'barred'} end
  end
  return nil
end

-- A denial counted against each of its subjects (the participant's and the address's block identities),
-- keeping the instants of the last few within the window; a subject denied b.limit times is blocked
-- until now + b.block (the bars cache: the caller writes the durable bars). Appends the blocks it set
-- to ``blocked``. b: limit, window, block (ms), cache_ttl.
local function count_denial(subjects, now, b, blocked)
  for _, subject in ipairs(subjects) do
    local recent = {}
    local stored = redis.call('HGET', denials, subject)
    if stored then
      for instant in string.gmatch(stored, '%d+') do
        if tonumber(instant) > now - b.window then recent[#recent + 1] = instant end
      end
    end
    recent[#recent + 1] = string.format('%d', now)
    while #recent > b.limit do table.remove(recent, 1) end
    if #recent >= b.limit then
      redis.call('HDEL', denials, subject)
      bar(subject, now + b.block, b.cache_ttl)
      blocked[#blocked + 1] = subject
    else
      redis.call('HSET', denials, subject, table.concat(recent, ','))
    end
  end
  redis.call('PEXPIRE', denials, b.window)
end

-- Each block just set, in the audit log: the participant's by id, an address's without it (no address
-- is recorded).
local function log_blocks(blocked, id, by, now)
  for _, block in ipairs(blocked) do
    local kind = string.sub(block, 1, 8) == 'address:' and 'address' or 'participant'
    log({action = 'lobby.blocked', participant_id = id, reason = kind, by = by, at = now})
  end
end

-- The latest messages a waiting participant may see: {to everyone, to them} (false where none).
local function messages_of(id)
  return redis.call('HMGET', messages, '*', id)
end


-- The meeting's door (domain/conference/door.py): locked, ended for a grace period, the seats taken.
local function ended(now)
  local until_ms = redis.call('HGET', door, 'ended_until')
  return until_ms and tonumber(until_ms) > now
end

-- Participants in the live room (+inf) and seats held for those just admitted (until a moment).
local function seats_taken(now)
  redis.call('ZREMRANGEBYSCORE', present, '-inf', now)
  return redis.call('ZCARD', present)
end

local function hold_seat(id, now, hold_ms)
  redis.call('ZADD', present, 'NX', now + hold_ms, id)
  redis.call('PEXPIRE', present, 86400000)
end

-- Admitting the entry a sent-back member knocked with lets that member in directly again.
local function lift(id)
  local member = redis.call('HGET', held, id)
  if member then redis.call('HDEL', held, id, member) end
end

-- An admin opens an ended meeting again.
local function reopen(by, now)
  if not ended(now) then return false end
  redis.call('HDEL', door, 'ended_until')
  log({action = 'room.reopened', by = by, at = now})
  return true
end

-- Why the door keeps a newcomer out, nil when it does not. g: the gate (admin, capacity, identities, by);
-- direct: they would enter without waiting (then a member sent back and a full room keep them out too).
-- An admin always passes, and reopens an ended meeting.
local function shut(g, now, direct)
  if g.admin then
    reopen(g.by, now)
    return nil
  end
  if ended(now) then return {'ended'} end
  if redis.call('HGET', door, 'locked') then return {'locked'} end
  if not direct then return nil end
  for _, identity in ipairs(g.identities) do
    if redis.call('HEXISTS', held, identity) == 1 then return {'sent_to_lobby'} end
  end
  if (g.capacity or 0) > 0 and seats_taken(now) >= g.capacity then
    for _, identity in ipairs(g.identities) do
      if redis.call('ZSCORE', present, identity) then return nil end
    end
    return {'full'}
  end
  return nil
end
