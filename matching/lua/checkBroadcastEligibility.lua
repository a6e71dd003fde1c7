--[[
  checkBroadcastEligibility: checks eligibility for a grab broadcast (capacity rule "broadcast":
  active < maxConcurrent; no EXCLUDED). Holds nothing, writes nothing.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  ARGV[1]  request (JSON RequestFacts)
  ARGV[2]  context (JSON { now, ttl, wantLang })
  Result   {OK, document, snapshot}
           {UNKNOWN_ADVISOR}
           {STATUS | PRESENCE | CAPACITY | LICENCE | SUITABILITY | LANGUAGE, detail}
]]
--@include codes
--@include json
--@include eligibility
--@include index
--@include advisor

local doc, raw = load_advisor(KEYS[1])
if not doc then return { C.UNKNOWN_ADVISOR } end
local ok, snapshot, detail = check_advisor(doc, doc.supply, cjson.decode(ARGV[1]), cjson.decode(ARGV[2]), 'broadcast')
if not ok then return { C[snapshot], detail } end
return { C.OK, raw, json_encode(snapshot) }
