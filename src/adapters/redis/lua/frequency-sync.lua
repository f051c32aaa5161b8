--[[
  frequency-sync: adds the serves one decision server made for a batch of users and returns
  every serve of each of those users that any server recorded (FrequencyStore shared by a
  fleet, redis-frequency-store.ts). One call per sync for all the users with news: a script
  call per user cost the decision server ~18 µs of client CPU each (node-redis), the batch ~2.

  Input:
    KEYS[i]   user i's hash `<prefix>:{u:<userId>}:fq`; field adId → "<ts> <decisionId>;…"
    ARGV[1]   nowMs (the caller's clock)
    then, for each user i in KEYS order:
      keepMs  keep the key this long after now, ms (the longest cap window of the ads touched)
      n       how many serves follow for this user
      n serves, one argument each: "<adId> <windowMs> <ts> <decisionId>"; a decision id
              already stored is not added again (a retried sync adds nothing)
  Serves older than their ad's window are dropped from the fields touched.

  Output: one entry per key, the user's hash as HGETALL returns it (flat field, value list).
  Commands per user: one HGET per ad touched, one HSET, PTTL + PEXPIRE (only with serves), HGETALL.

  The keys of one call span many hash tags: fine on one Redis (what Allot connects to today);
  under Redis Cluster a call must be split per slot (docs/operations.md).
]]
local now = tonumber(ARGV[1])
local out = {}
local a = 2
for u = 1, #KEYS do
  local key = KEYS[u]
  local keepMs = tonumber(ARGV[a])
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  local byAd = {}
  local order = {}
  for k = a, a + n - 1 do
    local ad, win, ts, id = string.match(ARGV[k], '^(%S+) (%S+) (%S+) (%S+)$')
    local entry = byAd[ad]
    if not entry then
      entry = { window = tonumber(win), add = {} }
      byAd[ad] = entry
      order[#order + 1] = ad
    end
    entry.add[#entry.add + 1] = { ts = ts, id = id }
  end
  a = a + n
  if #order > 0 then
    local fields = {}
    for _, ad in ipairs(order) do
      local entry = byAd[ad]
      local kept = {}
      local ids = {}
      local stored = redis.call('HGET', key, ad)
      if stored then
        for ts, id in string.gmatch(stored, '([^; ]+) ([^;]+)') do
          if tonumber(ts) > now - entry.window then
            kept[#kept + 1] = ts .. ' ' .. id
            ids[id] = true
          end
        end
      end
      for _, s in ipairs(entry.add) do
        if not ids[s.id] and tonumber(s.ts) > now - entry.window then
          kept[#kept + 1] = s.ts .. ' ' .. s.id
          ids[s.id] = true
        end
      end
      fields[#fields + 1] = ad
      fields[#fields + 1] = table.concat(kept, ';')
    end
    redis.call('HSET', key, unpack(fields))
    local ttl = redis.call('PTTL', key)
    if ttl < keepMs then redis.call('PEXPIRE', key, keepMs) end
  end
  out[u] = redis.call('HGETALL', key)
end
return out
