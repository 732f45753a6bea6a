-- Commit the computed steps of one or more owners: for each owner, all of its steps of the
-- batch at once, only if nothing changed under the owner since its state was read
-- (optimistic concurrency), and each step once per step id.
-- The version token names the state, not just the last step: it chains the previous token
-- and each step id, so steps computed from another state than the one stored never match.
-- Standalone Redis gets a whole batch in one call, with its timers and session index;
-- on Redis Cluster each call names one owner (KEYS[1], its version key) and the batch's
-- timers and index go as plain commands beside it.
-- ARGV: seen cap, seen TTL (s), number of owners; then per owner: version key, seen key,
--   seen-order key, expected token, next token, n and n (step id, outcome) pairs, n writes
--   and each write as (command, key, n arguments, arguments...); then, optionally, the
--   timers' due key, n and n (member, due ms) to add (never earlier), the in-flight key,
--   n and n members to remove, n and n (index key, owner) to set when absent.
-- Reply: per owner "ok" or "conflict" (re-read and retry).
local at = 1
local function take()
  local value = ARGV[at]
  at = at + 1
  return value
end
local function count()
  return tonumber(take())
end
-- One command per this many arguments: unpack() has a limit of its own.
local function chunked(command, key, prefix, values)
  for first = 1, #values, 2000 do
    local part = {unpack(prefix)}
    for i = first, math.min(first + 1999, #values) do
      part[#part + 1] = values[i]
    end
    redis.call(command, key, unpack(part))
  end
end
local seen_cap, seen_ttl, owners = count(), count(), count()
local replies = {}
for o = 1, owners do
  local version_key, seen_key, seen_order_key = take(), take(), take()
  local expected, following = take(), take()
  local steps = {}
  for i = 1, count() do
    steps[i] = {take(), take()}
  end
  local writes = {}
  for i = 1, count() do
    local command, key, arguments = take(), take(), {}
    for j = 1, count() do
      arguments[j] = take()
    end
    writes[i] = {command, key, arguments}
  end
  -- The token names the state the steps were computed from, and that read found none of
  -- them committed: a token that still matches means none of them is committed now.
  if (redis.call('GET', version_key) or '') == expected then
    for _, write in ipairs(writes) do
      redis.call(write[1], write[2], unpack(write[3]))
    end
    redis.call('SET', version_key, following)
    local order, records = {}, {}
    for i, step in ipairs(steps) do
      order[i] = step[1]
      records[#records + 1] = step[1]
      records[#records + 1] = step[2]
    end
    redis.call('HSET', seen_key, unpack(records))
    local kept = redis.call('RPUSH', seen_order_key, unpack(order))
    if kept > seen_cap then
      local gone = redis.call('LPOP', seen_order_key, kept - seen_cap)
      redis.call('HDEL', seen_key, unpack(gone))
    end
    redis.call('EXPIRE', seen_key, seen_ttl)
    redis.call('EXPIRE', seen_order_key, seen_ttl)
    replies[o] = 'ok'
  else
    replies[o] = 'conflict'
  end
end
if at <= #ARGV then
  local due_key = take()
  local adds = count()
  if adds > 0 then
    local members = {}
    for i = 1, adds do
      local member, due = take(), take()
      members[#members + 1] = due
      members[#members + 1] = member
    end
    chunked('ZADD', due_key, {'GT'}, members)
  end
  local inflight_key = take()
  local gone = {}
  for i = 1, count() do
    gone[i] = take()
  end
  if #gone > 0 then
    chunked('ZREM', due_key, {}, gone)
    chunked('ZREM', inflight_key, {}, gone)
  end
  for i = 1, count() do
    local key, owner = take(), take()
    redis.call('SET', key, owner, 'NX')
  end
end
return replies
