--[[
  frequency-sync: adds one user's serves from one decision server and returns every serve of
  that user that any server recorded (FrequencyStore shared by a fleet, redis-frequency-store.ts).

  Input:
    KEYS[1]   the user's hash `<prefix>:{u:<userId>}:fq`; field adId → "<ts> <decisionId>;…"
    ARGV[1]   nowMs (the caller's clock)
    ARGV[2]   keep the key this long after now, ms (the longest cap window of the ads touched)
    ARGV[3..] serves to add, one argument each: "<adId> <windowMs> <ts> <decisionId>";
              a decision id already stored is not added again (a retried sync adds nothing)
  Serves older than their ad's window are dropped from the fields touched.

  Output: the user's hash as HGETALL returns it (flat field, value list).
  Commands: one HGET per ad touched, one HSET, PTTL + PEXPIRE, HGETALL.
]]
local now = tonumber(ARGV[1])
local keepMs = tonumber(ARGV[2])
local byAd = {}
local order = {}
for k = 3, #ARGV do
  local ad, win, ts, id = string.match(ARGV[k], '^(%S+) (%S+) (%S+) (%S+)$')
  local a = byAd[ad]
  if not a then
    a = { window = tonumber(win), add = {} }
    byAd[ad] = a
    order[#order + 1] = ad
  end
  a.add[#a.add + 1] = { ts = ts, id = id }
end
if #order > 0 then
  local fields = {}
  for _, ad in ipairs(order) do
    local a = byAd[ad]
    local kept = {}
    local ids = {}
    local stored = redis.call('HGET', KEYS[1], ad)
    if stored then
      for ts, id in string.gmatch(stored, '([^; ]+) ([^;]+)') do
        if tonumber(ts) > now - a.window then
          kept[#kept + 1] = ts .. ' ' .. id
          ids[id] = true
        end
      end
    end
    for _, s in ipairs(a.add) do
      if not ids[s.id] and tonumber(s.ts) > now - a.window then
        kept[#kept + 1] = s.ts .. ' ' .. s.id
        ids[s.id] = true
      end
    end
    fields[#fields + 1] = ad
    fields[#fields + 1] = table.concat(kept, ';')
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < keepMs then redis.call('PEXPIRE', KEYS[1], keepMs) end
end
return redis.call('HGETALL', KEYS[1])
