--[[
  Shared library (not an operation): the live-state fence.

  The generation key (<prefix>meta:generation, passed as the script's last KEYS entry) exists while
  the live state is whole: a rebuild from the system of record sets it, and a Redis that lost its
  data has lost it too. A script that writes advisor or request state (or leases deadlines) first
  checks it, in the same atomic step, and answers REBUILDING without touching anything when it is
  missing; Node turns that into LiveStateUnavailableError (codes.ts). So nothing recreates an
  advisor with no assignments, or decides on a request missing its accepted offer, while the state
  is gone, and a rebuild never overwrites a decision taken after it read the record.

  Requires: codes.
]]

local function live_state_missing(generation_key)
  return redis.call('EXISTS', generation_key) == 0
end
