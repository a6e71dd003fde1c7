--[[
  acceptOffer: a whole accept in one atomic step. The request's claim (the first claim wins), the
  advisor's capacity (eligibility re-checked; their own push hold converts into the assignment,
  any other accept must fit beside their holds), the push holds of the superseded offers given
  back, the responsiveness answer folded in, the deadline and the queue left, and (when asked) the
  decision's journal entry appended: all or nothing, so no crash or timeout can leave half of it.

  Checked in order: offer unknown (NOT_FOUND), not the advisor's (NOT_YOURS), the winner asking
  again while assigned (DUPLICATE, no effect), assigned to someone else or this offer lost_race
  (ALREADY_TAKEN), request terminal (NOT_LIVE), offer closed otherwise (OFFER_CLOSED), expiresAt <=
  now (OFFER_EXPIRED); then the advisor (UNKNOWN_ADVISOR, or the eligibility reason).

  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[3]  deadlines                        <prefix>deadlines
  KEYS[4]  queue                            <prefix>queue
  KEYS[5]  journal stream                   <prefix>journal
  KEYS[6]  generation (live-state fence)    <prefix>meta:generation
  Keys the script derives: the documents of the superseded push offers' advisors,
  ARGV[5] .. 'adv:{' .. advisorId .. '}'. Known only once the claim has run, so not declarable in
  advance: this is why the store runs on one Redis primary, not Redis Cluster (README, scale-out).
  And the request's lost offers, KEYS[1] .. ':lost' (lib/request.lua, lost_offers_key): a grab's
  losers are answered from it without the request document being read or the libraries defined.
  ARGV[1]  offer id
  ARGV[2]  advisor id
  ARGV[3]  eligibility context (JSON { now, ttl, wantLang })
  ARGV[4]  responsiveness alpha, in (0, 1]
  ARGV[5]  key prefix
  ARGV[6]  journal context (JSON, see matching/journal/draft.ts), or "" for no journal entry
  Result   {OK, requestDocument, offer, superseded (JSON OfferState[]), advisorDocument,
            oldAdvisorDocument, journalId or false}
           {DUPLICATE, requestDocument, offer, advisorDocument}  (UNKNOWN_ADVISOR if they are gone)
           {NOT_FOUND | NOT_YOURS | ALREADY_TAKEN | NOT_LIVE | OFFER_CLOSED | OFFER_EXPIRED}
           {UNKNOWN_ADVISOR}
           {STATUS | CAPACITY | LICENCE | SUITABILITY | LANGUAGE, detail}
           {PRESENCE, detail, unheard}  unheard is 1 when the advisor's heartbeatAt is 0 (restored
                                         by a rebuild, not heard from since), else 0
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence

if live_state_missing(KEYS[6]) then return { C.REBUILDING } end
-- A grab's losers: an offer that lost the race stays lost while its request exists, and the full
-- path below would answer NOT_YOURS or ALREADY_TAKEN for it, in that order. A decision's K - 1
-- losers each cost a decode of the request (20 offers: about 5 KB) before this.
local lost_to = redis.call('HGET', KEYS[1] .. ':lost', ARGV[1])
if lost_to and redis.call('EXISTS', KEYS[1]) == 1 then
  if lost_to ~= ARGV[2] then return { C.NOT_YOURS } end
  return { C.ALREADY_TAKEN }
end

--@include json
--@include eligibility
--@include index
--@include advisor
--@include request

local doc, raw = load_request(KEYS[1])
if not doc then return { C.NOT_FOUND } end
local offer = find_offer(doc, ARGV[1])
if not offer then return { C.NOT_FOUND } end
local advisor_id = ARGV[2]
local ctx = cjson.decode(ARGV[3])
local now = ctx.now
if offer.advisorId ~= advisor_id then return { C.NOT_YOURS } end

if doc.status == 'assigned' and doc.assignedAdvisorId == advisor_id and offer.outcome == 'accepted' then
  local advisor, advisor_raw = load_advisor(KEYS[2])
  if not advisor then return { C.UNKNOWN_ADVISOR } end
  return { C.DUPLICATE, raw, json_encode(offer), advisor_raw }
end
-- The losers of a grab stop here, before the advisor's document is read.
if (doc.status == 'assigned' and doc.assignedAdvisorId ~= advisor_id) or offer.outcome == 'lost_race' then
  return { C.ALREADY_TAKEN }
