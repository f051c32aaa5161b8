--[[
  first-seen: remembers event ids; says which ones are new (the Deduper port).

  Input:
    KEYS[1..n]  dedup keys `<prefix>:{dd:<shard>}:<eventId>`, all with the same hash tag
                (one Cluster slot), distinct (the caller drops repeats inside a batch)
    ARGV[1]     nowMs: the caller's clock, epoch ms
    ARGV[2]     ttlMs: how long an id is remembered, integer >= 1
    ARGV[3]     expiryMs: nowMs + ttlMs, as a decimal string (stored as the value)

  Output:
    array of n integers: 1 = first seen (now remembered until expiryMs), 0 = seen before and
    not yet expired

  Why the value holds an expiry: the port's clock is the caller's (`nowMs`), which tests drive
  by hand and which may differ from Redis's. A key counts as present only while its stored
  expiry is after nowMs; PX ttlMs (Redis's clock) merely garbage-collects it. Keys written by
  an older version without a numeric value count as expired.

  Complexity: O(n) GET + SET; a batch of 1000 ids runs in well under a millisecond.
]]
local now = tonumber(ARGV[1])
local ttl = ARGV[2]
local expiry = ARGV[3]
local out = {}
for i = 1, #KEYS do
  local stored = tonumber(redis.call('GET', KEYS[i]) or '')
  if stored ~= nil and stored > now then
    out[i] = 0
  else
    redis.call('SET', KEYS[i], expiry, 'PX', ttl)
    out[i] = 1
  end
end
return out
