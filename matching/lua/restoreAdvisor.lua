--[[
  restoreAdvisor: writes an advisor exactly as given (rebuild from the system of record). Counters
  are not recomputed; stored snapshots start empty. The candidate index and presence entries move
  to the restored state (lib/index.lua).
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  ARGV[1]  state (JSON AdvisorState)
  ARGV[2]  profile.languages folded to lower case (JSON string[])
  ARGV[3]  the candidate lists the profile puts the advisor in (JSON string[], keys.ts candidateKeys)
  Result   {OK, newDocument, oldDocument | nil}
]]
--@include codes
--@include json
--@include eligibility
--@include index
--@include advisor

local old, old_raw = load_advisor(KEYS[1])
local old_rev = 0
if old then old_rev = tonumber(old.rev) or 0 end
local doc = cjson.decode(ARGV[1])
doc.assignments = as_array(doc.assignments)
doc.pushHolds = as_array(doc.pushHolds)
doc.langs = cjson.decode(ARGV[2])
doc.snaps = nil
doc.rev = old_rev + 1
redis.call('DEL', KEYS[1] .. ':snaps')
local raw = json_encode(doc)
redis.call('SET', KEYS[1], raw)
apply_index(KEYS[1], doc.profile.id, doc, as_array(cjson.decode(ARGV[3])))
return { C.OK, raw, old_raw or false }
