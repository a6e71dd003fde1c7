--[[
  releaseLease: deletes a named lease, only while the caller's token still holds it, so a holder
  whose lease expired cannot release its successor's.
  KEYS[1]  lease key                        <prefix>lease:{<name>}
  ARGV[1]  token
  Result   {OK} | {NOT_YOURS}
]]
--@include codes

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { C.NOT_YOURS } end
redis.call('DEL', KEYS[1])
return { C.OK }
