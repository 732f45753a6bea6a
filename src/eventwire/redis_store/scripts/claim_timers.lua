-- Claim due timers for this replica: move them from the due set to the in-flight set with a
-- lease. Timers whose lease ran out (the replica that claimed them died) are claimed again.
-- Atomic, so each due timer goes to exactly one replica at a time.
local due_key = KEYS[1]
local inflight_key = KEYS[2]
local now_ms = tonumber(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])

local claimed = {}
for _, key in ipairs({inflight_key, due_key}) do
  if #claimed >= limit then break end
  local members = redis.call('ZRANGEBYSCORE', key, '-inf', now_ms, 'LIMIT', 0, limit - #claimed)
  for _, member in ipairs(members) do
    redis.call('ZREM', key, member)
    redis.call('ZADD', inflight_key, now_ms + lease_ms, member)
    table.insert(claimed, member)
  end
end
return claimed
