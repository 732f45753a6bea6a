-- Read everything one owner's step needs in one command and one reply (one hash tag, so it
-- runs on Redis Cluster as on one node).
-- KEYS: version, profile, traits, counters, clients, fired, absences, seen,
--       then one key per session, then one history key per event type.
-- ARGV: number of sessions, number of history types, oldest history score wanted, step ids.
-- Reply: {version, profile, traits, counters, clients, fired, absences, sessions, history,
--         seen}; hashes as flat field/value arrays, history as arrays of scores only,
--         seen as the stored outcome of each step id (false when not committed).
local sessions_n = tonumber(ARGV[1])
local types_n = tonumber(ARGV[2])
local since = ARGV[3]

local reply = {
  redis.call('GET', KEYS[1]) or '',
  redis.call('HGETALL', KEYS[2]),
  redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[4]),
  redis.call('SMEMBERS', KEYS[5]),
  redis.call('HGETALL', KEYS[6]),
  redis.call('HGETALL', KEYS[7]),
}
local sessions = {}
for i = 1, sessions_n do
  sessions[i] = redis.call('HGETALL', KEYS[8 + i])
end
reply[8] = sessions
local history = {}
for i = 1, types_n do
  local pairs_ = redis.call('ZRANGEBYSCORE', KEYS[8 + sessions_n + i], since, '+inf', 'WITHSCORES')
  local scores = {}
  for j = 2, #pairs_, 2 do
    scores[#scores + 1] = pairs_[j]
  end
  history[i] = scores
end
reply[9] = history
if #ARGV > 3 then
  reply[10] = redis.call('HMGET', KEYS[8], unpack(ARGV, 4))
else
  reply[10] = {}
end
return reply
