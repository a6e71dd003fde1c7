--[[
  endRequest: a request's end, whole, in one atomic step: completed (from assigned), cancelled
  (from pending, offered or assigned) or expired (from pending or offered). Open offers are
  withdrawn and their push holds given back, the assignee's slot is freed (completed, cancelled),
  the request leaves the deadlines, the queue and the live set, its key gets the retention TTL,
  and (when asked) the decision's journal entry is appended: all or nothing.

  Checked in order: unknown (NOT_FOUND); an assignee given and the request not assigned to them
  (NOT_YOURS); the same end again (DUPLICATE, no effect); another state (INVALID_STATE, status).

  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  deadlines                        <prefix>deadlines
  KEYS[3]  queue                            <prefix>queue
  KEYS[4]  live requests                    <prefix>live
  KEYS[5]  journal stream                   <prefix>journal
  KEYS[6]  generation (live-state fence)    <prefix>meta:generation
  Keys the script derives: the documents of the withdrawn push offers' advisors and of the
  assignee, ARGV[5] .. 'adv:{' .. advisorId .. '}' (known only from the request document: this is
  why the store runs on one Redis primary, not Redis Cluster).
  ARGV[1]  to: completed | cancelled | expired
  ARGV[2]  now (epoch ms)
  ARGV[3]  callbackRequested (JSON true, false or null for "not given")
  ARGV[4]  retention of the terminal request, seconds
  ARGV[5]  key prefix
  ARGV[6]  assignee the request must be assigned to, or "" for any
  ARGV[7]  journal context (JSON, see matching/journal/draft.ts), or "" for no journal entry
  Result   {OK, document, withdrawn (JSON OfferState[]), journalId or false,
            assigneeOldDocument or false, assigneeNewDocument or false, freedHolderDocument...}
           {DUPLICATE, document}
           {NOT_FOUND} | {NOT_YOURS} | {INVALID_STATE, status}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include eligibility
--@include index
--@include advisor
--@include request

if live_state_missing(KEYS[6]) then return { C.REBUILDING } end
local FINISH_FROM = {
  completed = { assigned = true },
  cancelled = { pending = true, offered = true, assigned = true },
  expired = { pending = true, offered = true },
}

local doc, raw = load_request(KEYS[1])
if not doc then return { C.NOT_FOUND } end
local to = ARGV[1]
local now = tonumber(ARGV[2])
if ARGV[6] ~= '' and doc.assignedAdvisorId ~= ARGV[6] then return { C.NOT_YOURS } end
if doc.status == to then return { C.DUPLICATE, raw } end
if not (FINISH_FROM[to] and FINISH_FROM[to][doc.status]) then return { C.INVALID_STATE, tostring(doc.status) } end

local request_id = doc.facts.id
local holding = doc.status == 'assigned' and doc.assignedAdvisorId or nil
local withdrawn = {}
for i = 1, #doc.offers do
  local offer = doc.offers[i]
  if is_offer_open(offer) then
    offer.outcome = 'withdrawn'
    offer.respondedAt = now
    withdrawn[#withdrawn + 1] = offer
  end
end
doc.status = to
doc.queueScore = cjson.null
local callback = cjson.decode(ARGV[3])
if not is_null(callback) then doc.callbackRequested = callback end
doc.updatedAt = now
local new_raw = save_request(KEYS[1], doc, tonumber(ARGV[4]))
redis.call('ZREM', KEYS[2], request_id)
redis.call('ZREM', KEYS[3], request_id)
redis.call('SREM', KEYS[4], request_id)

local advisor_key = function(advisor_id) return ARGV[5] .. 'adv:{' .. advisor_id .. '}' end

-- The assignee's slot (changes index membership: rev bumps, Node re-syncs the index).
local assignee_old, assignee_new = false, false
if holding then
  local key = advisor_key(holding)
  local advisor, advisor_raw = load_advisor(key)
  if advisor and drop_assignment(advisor, request_id) then
    assignee_old = advisor_raw
    assignee_new = save_advisor(key, advisor, true)
  end
end

-- The withdrawn push offers' holds (holds do not change index membership: no rev bump).
local freed = {}
for i = 1, #withdrawn do
  local offer = withdrawn[i]
  if offer.kind == 'push' then
    local key = advisor_key(offer.advisorId)
    local holder = load_advisor(key)
    if holder and drop_hold(holder, offer.id) then freed[#freed + 1] = save_advisor(key, holder, false) end
  end
end

local withdrawn_json = offer_list_text(withdrawn)
local journal_id = false
if ARGV[7] ~= '' then
  journal_id = redis.call('XADD', KEYS[5], '*', 'r', request_id, 'k', 'end', 'd', new_raw, 'w', withdrawn_json, 'x', ARGV[7])
end
local result = { C.OK, new_raw, withdrawn_json, journal_id, assignee_old, assignee_new }
for i = 1, #freed do result[#result + 1] = freed[i] end
return result
