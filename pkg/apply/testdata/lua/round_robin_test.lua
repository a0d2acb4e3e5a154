local rr = require("portico.round_robin")
local eq = require("runner").eq

local _M = {}

local function endpoints(n)
  local eps = {}
  for i = 1, n do
    eps[i] = { address = "198.18.0." .. i, port = 80 }
  end
  return eps
end

function _M.test_spreads_evenly()
  local eps = endpoints(4)
  local p = rr.new(eps)
  local count = {}
  for _ = 1, 400 do
    local ep = p:pick({})
    count[ep.address] = (count[ep.address] or 0) + 1
  end
  for _, ep in ipairs(eps) do
    eq(count[ep.address], 100, ep.address .. " picks")
  end
end

function _M.test_skips_tried_peers()
  local eps = endpoints(3)
  local p = rr.new(eps)
  local tried = {}
  for _ = 1, 3 do
    local ep = p:pick(tried)
    eq(tried[ep], nil, "picked a tried peer")
    tried[ep] = true
  end
end

function _M.test_all_tried_still_answers()
  local eps = endpoints(1)
  local p = rr.new(eps)
  eq(p:pick({ [eps[1]] = true }), eps[1], "only peer")
end

return _M
