--[[
  renewLease: extends a named lease, only while the caller's token still holds it.
  KEYS[1]  lease key                        <prefix>lease:{<name>}
  ARGV[1]  token
  ARGV[2]  ttl in ms
  Result   {OK} | {NOT_YOURS}   (NOT_YOURS: expired, released, or held by another token)
]]
--@include codes

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { C.NOT_YOURS } end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return { C.OK }
