local metrics = require("portico.metrics")
local eq = require("runner").eq

local _M = {}

local shm = ngx.shared.portico_metrics

-- count sums the shared dict's values of kind ("n", "t", "tb1", ...) over
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

function _M.test_log_counts_nothing_unless_enabled()
  shm:flush_all()
  metrics.flush()
  metrics.enabled = false
  metrics.log()
  metrics.flush()
  eq(count("n"), 0, "requests counted while disabled")
  metrics.enabled = true
end

function _M.test_log_counts_in_the_worker_until_a_flush()
  shm:flush_all()
  metrics.flush()
  metrics.enabled = true
  for _ = 1, 3 do
    metrics.log()
  end
  eq(count("n"), 0, "requests in the shared dict before a flush")
  metrics.flush()
  eq(count("n"), 3, "requests after a flush")
  local buckets = 0
  for b = 1, #metrics.TIME + 1 do
    buckets = buckets + count("tb" .. b)
  end
  eq(buckets, 3, "requests over all time buckets")
  eq(count("un"), 0, "no upstream answered: no upstream time")
  metrics.flush()
  eq(count("n"), 3, "requests after a second, empty flush")
end

function _M.test_record_counts_per_labels_method_and_status()
  shm:flush_all()
  metrics.flush()
  local prefix = metrics.labels("ns/a", "a.example.com", "/p", "ns/b:80")
  eq(prefix, "ns/a\ta.example.com\t/p\tns/b:80", "labels")
  metrics.record(prefix, "GET", 200, 0.003, 0.002, 45, 150)
  metrics.record(prefix, "GET", 200, 0.2, nil, 5, 2000000)
  metrics.record(prefix, "GET", 404, 20, 19, 0, 0)
  metrics.record(prefix, "BREW", 200, 0.1, 0.1, 10, 10)
  metrics.record(prefix, "POST", 200, 0.1, 0.1, 10, 10, "ns/b-canary:80")
  metrics.flush()
  local get200 = prefix .. "\tGET\t200"
  eq(shm:get("n\t" .. get200), 2, "GET 200s")
  eq(shm:get("n\t" .. prefix .. "\tGET\t404"), 1, "GET 404s")
  eq(shm:get("n\t" .. prefix .. "\tOTHER\t200"), 1, "a method out of the set counts as OTHER")
  eq(shm:get("n\t" .. prefix .. "\tns/b-canary:80\tPOST\t200"), 1, "a canary's answer under its backend")
  eq(shm:get("t\t" .. get200), 0.203, "200s' time")
  eq(shm:get("tb1\t" .. get200), 1, "3 ms in the first time bucket")
  eq(shm:get("tb6\t" .. get200), 1, "200 ms in the 250 ms bucket")
  eq(shm:get("tb" .. (#metrics.TIME + 1) .. "\t" .. prefix .. "\tGET\t404"), 1, "20 s in the last bucket")
  eq(shm:get("un\t" .. get200), 1, "one of the two had an upstream time")
  eq(shm:get("ut\t" .. get200), 0.002, "its upstream time")
  eq(shm:get("q\t" .. get200), 50, "request bytes")
  eq(shm:get("qb5\t" .. get200), 1, "45 request bytes in the 50 bucket")
  eq(shm:get("qb1\t" .. get200), 1, "5 request bytes in the 10 bucket")
  eq(shm:get("r\t" .. get200), 2000150, "bytes sent")
  eq(shm:get("rb" .. (#metrics.LENGTH + 1) .. "\t" .. get200), 2, "150 and 2,000,000 bytes past the last length bucket")
  eq(shm:get("zb3\t" .. get200), 1, "150 bytes in the 1000 size bucket")
  eq(shm:get("zb7\t" .. get200), 1, "2,000,000 bytes in the 1e7 size bucket")
end

return _M
