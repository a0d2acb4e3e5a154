local chash = require("portico.chash")
local eq = require("runner").eq

local _M = {}

local function endpoints(n)
  local eps = {}
  for i = 1, n do
    eps[i] = { address = "198.18.0." .. i, port = 8080 }
  end
  return eps
end

local function owners(ring, keys)
  local out = {}
  for i = 1, keys do
    out[i] = ring:pick("user-" .. i, {}).address
  end
  return out
end

function _M.test_same_key_same_endpoint_across_rings()
  local a, b = chash.new(endpoints(4)), chash.new(endpoints(4))
  for i = 1, 200 do
    local k = "/path/" .. i
    eq(a:pick(k, {}).address, b:pick(k, {}).address, k)
  end
end

function _M.test_spreads_keys()
  local count = {}
  for _, addr in ipairs(owners(chash.new(endpoints(4)), 8000)) do
    count[addr] = (count[addr] or 0) + 1
  end
  for _, ep in ipairs(endpoints(4)) do
    local c = count[ep.address] or 0
    assert(c > 1200 and c < 2800, ep.address .. " owns " .. c .. " of 8000 keys")
  end
end

function _M.test_adding_an_endpoint_moves_few_keys()
  local keys = 8000
  local before = owners(chash.new(endpoints(4)), keys)
  local after = owners(chash.new(endpoints(5)), keys)
  local moved = 0
  for i = 1, keys do
    if before[i] ~= after[i] then
      moved = moved + 1
      eq(after[i], "198.18.0.5", "a moved key goes to the new endpoint")
    end
  end
  -- Ideal is 1/5 of the keys; a modulo hash would move about 4/5.
  assert(moved > keys * 0.1 and moved < keys * 0.3, "moved " .. moved .. " of " .. keys)
end

function _M.test_removing_an_endpoint_moves_only_its_keys()
  local keys = 4000
  local eps = endpoints(4)
  local before = owners(chash.new(eps), keys)
  local after = owners(chash.new({ eps[1], eps[2], eps[4] }), keys)
  for i = 1, keys do
    if before[i] ~= "198.18.0.3" then
      eq(after[i], before[i], "key " .. i .. " of a remaining endpoint")
    end
  end
end

function _M.test_retry_skips_tried_endpoints()
  local ring = chash.new(endpoints(3))
  local tried = {}
  for _ = 1, 3 do
    local ep = ring:pick("k", tried)
    eq(tried[ep], nil, "picked a tried endpoint")
    tried[ep] = true
  end
end

-- upstream-hash-by-subset: subsets of size endpoints in order, the last
-- filled up with the first; a key always gets the same subset, and the
-- request one of its endpoints at random; a retry another of them, then
-- the next subset's.
function _M.test_subsets()
  local eps = endpoints(5)
  local ring = chash.new(eps, 3)
  local set1 = { [eps[1]] = true, [eps[2]] = true, [eps[3]] = true }
  local set2 = { [eps[4]] = true, [eps[5]] = true, [eps[1]] = true }
  local within = function(seen, set)
    for ep in pairs(seen) do
      if not set[ep] then
        return false
      end
    end
    return true
  end
  local sizes = {}
  for i = 1, 50 do
    local key = "user-" .. i
    local seen, n = {}, 0
    for _ = 1, 30 do
      local ep = ring:pick(key, {})
      if not seen[ep] then
        seen[ep], n = true, n + 1
      end
    end
    assert(within(seen, set1) or within(seen, set2), key .. ": endpoints of two subsets")
    sizes[n] = (sizes[n] or 0) + 1
  end
  eq(sizes[3] ~= nil and sizes[3] > 40, true, "30 picks reach the 3 endpoints of a key's subset")
  local tried = {}
  for _ = 1, 5 do
    local ep = ring:pick("k", tried)
    eq(tried[ep], nil, "a retry picked a tried endpoint")
    tried[ep] = true
  end
  eq(#chash.new({}, 3).eps, 0, "no endpoints, no subsets")
end

function _M.test_key_reads_variables()
  eq(chash.key("$host$request_uri", { host = "a.example", request_uri = "/x?y=1" }), "a.example/x?y=1", "two variables")
  eq(chash.key("u:$arg_user/v1", { arg_user = "ann" }), "u:ann/v1", "variable between literals")
  eq(chash.key("$arg_user", {}), "", "unset variable")
end

return _M
