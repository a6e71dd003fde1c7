--[[
  upsertAdvisor: creates an advisor (presence offline, heartbeatAt 0, the given empty stats, no
  holds) or replaces its profile keeping presence, stats, assignments and holds.
  KEYS[1]  advisor document                 <prefix>adv:{<advisorId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  profile (JSON AdvisorProfile)
  ARGV[2]  profile.languages folded to lower case (JSON string[])
  ARGV[3]  stats for a new advisor (JSON AdvisorStats, EMPTY_STATS)
  ARGV[4]  the candidate lists the profile puts the advisor in (JSON string[], keys.ts candidateKeys)
  Also moves the advisor's candidate index and presence entries (lib/index.lua).
  Result   {OK, newDocument, oldDocument | nil}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include index
--@include advisor

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local doc, old_raw = load_advisor(KEYS[1])
if not doc then
  doc = {
    supply = { presence = 'offline', heartbeatAt = 0, active = 0, pendingPush = 0 },
    stats = cjson.decode(ARGV[3]),
    assignments = {},
    pushHolds = {},
    rev = 0,
  }
  doc.snaps = snaps_view(KEYS[1])
end
doc.profile = cjson.decode(ARGV[1])
doc.langs = cjson.decode(ARGV[2])
local raw = save_advisor(KEYS[1], doc, true, as_array(cjson.decode(ARGV[4])))
return { C.OK, raw, old_raw or false }
