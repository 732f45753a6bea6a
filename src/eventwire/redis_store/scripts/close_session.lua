-- Close an open session whose last event is older than the timeout; otherwise say when it
-- will be due. Re-checks state, so a stale or repeated timer never closes a session twice;
-- a timeout close stays reported until its built-in event is published (close_published).
local session_key = KEYS[1]
local now_ms = tonumber(ARGV[1])
local timeout_ms = tonumber(ARGV[2])
local closed_at = ARGV[3]

local status = redis.call('HGET', session_key, 'status')
if status == 'closed' and redis.call('HGET', session_key, 'closed_by') == 'timeout'
    and not redis.call('HGET', session_key, 'close_published') then
  -- Closed by a timer whose replica died before publishing: report it again.
  return cjson.encode({
    closed = 1,
    profile_id = redis.call('HGET', session_key, 'profile_id'),
    event_count = tonumber(redis.call('HGET', session_key, 'event_count')),
    closed_at = redis.call('HGET', session_key, 'ended_at'),
  })
end
if status ~= 'open' then
  return cjson.encode({closed = 0, status = status or ''})
end
local due = tonumber(redis.call('HGET', session_key, 'last_event_ms')) + timeout_ms
if due > now_ms then
  return cjson.encode({closed = 0, due = due})
end
redis.call('HSET', session_key, 'status', 'closed', 'ended_at', closed_at, 'closed_by', 'timeout')
return cjson.encode({
  closed = 1,
  profile_id = redis.call('HGET', session_key, 'profile_id'),
  event_count = tonumber(redis.call('HGET', session_key, 'event_count')),
})
