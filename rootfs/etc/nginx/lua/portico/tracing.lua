-- W3C trace context and nginx's spans (enable-opentelemetry), in Lua:
-- Debian has no nginx OpenTelemetry module. propagate (access phase)
-- gives the backend a traceparent that continues the client's trace
-- (trusted) or starts a new one, with nginx's span as its parent; finish
-- (log phase) queues that span when it is sampled and a collector is
-- configured; a timer per worker posts the queue in batches as OTLP/HTTP
-- JSON.
local cjson = require("cjson.safe")

local _M = {}

local random, format, lower, concat = math.random, string.format, string.lower, table.concat

-- The settings of nginx.conf's init_worker (configure).
local sampler, ratio, parent_based = "AlwaysOn", 0.01, true
local export -- {host, port, service, delay, batch, queue}; nil: no export
local default_name -- the ConfigMap's opentelemetry-operation-name; nil: the location's

-- Spans waiting for export in this worker, and how many were dropped.
local queue, dropped = {}, 0

-- hex returns n random bytes as lower-case hex (math.random is seeded per
-- worker from /dev/urandom: balancer.seed).
local function hex(n)
  local parts = {}
  for i = 1, n / 2 do
    parts[i] = format("%04x", random(0, 0xffff))
  end
  return concat(parts)
end

local zero_trace, zero_span = string.rep("0", 32), string.rep("0", 16)

-- parse returns the trace id, parent id and flags of a valid traceparent
-- of version 00 (a later version is read by its first four fields, as
-- the specification asks); nil otherwise.
function _M.parse(tp)
  if type(tp) ~= "string" then
    return nil
  end
  tp = lower(tp)
  local version, trace, span, flags = tp:match("^(%x%x)%-(%x+)%-(%x+)%-(%x%x)")
  if not version or version == "ff" or #trace ~= 32 or #span ~= 16 or trace == zero_trace or span == zero_span then
    return nil
  end
  if version == "00" and #tp ~= 55 then
    return nil
  end
  return trace, span, flags
end

-- sample is the sampler's decision for trace id trace.
local function sample(trace)
  if sampler == "AlwaysOff" then
    return false
  elseif sampler == "TraceIdRatioBased" then
    return tonumber(trace:sub(17, 24), 16) < ratio * 0x100000000
  end
  return true
end

-- next is nginx's part of the trace: the traceparent for the backend
-- (nginx's span as the parent), the trace id, the client's parent id ("" for a
-- new trace) and whether it is sampled.
function _M.next(tp, trust)
  local trace, parent, flags
  if trust then
    trace, parent, flags = _M.parse(tp)
  end
  local sampled
  if trace and parent_based then
    sampled = tonumber(flags, 16) % 2 == 1
  else
    if not trace then
      trace, parent, flags = hex(16), "", "00"
    end
    sampled = sample(trace)
    local f = tonumber(flags, 16)
    f = f - f % 2 + (sampled and 1 or 0)
    flags = format("%02x", f)
  end
  return "00-" .. trace .. "-" .. hex(8) .. "-" .. flags, trace, parent, sampled
end

-- configure takes nginx.conf's settings (init_worker): the sampler and,
-- with a collector, the export, whose timer it starts.
function _M.configure(cfg)
  sampler, ratio, parent_based = cfg.sampler or sampler, cfg.ratio or ratio, cfg.parent_based ~= false
  export = cfg.export
  default_name = cfg.name
  _M.route_locations = cfg.route_locations == true
  if export then
    local ok, err = ngx.timer.every(export.delay / 1000, _M.flush)
    if not ok then
      ngx.log(ngx.ERR, "portico: tracing: no export timer: ", err)
    end
  end
end

-- propagate sets the request's traceparent for the backend (access
-- phase, once per request) and keeps nginx's span in $portico_span for
-- finish; an untrusted or invalid incoming one is replaced and its
-- tracestate dropped.
function _M.propagate(trust)
  local incoming = ngx.req.get_headers()["traceparent"]
  if type(incoming) == "table" then
    incoming = nil -- several: none is valid
  end
  local tp, trace, parent, sampled = _M.next(incoming, trust)
  if parent == "" then
    ngx.req.clear_header("tracestate")
  end
  ngx.req.set_header("traceparent", tp)
  if export and sampled then
    ngx.var.portico_span = tp:sub(37, 52) .. parent .. trace
  end
end

local function attr(key, value)
  if type(value) == "number" then
    return { key = key, value = { intValue = format("%d", value) } }
  end
  return { key = key, value = { stringValue = value } }
end

