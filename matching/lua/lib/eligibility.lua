--[[
  Shared library (not an operation): the Lua mirror of checkEligibility
  (matching/domain/eligibility.ts). Same rules, same order, same detail strings, same snapshot;
  tests/matching/store.redis.test.ts compares the two on generated inputs so they cannot drift.

  Requires: json (is_null, as_array).

  eligibility(profile, supply, request, ctx, rule, excluded)
    profile, supply, request: decoded AdvisorProfile, AdvisorSupply, RequestFacts
    ctx: { now, ttl, wantLang = request.language:toLowerCase() or null,
           langs = profile.languages each :toLowerCase() }
      Case folding is done in Node (String.prototype.toLowerCase is Unicode-aware, Lua's
      string.lower is not), so the comparison is exactly the domain's.
    rule: 'push' | 'broadcast' | 'accept'; excluded: boolean
  returns true, snapshot | false, reason, detail
]]

-- Number::toString: the shortest digits that read back to the same double, JS exponent rules.
local function js_number(n)
  if n ~= n then return 'NaN' end
  if n == math.huge then return 'Infinity' end
  if n == -math.huge then return '-Infinity' end
  if n == 0 then return '0' end
  local sign = ''
  if n < 0 then sign = '-'; n = -n end
  local text
  for precision = 1, 17 do
    text = string.format('%.' .. (precision - 1) .. 'e', n)
    if tonumber(text) == n then break end
  end
  local mantissa, exponent = string.match(text, '^([%d%.]+)e([-+]%d+)$')
  local digits = (string.gsub(mantissa, '%.', ''))
  digits = (string.gsub(digits, '0+$', ''))
  if digits == '' then digits = '0' end
  local k = #digits
  local point = tonumber(exponent) + 1
  local out
  if k <= point and point <= 21 then
    out = digits .. string.rep('0', point - k)
  elseif 0 < point and point <= 21 then
    out = string.sub(digits, 1, point) .. '.' .. string.sub(digits, point + 1)
  elseif -6 < point and point <= 0 then
    out = '0.' .. string.rep('0', -point) .. digits
  else
    local e = point - 1
    local e_text = (e >= 0) and ('+' .. string.format('%d', e)) or string.format('%d', e)
    if k == 1 then
      out = digits .. 'e' .. e_text
    else
      out = string.sub(digits, 1, 1) .. '.' .. string.sub(digits, 2) .. 'e' .. e_text
    end
  end
  return sign .. out
end

-- `${value}` in a JS template literal.
local function js_string(value)
  if is_null(value) then return 'null' end
  local kind = type(value)
  if kind == 'number' then return js_number(value) end
  if kind == 'boolean' then return value and 'true' or 'false' end
  return tostring(value)
end

