-- Read the whole configuration at one version: the version and every item, atomically.
local version_key = KEYS[1]
local sources_key = KEYS[2]
local definitions_key = KEYS[3]
local triggers_key = KEYS[4]

return {
  redis.call('GET', version_key) or '0',
  redis.call('HGETALL', sources_key),
  redis.call('HGETALL', definitions_key),
  redis.call('HGETALL', triggers_key),
}
