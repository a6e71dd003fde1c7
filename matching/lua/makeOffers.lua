--[[
  makeOffers: one offer round, whole, in one atomic step: the advisors' side (a push walks down the
  ranking and holds the first eligible advisor's slot; a broadcast re-checks each of the top
  `count` and holds nothing), the request's side (the offers recorded, status offered), the
  request's deadline at the offers' expiry, and (when asked) the decision's journal entry: all or
  nothing. Candidates the request excludes or already has an open offer for are skipped.

  Checked first: request unknown (NOT_FOUND), not pending or offered (NOT_LIVE), not at the stage
  (STAGE_CHANGED). Nobody eligible: OK with no offers, nothing written.

  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  deadlines                        <prefix>deadlines
  KEYS[3]  journal stream                   <prefix>journal
  KEYS[4]  generation (live-state fence)    <prefix>meta:generation
  Keys the script derives: the candidates' documents, ARGV[8] .. 'adv:{' .. advisorId .. '}' (a
  push holds the first one that fits, so which is written is known only here: one Redis primary,
  not Redis Cluster).
  ARGV[1]  stage index
  ARGV[2]  offer kind: push | broadcast
  ARGV[3]  how many candidates follow ARGV[9] (n)
  ARGV[4]  broadcast: how many offers at most (push makes one)
  ARGV[5]  eligibility context (JSON { now, ttl, wantLang })
  ARGV[6]  now (epoch ms)
  ARGV[7]  the offers' expiry (epoch ms), also the request's new deadline
  ARGV[8]  key prefix
  ARGV[9]  journal context (JSON, see matching/journal/draft.ts), or "" for no journal entry
  ARGV[10 .. 9 + 4n]  the candidates, best first, four arguments each (flat rather than JSON:
           decoding 32 candidates cost about 15 us of every push step):
             advisor id, the offer id it would get,
             the advisor's stored text the caller judged it on, and the snapshot (JSON) it judged
             eligible, or "" and "" (a push always checks; see below)
  Result   {OK, document, offers (JSON OfferState[]), snapshots (JSON, one per offer), journalId or false}
           {NOT_FOUND | NOT_LIVE | STAGE_CHANGED}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done

  A broadcast candidate whose stored text is still the judged one is eligible with the judged
  snapshot, without being decoded or checked again: the same text gives the same verdict (the Lua
  and JS checks agree, tests/matching/store.redis.test.ts), and decoding and checking 20 advisors
  was most of a broadcast's work. Any other is checked here, as a push always is.
]]
--@include codes
--@include fence
--@include json
--@include eligibility
--@include index
--@include advisor
--@include request

if live_state_missing(KEYS[4]) then return { C.REBUILDING } end
local doc, raw = load_request(KEYS[1])
local refusal = refusal_at_stage(doc, tonumber(ARGV[1]))
if refusal then return { refusal } end

local kind = ARGV[2]
local candidate_count = tonumber(ARGV[3])
local wanted = kind == 'push' and 1 or tonumber(ARGV[4])
local ctx = cjson.decode(ARGV[5])
local now = tonumber(ARGV[6])
local expires_at = tonumber(ARGV[7])
local rule = kind == 'push' and 'push' or 'broadcast'

local skip = {}
for i = 1, #doc.excluded do skip[doc.excluded[i]] = true end
for i = 1, #doc.offers do
  if is_offer_open(doc.offers[i]) then skip[doc.offers[i].advisorId] = true end
end

local offers, snapshots = {}, {}
for i = 1, candidate_count do
  if #offers >= wanted then break end
  local at = 6 + 4 * i
  local advisor_id, offer_id, judged_text, judged_snapshot = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  if not skip[advisor_id] then
    skip[advisor_id] = true
    local key = ARGV[8] .. 'adv:{' .. advisor_id .. '}'
    local snapshot_json = nil
    if kind ~= 'push' and judged_text ~= '' and redis.call('GET', key) == judged_text then
      snapshot_json = judged_snapshot
    else
      local advisor = load_advisor(key)
      if advisor then
        local ok, snapshot = check_advisor(advisor, advisor.supply, doc.facts, ctx, rule)
        if ok then
          if kind == 'push' then
            advisor.pushHolds[#advisor.pushHolds + 1] = offer_id
            advisor.snaps['h:' .. offer_id] = snapshot
            -- Holds do not change candidate-index membership (it counts assignments): rev stays.
            save_advisor(key, advisor, false)
          end
          -- A push's snapshot was just written with its hold: its text is reused, not encoded again.
          snapshot_json = snapshot_text(snapshot)
        end
      end
    end
    if snapshot_json then
      offers[#offers + 1] = {
        id = offer_id, requestId = doc.facts.id, advisorId = advisor_id, kind = kind,
        stageIndex = doc.stageIndex, sentAt = now, expiresAt = expires_at, outcome = cjson.null, respondedAt = cjson.null,
      }
      snapshots[#snapshots + 1] = snapshot_json
    end
  end
end
if #offers == 0 then return { C.OK, raw, '[]', '[]', false } end

for i = 1, #offers do doc.offers[#doc.offers + 1] = offers[i] end
doc.status = 'offered'
doc.offersInStage = doc.offersInStage + #offers
doc.updatedAt = now
local new_raw = save_request(KEYS[1], doc, nil)
redis.call('ZADD', KEYS[2], expires_at, doc.facts.id)

local offers_json = offer_list_text(offers)
local snapshots_json = '[' .. table.concat(snapshots, ',') .. ']'
local journal_id = false
if ARGV[9] ~= '' then
  journal_id = redis.call('XADD', KEYS[3], '*', 'r', doc.facts.id, 'k', 'offer', 'd', new_raw, 'o', offers_json, 'g', snapshots_json, 'x', ARGV[9])
end
return { C.OK, new_raw, offers_json, snapshots_json, journal_id }
