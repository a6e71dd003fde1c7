--[[
  recordRating: adds one rating to the advisor's rating sum and count.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  stars
  Result   {OK} | {UNKNOWN_ADVISOR}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include index
--@include advisor

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local doc = load_advisor(KEYS[1])
if not doc then return { C.UNKNOWN_ADVISOR } end
doc.stats.ratingSum = doc.stats.ratingSum + tonumber(ARGV[1])
doc.stats.ratingCount = doc.stats.ratingCount + 1
save_advisor(KEYS[1], doc, false)
return { C.OK }
