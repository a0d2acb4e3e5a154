local metrics = require("portico.metrics")
local eq = require("runner").eq

local _M = {}

local shm = ngx.shared.portico_metrics

-- count sums the shared dict's values of kind ("n", "s", "b1", ...) over
-- all labels.
local function count(kind)
  local sum = 0
  for _, key in ipairs(shm:get_keys(0)) do
    if key:sub(1, #kind + 1) == kind .. "\t" then
      sum = sum + shm:get(key)
    end
  end
  return sum
end

function _M.test_log_counts_in_the_worker_until_a_flush()
  shm:flush_all()
  metrics.flush()
  for _ = 1, 3 do
    metrics.log()
  end
  eq(count("n"), 0, "requests in the shared dict before a flush")
  metrics.flush()
  eq(count("n"), 3, "requests after a flush")
  local buckets = 0
  for b = 1, #metrics.BUCKETS + 1 do
    buckets = buckets + count("b" .. b)
  end
  eq(buckets, 3, "requests over all latency buckets")
  metrics.flush()
  eq(count("n"), 3, "requests after a second, empty flush")
end

return _M
