--[[
  setPresence: sets presence and records a heartbeat at `now` (this call is the heartbeat).
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  ARGV[1]  presence: available | away | offline
  ARGV[2]  now (epoch ms)
  Result   {OK, newDocument, oldDocument} | {UNKNOWN_ADVISOR}
]]
--@include codes
--@include json
--@include advisor

local doc, old_raw = load_advisor(KEYS[1])
if not doc then return { C.UNKNOWN_ADVISOR } end
doc.supply.presence = ARGV[1]
doc.supply.heartbeatAt = tonumber(ARGV[2])
local raw = save_advisor(KEYS[1], doc, true)
return { C.OK, raw, old_raw }
