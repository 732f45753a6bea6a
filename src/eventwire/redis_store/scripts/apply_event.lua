-- Apply one accepted event to its owner's state (profile and/or session), once per event id.
-- Every key shares the owner's hash tag, so this runs on Redis Cluster as on one node.
-- Returns the facts of the first application as JSON; a redelivered event gets the stored
-- facts back (prefixed with "dup:") and changes nothing.
local profile_key = KEYS[1]
local traits_key = KEYS[2]
local counters_key = KEYS[3]
local clients_key = KEYS[4]
local seen_key = KEYS[5]
local seen_order_key = KEYS[6]
local session_key = KEYS[7]
local attributes_key = KEYS[8]
local event_id = ARGV[1]
local event_type = ARGV[2]
local at = ARGV[3]                  -- the event's received_at, RFC 3339
local at_ms = ARGV[4]
local profile_id = ARGV[5]          -- "" when profile-less
local session_id = ARGV[6]          -- "" when the event has no session
local control = ARGV[7]             -- "", "close", "cancel" or "revoke"
local transitions = ARGV[8]         -- "open:close=closed;..." (core/state.py TRANSITIONS)
local session_attributes = ARGV[9]  -- JSON object of JSON-encoded values (Talon.One), or ""
local traits = ARGV[10]             -- JSON object of JSON-encoded values, or ""
local identities = ARGV[11]         -- JSON object {email, contact_id, user_id, client_id} or ""
local seen_cap = tonumber(ARGV[12])
local seen_ttl = tonumber(ARGV[13])

local stored = redis.call('HGET', seen_key, event_id)
if stored then
  return 'dup:' .. stored
end

local facts = {}

if profile_id ~= '' then
  if redis.call('HSETNX', profile_key, 'created_at', at) == 1 then
    facts.pc = 1
    redis.call('HSETNX', profile_key, 'id', profile_id)
    redis.call('HSETNX', profile_key, 'first_seen', at)
  end
  redis.call('HSET', profile_key, 'last_seen', at)
  redis.call('HINCRBY', counters_key, event_type, 1)
  if identities ~= '' then
    for name, value in pairs(cjson.decode(identities)) do
      if name == 'client_id' then
        redis.call('SADD', clients_key, value)
      else
        redis.call('HSETNX', profile_key, name, value)
      end
    end
  end
  if traits ~= '' then
    local changed = {}
    local any = false
    for name, value in pairs(cjson.decode(traits)) do
      if redis.call('HGET', traits_key, name) ~= value then
        redis.call('HSET', traits_key, name, value)
        changed[name] = cjson.decode(value)
        any = true
      end
    end
    if any then facts.tc = changed end
  end
end

if session_id ~= '' then
  local status = redis.call('HGET', session_key, 'status')
  if control == '' then
    if not status then
      redis.call('HSET', session_key, 'id', session_id, 'profile_id', profile_id, 'status', 'open',
        'started_at', at, 'last_event_at', at, 'last_event_ms', at_ms, 'event_count', 1)
      facts.sc = 1
      facts.n = 1
      status = 'open'
    elseif status == 'open' then
      facts.n = redis.call('HINCRBY', session_key, 'event_count', 1)
      redis.call('HSET', session_key, 'last_event_at', at, 'last_event_ms', at_ms)
      facts.su = 1
    end
    if status == 'open' and session_attributes ~= '' then
      for name, value in pairs(cjson.decode(session_attributes)) do
        redis.call('HSET', attributes_key, name, value)
      end
    end
  elseif status then
    for rule in string.gmatch(transitions, '[^;]+') do
      local from, ctl, to = string.match(rule, '^([^:]+):([^=]+)=(.+)$')
      if from == status and ctl == control then
        redis.call('HSET', session_key, 'status', to, 'ended_at', at)
        facts.st = {status, to}
        break
      end
    end
  end
end

local encoded = cjson.encode(facts)
redis.call('HSET', seen_key, event_id, encoded)
redis.call('RPUSH', seen_order_key, event_id)
while redis.call('LLEN', seen_order_key) > seen_cap do
  redis.call('HDEL', seen_key, redis.call('LPOP', seen_order_key))
end
redis.call('EXPIRE', seen_key, seen_ttl)
redis.call('EXPIRE', seen_order_key, seen_ttl)
return encoded
