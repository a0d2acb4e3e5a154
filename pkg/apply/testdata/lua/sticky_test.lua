local sticky = require("portico.sticky")
local eq = require("runner").eq

local _M = {}

local eps = {
  { address = "198.18.0.1", port = 80 },
  { address = "198.18.0.2", port = 80 },
  { address = "2001:db8::3", port = 8080 },
}

local settings = { cookie = "route", path = "/app", maxAge = 60, expires = 3600, sameSite = "Lax", mode = "balanced" }

function _M.test_cookie_finds_its_endpoint()
  local s = sticky.new(settings, eps)
  for _, ep in ipairs(eps) do
    eq(s:find({ cookie_route = sticky.id(ep) }), ep, ep.address)
  end
  eq(s:find({}), nil, "no cookie")
  eq(s:find({ cookie_route = "garbage" }), nil, "unknown cookie")
end

function _M.test_removed_endpoint_is_not_found()
  local id = sticky.id(eps[2])
  local s = sticky.new(settings, { eps[1], eps[3] })
  eq(s:find({ cookie_route = id }), nil, "endpoint gone")
end

function _M.test_cookie_attributes()
  local s = sticky.new(settings, eps)
  local now = 1700000000
  eq(s:cookie(eps[1], now, false), "route=" .. ngx.md5("198.18.0.1:80") .. "; Path=/app; Max-Age=60; Expires="
    .. ngx.cookie_time(now + 3600) .. "; SameSite=Lax; HttpOnly", "cookie")
  local plain = sticky.new({ cookie = "INGRESSCOOKIE", path = "/", sameSite = "None" }, eps)
  eq(plain:cookie(eps[3], now, false), "INGRESSCOOKIE=" .. ngx.md5("2001:db8::3:8080") .. "; Path=/; SameSite=None; Secure; HttpOnly",
    "session cookie")
end

function _M.test_validate_refuses_bad_pushes()
  for _, a in ipairs({
    { cookie = "a;b", path = "/" }, { cookie = "a", path = "/; Domain=x" }, { cookie = "a", path = "/", maxAge = -1 },
    { cookie = "a", path = "/", sameSite = "lax" }, { path = "/" },
  }) do
    assert(sticky.validate(a) ~= nil, "accepted bad affinity " .. tostring(a.cookie) .. " " .. tostring(a.path))
  end
  eq(sticky.validate(settings), nil, "good settings")
end

return _M
