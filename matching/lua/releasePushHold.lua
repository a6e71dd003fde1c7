--[[
  releasePushHold: drops the push hold for an offer, freeing its slot. Idempotent.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  offer id
  Result   {OK, document} | {UNKNOWN_ADVISOR}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include index
--@include advisor

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local doc, raw = load_advisor(KEYS[1])
if not doc then return { C.UNKNOWN_ADVISOR } end
if not contains(doc.pushHolds, ARGV[1]) then return { C.OK, raw } end
doc.pushHolds = without(doc.pushHolds, ARGV[1])
doc.snaps['h:' .. ARGV[1]] = nil
-- Holds do not change candidate-index membership, so rev stays.
return { C.OK, save_advisor(KEYS[1], doc, false) }
