--[[
  journalAck: acknowledges persisted entries and deletes them, in one step: were XACK and XDEL
  separate, a lost reply between them would leave an entry that is acknowledged (never given out
  again) but still in the stream, counted as lag for good. Idempotent: a repeat deletes nothing.
  KEYS[1]  the journal stream               <prefix>journal
  ARGV[1]  the consumer group
  ARGV[2..] entry ids
  Result   {OK, how many entries were deleted}
]]
--@include codes

local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
return { C.OK, redis.call('XDEL', KEYS[1], unpack(ids)) }
