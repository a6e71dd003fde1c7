--[[
  resolveOffer: closes one open offer as declined, timed_out or withdrawn, whole, in one atomic
  step: closeOffer's checks and effect on the request, the push hold given back, a decline or a
  timeout folded into the advisor's responsiveness (as updateResponsiveness, not accepted), the
  request's deadline set when asked (a decline moves the funnel on now), and (when asked) the
  decision's journal entry appended: all or nothing.

  Checked in order: offer unknown (NOT_FOUND), an advisor given and not theirs (NOT_YOURS), closed
  already (ALREADY_CLOSED, with the offer), timed_out before expiresAt (NOT_DUE, with the offer).

  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  deadlines                        <prefix>deadlines
  KEYS[3]  journal stream                   <prefix>journal
  KEYS[4]  generation (live-state fence)    <prefix>meta:generation
  Keys the script derives: the offer's advisor's document, ARGV[6] .. 'adv:{' .. advisorId .. '}'
  (known only from the request document: one Redis primary, not Redis Cluster).
  ARGV[1]  offer id
  ARGV[2]  outcome: declined | timed_out | withdrawn
  ARGV[3]  now (epoch ms)
  ARGV[4]  advisor id the offer must be for (JSON string), or JSON null for any
  ARGV[5]  responsiveness alpha, in (0, 1]
  ARGV[6]  key prefix
  ARGV[7]  the request's new deadline (epoch ms), or "" to leave it
  ARGV[8]  journal context (JSON, see matching/journal/draft.ts), or "" for no journal entry
  Result   {OK, document, offer, journalId or false}
           {NOT_FOUND} | {NOT_YOURS}
           {ALREADY_CLOSED | NOT_DUE, offer}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include eligibility
--@include index
--@include advisor
--@include request

if live_state_missing(KEYS[4]) then return { C.REBUILDING } end
local doc = load_request(KEYS[1])
if not doc then return { C.NOT_FOUND } end
local offer = find_offer(doc, ARGV[1])
if not offer then return { C.NOT_FOUND } end
local outcome = ARGV[2]
local now = tonumber(ARGV[3])
local advisor_id = cjson.decode(ARGV[4])
if not is_null(advisor_id) and offer.advisorId ~= advisor_id then return { C.NOT_YOURS } end
if not is_offer_open(offer) then return { C.ALREADY_CLOSED, json_encode(offer) } end
if outcome == 'timed_out' and offer.expiresAt > now then return { C.NOT_DUE, json_encode(offer) } end

close_offer(doc, offer, outcome, now)
local raw = save_request(KEYS[1], doc, nil)
if ARGV[7] ~= '' then redis.call('ZADD', KEYS[2], tonumber(ARGV[7]), doc.facts.id) end

-- The advisor: the hold back, the answer folded in (holds do not change index membership).
local key = ARGV[6] .. 'adv:{' .. offer.advisorId .. '}'
local advisor = load_advisor(key)
if advisor then
  local changed = offer.kind == 'push' and drop_hold(advisor, offer.id)
  if outcome ~= 'withdrawn' then
    local alpha = tonumber(ARGV[5])
    local previous = advisor.stats.acceptEwma
    if is_null(previous) then advisor.stats.acceptEwma = 0 else advisor.stats.acceptEwma = previous + alpha * (0 - previous) end
    changed = true
  end
  if changed then save_advisor(key, advisor, false) end
end

local offer_json = offer_text(offer)
local journal_id = false
if ARGV[8] ~= '' then
  journal_id = redis.call('XADD', KEYS[3], '*', 'r', doc.facts.id, 'k', 'close', 'd', raw, 'o', offer_json, 'x', ARGV[8])
end
return { C.OK, raw, offer_json, journal_id }
