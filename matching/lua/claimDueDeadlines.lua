--[[
  claimDueDeadlines: leases up to `limit` requests whose deadline is <= now, earliest first (ties
  by id): each one's deadline moves to now + leaseMs in the same step, so concurrent sweepers never
  get the same id within a lease, and a sweeper that dies leaves it to fire again after the lease.
  KEYS[1]  deadline sorted set              <prefix>deadlines  (member request id, score epoch ms)
  KEYS[2]  generation (live-state fence)    <prefix>meta:generation
  ARGV[1]  now (epoch ms)
  ARGV[2]  lease until = now + leaseMs (computed by Node)
  ARGV[3]  limit (> 0)
  Result   {OK, requestId...}
           {REBUILDING}  the generation key is missing (lib/fence.lua): nothing was done
]]
--@include codes
--@include fence

if live_state_missing(KEYS[2]) then return { C.REBUILDING } end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local result = { C.OK }
for i = 1, #due do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], due[i])
  result[#result + 1] = due[i]
end
return result
