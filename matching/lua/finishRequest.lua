--[[
  finishRequest: ends a request. completed from assigned; cancelled from pending, offered or
  assigned; expired from pending or offered. Open offers are withdrawn at now and returned; the
  queue score clears; callbackRequested is set when given. The key is kept with a TTL so late
  answers still get a precise reason. The same end again is DUPLICATE (no effect); any other
  state is INVALID_STATE with the status. The request leaves the live set, the queue and the
  deadlines in the same step.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  to: completed | cancelled | expired
  ARGV[2]  now (epoch ms)
  ARGV[3]  callbackRequested (JSON true, false or null for "not given")
  ARGV[4]  retention of the terminal request, seconds
  Result   {OK | DUPLICATE, document, withdrawn (JSON OfferState[])}
           {INVALID_STATE, status}
           {NOT_FOUND}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include request

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local FINISH_FROM = {
  completed = { assigned = true },
  cancelled = { pending = true, offered = true, assigned = true },
  expired = { pending = true, offered = true },
}

local doc, raw = load_request(KEYS[1])
if not doc then return { C.NOT_FOUND } end
local to = ARGV[1]
local now = tonumber(ARGV[2])
if doc.status == to then return { C.DUPLICATE, raw, '[]' } end
if not (FINISH_FROM[to] and FINISH_FROM[to][doc.status]) then return { C.INVALID_STATE, tostring(doc.status) } end

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
sync_request_sets(KEYS[1], doc)
return { C.OK, new_raw, offer_list_text(withdrawn) }
