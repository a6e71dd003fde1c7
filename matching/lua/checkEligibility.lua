--[[
  checkEligibility: evaluates the Lua eligibility rules on facts passed in, touching no key. Used
  to prove the Lua mirror equals checkEligibility (tests) and for diagnostics; the capacity
  operations run the same library code on the stored advisor.
  KEYS     none
  ARGV[1]  JSON { profile, supply, request, now, ttl, wantLang, langs, rule, excluded }
  Result   {OK, snapshot}
           {EXCLUDED | STATUS | PRESENCE | CAPACITY | LICENCE | SUITABILITY | LANGUAGE, detail}
]]
--@include codes
--@include json
--@include eligibility

local input = cjson.decode(ARGV[1])
local ctx = { now = input.now, ttl = input.ttl, wantLang = input.wantLang, langs = input.langs }
local ok, snapshot, detail = eligibility(input.profile, input.supply, input.request, ctx, input.rule, input.excluded == true)
if not ok then return { C[snapshot], detail } end
return { C.OK, json_encode(snapshot) }
