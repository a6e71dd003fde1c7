--[[
  journalTake: a persister's next batch, in one round trip: this consumer's own unacknowledged
  entries first (a batch that failed is retried, in order), else entries another consumer has held
  longer than the idle time (it died: they are claimed for this one), else new entries.
  KEYS[1]  the journal stream               <prefix>journal
  ARGV[1]  the consumer group
  ARGV[2]  this consumer's name
  ARGV[3]  how many entries at most
  ARGV[4]  idle time (ms) after which another consumer's entries are taken over
  Result   {OK, entries}: entries as XREADGROUP gives them, {{id, {field, value, ...}}, ...}, or
           an empty list. A missing group is an error naming NOGROUP (the stream was lost).
]]
--@include codes

local stream, group, consumer, count = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local function read(from)
  local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, from)
  if not reply or not reply[1] then return {} end
  return reply[1][2]
end

local mine = read('0')
if #mine > 0 then return { C.OK, mine } end
local claimed = redis.call('XAUTOCLAIM', stream, group, consumer, ARGV[4], '0-0', 'COUNT', count)
if claimed[2] and #claimed[2] > 0 then return { C.OK, claimed[2] } end
return { C.OK, read('>') }
