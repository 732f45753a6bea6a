-- Claim units of one global budget for the steps of a batch (core/triggers/budgets.py).
-- KEYS[1]: the budget's hash: "n" the units granted, "s:<step id>" the units a step holds.
-- ARGV: times, expire-at ms ("" for never), then step id, units, step id, units, ...
-- Per step: 1 when it holds its units (granted now, or before: the step computed again),
-- 0 when they would take the budget past ``times``. One key: safe on Redis Cluster.
local times = tonumber(ARGV[1])
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local out = {}
for i = 3, #ARGV, 2 do
  local field = 's:' .. ARGV[i]
  local units = tonumber(ARGV[i + 1])
  local held = tonumber(redis.call('HGET', KEYS[1], field) or '0')
  if held >= units then
    out[#out + 1] = 1
  elseif n + units - held <= times then
    n = n + units - held
    redis.call('HSET', KEYS[1], field, units)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
redis.call('HSET', KEYS[1], 'n', n)
if ARGV[2] ~= '' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return out
