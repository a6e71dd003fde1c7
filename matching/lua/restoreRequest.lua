--[[
  restoreRequest: writes a request exactly as given (rebuild). A terminal request gets the
  retention TTL, a live one none. Its deadline, queue and live-set membership are set in the same
  step (keys derived from KEYS[1], lib/request.lua sync_request_sets).
  KEYS[1]  request document                 <prefix>req:{<requestId>}
  ARGV[1]  request (JSON LiveRequest)
  ARGV[2]  retention of a terminal request, seconds
  ARGV[3]  deadline (epoch ms), or "" for none
  Result   {OK, document}
]]
--@include codes
--@include json
--@include request

local old_raw = redis.call('GET', KEYS[1])
local doc = cjson.decode(ARGV[1])
redis.call('DEL', lost_offers_key(KEYS[1]))
-- Never go back in revision (the record keeps the highest it applied): the higher of the given and
-- the stored one (save_request bumps it, hence the - 1).
local given = tonumber(doc.rev) or 0
local stored = 0
if old_raw then stored = tonumber(cjson.decode(old_raw).rev) or 0 end
doc.rev = math.max(given, stored) - 1
local raw
if is_terminal(doc.status) then
  raw = save_request(KEYS[1], doc, tonumber(ARGV[2]))
else
  raw = save_request(KEYS[1], doc, nil)
  redis.call('PERSIST', KEYS[1])
end
sync_request_sets(KEYS[1], doc)
local deadlines = request_prefix(KEYS[1], doc.facts.id) .. 'deadlines'
if ARGV[3] == '' then
  redis.call('ZREM', deadlines, doc.facts.id)
else
  redis.call('ZADD', deadlines, tonumber(ARGV[3]), doc.facts.id)
end
return { C.OK, raw }
