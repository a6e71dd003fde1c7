--[[
  releaseAssignment: drops a request from the advisor's assignments, freeing its slot. Idempotent.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  ARGV[1]  request id
  Result   {OK, newDocument, oldDocument} (the same document twice when nothing changed)
           {UNKNOWN_ADVISOR}
]]
--@include codes
--@include json
--@include advisor

local doc, raw = load_advisor(KEYS[1])
if not doc then return { C.UNKNOWN_ADVISOR } end
if not contains(doc.assignments, ARGV[1]) then return { C.OK, raw, raw } end
doc.assignments = without(doc.assignments, ARGV[1])
doc.snaps['a:' .. ARGV[1]] = nil
local new_raw = save_advisor(KEYS[1], doc, true)
return { C.OK, new_raw, raw }
