--[[
  count-once: counts events of ONE placement at most once each, atomically with their dedup
  (CounterStore.countOnce). A redelivered or retried batch finds its ids marked and counts
  nothing again; since marking and counting happen in one script, no crash can separate them.

  Input:
    KEYS[1..n]      counted-event markers `<prefix>:{pl:<placementId>}:e:<eventId>`, one per event,
                    distinct (the caller drops repeats inside a batch)
    KEYS[n+1..n+m]  counter bucket hashes `<prefix>:{pl:<placementId>}:c:<bucketStartMs>`
                    (all keys share the placement's hash tag: one Cluster slot)
    ARGV[1]         n, the number of events
    ARGV[2]         nowMs: the caller's clock, epoch ms
    ARGV[3]         retention of counter buckets, seconds (EXPIRE after the last increment)
    ARGV[4 + 5(i-1)] … ARGV[8 + 5(i-1)] for event i: dedup TTL in ms, index j of its bucket in
                    KEYS[n+j], ad id, type suffix (d, i or c), sampling weight w (1 = exact)
    Increments: `<adId>:<suffix>` += w; impressions also `<adId>:i2` += w² and `<adId>:is` += 1
    (Σw² and the sample count, for share intervals when counts are sampled).

  Output:
    array of n integers: 1 = counted now, 0 = counted before and its marker not yet expired

  A marker holds its logical expiry (nowMs + TTL on the caller's clock, as in first-seen.lua);
  PX on Redis's clock only garbage-collects it, a minute after.
]]
local n = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local retention = tonumber(ARGV[3])
local out = {}
local touched = {}
for i = 1, n do
  local base = 4 + (i - 1) * 5
  local ttl = tonumber(ARGV[base])
  local bucket = n + tonumber(ARGV[base + 1])
  local ad = ARGV[base + 2]
  local suffix = ARGV[base + 3]
  local w = tonumber(ARGV[base + 4])
  local stored = tonumber(redis.call('GET', KEYS[i]) or '')
  if stored ~= nil and stored > now then
    out[i] = 0
  else
    redis.call('SET', KEYS[i], tostring(now + ttl), 'PX', ttl + 60000)
    redis.call('HINCRBYFLOAT', KEYS[bucket], ad .. ':' .. suffix, w)
    if suffix == 'i' then
      redis.call('HINCRBYFLOAT', KEYS[bucket], ad .. ':i2', w * w)
      redis.call('HINCRBY', KEYS[bucket], ad .. ':is', 1)
    end
    touched[bucket] = true
    out[i] = 1
  end
end
for bucket in pairs(touched) do
  redis.call('EXPIRE', KEYS[bucket], retention)
end
return out
