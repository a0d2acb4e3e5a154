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

function _M.test_observe_counts_per_labels_and_status()
  shm:flush_all()
  metrics.flush()
  local prefix = metrics.labels("ns/a", "a.example.com", "/p", "ns/b:80")
  eq(prefix, "ns/a\ta.example.com\t/p\tns/b:80", "labels")
  metrics.observe(prefix, 200, 0.003)
  metrics.observe(prefix, 200, 0.2)
  metrics.observe(prefix, 404, 20)
  metrics.flush()
  eq(shm:get("n\t" .. prefix .. "\t200"), 2, "200s")
  eq(shm:get("n\t" .. prefix .. "\t404"), 1, "404s")
  eq(shm:get("s\t" .. prefix .. "\t200"), 0.203, "200s' time")
  eq(shm:get("b1\t" .. prefix .. "\t200"), 1, "3 ms in the first bucket")
  eq(shm:get("b6\t" .. prefix .. "\t200"), 1, "200 ms in the 250 ms bucket")
  eq(shm:get("b" .. (#metrics.BUCKETS + 1) .. "\t" .. prefix .. "\t404"), 1, "20 s in the last bucket")
end

return _M
