--[[
  Shared library (not an operation): exact JSON encoding and list helpers.
  Included by the operation scripts through a `--@include json` line, which scripts.ts replaces
  with this file before SCRIPT LOAD, so each loaded script stays self-contained.

  Why not cjson.encode: Redis's cjson keeps 14 significant digits (encode_number_precision is
  capped at 14), so 9007199254740991 would come back as 9.007199254741e+15 and an EWMA would drift
  from updateResponsiveness after one round trip. We still decode with cjson (strtod is exact) and
  encode here with the shortest representation that reads back to the same double.

  Empty tables: cjson cannot tell [] from {}. Our documents never contain an empty object, so an
  empty table is written as []. Node still normalises arrays on decode (a `{}` becomes []), and
  scripts read every array through as_array().
]]

local function json_number(n)
  if n ~= n or n == math.huge or n == -math.huge then return 'null' end
  if n == math.floor(n) and n > -1e15 and n < 1e15 then return string.format('%d', n) end
  for precision = 15, 17 do
    local text = string.format('%.' .. precision .. 'g', n)
    if tonumber(text) == n then return text end
  end
  return string.format('%.17g', n)
end

local function is_sequence(t)
  local count = 0
  for key in pairs(t) do
    if type(key) ~= 'number' then return false end
    count = count + 1
  end
  return count == #t
end

local json_encode
json_encode = function(value)
  local kind = type(value)
  if kind == 'nil' or value == cjson.null then return 'null' end
  if kind == 'boolean' then return value and 'true' or 'false' end
  if kind == 'number' then return json_number(value) end
  if kind == 'string' then return cjson.encode(value) end
  if kind == 'table' then
    local parts = {}
    if is_sequence(value) then
      for i = 1, #value do parts[i] = json_encode(value[i]) end
      return '[' .. table.concat(parts, ',') .. ']'
    end
    for key, item in pairs(value) do
      parts[#parts + 1] = cjson.encode(tostring(key)) .. ':' .. json_encode(item)
    end
    return '{' .. table.concat(parts, ',') .. '}'
  end
  error('json_encode: cannot encode a ' .. kind)
end

local function is_null(value)
  return value == nil or value == cjson.null
end

-- An array field as decoded by cjson: a table (possibly decoded from `{}`), never nil or null.
local function as_array(value)
  if type(value) ~= 'table' then return {} end
  return value
end

local function contains(list, value)
  for i = 1, #list do
    if list[i] == value then return true end
  end
  return false
end

local function without(list, value)
  local out = {}
  for i = 1, #list do
    if list[i] ~= value then out[#out + 1] = list[i] end
  end
  return out
end
