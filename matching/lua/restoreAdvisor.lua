--[[
  restoreAdvisor: writes an advisor exactly as given (rebuild from the system of record). Counters
  are not recomputed; stored snapshots start empty.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  ARGV[1]  state (JSON AdvisorState)
  ARGV[2]  profile.languages folded to lower case (JSON string[])
  Result   {OK, newDocument, oldDocument | nil}
]]
--@include codes
--@include json

local old_raw = redis.call('GET', KEYS[1])
local old_rev = 0
if old_raw then old_rev = tonumber(cjson.decode(old_raw).rev) or 0 end
local doc = cjson.decode(ARGV[1])
doc.langs = cjson.decode(ARGV[2])
doc.snaps = {}
doc.rev = old_rev + 1
local raw = json_encode(doc)
redis.call('SET', KEYS[1], raw)
return { C.OK, raw, old_raw or false }
