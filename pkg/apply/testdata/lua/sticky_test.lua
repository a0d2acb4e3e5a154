local sticky = require("portico.sticky")
local eq = require("runner").eq

local _M = {}

local eps = {
  { address = "198.18.0.1", port = 80 },
  { address = "198.18.0.2", port = 80 },
  { address = "2001:db8::3", port = 8080 },
}

local persistent = { cookie = "route", path = "/app", maxAge = 60, expires = 3600, sameSite = "Lax", mode = "persistent",
  backend = "ns/app:80" }
local balanced = { cookie = "route", path = "/", mode = "balanced", backend = "ns/app:80" }

local function key_of(s)
  return ngx.md5(s):sub(1, 16)
end

function _M.test_persistent_cookie_finds_its_endpoint()
  local s = sticky.new(persistent, eps)
  for _, ep in ipairs(eps) do
    eq(s:find({ cookie_route = sticky.id(ep) .. "|" .. key_of("ns/app:80") }), ep, ep.address)
    -- A cookie of an older Portico has no backend part.
    eq(s:find({ cookie_route = sticky.id(ep) }), ep, ep.address .. " without a backend")
  end
  eq(s:find({}), nil, "no cookie")
  eq(s:find({ cookie_route = "garbage|x" }), nil, "unknown cookie")
end

function _M.test_persistent_removed_endpoint_is_not_found()
  local id = sticky.id(eps[2])
  local s = sticky.new(persistent, { eps[1], eps[3] })
  eq(s:find({ cookie_route = id }), nil, "endpoint gone")
end

-- balanced: a cookie's key maps to an endpoint on the ring; when the
-- Service scales up, some keys move to the new endpoint, the others stay.
function _M.test_balanced_keys_follow_the_ring()
  local three = sticky.new(balanced, eps)
  local four = sticky.new(balanced, { eps[1], eps[2], eps[3], { address = "198.18.0.4", port = 80 } })
  local moved = 0
  for i = 1, 400 do
    local var = { cookie_route = "k" .. i .. "|x" }
    local a, b = three:find(var), four:find(var)
    assert(a ~= nil, "every key has an endpoint")
    eq(three:find(var), a, "the same key, the same endpoint")
    if a.address ~= b.address then
      moved = moved + 1
      eq(b.address, "198.18.0.4", "a moved key goes to the new endpoint")
    end
  end
  assert(moved > 40 and moved < 180, "moved " .. moved .. " of 400 keys")
  local ep, key = three:pick(nil, { [eps[1]] = true, [eps[2]] = true })
  eq(ep, eps[3], "a new key maps to an untried endpoint")
  eq(three:find({ cookie_route = key }), ep, "and the cookie finds it")
end

function _M.test_affinitized_names_the_backend()
  local s = sticky.new(balanced, eps)
  eq(s:affinitized({ cookie_route = "k|" .. key_of("ns/app:80") }), true, "this backend's cookie")
  eq(s:affinitized({ cookie_route = "k|" .. key_of("ns/canary:80") }), false, "another backend's")
  eq(s:affinitized({ cookie_route = "k" }), false, "no backend")
  eq(s:affinitized({}), false, "no cookie")
end

function _M.test_cookie_attributes()
  local s = sticky.new(persistent, eps)
  local now = 1700000000
  eq(s:cookie("abc", now, false), "route=abc|" .. key_of("ns/app:80") .. "; Path=/app; Max-Age=60; Expires="
    .. ngx.cookie_time(now + 3600) .. "; SameSite=Lax; HttpOnly", "cookie")
  local none = sticky.new({ cookie = "INGRESSCOOKIE", path = "/", sameSite = "None", backend = "b" }, eps)
  eq(none:cookie("k", now, false), "INGRESSCOOKIE=k|" .. key_of("b") .. "; Path=/; SameSite=None; Secure; HttpOnly", "session cookie")
  -- session-cookie-conditional-samesite-none: not for the browsers that
  -- reject it.
  local cond = sticky.new({ cookie = "c", path = "/", sameSite = "None", backend = "b", conditionalSameSiteNone = true }, eps)
  local old = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/62.0.3202.94 Safari/537.36"
  local new = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
  local ios12 = "Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1"
  eq(cond:cookie("k", now, true, old), "c=k|" .. key_of("b") .. "; Path=/; Secure; HttpOnly", "old Chrome")
  eq(cond:cookie("k", now, false, ios12), "c=k|" .. key_of("b") .. "; Path=/; HttpOnly", "iOS 12")
  eq(cond:cookie("k", now, false, new), "c=k|" .. key_of("b") .. "; Path=/; SameSite=None; Secure; HttpOnly", "current Chrome")
  eq(cond:cookie("k", now, false, nil), "c=k|" .. key_of("b") .. "; Path=/; SameSite=None; Secure; HttpOnly", "no User-Agent")
  -- No path of its own: the Ingress path of the request's location, else /.
  local located = sticky.new({ cookie = "c", backend = "b" }, eps)
  eq(located:cookie("k", now, true, nil, "/shop"), "c=k|" .. key_of("b") .. "; Path=/shop; Secure; HttpOnly", "location's path")
  eq(located:cookie("k", now, false), "c=k|" .. key_of("b") .. "; Path=/; HttpOnly", "no path")
  local own = sticky.new({ cookie = "c", path = "/app", backend = "b" }, eps)
  eq(own:cookie("k", now, false, nil, "/shop"):find("Path=/app;", 1, true) ~= nil, true, "session-cookie-path wins")
end

function _M.test_validate_refuses_bad_pushes()
  for _, a in ipairs({
    { cookie = "a;b", path = "/", backend = "b" }, { cookie = "a", path = "/; Domain=x", backend = "b" },
    { cookie = "a", path = "/", maxAge = -1, backend = "b" }, { cookie = "a", path = "/", sameSite = "lax", backend = "b" },
    { path = "/", backend = "b" }, { cookie = "a", path = "/" }, { cookie = "a", path = "/", backend = "b", mode = "x" },
    { cookie = "a", path = "/", backend = "b", changeOnFailure = "yes" }, { cookie = "a", path = 1, backend = "b" },
  }) do
    assert(sticky.validate(a) ~= nil, "accepted bad affinity " .. tostring(a.cookie) .. " " .. tostring(a.path))
  end
  eq(sticky.validate(persistent), nil, "good settings")
  eq(sticky.validate(balanced), nil, "good settings")
  eq(sticky.validate({ cookie = "a", backend = "b" }), nil, "no path: the location's")
end

return _M