-- nanos is seconds (ngx.now's) in nanoseconds, as OTLP's JSON string.
local function nanos(s)
  return format("%d", s * 1000) .. "000000"
end

-- The variables a span name may use (annotations.SpanNameVariables),
-- of the request var at the end of its span; the location's labels are
-- those nginx.conf's locations (or the router) set.
local span_variables = {
  request_method = function() return ngx.req.get_method() end,
  uri = function(var) return var.uri end,
  request_uri = function(var) return var.request_uri end,
  host = function(var) return var.host end,
  scheme = function(var) return var.scheme end,
  server_name = function(var)
    local s = var.portico_server
    if s == nil or s == "" then
      return var.server_name
    end
    return s
  end,
  status = function() return tostring(ngx.status) end,
  namespace = function(var) return (var.portico_ingress or ""):match("^([^/]*)/") end,
  ingress_name = function(var) return (var.portico_ingress or ""):match("/(.*)$") end,
  service_name = function(var) return (var.portico_backend or ""):match("^[^/]*/([^:]*):") end,
  location_path = function(var) return var.portico_path end,
}

-- span_name fills in the variables ($name or ${name}) of name, a span
-- name the controller checked; an unknown one stays as written.
function _M.span_name(name, var)
  return (name:gsub("%$({?)([%w_]+)(}?)", function(open, v, close)
    local f = span_variables[v]
    if not f or (open == "{") ~= (close == "}") then
      return nil
    end
    return f(var) or ""
  end))
end

-- name is the span name of a request with variables var: name with its
-- variables filled in, else location, else var.portico_location (the
-- router's), else "/".
function _M.name(name, location, var)
  if name then
    return _M.span_name(name, var)
  end
  location = location or var.portico_location
  if location == nil or location == "" then
    return "/"
  end
  return location
end

-- route_locations is true when the router names the location of each
-- request's route ($portico_location) for its span (configure).
_M.route_locations = false

-- finish queues nginx's span of a sampled request (log phase), named
-- name (the location's opentelemetry-operation-name annotation), else
-- the ConfigMap's, else after the nginx location that served it, as
-- ingress-nginx's OpenTelemetry module does: location (a server block's),
-- else the route's the router set, else "/" (no route: ingress-nginx's
-- default location).
function _M.finish(name, location)
  local v = export and ngx.var.portico_span
  if not v or v == "" then
    return
  end
  if #queue >= export.queue then
    dropped = dropped + 1
    return
  end
  local span, parent, trace = v:sub(1, 16), v:sub(17, -33), v:sub(-32)
  local status = ngx.status
  local method = ngx.req.get_method()
  name = _M.name(name or default_name, location, ngx.var)
  queue[#queue + 1] = {
    traceId = trace,
    spanId = span,
    parentSpanId = parent ~= "" and parent or nil,
    name = name,
    kind = 2, -- SERVER
    startTimeUnixNano = nanos(ngx.req.start_time()),
    endTimeUnixNano = nanos(ngx.now()),
    attributes = {
      attr("http.method", method),
      attr("http.target", ngx.var.request_uri),
      attr("http.host", ngx.var.host),
      attr("http.status_code", status),
      attr("net.peer.ip", ngx.var.remote_addr),
      attr("upstream.name", ngx.var.portico_backend),
    },
    status = { code = status >= 500 and 2 or 0 },
  }
end

-- post sends one batch; it returns an error, if any.
local function post(body)
  local sock = ngx.socket.tcp()
  sock:settimeout(2000)
  local ok, err = sock:connect(export.host, export.port)
  if not ok then
    return "connect: " .. tostring(err)
  end
  local req = "POST /v1/traces HTTP/1.1\r\nHost: " .. export.host .. ":" .. export.port
    .. "\r\nContent-Type: application/json\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body
  ok, err = sock:send(req)
  if not ok then
    sock:close()
    return "send: " .. tostring(err)
  end
  local line
  line, err = sock:receive("*l")
  sock:close()
  if not line then
    return "receive: " .. tostring(err)
  end
  local code = tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not code or code >= 300 then
    return "collector answered " .. line
  end
end

-- flush posts the queue in batches (the export timer; also when the
-- worker exits, premature, so that a reload loses no span).
function _M.flush()
  if not export then
    return
  end
  while #queue > 0 do
    local n = math.min(#queue, export.batch)
    local spans = { unpack(queue, 1, n) }
    local rest = {}
    for i = n + 1, #queue do
      rest[#rest + 1] = queue[i]
    end
    queue = rest
    local body = cjson.encode({ resourceSpans = { {
      resource = { attributes = { attr("service.name", export.service) } },
      scopeSpans = { { scope = { name = "portico" }, spans = spans } },
    } } })
    local err = post(body)
    if err then
      ngx.log(ngx.WARN, "portico: tracing: ", n, " spans not exported: ", err)
      return
    end
  end
  if dropped > 0 then
    ngx.log(ngx.WARN, "portico: tracing: ", dropped, " spans dropped (otel-max-queuesize)")
    dropped = 0
  end
end

return _M
