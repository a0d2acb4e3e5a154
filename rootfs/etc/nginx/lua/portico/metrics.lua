-- Per-request metrics: observe() counts each proxied request under its
-- labels (Ingress, host, Ingress path, backend; then method, status and the
-- canary backend that answered, if one did) with its time, its upstream's
-- response time and its request and response sizes in histogram buckets,
-- in a table of its worker's own, so the log phase takes no lock; flush()
-- adds those counts to a shared dict once a second (and when the worker
-- exits); serve() answers GET /metrics/requests on the loopback status
-- server with the shared dict as JSON, which the controller turns into
-- Prometheus metrics (ingress-nginx's nginx_ingress_controller_* request
-- families). The labels come from validated model fields (the router's
-- routes, or nginx variables the template sets), or from the request
-- within a fixed set (the method), so their number is bounded by the
-- configuration.
local cjson = require("cjson.safe")

local shm = ngx.shared.portico_metrics
local ngx_log, WARN = ngx.log, ngx.WARN
local concat = table.concat
local get_method = ngx.req.get_method
local tonumber = tonumber

local _M = {}

-- enabled: nginx.conf sets it with --enable-metrics; until then the log
-- phase counts nothing.
_M.enabled = false

-- Histogram upper bounds, ingress-nginx's defaults: TIME (seconds) for
-- the request and upstream response times, LENGTH (bytes) for request
-- and response sizes, SIZE (bytes) for bytes sent. The controller reads
-- them from the JSON, so they are defined here only.
local TIME = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }
local LENGTH = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 }
local SIZE = { 10, 100, 1000, 10000, 100000, 1000000, 10000000 }
_M.TIME, _M.LENGTH, _M.SIZE = TIME, LENGTH, SIZE
local NTIME, NLENGTH, NSIZE = #TIME, #LENGTH, #SIZE

-- Methods counted under their name; any other is "OTHER", so that a
-- client cannot add label values.
local METHODS = {}
for _, m in ipairs({ "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
  "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK" }) do
  METHODS[m] = m
end

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

-- pending maps a label prefix (labels(), then the canary backend when
-- one answered) to method to status to the counts since the last flush.
local pending = {}

-- labels joins the labels but the method, status and canary, once per
-- route, so that a request does not build a string.
function _M.labels(ingress, host, path, backend)
  return concat({ ingress, host, path, backend }, SEP)
end

-- bucket is the index of the first bound v fits under, n + 1 past the
-- last. (A numeric loop: with ipairs and break, LuaJIT ran this part at
-- about 35,000 instructions a request under callgrind.)
local function bucket(bounds, n, v)
  for i = 1, n do
    if v <= bounds[i] then
      return i
    end
  end
  return n + 1
end

local function add(buckets, i)
  buckets[i] = (buckets[i] or 0) + 1
end

-- record counts one request of the labels prefix: its method and status,
-- its time t in seconds, its upstream's response time ut (nil: no single
-- upstream answered), its request's length and the bytes sent to the
-- client, and the canary backend that answered it ("" or nil: none).
function _M.record(prefix, method, status, t, ut, reqlen, sent, canary)
  if canary and canary ~= "" then
    prefix = prefix .. SEP .. canary
  end
  local byMethod = pending[prefix]
  if not byMethod then
    byMethod = {}
    pending[prefix] = byMethod
  end
  method = METHODS[method] or "OTHER"
  local byStatus = byMethod[method]
  if not byStatus then
    byStatus = {}
    byMethod[method] = byStatus
  end
  local s = byStatus[status]
  if not s then
    s = { n = 0, t = 0, tb = {}, un = 0, ut = 0, ub = {}, q = 0, qb = {}, r = 0, rb = {}, zb = {} }
    byStatus[status] = s
  end
  s.n = s.n + 1
  s.t = s.t + t
  add(s.tb, bucket(TIME, NTIME, t))
  if ut then
    s.un = s.un + 1
    s.ut = s.ut + ut
    add(s.ub, bucket(TIME, NTIME, ut))
  end
  reqlen = reqlen or 0
  s.q = s.q + reqlen
  add(s.qb, bucket(LENGTH, NLENGTH, reqlen))
  sent = sent or 0
  s.r = s.r + sent
  add(s.rb, bucket(LENGTH, NLENGTH, sent))
  add(s.zb, bucket(SIZE, NSIZE, sent))
end

-- elapsed is the request's time so far, as $request_time counts it.
function _M.elapsed()
  return ngx.now() - ngx.req.start_time()
end

