-- Consistent hashing on a ring: each endpoint owns VNODES points; a key
-- goes to the first point at or after its hash. Adding or removing one of
-- n endpoints moves about 1/n of the keys. Points depend only on the
-- endpoints' addresses, so every worker builds the same ring. With
-- subsets (upstream-hash-by-subset), the ring's members are subsets of
-- the endpoints instead, and a key goes to one endpoint of its subset at
-- random.
local ngx_md5_bin = ngx.md5_bin
local byte = string.byte

local _M = {}
_M.__index = _M

local VNODES = 160

local function hash32(s)
  local a, b, c, d = byte(ngx_md5_bin(s), 1, 4)
  return ((a * 256 + b) * 256 + c) * 256 + d
end
_M.hash32 = hash32

-- subsets splits endpoints, in their order, into sets of size each, the
-- last one filled up with the first endpoints, as ingress-nginx's
-- chashsubset does; each set is named after its number.
local function subsets(endpoints, size)
  local count = math.ceil(#endpoints / size)
  local out = {}
  for i = 1, count do
    local set = { id = "set" .. i }
    for j = 1, size do
      set[j] = endpoints[((i - 1) * size + j - 1) % #endpoints + 1]
    end
    out[i] = set
  end
  return out
end

-- new builds the ring of endpoints, or of their subsets of subset_size
-- endpoints when subset_size is set.
function _M.new(endpoints, subset_size)
  local members = {}
  if subset_size then
    members = subsets(endpoints, subset_size)
  else
    for i, ep in ipairs(endpoints) do
      members[i] = { id = ep.address .. ":" .. ep.port, ep = ep }
    end
  end
  local points = {}
  for _, m in ipairs(members) do
    local id = m.id
    for i = 1, VNODES do
      points[#points + 1] = { h = hash32(id .. "#" .. i), id = id, ep = m.ep or m }
    end
  end
  table.sort(points, function(x, y)
    if x.h ~= y.h then
      return x.h < y.h
    end
    return x.id < y.id
  end)
  local hashes, eps = {}, {}
  for i, p in ipairs(points) do
    hashes[i], eps[i] = p.h, p.ep
  end
  return setmetatable({ hashes = hashes, eps = eps, n = #endpoints, subsets = subset_size ~= nil }, _M)
end

-- first returns the index of the first point at or after h.
function _M:first(h)
  local hs = self.hashes
  local lo, hi = 1, #hs
  if hi == 0 or h > hs[hi] then
    return 1
  end
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if hs[mid] < h then
      lo = mid + 1
    else
      hi = mid
    end
  end
  return lo
end

-- untried returns an endpoint of subset set that is not in tried, at
-- random; nil when it has none.
local function untried(set, tried)
  local n = #set
  local start = math.random(n)
  for k = 0, n - 1 do
    local ep = set[(start + k - 1) % n + 1]
    if not tried[ep] then
      return ep
    end
  end
  return nil
end

-- pick returns the endpoint of key (with subsets: one of its subset's,
-- at random), or the next untried one clockwise.
function _M:pick(key, tried)
  local eps = self.eps
  local total = #eps
  if total == 0 then
    return nil
  end
  local i = self:first(hash32(key))
  for _ = 1, total do
    local ep = eps[i]
    if self.subsets then
      ep = untried(ep, tried)
      if ep then
        return ep
      end
    elseif not tried[ep] then
      return ep
    end
    i = i % total + 1
  end
  if self.subsets then
    return eps[i][1]
  end
  return eps[i]
end

-- key evaluates a hash-by expression: each $name is ngx.var[name] ("" when
-- unset), everything else is literal. var defaults to ngx.var.
function _M.key(expr, var)
  var = var or ngx.var
  return (expr:gsub("%$([a-z0-9_]+)", function(name)
    return var[name] or ""
  end))
end

return _M