local function pad(n, width)
  local text = string.format('%d', n)
  return string.rep('0', width - #text) .. text
end

local MS_PER_DAY = 86400000

-- new Date(ms).toISOString() for a valid time value (|ms| <= 8.64e15).
local function iso(ms)
  if ms >= 0 then ms = math.floor(ms) else ms = math.ceil(ms) end
  local days = math.floor(ms / MS_PER_DAY)
  local rem = ms - days * MS_PER_DAY
  if rem < 0 then days = days - 1; rem = rem + MS_PER_DAY end
  if rem >= MS_PER_DAY then days = days + 1; rem = rem - MS_PER_DAY end
  local hours = math.floor(rem / 3600000); rem = rem - hours * 3600000
  local minutes = math.floor(rem / 60000); rem = rem - minutes * 60000
  local seconds = math.floor(rem / 1000); rem = rem - seconds * 1000
  -- civil_from_days (H. Hinnant)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local year = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local day = doy - math.floor((153 * mp + 2) / 5) + 1
  local month = (mp < 10) and (mp + 3) or (mp - 9)
  if month <= 2 then year = year + 1 end
  local year_text
  if year >= 0 and year <= 9999 then
    year_text = pad(year, 4)
  elseif year < 0 then
    year_text = '-' .. pad(-year, 6)
  else
    year_text = '+' .. pad(year, 6)
  end
  return year_text .. '-' .. pad(month, 2) .. '-' .. pad(day, 2) .. 'T' .. pad(hours, 2) .. ':' .. pad(minutes, 2)
    .. ':' .. pad(seconds, 2) .. '.' .. pad(rem, 3) .. 'Z'
end

local function copy_list(list)
  local out = {}
  for i = 1, #list do out[i] = list[i] end
  return out
end

-- findValidLicence: the valid licence of the kind with the latest validUntil (first wins a tie, as
-- the domain's stable sort does), else the closest one of the kind to explain.
local function find_licence(licences, kind, now)
  local valid, closest = nil, nil
  for i = 1, #licences do
    local licence = licences[i]
    if licence.kind == kind then
      if closest == nil or licence.validUntil > closest.validUntil then closest = licence end
      if licence.status == 'active' and licence.validFrom <= now and now < licence.validUntil then
        if valid == nil or licence.validUntil > valid.validUntil then valid = licence end
      end
    end
  end
  return valid, closest
end

local function describe_invalid_licence(licence, now)
  if licence.status ~= 'active' then return 'licence ' .. js_string(licence.kind) .. ' ' .. js_string(licence.status) end
  if now < licence.validFrom then return 'licence ' .. js_string(licence.kind) .. ' not valid until ' .. iso(licence.validFrom) end
  return 'licence ' .. js_string(licence.kind) .. ' expired ' .. iso(licence.validUntil)
end

local function eligibility(profile, supply, request, ctx, rule, excluded)
  local now = ctx.now
  if excluded then return false, 'EXCLUDED', 'advisor declined or timed out on this request before' end

  if profile.status ~= 'active' then return false, 'STATUS', 'advisor is ' .. js_string(profile.status) end

  if supply.presence ~= 'available' then return false, 'PRESENCE', 'presence ' .. js_string(supply.presence) end
  local age = now - supply.heartbeatAt
  if age >= ctx.ttl then
    return false, 'PRESENCE', 'heartbeat ' .. js_number(age) .. 'ms old, limit ' .. js_number(ctx.ttl) .. 'ms'
  end

  local max = profile.maxConcurrent
  if rule == 'push' then
    if not (supply.active + supply.pendingPush < max) then
      return false, 'CAPACITY', 'active ' .. js_number(supply.active) .. ' + pending push ' .. js_number(supply.pendingPush)
        .. ' at max ' .. js_number(max)
    end
  elseif not (supply.active < max) then
    return false, 'CAPACITY', 'active ' .. js_number(supply.active) .. ' at max ' .. js_number(max)
  end

  local licences = as_array(profile.licences)
  local licence, closest = find_licence(licences, request.requiredLicence, now)
  if licence == nil then
    if closest == nil then return false, 'LICENCE', 'no ' .. js_string(request.requiredLicence) .. ' licence' end
    return false, 'LICENCE', describe_invalid_licence(closest, now)
  end

  if profile.suitabilityMaxRisk < request.riskLevel then
    return false, 'SUITABILITY', 'risk ' .. js_number(request.riskLevel) .. ' above scope ' .. js_number(profile.suitabilityMaxRisk)
  end

  local languages = as_array(profile.languages)
  if not is_null(request.language) then
    local speaks = false
    local folded = as_array(ctx.langs)
    for i = 1, #folded do
      if folded[i] == ctx.wantLang then speaks = true; break end
    end
    if not speaks then
      local shown = {}
      -- Array.prototype.join writes null as an empty string.
      for i = 1, #languages do shown[i] = is_null(languages[i]) and '' or js_string(languages[i]) end
      return false, 'LANGUAGE', 'language ' .. js_string(request.language) .. ' not in [' .. table.concat(shown, ', ') .. ']'
    end
  end

  return true, {
    checkedAt = now,
    licence = {
      id = licence.id, kind = licence.kind, number = licence.number, issuer = licence.issuer,
      validFrom = licence.validFrom, validUntil = licence.validUntil,
    },
    suitability = { advisorMaxRisk = profile.suitabilityMaxRisk, clientRisk = request.riskLevel },
    language = { requested = is_null(request.language) and cjson.null or request.language, advisor = copy_list(languages) },
    presence = supply.presence,
    active = supply.active,
    pendingPush = supply.pendingPush,
    maxConcurrent = max,
  }
end
