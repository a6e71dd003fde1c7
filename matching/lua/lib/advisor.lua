--[[
  Shared library (not an operation): one advisor's document, KEYS[1] of every advisor script.

  Requires: json, eligibility, index.

  Saving also moves the advisor's entries in the candidate index and the presence sets
  (lib/index.lua), in the same script.

  The document is AdvisorState plus fields Node strips on the way out:
    rev   bumped by every write that can change candidate-index membership or score
    langs profile.languages folded to lower case by Node (toLowerCase)
    pl    the length of the profile's text, which the document's text starts with (encode_advisor)

  Snapshots: the eligibility snapshot each hold ('h:' .. offerId) and assignment ('a:' .. requestId)
  was granted with, so a retried call answers with the original snapshot, lives in the hash
  <advisor key>:snaps (field -> JSON snapshot), not in the document: every decision re-encodes the
  document, and the snapshots were most of it. doc.snaps is a view of that hash: a read is one HGET,
  writes are kept and then written by save_advisor (HSET, or HDEL for nil).
]]

-- The pending writes of each snapshot view, by view.
local SNAP_WRITES = {}
-- The text each snapshot was written with (flush_snaps), by snapshot: a script that also answers
-- it (makeOffers' push) uses it rather than encoding the snapshot a second time.
local SNAP_TEXT = {}

local function snaps_view(key)
  local writes = {}
  local view = setmetatable({}, {
    __index = function(_, field)
      local written = writes[field]
      if written ~= nil then return written or nil end
      local raw = redis.call('HGET', key .. ':snaps', field)
      if not raw then return nil end
      return cjson.decode(raw)
    end,
    -- The view stays empty, so every assignment comes here; false records a removal.
    __newindex = function(_, field, value)
      if value == nil then writes[field] = false else writes[field] = value end
    end,
  })
  SNAP_WRITES[view] = writes
  return view
end

local function flush_snaps(key, view)
  local writes = view and SNAP_WRITES[view]
  if not writes then return end
  for field, value in pairs(writes) do
    if value then
      local text = json_encode(value)
      SNAP_TEXT[value] = text
      redis.call('HSET', key .. ':snaps', field, text)
    else
      redis.call('HDEL', key .. ':snaps', field)
    end
    writes[field] = nil
  end
end

-- A snapshot's JSON: the text it was written with when this script wrote it, else encoded now.
local function snapshot_text(snapshot)
  return SNAP_TEXT[snapshot] or json_encode(snapshot)
end

--[[
  The profile's text. A profile changes only when upsertAdvisor replaces it, yet encoding the whole
  document was about 30 us of each of a decision's three advisor writes, most of it the profile. So
  the document's text starts with the profile, and "pl" (anywhere in the rest) gives its length:
  '{"profile":<text>,...,"pl":<#text>,...}'. A write reuses the text the profile was read with,
  cut out by that length, and encodes only the rest. Reuse is by table: upsertAdvisor's new profile
  is a new table, which is encoded, and no script changes a profile in place. A text without pl
  (restoreAdvisor's) is encoded in full on its next write. Node strips pl (decode.ts).
  The same for a request's facts was tried and dropped: redisWork's grabs rose 2.4% (the copies of
  a 20-offer text cost more than encoding the facts), decisions did not move.
]]
-- Per profile table: the text it was read from and its length there, then (once a write has cut
-- it out) the text itself. Cut lazily: most loads are never written back (a broadcast re-checks 20
-- advisors and writes none).
local PROFILE_RAW, PROFILE_LENGTH, PROFILE_TEXT = {}, {}, {}

local function profile_text(profile)
  local text = PROFILE_TEXT[profile]
  if text then return text end
  local raw, length = PROFILE_RAW[profile], PROFILE_LENGTH[profile]
  text = raw and cut_head(raw, 'profile', length) or json_encode(profile)
  PROFILE_TEXT[profile] = text
  return text
end

-- The document's text, profile first (doc.snaps already taken off).
local function encode_advisor(doc)
  return encode_with_head(doc, 'profile', 'pl', profile_text(doc.profile))
end

local function load_advisor(key)
  local raw = redis.call('GET', key)
  if not raw then
    INDEX_BEFORE[key] = INDEX_ABSENT
    return nil, nil
  end
  local doc = cjson.decode(raw)
  -- Before the arrays are normalised below: a profile they would change is encoded afresh.
  if type(doc.pl) == 'number' and type(doc.profile.languages) == 'table' and type(doc.profile.licences) == 'table' then
    PROFILE_RAW[doc.profile] = raw
    PROFILE_LENGTH[doc.profile] = doc.pl
  end
  doc.assignments = as_array(doc.assignments)
  doc.pushHolds = as_array(doc.pushHolds)
  doc.profile.languages = as_array(doc.profile.languages)
  doc.profile.licences = as_array(doc.profile.licences)
  -- A document from before the snapshots moved out may still carry them: the hash is the truth.
  doc.snaps = snaps_view(key)
  if type(doc.langs) ~= 'table' then
    doc.langs = {}
    for i = 1, #doc.profile.languages do doc.langs[i] = string.lower(tostring(doc.profile.languages[i])) end
  end
  INDEX_BEFORE[key] = index_view(doc)
  return doc, raw
end

-- Keeps supply.active / pendingPush equal to the list lengths (the AdvisorState invariant), and the
-- index entries in step (new_keys: a new profile's candidate lists, see apply_index).
local function save_advisor(key, doc, bump_rev, new_keys)
  if bump_rev then doc.rev = (tonumber(doc.rev) or 0) + 1 end
  doc.supply.active = #doc.assignments
  doc.supply.pendingPush = #doc.pushHolds
  local snaps = doc.snaps
  doc.snaps = nil
  local raw = encode_advisor(doc)
  doc.snaps = snaps
  redis.call('SET', key, raw)
  flush_snaps(key, snaps)
  apply_index(key, doc.profile.id, doc, new_keys)
  return raw
end

local function copy_supply(supply)
  return { presence = supply.presence, heartbeatAt = supply.heartbeatAt, active = supply.active, pendingPush = supply.pendingPush }
end

-- Eligibility of this advisor for `request`; ctx carries now, ttl and wantLang (see eligibility.lua).
local function check_advisor(doc, supply, request, ctx, rule)
  ctx.langs = doc.langs
  return eligibility(doc.profile, supply, request, ctx, rule, false)
end

-- A repeated grant (a hold or an assignment the advisor already has) answers DUPLICATE with the
-- snapshot it was granted with; after a restore, which keeps no snapshots, it is re-checked as if
-- its own slot (`freed`: "pendingPush" or "active") were free.
local function repeat_grant(doc, raw, snapshot_key, freed, request, ctx, rule)
  local original = doc.snaps[snapshot_key]
  if type(original) == 'table' then return { C.DUPLICATE, raw, json_encode(original) } end
  local supply = copy_supply(doc.supply)
  supply[freed] = supply[freed] - 1
  local ok, snapshot, detail = check_advisor(doc, supply, request, ctx, rule)
  if not ok then return { C[snapshot], detail } end
  return { C.DUPLICATE, raw, json_encode(snapshot) }
end

-- Drops a grant, a push hold ('pushHolds', snapshot 'h:') or an assignment ('assignments', 'a:'),
-- with its snapshot (false when the document had none); the caller saves.
local function drop_grant(doc, list, snap_prefix, id)
  if not contains(doc[list], id) then return false end
  doc[list] = without(doc[list], id)
  doc.snaps[snap_prefix .. id] = nil
  return true
end

local function drop_hold(doc, offer_id) return drop_grant(doc, 'pushHolds', 'h:', offer_id) end
local function drop_assignment(doc, request_id) return drop_grant(doc, 'assignments', 'a:', request_id) end
