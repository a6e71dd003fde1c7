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

  Speed: building the text in Lua cost about 32 us for an advisor document, most of a decision's
  Redis time. json_encode below lets cjson (C) build it, after marking in place only the values
  cjson would get wrong: numbers that need more than 14 significant digits (or are not finite) and
  empty tables. Each becomes a string "\1<exact text>\1" that one gsub turns back into the bare
  value, then the marks are undone. About 13 us for the same document. A string of the data that
  could pass for a mark makes the count of replacements differ, and then the text is built in Lua
  as before (json_encode_walk), so the output is exact either way.
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

local json_encode_walk
json_encode_walk = function(value)
  local kind = type(value)
  if kind == 'nil' or value == cjson.null then return 'null' end
  if kind == 'boolean' then return value and 'true' or 'false' end
  if kind == 'number' then return json_number(value) end
  if kind == 'string' then return cjson.encode(value) end
  if kind == 'table' then
    local parts = {}
    if is_sequence(value) then
      for i = 1, #value do parts[i] = json_encode_walk(value[i]) end
      return '[' .. table.concat(parts, ',') .. ']'
    end
    for key, item in pairs(value) do
      parts[#parts + 1] = cjson.encode(tostring(key)) .. ':' .. json_encode_walk(item)
    end
    return '{' .. table.concat(parts, ',') .. '}'
  end
  error('json_encode: cannot encode a ' .. kind)
end

local EXACT_MARK = '\1'
local floor = math.floor

-- Marks, in place, what cjson would encode wrongly; `saved` gets (table, key, original) triples.
local function exact_marks(saved, t)
  for key, v in pairs(t) do
    local kind = type(v)
    local marked = nil
    if kind == 'number' then
      -- Integers below 1e14 have at most 14 digits: cjson writes them exactly.
      if not (v == floor(v) and v > -1e14 and v < 1e14) then marked = json_number(v) end
    elseif kind == 'table' then
      if next(v) == nil then marked = '[]' else exact_marks(saved, v) end
    end
    if marked then
      local n = #saved
      saved[n + 1] = t; saved[n + 2] = key; saved[n + 3] = v
      t[key] = EXACT_MARK .. marked .. EXACT_MARK
    end
  end
end

-- The text with each mark ("\u0001<exact text>\u0001", as cjson escapes the mark character)
-- replaced by its bare value, or nil when the text holds anything else that looks like part of a
-- mark (a string of the data with that character in it): the walk decides then. Plain finds of the
-- escape, whose backslash is rare in our documents, not a gsub: a pattern starting at '"' is tried
-- at every quote of the text, which cost 40 us on a request document with 20 offers.
local MARK_ESCAPE = '\\u0001'
local QUOTE = string.byte('"')
local function unmark(text, marks)
  local parts, from, found = {}, 1, 0
  while true do
    local open = string.find(text, MARK_ESCAPE, from, true)
    if not open then break end
    local inner_from = open + #MARK_ESCAPE
    local close = string.find(text, MARK_ESCAPE, inner_from, true)
    if not close or string.byte(text, open - 1) ~= QUOTE or string.byte(text, close + #MARK_ESCAPE) ~= QUOTE then return nil end
    local inner = string.sub(text, inner_from, close - 1)
    if string.find(inner, '["\\]') then return nil end
    found = found + 1
    parts[#parts + 1] = string.sub(text, from, open - 2)
    parts[#parts + 1] = inner
    from = close + #MARK_ESCAPE + 1
  end
  if found ~= marks then return nil end
  parts[#parts + 1] = string.sub(text, from)
  return table.concat(parts)
end

local function json_encode(value)
  if type(value) ~= 'table' or next(value) == nil then return json_encode_walk(value) end
  local saved = {}
  exact_marks(saved, value)
  local ok, text = pcall(cjson.encode, value)
  for i = #saved - 2, 1, -3 do saved[i][saved[i + 1]] = saved[i + 2] end
  -- cjson refuses what it cannot represent (a sparse array, say): the walk decides instead.
  if not ok then return json_encode_walk(value) end
  local marks = #saved / 3
  if marks == 0 then return text end
  return unmark(text, marks) or json_encode_walk(value)
end

--[[
  A document whose first field is written as text it already has (an advisor's profile, a
  request's offers: lib/advisor.lua, lib/request.lua), so that a write reuses what it did not change.
  The text is '{"<field>":<text>,...}' with the text's length in `length_field`, anywhere in the rest;
  a load cuts it out again by that length.
]]
local HEAD_COMMA = string.byte(',')

local function encode_with_head(doc, field, length_field, text)
  local head = doc[field]
  doc[field] = nil
  doc[length_field] = #text
  local ok, rest = pcall(json_encode, doc)
  doc[field] = head
  if not ok then error(rest) end
  return '{"' .. field .. '":' .. text .. ',' .. string.sub(rest, 2)
end

-- The head's text in `raw` when raw was written by encode_with_head with this length, else nil.
local function cut_head(raw, field, length)
  local opening = '{"' .. field .. '":'
  if string.sub(raw, 1, #opening) ~= opening or string.byte(raw, #opening + length + 1) ~= HEAD_COMMA then return nil end
  return string.sub(raw, #opening + 1, #opening + length)
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
