--[[
  reopenRequest: takes an assigned request back from its advisor (the advisor left the firm) and
  puts it back in the funnel. Only while it is assigned to exactly that advisor: anything else is
  NOT_YOURS, so a repeat, or a request completed meanwhile, changes nothing. It becomes pending at
  stage 0 (stageStartedAt = now, offersInStage 0, out of the queue) with the advisor excluded from
  it for good; offers keep their history. In the same step: the advisor's slot is freed, the
  request's deadline set (ARGV[3]) so the funnel runs, and (when asked) the journal entry appended.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  deadlines                        <prefix>deadlines
  KEYS[3]  queue                            <prefix>queue
  KEYS[4]  journal stream                   <prefix>journal
  KEYS[5]  generation (live-state fence)    <prefix>meta:generation
  Key the script derives: the advisor's document, ARGV[4] .. 'adv:{' .. advisorId .. '}' (one Redis
  primary, not Redis Cluster).
  ARGV[1]  advisor id
  ARGV[2]  now (epoch ms)
  ARGV[3]  the request's new deadline (epoch ms), or "" to leave it
  ARGV[4]  key prefix
  ARGV[5]  journal context (JSON, see matching/journal/draft.ts), or "" for no journal entry
  Result   {OK, document, journalId or false, advisorOldDocument or false, advisorNewDocument or false}
           {NOT_FOUND | NOT_YOURS}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include eligibility
--@include index
--@include advisor
--@include request

if live_state_missing(KEYS[5]) then return { C.REBUILDING } end
local doc = load_request(KEYS[1])
if not doc then return { C.NOT_FOUND } end
local advisor_id = ARGV[1]
if doc.status ~= 'assigned' or doc.assignedAdvisorId ~= advisor_id then return { C.NOT_YOURS } end
local now = tonumber(ARGV[2])
doc.status = 'pending'
doc.assignedAdvisorId = cjson.null
if not contains(doc.excluded, advisor_id) then doc.excluded[#doc.excluded + 1] = advisor_id end
doc.stageIndex = 0
doc.stageStartedAt = now
doc.offersInStage = 0
doc.queueScore = cjson.null
doc.updatedAt = now
local raw = save_request(KEYS[1], doc, nil)
local request_id = doc.facts.id
redis.call('ZREM', KEYS[3], request_id)
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), request_id) end

-- The advisor's slot (changes index membership: rev bumps, Node re-syncs the index).
local key = ARGV[4] .. 'adv:{' .. advisor_id .. '}'
local advisor, advisor_raw = load_advisor(key)
local old_doc, new_doc = false, false
if advisor and drop_assignment(advisor, request_id) then
  old_doc = advisor_raw
  new_doc = save_advisor(key, advisor, true)
end

local journal_id = false
if ARGV[5] ~= '' then
  journal_id = redis.call('XADD', KEYS[4], '*', 'r', request_id, 'k', 'reopen', 'd', raw, 'x', ARGV[5])
end
return { C.OK, raw, journal_id, old_doc, new_doc }
