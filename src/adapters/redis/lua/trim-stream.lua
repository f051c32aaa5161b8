--[[
  trim-stream: drops the entries of an event stream that no consumer group needs any more.

  Input:
    KEYS[1]  the stream `<prefix>:{st:<stream>}`

  Output:
    number of entries removed, or -1 when the stream has no consumer group (then nothing is
    removed: whoever subscribes next starts at `$` anyway, but a group being created right now
    by another process must not lose what follows it)

  A group needs its oldest pending entry (delivered, not acknowledged) and everything after its
  last-delivered id. The floor is the smallest of these over all groups; XTRIM MINID ~ removes
  whole radix-tree nodes below it (cheap, and it keeps a group's `lag` valid, unlike XDEL).
  Atomic, so no group can move between reading the positions and trimming.
]]
local stream = KEYS[1]
if redis.call('EXISTS', stream) == 0 then
  return 0
end
local groups = redis.call('XINFO', 'GROUPS', stream)
if #groups == 0 then
  return -1
end

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

local floor, floorMs, floorSeq
for _, g in ipairs(groups) do
  -- Each group is a flat list: name, <name>, consumers, <n>, pending, <n>, last-delivered-id, <id>, ...
  local info = {}
  for i = 1, #g, 2 do
    info[g[i]] = g[i + 1]
  end
  local need = info['last-delivered-id']
  if info['pending'] > 0 then
    need = redis.call('XPENDING', stream, info['name'])[2]
  end
  local ms, seq = parse(need)
  if floor == nil or ms < floorMs or (ms == floorMs and seq < floorSeq) then
    floor, floorMs, floorSeq = need, ms, seq
  end
end
return redis.call('XTRIM', stream, 'MINID', '~', floor)
