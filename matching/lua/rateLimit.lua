--[[
  rateLimit: counts one call in a fixed window (the window opens at the first call and lasts
  windowMs); the caller compares the count with its limit. INCR and PEXPIRE are one step, so a
  counter can never be left without its expiry (which would block a principal for good).
  KEYS[1]  counter                          <prefix>rl:{<action>:<principal>}
  ARGV[1]  window in ms
  Result   {OK, count, pttl}   count includes this call; pttl is the ms until the window closes
]]
--@include codes

local count = redis.call('INCR', KEYS[1])
local pttl = redis.call('PTTL', KEYS[1])
-- First call of a window, or a counter that lost its expiry (e.g. a PERSIST by hand): start the window now.
if count == 1 or pttl < 0 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
  pttl = tonumber(ARGV[1])
end
return { C.OK, count, pttl }
