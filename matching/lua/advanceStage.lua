--[[
  advanceStage: compare-and-set move between funnel stages. Checked in order: request unknown
  (NOT_FOUND), not pending/offered (NOT_LIVE), not at fromStageIndex (STAGE_CHANGED), an offer
  still open (OFFERS_OPEN). offersInStage resets, stageStartedAt = now, queueScore as given (a
  number puts the request in the queue, null takes it out). Node then syncs the queue set.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  from stage index
  ARGV[2]  to stage index
  ARGV[3]  now (epoch ms)
  ARGV[4]  queue score (JSON number or null)
  Result   {OK, document} | {NOT_FOUND | NOT_LIVE | STAGE_CHANGED | OFFERS_OPEN}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include request

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local doc = load_request(KEYS[1])
if not doc then return { C.NOT_FOUND } end
if not is_open(doc.status) then return { C.NOT_LIVE } end
if doc.stageIndex ~= tonumber(ARGV[1]) then return { C.STAGE_CHANGED } end
for i = 1, #doc.offers do
  if is_offer_open(doc.offers[i]) then return { C.OFFERS_OPEN } end
end
local now = tonumber(ARGV[3])
doc.stageIndex = tonumber(ARGV[2])
doc.stageStartedAt = now
doc.offersInStage = 0
doc.queueScore = cjson.decode(ARGV[4])
doc.updatedAt = now
return { C.OK, save_request(KEYS[1], doc, nil) }
