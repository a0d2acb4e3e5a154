-- Peak-EWMA: each endpoint keeps an exponentially weighted moving average of
-- its response time, decaying towards zero with age; a pick takes the better
-- of two distinct random untried endpoints ("power of two choices"). Scores are per
-- worker and survive pushes for endpoints that stay.
local _M = {}
_M.__index = _M

-- Seconds after which an old observation has lost most of its weight.
local DECAY = 10

local function key(address, port)
  return address .. ":" .. port
end

function _M.new(endpoints, prev)
  local stats = {}
  local old = prev and prev.stats or {}
  for _, ep in ipairs(endpoints) do
    local k = key(ep.address, ep.port)
    stats[k] = old[k] or { ewma = 0, at = ngx.now() }
  end
  return setmetatable({ endpoints = endpoints, stats = stats }, _M)
end

function _M:score(ep)
  local s = self.stats[key(ep.address, ep.port)]
  local age = ngx.now() - s.at
  return s.ewma * math.exp(-age / DECAY)
end

function _M:pick(tried)
  local cands = self.endpoints
  if next(tried) ~= nil then
    cands = {}
    for _, ep in ipairs(self.endpoints) do
      if not tried[ep] then
        cands[#cands + 1] = ep
      end
    end
    if #cands == 0 then
      cands = self.endpoints
    end
  end
  local n = #cands
  if n == 1 then
    return cands[1]
  end
  -- Two distinct random candidates; the lower score wins.
  local i = math.random(n)
  local j = math.random(n - 1)
  if j >= i then
    j = j + 1
  end
  local a, b = cands[i], cands[j]
  if self:score(b) < self:score(a) then
    return b
  end
  return a
end

-- observe folds the response times of a request's tries into the scores:
-- upstream_addr and upstream_response_time list tries separated by ", ".
function _M:observe(addrs, times)
  if not addrs or not times then
    return
  end
  local now = ngx.now()
  local ts = {}
  for t in times:gmatch("[^,%s]+") do
    ts[#ts + 1] = tonumber(t)
  end
  local i = 0
  for addr in addrs:gmatch("[^,%s]+") do
    i = i + 1
    local s, t = self.stats[addr], ts[i]
    if s and t then
      local w = math.exp(-(now - s.at) / DECAY)
      s.ewma = s.ewma * w + t * (1 - w)
      s.at = now
    end
  end
end

return _M
