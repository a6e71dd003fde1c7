--[[
  recordRating: adds one rating to the advisor's rating sum and count.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  ARGV[1]  stars
  Result   {OK} | {UNKNOWN_ADVISOR}
]]
--@include codes
--@include json
--@include advisor

local doc = load_advisor(KEYS[1])
if not doc then return { C.UNKNOWN_ADVISOR } end
doc.stats.ratingSum = doc.stats.ratingSum + tonumber(ARGV[1])
doc.stats.ratingCount = doc.stats.ratingCount + 1
save_advisor(KEYS[1], doc, false)
return { C.OK }
