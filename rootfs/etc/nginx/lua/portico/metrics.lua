-- Per-request metrics: log() counts each proxied request in a shared dict
-- under its labels (Ingress, host, Ingress path, backend, status) with its
-- latency in histogram buckets; serve() answers GET /metrics/requests on the
-- loopback status server with everything as JSON, which the controller turns
-- into Prometheus metrics. The labels come from nginx variables the template
-- sets from validated model fields, never from the request, so their number
-- is bounded by the configuration.
local cjson = require("cjson.safe")

local shm = ngx.shared.portico_metrics
local ngx_log, WARN = ngx.log, ngx.WARN
local concat = table.concat

local _M = {}

-- Upper bounds (seconds) of the latency buckets; the controller reads them
-- from the JSON, so they are defined here only.
local BUCKETS = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }
_M.BUCKETS = BUCKETS

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

-- log runs in the log phase of every proxied location.
function _M.log()
  local var = ngx.var
  local labels = concat({
    var.portico_ingress or "", var.portico_server or "", var.portico_path or "",
    var.portico_backend or "", var.status or "",
  }, SEP)
  local t = tonumber(var.request_time) or 0
  incr("n" .. SEP .. labels, 1)
  incr("s" .. SEP .. labels, t)
  -- Buckets are stored non-cumulative: the first one the time fits in.
  local b = #BUCKETS + 1
  for i, le in ipairs(BUCKETS) do
    if t <= le then
      b = i
      break
    end
  end
  incr("b" .. b .. SEP .. labels, 1)
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
