-- Commit one computed step for one owner: apply its writes, once per step id, and only if
-- nothing changed under the owner since its state was read (optimistic concurrency).
-- The version token names the state, not just the last step: it chains the previous token
-- and the step id, so a step computed from another state than the one stored never matches.
-- Every key is the owner's (one hash tag), so this runs on Redis Cluster as on one node.
-- Replies: "ok"; "dup" (this step was committed already); "conflict" (re-read and retry).
local version_key = KEYS[1]
local seen_key = KEYS[2]
local seen_order_key = KEYS[3]
local expected_version = ARGV[1]
local step_id = ARGV[2]
local outcome = ARGV[3]             -- what to re-publish if this step is ever redelivered
local seen_cap = tonumber(ARGV[4])
local seen_ttl = tonumber(ARGV[5])
local writes = cjson.decode(ARGV[6]) -- [[command, key index, argument, ...], ...]
local next_version = ARGV[7]

if redis.call('HEXISTS', seen_key, step_id) == 1 then
  return 'dup'
end
if (redis.call('GET', version_key) or '') ~= expected_version then
  return 'conflict'
end
for _, write in ipairs(writes) do
  local arguments = {}
  for i = 3, #write do
    arguments[#arguments + 1] = write[i]
  end
  redis.call(write[1], KEYS[write[2]], unpack(arguments))
end
redis.call('SET', version_key, next_version)
redis.call('HSET', seen_key, step_id, outcome)
redis.call('RPUSH', seen_order_key, step_id)
while redis.call('LLEN', seen_order_key) > seen_cap do
  redis.call('HDEL', seen_key, redis.call('LPOP', seen_order_key))
end
redis.call('EXPIRE', seen_key, seen_ttl)
redis.call('EXPIRE', seen_order_key, seen_ttl)
return 'ok'
