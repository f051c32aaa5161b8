--[[
  count-once: adds a batch of events and plain increments to the live counters, each event at
  most once (CounterStore.countOnce / add). Dedup and increments happen in one script, so no
  crash can separate them: a redelivered or retried batch finds its ids marked and counts
  nothing again.

  Cost is per batch, not per event (the point of it: ≤ 0.02 Redis commands per decision): the
  ids are checked with ZMSCORE and marked with ZADD in chunks of CHUNK, and each hour bucket
  touched is one HMGET + one HSET + one EXPIRE, however many events and placements it holds.

  Input:
    KEYS[1]         sorted set of counted event ids, score = the id's logical expiry (epoch ms on
                    the caller's clock); members past it count again and are removed here
    KEYS[2..]       hour bucket hashes; field = placement id, value = that placement's counts
                    packed as "<adId> d i c i2 is;<adId> d i c i2 is;…" (ids never hold " " or ";")
    ARGV[1]         n, the number of events
    ARGV[2]         nowMs
    ARGV[3]         retention of buckets, seconds (EXPIRE after the last write)
    ARGV[4]         m, the number of plain increments
    ARGV[5]         the longest dedup TTL in the batch, ms (the set's own expiry follows it)
    ARGV[6]         G, the number of groups (bucket × placement × ad) the events fall in
    ARGV[7]         '1' when per-event sampling weights follow the codes, '0' when all are 1
    ARGV[8..10]     dedup TTL, ms, of decisions, impressions and clicks
    then per group, one argument "<bucket index b (KEYS[1 + b])> <placement> <ad>"
    then the n event ids
    then per event its code, 4 × <group number, from 1> + <1 decision | 2 impression | 3 click>
    then, when weighted, per event its sampling weight w (1 = exact)
                    → `d|i|c += w`; impressions also `i2 += w²`, `is += 1`
    then per increment, one argument "<bucket index> <placement> <ad> <d> <i> <c> <i2> <is>"
  Events must have distinct ids (the caller drops repeats inside a batch). Per event the script
  only reads numbers (no pattern match): its share of Redis's time was most of ~10 µs an event.

  Output: array of n integers, 1 = counted now, 0 = counted before and not yet expired.
]]
local CHUNK = 3000
local n = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local retention = tonumber(ARGV[3])
local m = tonumber(ARGV[4])
local maxTtl = tonumber(ARGV[5])
local G = tonumber(ARGV[6])
local weighted = ARGV[7] == '1'
local TTL = { tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]) }
local GROUPS = 10
local IDS = GROUPS + G
local CODES = IDS + n
local WEIGHTS = CODES + n
local INC = weighted and WEIGHTS + n or WEIGHTS
local GROUP = '^(%S+) (%S+) (%S+)$'
local INCREMENT = '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$'

-- bucket index → placement → ad → {d, i, c, i2, is}
local deltas = {}
local function slot(b, pl, ad)
  local pls = deltas[b]
  if not pls then pls = {}; deltas[b] = pls end
  local ads = pls[pl]
  if not ads then ads = {}; pls[pl] = ads end
  local v = ads[ad]
  if not v then v = {0, 0, 0, 0, 0}; ads[ad] = v end
  return v
end

local out = {}
if n > 0 then
  -- group number → {d, i, c, i2, is} of the events counted now
  local byGroup = {}
  for from = 1, n, CHUNK do
    local to = math.min(n, from + CHUNK - 1)
    local scores = redis.call('ZMSCORE', KEYS[1], unpack(ARGV, IDS + from, IDS + to))
    local marks = {}
    for k = from, to do
      local stored = scores[k - from + 1]
      if stored and tonumber(stored) > now then
        out[k] = 0
      else
        out[k] = 1
        local code = tonumber(ARGV[CODES + k])
        local metric = code % 4
        local g = (code - metric) / 4
        marks[#marks + 1] = now + TTL[metric]
        marks[#marks + 1] = ARGV[IDS + k]
        local w = 1
        if weighted then w = tonumber(ARGV[WEIGHTS + k]) end
        local v = byGroup[g]
        if not v then v = {0, 0, 0, 0, 0}; byGroup[g] = v end
        v[metric] = v[metric] + w
        if metric == 2 then
          v[4] = v[4] + w * w
          v[5] = v[5] + 1
        end
      end
    end
    if #marks > 0 then redis.call('ZADD', KEYS[1], unpack(marks)) end
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  redis.call('PEXPIRE', KEYS[1], maxTtl + 60000)
  for g, v in pairs(byGroup) do
    local b, pl, ad = string.match(ARGV[GROUPS + g], GROUP)
    local s = slot(tonumber(b), pl, ad)
    for j = 1, 5 do s[j] = s[j] + v[j] end
  end
end

for k = 1, m do
  local p = { string.match(ARGV[INC + k], INCREMENT) }
  local v = slot(tonumber(p[1]), p[2], p[3])
  for j = 1, 5 do v[j] = v[j] + tonumber(p[3 + j]) end
end

local function num(x)
  if x == math.floor(x) and x > -9007199254740992 and x < 9007199254740992 then
    return string.format('%d', x)
  end
  return string.format('%.17g', x)
end

for b, pls in pairs(deltas) do
  local key = KEYS[1 + b]
  local names = {}
  for pl in pairs(pls) do names[#names + 1] = pl end
  for from = 1, #names, CHUNK do
    local chunk = {}
    for k = from, math.min(#names, from + CHUNK - 1) do chunk[#chunk + 1] = names[k] end
    local stored = redis.call('HMGET', key, unpack(chunk))
    local fields = {}
    for k, pl in ipairs(chunk) do
      local ads = pls[pl]
      if stored[k] then
        for ad, d, i, c, i2, is in string.gmatch(stored[k], '([^ ;]+) ([^ ;]+) ([^ ;]+) ([^ ;]+) ([^ ;]+) ([^ ;]+)') do
          local v = ads[ad]
          if not v then v = {0, 0, 0, 0, 0}; ads[ad] = v end
          v[1] = v[1] + tonumber(d)
          v[2] = v[2] + tonumber(i)
          v[3] = v[3] + tonumber(c)
          v[4] = v[4] + tonumber(i2)
          v[5] = v[5] + tonumber(is)
        end
      end
      local parts = {}
      for ad, v in pairs(ads) do
        parts[#parts + 1] = ad .. ' ' .. num(v[1]) .. ' ' .. num(v[2]) .. ' ' .. num(v[3]) .. ' ' .. num(v[4]) .. ' ' .. num(v[5])
      end
      fields[#fields + 1] = pl
      fields[#fields + 1] = table.concat(parts, ';')
    end
    redis.call('HSET', key, unpack(fields))
  end
  redis.call('EXPIRE', key, retention)
end
return out
