--[[
  advanceStage: compare-and-set move between funnel stages. Checked in order: request unknown
  (NOT_FOUND), not pending/offered (NOT_LIVE), not at fromStageIndex (STAGE_CHANGED), an offer
  still open (OFFERS_OPEN). offersInStage resets, stageStartedAt = now, queueScore as given (a
  number puts the request in the queue, null takes it out), in the queue set in the same step,
  with (when asked) the decision's journal entry.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  queue                            <prefix>queue
  KEYS[3]  journal stream                   <prefix>journal
  KEYS[4]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  from stage index
  ARGV[2]  to stage index
  ARGV[3]  now (epoch ms)
  ARGV[4]  queue score (JSON number or null)
  ARGV[5]  journal context (JSON, see matching/journal/draft.ts), or "" for no journal entry
  Result   {OK, document, journalId or false} | {NOT_FOUND | NOT_LIVE | STAGE_CHANGED | OFFERS_OPEN}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include request

if live_state_missing(KEYS[4]) then return { C.REBUILDING } end
local doc = load_request(KEYS[1])
local refusal = refusal_at_stage(doc, tonumber(ARGV[1]))
if refusal then return { refusal } end
for i = 1, #doc.offers do
  if is_offer_open(doc.offers[i]) then return { C.OFFERS_OPEN } end
end
local now = tonumber(ARGV[3])
doc.stageIndex = tonumber(ARGV[2])
doc.stageStartedAt = now
doc.offersInStage = 0
doc.queueScore = cjson.decode(ARGV[4])
doc.updatedAt = now
local raw = save_request(KEYS[1], doc, nil)
if is_null(doc.queueScore) then
  redis.call('ZREM', KEYS[2], doc.facts.id)
else
  redis.call('ZADD', KEYS[2], doc.queueScore, doc.facts.id)
end
local journal_id = false
if ARGV[5] ~= '' then
  journal_id = redis.call('XADD', KEYS[3], '*', 'r', doc.facts.id, 'k', 'advance', 'd', raw, 'x', ARGV[5])
end
return { C.OK, raw, journal_id }
