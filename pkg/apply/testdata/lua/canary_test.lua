local canary = require("portico.canary")
local eq = require("runner").eq

local _M = {}

local function new(c)
  c.backend = c.backend or "ns/canary:80"
  c.weight = c.weight or 0
  c.weightTotal = c.weightTotal or 100
  assert(canary.validate(c) == nil, "valid canary")
  return canary.new(c)
end

-- never is a random function that fails the test if weight is consulted.
local function never()
  error("weight consulted", 2)
end

function _M.test_header_always_never_and_other_values()
  local c = new({ header = "X-Canary", weight = 100 })
  eq(c:use({ http_x_canary = "always" }, never), true, "always")
  eq(c:use({ http_x_canary = "never" }, never), false, "never beats weight 100")
  eq(c:use({ http_x_canary = "maybe" }, function() return 1 end), true, "other value falls through to weight")
end

function _M.test_header_value_and_pattern()
  local c = new({ header = "X-Canary", headerValue = "beta", headerPattern = "^x" })
  eq(c:use({ http_x_canary = "beta" }, never), true, "value matches")
  eq(c:use({ http_x_canary = "xbeta" }), false, "value wins over pattern; weight 0")
  eq(c:use({ http_x_canary = "always" }), false, "always is not special with a value")
  local p = new({ header = "X-Region", headerPattern = "^(eu|us)-[0-9]+$" })
  eq(p:use({ http_x_region = "eu-12" }, never), true, "pattern matches")
  eq(p:use({ http_x_region = "asia-1" }), false, "pattern does not match")
end

-- A pattern PCRE cannot run (the model refuses those it knows of) is
-- no canary, and decides: the cookie and the weight are not asked, as in
-- ingress-nginx's balancer.
function _M.test_pattern_error_is_no_canary()
  local c = new({ header = "X-Canary", headerPattern = "(", cookie = "beta", weight = 100 })
  eq(c:use({ http_x_canary = "x", cookie_beta = "always" }, never), false, "a pattern error decides: no canary")
  eq(c:use({ cookie_beta = "always" }, never), true, "without the header, the cookie decides")
end

function _M.test_header_beats_cookie_beats_weight()
  local c = new({ header = "X-Canary", cookie = "beta", weight = 100 })
  eq(c:use({ http_x_canary = "never", cookie_beta = "always" }, never), false, "header never beats cookie always")
  eq(c:use({ http_x_canary = "always", cookie_beta = "never" }, never), true, "header always beats cookie never")
  eq(c:use({ cookie_beta = "never" }, never), false, "cookie never beats weight")
  local w = new({ cookie = "beta" })
  eq(w:use({ cookie_beta = "always" }, never), true, "cookie always beats weight 0")
  eq(w:use({ cookie_beta = "other" }), false, "other cookie value falls through")
end

function _M.test_weight_is_exact_over_all_draws()
  local c = new({ weight = 3, weightTotal = 7 })
  local hits = 0
  for draw = 1, 7 do
    if c:use({}, function(n)
      eq(n, 7, "draw range")
      return draw
    end) then
      hits = hits + 1
    end
  end
  eq(hits, 3, "draws that pick the canary")
  eq(new({ weight = 0 }):use({}, never), false, "weight 0 never draws")
end

function _M.test_weight_share_within_bounds()
  local c = new({ weight = 20 })
  local n, hits = 10000, 0
  for _ = 1, n do
    if c:use({}) then
      hits = hits + 1
    end
  end
  -- Binomial(10000, 0.2): mean 2000, sigma 40; allow 5 sigma.
  assert(hits > 1800 and hits < 2200, "canary share " .. hits .. " of " .. n)
end

function _M.test_validate_refuses_bad_pushes()
  for _, c in ipairs({
    {}, { backend = "" , weight = 0, weightTotal = 100 }, { backend = "b", weight = 101, weightTotal = 100 },
    { backend = "b", weight = 1, weightTotal = 0 }, { backend = "b", weight = 1, weightTotal = 100, header = 5 },
  }) do
    assert(canary.validate(c) ~= nil, "accepted a bad canary")
  end
end

return _M
