--[[
  releaseAssignment: drops a request from the advisor's assignments, freeing its slot. Idempotent.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  request id
  Result   {OK, newDocument, oldDocument} (the same document twice when nothing changed)
           {UNKNOWN_ADVISOR}
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
if not contains(doc.assignments, ARGV[1]) then return { C.OK, raw, raw } end
doc.assignments = without(doc.assignments, ARGV[1])
doc.snaps['a:' .. ARGV[1]] = nil
local new_raw = save_advisor(KEYS[1], doc, true)
return { C.OK, new_raw, raw }
