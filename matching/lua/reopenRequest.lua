--[[
  reopenRequest: takes an assigned request back from its advisor (the advisor left the firm) and
  puts it back in the funnel. Only while it is assigned to exactly that advisor: anything else is
  NOT_YOURS, so a repeat, or a request completed meanwhile, changes nothing. It becomes pending at
  stage 0 (stageStartedAt = now, offersInStage 0, out of the queue) with the advisor excluded from
  it for good; offers keep their history. Node then releases the advisor's slot, syncs the live set
  and sets the deadline that runs the funnel.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  advisor id
  ARGV[2]  now (epoch ms)
  Result   {OK, document} | {NOT_FOUND | NOT_YOURS}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include request

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local doc = load_request(KEYS[1])
if not doc then return { C.NOT_FOUND } end
local advisor_id = ARGV[1]
if doc.status ~= 'assigned' or doc.assignedAdvisorId ~= advisor_id then return { C.NOT_YOURS } end
local now = tonumber(ARGV[2])
doc.status = 'pending'
doc.assignedAdvisorId = cjson.null
if not contains(doc.excluded, advisor_id) then doc.excluded[#doc.excluded + 1] = advisor_id end
doc.stageIndex = 0
doc.stageStartedAt = now
doc.offersInStage = 0
doc.queueScore = cjson.null
doc.updatedAt = now
return { C.OK, save_request(KEYS[1], doc, nil) }
