--[[
  createRequest: registers a new live request (pending, the given stage, no offers). Idempotent on
  the request id: an existing request (live or retained terminal) is returned unchanged.
  A new request joins the live set with its first deadline in the same step.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  deadlines                        <prefix>deadlines
  KEYS[3]  live requests                    <prefix>live
  KEYS[4]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  facts (JSON RequestFacts)
  ARGV[2]  stage index
  ARGV[3]  now (epoch ms)
  ARGV[4]  first deadline (epoch ms)
  Result   {OK, document} created | {DUPLICATE, document} already there
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include request

if live_state_missing(KEYS[4]) then return { C.REBUILDING } end
local existing = redis.call('GET', KEYS[1])
if existing then return { C.DUPLICATE, existing } end
local now = tonumber(ARGV[3])
local doc = {
  facts = cjson.decode(ARGV[1]),
  status = 'pending',
  stageIndex = tonumber(ARGV[2]),
  stageStartedAt = now,
  offersInStage = 0,
  assignedAdvisorId = cjson.null,
  excluded = {},
  offers = {},
  queueScore = cjson.null,
  callbackRequested = false,
  updatedAt = now,
  rev = 0,
}
local raw = save_request(KEYS[1], doc, nil)
redis.call('ZADD', KEYS[2], tonumber(ARGV[4]), doc.facts.id)
redis.call('SADD', KEYS[3], doc.facts.id)
return { C.OK, raw }
