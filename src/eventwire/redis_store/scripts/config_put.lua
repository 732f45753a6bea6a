-- Change one configuration item if the configuration is still at the version it was read at.
-- One field of one hash and the version move together, so a replica never sees half a change.
-- Returns the new version, or -1 when the configuration moved on (read again and retry).
local version_key = KEYS[1]
local items_key = KEYS[2]
local expected_version = tonumber(ARGV[1])
local field = ARGV[2]
local value = ARGV[3]               -- JSON of the item; "" deletes it

if tonumber(redis.call('GET', version_key) or '0') ~= expected_version then
  return -1
end
if value == '' then
  redis.call('HDEL', items_key, field)
else
  redis.call('HSET', items_key, field, value)
end
return redis.call('INCR', version_key)
