--[[
  closeOffer: closes one open offer as declined, timed_out or withdrawn. Checked in order: offer
  unknown (NOT_FOUND), advisor given and not theirs (NOT_YOURS), already closed (ALREADY_CLOSED,
  with the offer), timed_out before expiresAt (NOT_DUE, with the offer). declined and timed_out
  exclude the advisor from this request. An offered request with no open offer left becomes pending.
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  offer id
  ARGV[2]  outcome: declined | timed_out | withdrawn
  ARGV[3]  now (epoch ms)
  ARGV[4]  advisor id (JSON string, or null for "any")
  Result   {OK, document, offer}
           {ALREADY_CLOSED | NOT_DUE, offer}
           {NOT_FOUND | NOT_YOURS}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence
--@include json
--@include request

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
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
return { C.OK, raw, offer_text(offer) }
