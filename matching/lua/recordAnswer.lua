--[[
  recordAnswer: folds one offer answer into the responsiveness EWMAs, the same maths as
  updateResponsiveness (matching/domain/ranking.ts): the first observation sets an EWMA directly,
  later ones blend with weight alpha; latency is learned from accepts only, clamped at 0.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  "1" accepted | "0" declined or timed out
  ARGV[2]  latency ms (ignored unless accepted)
  ARGV[3]  alpha, in (0, 1]
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
local accepted = ARGV[1] == '1'
local alpha = tonumber(ARGV[3])

local function ewma(previous, observed)
  if is_null(previous) then return observed end
  return previous + alpha * (observed - previous)
end

doc.stats.acceptEwma = ewma(doc.stats.acceptEwma, accepted and 1 or 0)
if accepted then
  doc.stats.latencyEwmaMs = ewma(doc.stats.latencyEwmaMs, math.max(0, tonumber(ARGV[2])))
end
save_advisor(KEYS[1], doc, false)
return { C.OK }
