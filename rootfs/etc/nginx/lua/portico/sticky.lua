-- Cookie session affinity: the cookie holds an endpoint's id (the MD5 of
-- "address:port"); while that endpoint exists the request goes there,
-- otherwise the backend's picker chooses and the cookie is replaced.
local ngx_md5 = ngx.md5

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
  if type(a.path) ~= "string" or not a.path:match("^/[%w%-%._~/!&()*+,=:@]*$") then
    return "affinity needs an absolute cookie path"
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
  if a.secure ~= nil and type(a.secure) ~= "boolean" then
    return "affinity secure must be a boolean"
  end
  return nil
end

function _M.new(settings, endpoints)
  local by_id = {}
  for _, ep in ipairs(endpoints) do
    by_id[_M.id(ep)] = ep
  end
  return setmetatable({ settings = settings, by_id = by_id, var = "cookie_" .. settings.cookie }, _M)
end

-- find returns the endpoint the request's cookie names, if it still exists.
function _M:find(var)
  local v = (var or ngx.var)[self.var]
  return v and self.by_id[v] or nil
end

-- cookie returns the Set-Cookie value that pins a client to ep; now is
-- ngx.time(), secure adds the Secure attribute.
function _M:cookie(ep, now, secure)
  local s = self.settings
  local parts = { s.cookie .. "=" .. _M.id(ep), "Path=" .. s.path }
  if s.domain then
    parts[#parts + 1] = "Domain=" .. s.domain
  end
  if s.maxAge and s.maxAge > 0 then
    parts[#parts + 1] = "Max-Age=" .. s.maxAge
  end
  if s.expires and s.expires > 0 then
    parts[#parts + 1] = "Expires=" .. ngx.cookie_time(now + s.expires)
  end
  if s.sameSite then
    parts[#parts + 1] = "SameSite=" .. s.sameSite
  end
  if secure or s.secure or s.sameSite == "None" then
    parts[#parts + 1] = "Secure"
  end
  parts[#parts + 1] = "HttpOnly"
  return table.concat(parts, "; ")
end

return _M
