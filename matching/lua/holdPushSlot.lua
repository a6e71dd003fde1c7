--[[
  holdPushSlot: checks eligibility for a push offer (capacity rule "push": active + pendingPush <
  maxConcurrent; no EXCLUDED, which is request-side) and holds a slot for the offer, in one step.
  Idempotent: an offer already held answers DUPLICATE with the snapshot it was granted with (after
  a restore, re-checked as if its own slot were free).
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  request (JSON RequestFacts)
  ARGV[2]  context (JSON { now, ttl, wantLang })
  ARGV[3]  offer id
  Result   {OK | DUPLICATE, document, snapshot}
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

if contains(doc.pushHolds, offer_id) then
  return repeat_grant(doc, raw, 'h:' .. offer_id, 'pendingPush', request, ctx, 'push')
end

local ok, snapshot, detail = check_advisor(doc, doc.supply, request, ctx, 'push')
if not ok then return { C[snapshot], detail } end
doc.pushHolds[#doc.pushHolds + 1] = offer_id
doc.snaps['h:' .. offer_id] = snapshot
-- Holds do not change candidate-index membership (it counts assignments), so rev stays.
local new_raw = save_advisor(KEYS[1], doc, false)
return { C.OK, new_raw, json_encode(snapshot) }
