--[[
  expirePresence: sets presence offline only if the last heartbeat is still older than the cut-off,
  so a heartbeat that lands between the sweep's lookup and this call keeps the advisor online.
  heartbeatAt is kept: going offline this way is not a heartbeat.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  heartbeatBefore (epoch ms): expire only when heartbeatAt < this
  Result   {OK, newDocument, oldDocument}
         | {DUPLICATE, document, document}  (already offline: nothing changes)
         | {NOT_DUE}                        (heartbeat at or after the cut-off)
         | {UNKNOWN_ADVISOR}
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
if doc.supply.presence == 'offline' then return { C.DUPLICATE, old_raw, old_raw } end
if not ((tonumber(doc.supply.heartbeatAt) or 0) < tonumber(ARGV[1])) then return { C.NOT_DUE } end
doc.supply.presence = 'offline'
local raw = save_advisor(KEYS[1], doc, true)
return { C.OK, raw, old_raw }
