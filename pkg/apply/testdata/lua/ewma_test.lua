local ewma = require("portico.ewma")
local eq = require("runner").eq

local _M = {}

local eps = {
  { address = "198.18.0.1", port = 80 },
  { address = "198.18.0.2", port = 80 },
}

function _M.test_prefers_the_faster_peer()
  local p = ewma.new(eps)
  ngx.update_time()
  p.stats["198.18.0.1:80"].at = ngx.now() - 1
  p.stats["198.18.0.2:80"].at = ngx.now() - 1
  p:observe("198.18.0.1:80", "0.500")
  p:observe("198.18.0.2:80", "0.005")
  local slow = 0
  for _ = 1, 200 do
    if p:pick({}).address == "198.18.0.1" then
      slow = slow + 1
    end
  end
  -- Two distinct choices among two peers always compare both.
  eq(slow, 0, "picks of the slow peer")
end

function _M.test_observes_every_try()
  local p = ewma.new(eps)
  p.stats["198.18.0.1:80"].at = ngx.now() - 5
  p.stats["198.18.0.2:80"].at = ngx.now() - 5
  p:observe("198.18.0.1:80, 198.18.0.2:80", "0.100, 0.200")
  assert(p.stats["198.18.0.1:80"].ewma > 0, "first try not observed")
  assert(p.stats["198.18.0.2:80"].ewma > p.stats["198.18.0.1:80"].ewma, "second try not observed")
end

function _M.test_keeps_scores_across_pushes()
  local p = ewma.new(eps)
  p.stats["198.18.0.1:80"].ewma = 0.3
  local q = ewma.new({ eps[1] }, p)
  eq(q.stats["198.18.0.1:80"].ewma, 0.3, "kept score")
  eq(q.stats["198.18.0.2:80"], nil, "dropped endpoint")
end

function _M.test_skips_tried_peer()
  local p = ewma.new(eps)
  for _ = 1, 50 do
    eq(p:pick({ [eps[1]] = true }), eps[2], "pick with first tried")
  end
end

return _M
