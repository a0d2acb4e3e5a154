-- Cookie session affinity. The cookie is "<key>|<backend>": backend is a
-- short hash of the backend's Service port (settings.backend), so that a
-- canary can tell the clients the main backend pinned from those it
-- pinned itself; key names the endpoint. With mode persistent, key is the
-- MD5 of "address:port": the client keeps its endpoint while it exists,
-- else it gets a new one and a new cookie. With mode balanced, key is
-- random and a consistent-hash ring of the endpoints maps it to one: when
-- the Service scales, some clients move to the new endpoints, as
-- ingress-nginx's balanced mode does.
local chash = require("portico.chash")
local ngx_md5 = ngx.md5
local format, random = string.format, math.random

local _M = {}
_M.__index = _M

function _M.id(ep)
  return ngx_md5(ep.address .. ":" .. ep.port)
end

-- validate returns nil or what is wrong with pushed affinity settings.
function _M.validate(a)
  if type(a) ~= "table" or type(a.cookie) ~= "string" or not a.cookie:match("^[%w_-]+$") then
    return "affinity needs a cookie name of letters, digits, _ and -"
  end
  if a.path ~= nil and (type(a.path) ~= "string" or not a.path:match("^/[%w%-%._~/!&()*+,=:@]*$")) then
    return "affinity cookie path must be absolute"
  end
  for _, k in ipairs({ "maxAge", "expires" }) do
    local v = a[k]
    if v ~= nil and (type(v) ~= "number" or v < 0 or v ~= math.floor(v)) then
      return "affinity " .. k .. " must be a whole number of seconds"
    end
  end
  if a.sameSite ~= nil and a.sameSite ~= "Strict" and a.sameSite ~= "Lax" and a.sameSite ~= "None" then
    return "affinity sameSite must be Strict, Lax or None"
  end
  if a.domain ~= nil and (type(a.domain) ~= "string" or not a.domain:match("^[%w][%w%.%-]*$")) then
    return "affinity domain must be a domain name"
  end
  if a.mode ~= nil and a.mode ~= "balanced" and a.mode ~= "persistent" then
    return "affinity mode must be balanced or persistent"
  end
  if type(a.backend) ~= "string" or a.backend == "" then
    return "affinity needs the backend it pins clients to"
  end
  for _, k in ipairs({ "secure", "changeOnFailure", "conditionalSameSiteNone" }) do
    if a[k] ~= nil and type(a[k]) ~= "boolean" then
      return "affinity " .. k .. " must be a boolean"
    end
  end
  return nil
end

function _M.new(settings, endpoints)
  local self = setmetatable({ settings = settings, var = "cookie_" .. settings.cookie,
    backend_key = ngx_md5(settings.backend):sub(1, 16) }, _M)
  if settings.mode == "persistent" then
    local by_id = {}
    for _, ep in ipairs(endpoints) do
      by_id[_M.id(ep)] = ep
    end
    self.by_id = by_id
  else
    self.ring = chash.new(endpoints)
  end
  return self
end

-- parts returns the key and the backend of the request's cookie (var
-- defaults to ngx.var); nil when it has none.
function _M:parts(var)
  local v = (var or ngx.var)[self.var]
  if not v then
    return nil
  end
  local bar = v:find("|", 1, true)
  if not bar then
    return v, nil
  end
  return v:sub(1, bar - 1), v:sub(bar + 1)
end

-- affinitized reports whether the request's cookie names this backend.
function _M:affinitized(var)
  local _, backend = self:parts(var)
  return backend == self.backend_key
end

-- find returns the endpoint the request's cookie names, if it exists.
function _M:find(var)
  local key = self:parts(var)
  if not key then
    return nil
  end
  if self.ring then
    return self.ring:pick(key, {})
  end
  return self.by_id[key]
end

-- pick returns a new endpoint for the client, not one of tried, and the
-- key its cookie gets: picker's choice (persistent), or the endpoint a
-- new random key maps to (balanced; nil after 20 keys that all map to
-- tried endpoints).
function _M:pick(picker, tried)
  if not self.ring then
    local ep = picker:pick(tried)
    return ep, _M.id(ep)
  end
  for _ = 1, 20 do
    local key = format("%08x%08x", random(0, 0xffffffff), random(0, 0xffffffff))
    local ep = self.ring:pick(key, {})
    if not tried[ep] then
      return ep, key
    end
  end
  return nil
end

-- same_site_none_ok reports whether a browser of user agent ua takes
-- SameSite=None: the clients known to reject it (Chrome 40 to 69) or to
-- read it as Strict (iOS 12, Safari on macOS 10.14) do not.
local function same_site_none_ok(ua)
  if not ua then
    return true
  end
  if ua:find("Chrome/[456]") or ua:find("CPU iPhone OS 12", 1, true) or ua:find("iPad; CPU OS 12", 1, true) then
    return false
  end
  return not (ua:find("Macintosh", 1, true) and ua:find("Intel Mac OS X 10_14", 1, true) and ua:find("Safari", 1, true)
    and not ua:find("Chrome", 1, true))
end
_M.same_site_none_ok = same_site_none_ok

-- cookie returns the Set-Cookie value that pins a client to the endpoint
-- of key; now is ngx.time(), secure adds the Secure attribute, ua is the
-- client's User-Agent (conditionalSameSiteNone), path the Ingress path of
-- the request's location, the cookie's Path when the settings name none
-- (session-cookie-path), as ingress-nginx does ("/" when nil).
function _M:cookie(key, now, secure, ua, path)
  local s = self.settings
  local parts = { s.cookie .. "=" .. key .. "|" .. self.backend_key, "Path=" .. (s.path or path or "/") }
  if s.domain then
    parts[#parts + 1] = "Domain=" .. s.domain
  end
  if s.maxAge and s.maxAge > 0 then
    parts[#parts + 1] = "Max-Age=" .. s.maxAge
  end
  if s.expires and s.expires > 0 then
    parts[#parts + 1] = "Expires=" .. ngx.cookie_time(now + s.expires)
  end
  local same_site = s.sameSite
  if same_site == "None" and s.conditionalSameSiteNone and not same_site_none_ok(ua) then
    same_site = nil
  end
  if same_site then
    parts[#parts + 1] = "SameSite=" .. same_site
  end
  if secure or s.secure or same_site == "None" then
    parts[#parts + 1] = "Secure"
  end
  parts[#parts + 1] = "HttpOnly"
  return table.concat(parts, "; ")
end

return _M
