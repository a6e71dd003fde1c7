--[[
  setDeadlineIf: moves the request's deadline only while its document is at the given revision. A
  funnel pass ends by saying when the request is next due; if anything changed the request since
  the pass last read it (another pass, woken meanwhile, made an offer and set the deadline to its
  expiry), that writer owns the deadline and this late one must not push it out.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  deadlines                        <prefix>deadlines
  ARGV[1]  deadline (epoch ms)
  ARGV[2]  the revision the caller last read
  Result   {OK} moved | {STAGE_CHANGED} the revision moved on, nothing written | {NOT_FOUND}
]]
--@include codes
--@include json
--@include request

local doc = load_request(KEYS[1])
if not doc then return { C.NOT_FOUND } end
if tonumber(doc.rev) ~= tonumber(ARGV[2]) then return { C.STAGE_CHANGED } end
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]), doc.facts.id)
return { C.OK }
