-- Round robin over a backend's endpoints, skipping peers this request has
-- already tried. Each worker starts at a random offset so workers do not
-- move in lockstep.
local _M = {}
_M.__index = _M

function _M.new(endpoints, _)
  return setmetatable({ endpoints = endpoints, next = math.random(math.max(#endpoints, 1)) }, _M)
end

function _M:pick(tried)
  local eps = self.endpoints
  local n = #eps
  for _ = 1, n do
    local ep = eps[self.next]
    self.next = self.next % n + 1
    if not tried[ep] then
      return ep
    end
  end
  -- Every peer was tried: start over rather than fail.
  local ep = eps[self.next]
  self.next = self.next % n + 1
  return ep
end

return _M