end
if is_terminal(doc.status) then return { C.NOT_LIVE } end
if not is_offer_open(offer) then return { C.OFFER_CLOSED } end
if offer.expiresAt <= now then return { C.OFFER_EXPIRED } end

-- The advisor's half: nothing is written unless they may take it.
local advisor, advisor_raw = load_advisor(KEYS[2])
if not advisor then return { C.UNKNOWN_ADVISOR } end
local request_id = doc.facts.id
-- An eligibility refusal; PRESENCE adds whether this read saw the advisor restored and unheard
-- since (heartbeatAt 0), so Node can tell "unknown yet" from "offline" without reading again.
local function refused(reason, detail)
  if reason ~= 'PRESENCE' then return { C[reason], detail } end
  return { C[reason], detail, tonumber(advisor.supply.heartbeatAt) == 0 and 1 or 0 }
end
local converts_hold = contains(advisor.pushHolds, offer.id)
local holds_slot = contains(advisor.assignments, request_id)
local ok, snapshot, detail
if holds_slot then
  -- A slot already taken for this request (as takeAssignment's repeat): granted with its original
  -- snapshot, or re-checked as if that slot were free.
  snapshot = advisor.snaps['a:' .. request_id]
  if type(snapshot) ~= 'table' then
    local supply = copy_supply(advisor.supply)
    supply.active = supply.active - 1
    ok, snapshot, detail = check_advisor(advisor, supply, doc.facts, ctx, 'accept')
    if not ok then return refused(snapshot, detail) end
  end
else
  ok, snapshot, detail = check_advisor(advisor, advisor.supply, doc.facts, ctx, converts_hold and 'accept' or 'push')
  if not ok then return refused(snapshot, detail) end
end

-- The request's half.
offer.outcome = 'accepted'
offer.respondedAt = now
local superseded = {}
for i = 1, #doc.offers do
  local other = doc.offers[i]
  if other ~= offer and is_offer_open(other) then
    other.respondedAt = now
    if other.kind == 'broadcast' then other.outcome = 'lost_race' else other.outcome = 'withdrawn' end
    superseded[#superseded + 1] = other
  end
end
record_lost_offers(KEYS[1], superseded)
doc.status = 'assigned'
doc.assignedAdvisorId = advisor_id
doc.queueScore = cjson.null
doc.updatedAt = now
local new_raw = save_request(KEYS[1], doc, nil)
redis.call('ZREM', KEYS[3], request_id)
redis.call('ZREM', KEYS[4], request_id)

-- The advisor: the slot, the answer (as updateResponsiveness: first observation sets the EWMA).
local alpha = tonumber(ARGV[4])
local function ewma(previous, observed)
  if is_null(previous) then return observed end
  return previous + alpha * (observed - previous)
end
if not holds_slot then drop_hold(advisor, offer.id) end
if not holds_slot then
  advisor.assignments[#advisor.assignments + 1] = request_id
  advisor.stats.lastAssignedAt = now
  advisor.snaps['a:' .. request_id] = snapshot
end
advisor.stats.acceptEwma = ewma(advisor.stats.acceptEwma, 1)
advisor.stats.latencyEwmaMs = ewma(advisor.stats.latencyEwmaMs, math.max(0, now - offer.sentAt))
local new_advisor_raw = save_advisor(KEYS[2], advisor, true)

-- The superseded push offers' slots (holds do not change index membership, so no rev bump).
for i = 1, #superseded do
  local lost = superseded[i]
  if lost.kind == 'push' then
    local key = ARGV[5] .. 'adv:{' .. lost.advisorId .. '}'
    local holder = load_advisor(key)
    if holder and drop_hold(holder, lost.id) then save_advisor(key, holder, false) end
  end
end

local offer_json = offer_text(offer)
local superseded_json = offer_list_text(superseded)
local journal_id = false
if ARGV[6] ~= '' then
  journal_id = redis.call('XADD', KEYS[5], '*', 'r', request_id, 'k', 'accept', 'd', new_raw, 'o', offer_json, 's', superseded_json, 'x', ARGV[6])
end
return { C.OK, new_raw, offer_json, superseded_json, new_advisor_raw, advisor_raw, journal_id }
