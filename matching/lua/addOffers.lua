--[[
  addOffers: records open offers, all or nothing. Checked in order: request unknown (NOT_FOUND),
  not pending/offered (NOT_LIVE), not at the stage (STAGE_CHANGED), an offer to an excluded advisor
  (EXCLUDED), an offer to an advisor with an open offer or with an offer id already used, also
  within the batch (ALREADY_OFFERED). An empty batch changes nothing. Otherwise status becomes
  offered and offersInStage grows by the batch size.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  stage index
  ARGV[2]  offers (JSON OfferState[]; stored open: outcome and respondedAt null)
  ARGV[3]  now (epoch ms)
  Result   {OK, document} | {NOT_FOUND | NOT_LIVE | STAGE_CHANGED | EXCLUDED | ALREADY_OFFERED}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include request

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local doc, raw = load_request(KEYS[1])
local refusal = refusal_at_stage(doc, tonumber(ARGV[1]))
if refusal then return { refusal } end

local offers = as_array(cjson.decode(ARGV[2]))
local excluded = {}
for i = 1, #doc.excluded do excluded[doc.excluded[i]] = true end
for i = 1, #offers do
  if excluded[offers[i].advisorId] then return { C.EXCLUDED } end
end

local open_advisors, offer_ids = {}, {}
for i = 1, #doc.offers do
  local offer = doc.offers[i]
  offer_ids[offer.id] = true
  if is_offer_open(offer) then open_advisors[offer.advisorId] = true end
end
for i = 1, #offers do
  local offer = offers[i]
  if open_advisors[offer.advisorId] or offer_ids[offer.id] then return { C.ALREADY_OFFERED } end
  open_advisors[offer.advisorId] = true
  offer_ids[offer.id] = true
end

if #offers == 0 then return { C.OK, raw } end

local request_id = doc.facts.id
for i = 1, #offers do
  local offer = offers[i]
  offer.requestId = request_id
  offer.outcome = cjson.null
  offer.respondedAt = cjson.null
  doc.offers[#doc.offers + 1] = offer
end
doc.status = 'offered'
doc.offersInStage = doc.offersInStage + #offers
doc.updatedAt = tonumber(ARGV[3])
return { C.OK, save_request(KEYS[1], doc, nil) }
