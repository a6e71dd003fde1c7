--[[
  takeAssignment: the advisor's half of an accept. Checks eligibility and takes a capacity slot
  for the request in one step. When the offer is one of the advisor's push holds the hold converts
  into the assignment (capacity rule "accept"); otherwise holds keep their slots (rule "push").
  Sets stats.lastAssignedAt = now. Idempotent: a request already assigned answers DUPLICATE with
  the snapshot it was granted with (after a restore, re-checked as if its own slot were free).
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  request (JSON RequestFacts)
  ARGV[2]  context (JSON { now, ttl, wantLang })
  ARGV[3]  offer id
  Result   {OK, newDocument, snapshot, oldDocument}
           {DUPLICATE, document, snapshot}
           {UNKNOWN_ADVISOR}
           {STATUS | PRESENCE | CAPACITY | LICENCE | SUITABILITY | LANGUAGE, detail}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include eligibility
--@include index
--@include advisor

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local doc, raw = load_advisor(KEYS[1])
if not doc then return { C.UNKNOWN_ADVISOR } end
local request = cjson.decode(ARGV[1])
local ctx = cjson.decode(ARGV[2])
local offer_id = ARGV[3]
local request_id = request.id

if contains(doc.assignments, request_id) then
  return repeat_grant(doc, raw, 'a:' .. request_id, 'active', request, ctx, 'accept')
end

local converts_hold = contains(doc.pushHolds, offer_id)
local ok, snapshot, detail = check_advisor(doc, doc.supply, request, ctx, converts_hold and 'accept' or 'push')
if not ok then return { C[snapshot], detail } end

if converts_hold then
  doc.pushHolds = without(doc.pushHolds, offer_id)
  doc.snaps['h:' .. offer_id] = nil
end
doc.assignments[#doc.assignments + 1] = request_id
doc.stats.lastAssignedAt = ctx.now
doc.snaps['a:' .. request_id] = snapshot
local new_raw = save_advisor(KEYS[1], doc, true)
return { C.OK, new_raw, json_encode(snapshot), raw }
