--[[
  setPresence: sets presence and records a heartbeat at `now` (this call is the heartbeat). With
  ARGV[3] = "1" (a presence reported earlier, re-applied after a rebuild) it changes nothing unless
  the stored heartbeat is older than `now`, answering DUPLICATE with the document as stored.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  presence: available | away | offline
  ARGV[2]  now (epoch ms)
  ARGV[3]  "1": only if newer than the stored heartbeat | "0": always
  Result   {OK, newDocument, oldDocument} | {DUPLICATE, document, document} | {UNKNOWN_ADVISOR}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include index
--@include advisor

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local doc, old_raw = load_advisor(KEYS[1])
if not doc then return { C.UNKNOWN_ADVISOR } end
if ARGV[3] == '1' and not ((tonumber(doc.supply.heartbeatAt) or 0) < tonumber(ARGV[2])) then
  return { C.DUPLICATE, old_raw, old_raw }
end
doc.supply.presence = ARGV[1]
doc.supply.heartbeatAt = tonumber(ARGV[2])
local raw = save_advisor(KEYS[1], doc, true)
return { C.OK, raw, old_raw }
