-- Per-request metrics: observe() counts each proxied request under its
-- labels (Ingress, host, Ingress path, backend; then status) with its
-- latency in histogram buckets, in a table of its worker's own, so the log
-- phase takes no lock; flush() adds those counts to a shared dict once a
-- second (and when the worker exits); serve() answers GET /metrics/requests
-- on the loopback status server with the shared dict as JSON, which the
-- controller turns into Prometheus metrics. The labels come from validated
-- model fields (the router's routes, or nginx variables the template sets),
-- never from the request, so their number is bounded by the configuration.
local cjson = require("cjson.safe")

local shm = ngx.shared.portico_metrics
local ngx_log, WARN = ngx.log, ngx.WARN
local concat = table.concat

local _M = {}

-- Upper bounds (seconds) of the latency buckets; the controller reads them
-- from the JSON, so they are defined here only.
local BUCKETS = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }
_M.BUCKETS = BUCKETS
-- NBUCKETS counts the last, unbounded bucket too.
local NBUCKETS = #BUCKETS + 1

-- Field separator of keys: no label value can hold it.
local SEP = "\t"

local warned = false

local function incr(key, by)
  local _, err = shm:incr(key, by, 0)
  if err and not warned then
    warned = true
    ngx_log(WARN, "portico: metrics dict: ", err, "; some request metrics are lost")
  end
end

-- FLUSH_INTERVAL is how often (seconds) a worker adds its counts to the
-- shared dict: how stale /metrics may be.
local FLUSH_INTERVAL = 1

-- pending maps a label prefix (labels()) to status to {n, sum, buckets}
-- counted since the last flush.
local pending = {}

-- labels joins the labels but the status, once per route, so that a
-- request does not build a string.
function _M.labels(ingress, host, path, backend)
  return concat({ ingress, host, path, backend }, SEP)
end

-- observe counts one request of the labels prefix with its status and
-- time in seconds.
function _M.observe(prefix, status, t)
  local byStatus = pending[prefix]
  if not byStatus then
    byStatus = {}
    pending[prefix] = byStatus
  end
  local s = byStatus[status]
  if not s then
    s = { n = 0, sum = 0, buckets = {} }
    byStatus[status] = s
  end
  s.n = s.n + 1
  s.sum = s.sum + t
  -- Buckets are stored non-cumulative: the first one the time fits in.
  -- (A numeric loop: with ipairs and break, LuaJIT ran this part at about
  -- 35,000 instructions a request under callgrind.)
  local b = NBUCKETS
  for i = 1, NBUCKETS - 1 do
    if t <= BUCKETS[i] then
      b = i
      break
    end
  end
  local bs = s.buckets
  bs[b] = (bs[b] or 0) + 1
end

-- elapsed is the request's time so far, as $request_time counts it.
function _M.elapsed()
  return ngx.now() - ngx.req.start_time()
end

-- log runs in the log phase of static locations: the labels come from the
-- variables the location sets.
function _M.log()
  local var = ngx.var
  _M.observe(_M.labels(var.portico_ingress or "", var.portico_server or "", var.portico_path or "",
    var.portico_backend or ""), ngx.status, _M.elapsed())
end

-- flush adds this worker's pending counts to the shared dict.
function _M.flush()
  local p = pending
  pending = {}
  for prefix, byStatus in pairs(p) do
    for status, s in pairs(byStatus) do
      local labels = prefix .. SEP .. status
      incr("n" .. SEP .. labels, s.n)
      incr("s" .. SEP .. labels, s.sum)
      for b, c in pairs(s.buckets) do
        incr("b" .. b .. SEP .. labels, c)
      end
    end
  end
end

-- init_worker starts the flush timer; a worker that exits (reload,
-- shutdown) runs it once more, early, so no count is lost.
function _M.init_worker()
  local ok, err = ngx.timer.every(FLUSH_INTERVAL, _M.flush)
  if not ok then
    ngx_log(ngx.ERR, "portico: metrics flush timer: ", err)
  end
end

local function split(s)
  local out = {}
  for f in (s .. SEP):gmatch("(.-)" .. SEP) do
    out[#out + 1] = f
  end
  return out
end

-- serve answers with every series:
-- {"buckets":[...],"series":[{"ingress","host","path","backend","status",
--  "count","sum","bucketCounts":[non-cumulative, one more than buckets]}]}
function _M.serve()
  if ngx.req.get_method() ~= "GET" then
    ngx.status = ngx.HTTP_NOT_ALLOWED
    ngx.say("use GET")
    return ngx.exit(ngx.HTTP_OK)
  end
  -- This worker's counts are current; the others' at most a flush old.
  _M.flush()
  local series = {}
  local order = {}
  for _, key in ipairs(shm:get_keys(0)) do
    local kind, labels = key:match("^(%w+)" .. SEP .. "(.*)$")
    local v = shm:get(key)
    if kind and v then
      local s = series[labels]
      if not s then
        local f = split(labels)
        local counts = {}
        for i = 1, #BUCKETS + 1 do
          counts[i] = 0
        end
        s = { ingress = f[1], host = f[2], path = f[3], backend = f[4], status = f[5],
              count = 0, sum = 0, bucketCounts = counts }
        series[labels] = s
        order[#order + 1] = s
      end
      if kind == "n" then
        s.count = v
      elseif kind == "s" then
        s.sum = v
      else
        local i = tonumber(kind:sub(2))
        if i and s.bucketCounts[i] then
          s.bucketCounts[i] = v
        end
      end
    end
  end
  ngx.header["Content-Type"] = "application/json"
  local body = cjson.encode({ buckets = BUCKETS, series = order })
  -- cjson encodes an empty table as {}; the controller wants an array.
  if #order == 0 then
    body = cjson.encode({ buckets = BUCKETS }):sub(1, -2) .. ',"series":[]}'
  end
  ngx.say(body)
  return ngx.exit(ngx.HTTP_OK)
end

return _M
