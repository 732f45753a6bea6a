-- Read everything one owner's step needs in one command and one reply (one hash tag, so it
-- runs on Redis Cluster as on one node).
-- KEYS: version, profile, traits, counters, clients, fired, seen; then one key per session,
--       one history key per event type, one absence-window hash per awaited event type.
-- ARGV: number of sessions, of history types, of absence types; oldest history score
--       wanted; then the step ids.
-- Reply: {version, profile, traits, counters, clients, fired, sessions, history, absences,
--         seen}; hashes as flat field/value arrays, history as arrays of scores only,
--         seen as the stored outcome of each step id (false when not committed).
local sessions_n = tonumber(ARGV[1])
local types_n = tonumber(ARGV[2])
local absences_n = tonumber(ARGV[3])
local since = ARGV[4]

local reply = {
  redis.call('GET', KEYS[1]) or '',
  redis.call('HGETALL', KEYS[2]),
  redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[4]),
  redis.call('SMEMBERS', KEYS[5]),
  redis.call('HGETALL', KEYS[6]),
}
local at = 7
local sessions = {}
for i = 1, sessions_n do
  sessions[i] = redis.call('HGETALL', KEYS[at + i])
end
reply[7] = sessions
at = at + sessions_n
local history = {}
for i = 1, types_n do
  local pairs_ = redis.call('ZRANGEBYSCORE', KEYS[at + i], since, '+inf', 'WITHSCORES')
  local scores = {}
  for j = 2, #pairs_, 2 do
    scores[#scores + 1] = pairs_[j]
  end
  history[i] = scores
end
reply[8] = history
at = at + types_n
local absences = {}
for i = 1, absences_n do
  absences[i] = redis.call('HGETALL', KEYS[at + i])
end
reply[9] = absences
if #ARGV > 4 then
  reply[10] = redis.call('HMGET', KEYS[7], unpack(ARGV, 5))
else
  reply[10] = {}
end
return reply
