-- Canary choice for one backend: a request goes to the alternative backend
-- by header, then cookie, then weight. A header set to "always" or "never"
-- decides (or, when a value or pattern is configured, a match sends it to
-- the canary; a pattern PCRE fails to run sends it to the main backend);
-- a cookie set to "always" or "never" decides; other values fall through.
-- Weight sends weight of total requests at random.
local ngx_re_find = ngx.re.find
local ngx_log, ERR = ngx.log, ngx.ERR

local _M = {}
_M.__index = _M

local function str(v)
  return type(v) == "string" and v ~= "" and v or nil
end

-- validate returns nil or what is wrong with a pushed canary.
function _M.validate(c)
  if type(c) ~= "table" or not str(c.backend) then
    return "canary needs a backend"
  end
  local w, t = c.weight, c.weightTotal
  if type(w) ~= "number" or type(t) ~= "number" or t < 1 or w < 0 or w > t then
    return "canary weight must be from 0 to weightTotal"
  end
  for _, k in ipairs({ "header", "headerValue", "headerPattern", "cookie" }) do
    if c[k] ~= nil and type(c[k]) ~= "string" then
      return "canary " .. k .. " must be a string"
    end
  end
  return nil
end

function _M.new(c)
  local self = setmetatable({
    backend = c.backend,
    weight = c.weight,
    total = c.weightTotal,
    header_value = str(c.headerValue),
    header_pattern = str(c.headerPattern),
  }, _M)
  if str(c.header) then
    self.header_var = "http_" .. c.header:lower():gsub("-", "_")
  end
  if str(c.cookie) then
    self.cookie_var = "cookie_" .. c.cookie
  end
  return self
end

-- use reports whether this request goes to the canary. var defaults to
-- ngx.var and random to math.random (tests pass their own).
function _M:use(var, random)
  var = var or ngx.var
  if self.header_var then
    local v = var[self.header_var]
    if v then
      if self.header_value then
        if v == self.header_value then
          return true
        end
      elseif self.header_pattern then
        local from, _, err = ngx_re_find(v, self.header_pattern, "jo")
        if from then
          return true
        end
        if err then
          -- As ingress-nginx's balancer: no canary, and the cookie and
          -- weight are not asked.
          ngx_log(ERR, "portico: canary header pattern: ", err)
          return false
        end
      elseif v == "always" then
        return true
      elseif v == "never" then
        return false
      end
    end
  end
  if self.cookie_var then
    local v = var[self.cookie_var]
    if v == "always" then
      return true
    elseif v == "never" then
      return false
    end
  end
  if self.weight <= 0 then
    return false
  end
  return (random or math.random)(self.total) <= self.weight
end

return _M