-- observe counts the request in its log phase under the labels prefix;
-- canary names the canary backend that answered it, if one did.
-- $upstream_response_time lists each upstream tried ("0.1, 0.2"): a
-- request that tried more than one, or none, has no upstream time, as in
-- ingress-nginx.
function _M.observe(prefix, canary)
  if not _M.enabled then
    return
  end
  local var = ngx.var
  _M.record(prefix, get_method(), ngx.status, _M.elapsed(), tonumber(var.upstream_response_time),
    tonumber(var.request_length), tonumber(var.bytes_sent), canary)
end

-- log runs in the log phase of static locations: the labels come from the
-- variables the location sets.
function _M.log()
  if not _M.enabled then
    return
  end
  local var = ngx.var
  _M.observe(_M.labels(var.portico_ingress or "", var.portico_server or "", var.portico_path or "",
    var.portico_backend or ""), ngx.ctx.portico_canary)
end

-- flush adds this worker's pending counts to the shared dict.
function _M.flush()
  local p = pending
  pending = {}
  for prefix, byMethod in pairs(p) do
    for method, byStatus in pairs(byMethod) do
      for status, s in pairs(byStatus) do
        local labels = prefix .. SEP .. method .. SEP .. status
        incr("n" .. SEP .. labels, s.n)
        incr("t" .. SEP .. labels, s.t)
        incr("q" .. SEP .. labels, s.q)
        incr("r" .. SEP .. labels, s.r)
        if s.un > 0 then
          incr("un" .. SEP .. labels, s.un)
          incr("ut" .. SEP .. labels, s.ut)
        end
        for _, kind in ipairs({ "tb", "ub", "qb", "rb", "zb" }) do
          for b, c in pairs(s[kind]) do
            incr(kind .. b .. SEP .. labels, c)
          end
        end
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

local function zeros(n)
  local out = {}
  for i = 1, n do
    out[i] = 0
  end
  return out
end

-- serve answers with every series:
-- {"buckets":{"time":[...],"length":[...],"size":[...]},
--  "series":[{"ingress","host","path","backend","canary","method","status",
--   "count","time":{"sum","counts"},"upstream":{"count","sum","counts"},
--   "requestSize":{"sum","counts"},"responseSize":{"sum","counts"},
--   "bytesSent":{"counts"}}]}
-- where counts are non-cumulative, one more than the bounds (+Inf).
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
    local kind, idx, labels = key:match("^(%a+)(%d*)" .. SEP .. "(.*)$")
    local v = shm:get(key)
    if kind and v then
      local s = series[labels]
      if not s then
        local f = split(labels)
        -- ingress, host, path, backend[, canary], method, status
        local canary = ""
        if #f == 7 then
          canary = table.remove(f, 5)
        end
        s = { ingress = f[1], host = f[2], path = f[3], backend = f[4], canary = canary, method = f[5], status = f[6],
              count = 0,
              time = { sum = 0, counts = zeros(NTIME + 1) },
              upstream = { count = 0, sum = 0, counts = zeros(NTIME + 1) },
              requestSize = { sum = 0, counts = zeros(NLENGTH + 1) },
              responseSize = { sum = 0, counts = zeros(NLENGTH + 1) },
              bytesSent = { counts = zeros(NSIZE + 1) } }
        series[labels] = s
        order[#order + 1] = s
      end
      local i = tonumber(idx)
      if kind == "n" then
        s.count = v
      elseif kind == "t" then
        s.time.sum = v
      elseif kind == "un" then
        s.upstream.count = v
      elseif kind == "ut" then
        s.upstream.sum = v
      elseif kind == "q" then
        s.requestSize.sum = v
      elseif kind == "r" then
        s.responseSize.sum = v
      elseif i then
        local h = (kind == "tb" and s.time) or (kind == "ub" and s.upstream) or (kind == "qb" and s.requestSize)
          or (kind == "rb" and s.responseSize) or (kind == "zb" and s.bytesSent)
        if h and h.counts[i] then
          h.counts[i] = v
        end
      end
    end
  end
  ngx.header["Content-Type"] = "application/json"
  local buckets = { time = TIME, length = LENGTH, size = SIZE }
  local body = cjson.encode({ buckets = buckets, series = order })
  -- cjson encodes an empty table as {}; the controller wants an array.
  if #order == 0 then
    body = cjson.encode({ buckets = buckets }):sub(1, -2) .. ',"series":[]}'
  end
  ngx.say(body)
  return ngx.exit(ngx.HTTP_OK)
end

return _M
