--[[
  claimOffer: the request's half of an accept; the first claim wins. Checked in order: offer
  unknown (NOT_FOUND), not the advisor's (NOT_YOURS), the winner asking again while assigned
  (DUPLICATE, no effect), assigned to someone else or this offer lost_race (ALREADY_TAKEN),
  request terminal (NOT_LIVE), offer closed otherwise (OFFER_CLOSED), expiresAt <= now
  (OFFER_EXPIRED). On success the offer is accepted, the request assigned and out of the queue,
  every other open offer closed at now: broadcast ones lost_race, push ones withdrawn, all of them
  returned as superseded, in offer order (the caller tells their advisors and frees push holds).
  The request leaves the queue set in the same step.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  Key the script derives: the request's lost offers, KEYS[1] .. ':lost' (lib/request.lua).
  ARGV[1]  offer id
  ARGV[2]  advisor id
  ARGV[3]  now (epoch ms)
  Result   {OK | DUPLICATE, document, offer, superseded (JSON OfferState[])}
           {NOT_FOUND | NOT_YOURS | ALREADY_TAKEN | NOT_LIVE | OFFER_CLOSED | OFFER_EXPIRED}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include request

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local doc, raw = load_request(KEYS[1])
if not doc then return { C.NOT_FOUND } end
local offer = find_offer(doc, ARGV[1])
if not offer then return { C.NOT_FOUND } end
local advisor_id = ARGV[2]
local now = tonumber(ARGV[3])
if offer.advisorId ~= advisor_id then return { C.NOT_YOURS } end

if doc.status == 'assigned' and doc.assignedAdvisorId == advisor_id and offer.outcome == 'accepted' then
  return { C.DUPLICATE, raw, json_encode(offer), '[]' }
end
if (doc.status == 'assigned' and doc.assignedAdvisorId ~= advisor_id) or offer.outcome == 'lost_race' then
  return { C.ALREADY_TAKEN }
end
if is_terminal(doc.status) then return { C.NOT_LIVE } end
if not is_offer_open(offer) then return { C.OFFER_CLOSED } end
if offer.expiresAt <= now then return { C.OFFER_EXPIRED } end

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
sync_request_sets(KEYS[1], doc)
return { C.OK, new_raw, offer_text(offer), offer_list_text(superseded) }
