--[[
  Shared library (not an operation): one request's document, KEYS[1] of every request script.

  Requires: codes, json.

  The document is LiveRequest plus `rev`, bumped by every write (the record and the reconciler
  compare it).
  A terminal request keeps its key with a TTL (ARGV retention seconds); later writes keep that TTL.

  Beside it, <request key>:lost, a hash: offer id -> advisor id of each offer that lost a grab's
  race (acceptOffer and claimOffer add them as they close them). lost_race is final and offers are
  never removed from the document, so acceptOffer answers those advisors from the hash alone while
  the document exists. It expires with the document, and restoreRequest deletes it: a document
  written from the record is the truth, whatever the hash said.
]]

local function load_request(key)
  local raw = redis.call('GET', key)
  if not raw then return nil, nil end
  local doc = cjson.decode(raw)
  doc.excluded = as_array(doc.excluded)
  doc.offers = as_array(doc.offers)
  return doc, raw
end

local function is_open(status) return status == 'pending' or status == 'offered' end
local function is_terminal(status) return status == 'completed' or status == 'cancelled' or status == 'expired' end
local function is_offer_open(offer) return is_null(offer.outcome) end

-- Why a step on the request at `stage_index` cannot run (a code), or nil when it can: unknown,
-- no longer pending or offered, or moved to another stage since the caller read it.
local function refusal_at_stage(doc, stage_index)
  if not doc then return C.NOT_FOUND end
  if not is_open(doc.status) then return C.NOT_LIVE end
  if doc.stageIndex ~= stage_index then return C.STAGE_CHANGED end
  return nil
end

local function find_offer(doc, offer_id)
  for i = 1, #doc.offers do
    if doc.offers[i].id == offer_id then return doc.offers[i] end
  end
  return nil
end

local function lost_offers_key(key) return key .. ':lost' end

-- Adds the broadcast offers among `closed` (lost_race) to the request's lost offers.
local function record_lost_offers(key, closed)
  local fields = {}
  for i = 1, #closed do
    if closed[i].outcome == 'lost_race' then
      fields[#fields + 1] = closed[i].id
      fields[#fields + 1] = closed[i].advisorId
    end
  end
  if #fields > 0 then redis.call('HSET', lost_offers_key(key), unpack(fields)) end
end

-- ttl_seconds: set a fresh TTL (terminal); nil: keep whatever TTL the key has.
local function save_request(key, doc, ttl_seconds)
  doc.rev = (tonumber(doc.rev) or 0) + 1
  local raw = json_encode(doc)
  if ttl_seconds then
    redis.call('SET', key, raw, 'EX', ttl_seconds)
    redis.call('EXPIRE', lost_offers_key(key), ttl_seconds)
  else
    redis.call('SET', key, raw, 'KEEPTTL')
  end
  return raw
end

-- Closes an open offer (declined, timed_out or withdrawn) on the document: a decline or a timeout
-- excludes its advisor for good; the request falls back to pending when no offer is left open.
local function close_offer(doc, offer, outcome, now)
  offer.outcome = outcome
  offer.respondedAt = now
  if outcome ~= 'withdrawn' and not contains(doc.excluded, offer.advisorId) then
    doc.excluded[#doc.excluded + 1] = offer.advisorId
  end
  if doc.status == 'offered' then
    local any_open = false
    for i = 1, #doc.offers do
      if is_offer_open(doc.offers[i]) then any_open = true; break end
    end
    if not any_open then doc.status = 'pending' end
  end
  doc.updatedAt = now
end

-- The request's membership of the global queue and live set, from its document (the single-entity
-- scripts; the action scripts write those keys themselves). The keys are derived from KEYS[1]:
-- the prefix is the request key minus 'req:{<id>}' (one Redis primary: README, scale-out).
local function request_prefix(key, id)
  return string.sub(key, 1, #key - #('req:{' .. id .. '}'))
end

local function sync_request_sets(key, doc)
  local id = doc.facts.id
  local prefix = request_prefix(key, id)
  if is_open(doc.status) and type(doc.queueScore) == 'number' then
    redis.call('ZADD', prefix .. 'queue', doc.queueScore, id)
  else
    redis.call('ZREM', prefix .. 'queue', id)
  end
  if is_terminal(doc.status) then
    redis.call('SREM', prefix .. 'live', id)
    redis.call('ZREM', prefix .. 'deadlines', id)
  else
    redis.call('SADD', prefix .. 'live', id)
  end
end
