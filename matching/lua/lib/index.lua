--[[
  Shared library (not an operation): an advisor's entries in the global sorted sets, kept exact by
  the same script that changes the advisor, so they never lag and Node keeps nothing in step.

  Requires: nothing (included before lib/advisor.lua, whose load_advisor and save_advisor call it).

  The sets (matching/store/redis/keys.ts):
    candidate index  <prefix>idx:{...}:s<scope>, score stats.lastAssignedAt, while the advisor is
                     indexable: profile active, presence available, assignments < maxConcurrent
                     (candidateMembership.ts, isIndexable). Which lists the profile puts the advisor
                     in is Node's rule (keys.ts, candidateKeys): upsertAdvisor and restoreAdvisor
                     store them in <prefix>adv:{<id>}:ix, a set, and every other script reads it
                     only when membership or score changes.
    heartbeats       <prefix>heartbeats, score supply.heartbeatAt, while presence is not offline
    available        <prefix>available, same score, while presence is available

  Keys derived rather than declared (the store runs on one Redis primary: README, scale-out): the
  ix set shares the advisor's hash tag; the prefix is the advisor key minus 'adv:{<id>}'.
]]

local INDEX_ABSENT = { on = false, score = 0, presence = 'offline', hb = 0 }

-- What the sets hold for this document (INDEX_ABSENT for no document). Mirrors candidateEntries
-- and presenceEntries (keys.ts): a non-number score counts as 0.
local function index_view(doc)
  if not doc then return INDEX_ABSENT end
  local max = doc.profile.maxConcurrent
  local on = doc.profile.status == 'active' and doc.supply.presence == 'available'
    and type(max) == 'number' and #doc.assignments < max
  local score = doc.stats.lastAssignedAt
  if type(score) ~= 'number' or score ~= score then score = 0 end
  local hb = doc.supply.heartbeatAt
  if type(hb) ~= 'number' or hb ~= hb then hb = 0 end
  return { on = on, score = score, presence = doc.supply.presence, hb = hb }
end

-- The view each advisor key had when this script loaded it (load_advisor records it).
local INDEX_BEFORE = {}

local function presence_set(key, wanted, was, now, id)
  if wanted and (not was.member or was.hb ~= now.hb) then
    redis.call('ZADD', key, now.hb, id)
  elseif not wanted and was.member then
    redis.call('ZREM', key, id)
  end
end

--[[
  Moves the advisor's entries from `before` to the document's current state. new_keys: the
  candidate lists of a new or replaced profile (upsert, restore), else nil (the stored ix set).
]]
local function apply_index(key, id, doc, new_keys)
  local before = INDEX_BEFORE[key] or INDEX_ABSENT
  local after = index_view(doc)
  INDEX_BEFORE[key] = after
  local ix = key .. ':ix'
  if new_keys then
    if before.on then
      for _, list in ipairs(redis.call('SMEMBERS', ix)) do redis.call('ZREM', list, id) end
    end
    redis.call('DEL', ix)
    if #new_keys > 0 then redis.call('SADD', ix, unpack(new_keys)) end
    if after.on then
      for _, list in ipairs(new_keys) do redis.call('ZADD', list, after.score, id) end
    end
  elseif before.on ~= after.on or (after.on and before.score ~= after.score) then
    for _, list in ipairs(redis.call('SMEMBERS', ix)) do
      if after.on then redis.call('ZADD', list, after.score, id) else redis.call('ZREM', list, id) end
    end
  end
  local prefix = string.sub(key, 1, #key - #('adv:{' .. id .. '}'))
  presence_set(prefix .. 'heartbeats', after.presence ~= 'offline', { member = before.presence ~= 'offline', hb = before.hb }, after, id)
  presence_set(prefix .. 'available', after.presence == 'available', { member = before.presence == 'available', hb = before.hb }, after, id)
end
