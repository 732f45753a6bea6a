-- Read everything the steps of one or more owners need, in one command and one reply.
-- Standalone Redis gets every owner of a batch in one call; on Redis Cluster each call
-- names one owner (KEYS[1], its version key), so every key it reads shares one hash tag.
-- ARGV, per owner: version, state (the profile part, one JSON value) and seen keys;
--   then n and n session keys; n and n history keys; the oldest history score wanted;
--   n and n absence-window keys; n and n step ids.
-- Reply, per owner: {version, state, sessions, history, absences, seen}: hashes as flat
--   field/value arrays, history as arrays of scores only,
--   seen as the stored outcome of each step id (false when not committed).
local replies = {}
local at = 1
local function take()
  local value = ARGV[at]
  at = at + 1
  return value
end
local function count()
  return tonumber(take())
end
while at <= #ARGV do
  local version_key, state_key, seen_key = take(), take(), take()
  local reply = {
    redis.call('GET', version_key) or '',
    redis.call('GET', state_key) or '',
  }
  local sessions = {}
  for i = 1, count() do
    sessions[i] = redis.call('HGETALL', take())
  end
  reply[3] = sessions
  local history_keys = {}
  for i = 1, count() do
    history_keys[i] = take()
  end
  local since = take()
  local history = {}
  for i, key in ipairs(history_keys) do
    local pairs_ = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES')
    local scores = {}
    for j = 2, #pairs_, 2 do
      scores[#scores + 1] = pairs_[j]
    end
    history[i] = scores
  end
  reply[4] = history
  local absences = {}
  for i = 1, count() do
    absences[i] = redis.call('HGETALL', take())
  end
  reply[5] = absences
  local steps = {}
  for i = 1, count() do
    steps[i] = take()
  end
  if #steps > 0 then
    reply[6] = redis.call('HMGET', seen_key, unpack(steps))
  else
    reply[6] = {}
  end
  replies[#replies + 1] = reply
end
return replies
