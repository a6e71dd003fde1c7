--[[
  setIncentive: sets the incentive ranking input (Node has already clamped it to 0..1).
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  ARGV[1]  value
  Result   {OK} | {UNKNOWN_ADVISOR}
]]
--@include codes
--@include json
--@include advisor

local doc = load_advisor(KEYS[1])
if not doc then return { C.UNKNOWN_ADVISOR } end
doc.stats.incentive = tonumber(ARGV[1])
save_advisor(KEYS[1], doc, false)
return { C.OK }
