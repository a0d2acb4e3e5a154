-- Portico's balancer: the controller POSTs the backends (name, endpoints,
-- algorithm) as JSON to /configuration/backends on the loopback status
-- server, all of them or, after the first push, those that changed; each
-- is kept in a shared dict next to a generation counter, and a worker
-- rebuilds a backend's picker on its first request after a change.
-- Locations name their backend in $portico_backend (the Lua router hands
-- it over directly); access() answers 503 when it has no endpoint,
-- balance() picks the peer (and the next one on retries).
-- Traffic policy travels with a backend too: a canary (an alternative
-- backend chosen per request), cookie affinity and consistent hashing.
local push = require("portico.push")
local ngx_balancer = require("ngx.balancer")
local round_robin = require("portico.round_robin")
local ewma = require("portico.ewma")
local canary = require("portico.canary")
local chash = require("portico.chash")
local sticky = require("portico.sticky")

local shm = ngx.shared.portico_backends
local ngx_log, WARN, ERR = ngx.log, ngx.WARN, ngx.ERR

local _M = {}

local reply = push.reply

-- Most tries of one request. Each try allows one more, as ingress-nginx's
-- balancer does, so that nginx's proxy_next_upstream_tries caps them (a
-- request tries the other endpoints first, then the same ones again);
-- this bounds them where proxy_next_upstream_tries is 0 (no limit).
local MAX_TRIES = 100

local algorithms = { round_robin = round_robin, ewma = ewma }

-- Each backend is a document of its own in shm (push.keyed): a push after
-- the first carries only the backends that changed, and a worker builds a
-- backend on its first request after a change.
local store = push.keyed(shm, "b:")

-- Per-worker view of the shared dict: the backends built since the last
-- change, and those built before it (their pickers keep state, such as
-- EWMA scores, across changes; only the last set with traffic is kept,
-- so deleted backends do not pile up).
local backends, earlier = {}, {}

local function valid_endpoint(ep)
  return type(ep) == "table" and type(ep.address) == "string" and ep.address ~= ""
    and type(ep.port) == "number" and ep.port >= 1 and ep.port <= 65535
    and ep.port == math.floor(ep.port)
end

-- shape checks a decoded push as a whole; it returns nil or what is wrong.
local function shape(data)
  if type(data.backends) ~= "table" then
    return "want an object with a backends array"
  end
  return nil
end

-- check checks one backend; it returns nil or what is wrong.
local function check(name, b)
  if type(b) ~= "table" or b.name ~= name then
    return "has no name"
  end
  if b.endpoints ~= nil and type(b.endpoints) ~= "table" then
    return "endpoints must be an array"
  end
  for _, ep in ipairs(b.endpoints or {}) do
    if not valid_endpoint(ep) then
      return "endpoint needs an address and a port from 1 to 65535"
    end
  end
  return (b.canary ~= nil and canary.validate(b.canary))
    or (b.affinity ~= nil and sticky.validate(b.affinity))
    or (b.hashBy ~= nil and (type(b.hashBy) ~= "string" or not b.hashBy:find("$", 1, true)
      or b.hashBy:find("[^%w_%-%./:$]")) and "hashBy must be nginx variables and literal [A-Za-z0-9_-./:]")
    or (b.hashSubset ~= nil and (type(b.hashSubset) ~= "number" or b.hashSubset < 1 or b.hashSubset ~= math.floor(b.hashSubset))
      and "hashSubset must be a whole number from 1")
    or nil
end

-- build makes the worker's backend from its pushed document b.
local function build(_, b)
  local algo = algorithms[b.loadBalance] or round_robin
  local prev = earlier[b.name]
  local eps = b.endpoints or {}
  return {
    name = b.name,
    endpoints = eps,
    reason = type(b.noEndpoints) == "string" and b.noEndpoints or nil,
    picker = algo.new(eps, prev and prev.picker),
    canary = b.canary and canary.new(b.canary) or nil,
    sticky = b.affinity and sticky.new(b.affinity, eps) or nil,
    hash_by = b.hashBy,
    ring = b.hashBy and chash.new(eps, b.hashSubset) or nil,
  }
end

-- sync drops this worker's built backends when the shared dict changed.
local generation = nil
local function sync()
  local gen = shm:get("generation")
  if gen ~= generation then
    if next(backends) ~= nil then
      earlier = backends
    end
    backends, generation = {}, gen
  end
end
_M.sync = sync

-- entry returns the backend name, built on first use since the last
-- change; nil when nginx does not hold it.
local function entry(name)
  return store.entry(backends, name, build)
end

-- configure serves /configuration/backends: GET returns what nginx holds
-- (sorted by name), POST replaces it, POST ?base=N patches it (push.keyed:
-- a backend that fails check is refused alone).
function _M.configure()
  local method = ngx.req.get_method()
  if method == "GET" then
    local list = {}
    for _, b in pairs(store.all()) do
      if type(b.endpoints) == "table" and next(b.endpoints) == nil then
        -- cjson writes an empty table as {}, which readers of a list
        -- refuse; an absent list means none, as in a push.
        local c = {}
        for k, v in pairs(b) do
          c[k] = v
        end
        c.endpoints = nil
        b = c
      end
      list[#list + 1] = b
    end
    table.sort(list, function(a, b)
      return a.name < b.name
    end)
    if #list == 0 then
      -- cjson would encode the empty list as an object.
      ngx.header["Content-Type"] = "application/json"
      ngx.header["X-Portico-Generation"] = tostring(store.generation())
      ngx.say('{"backends":[]}')
      return ngx.exit(ngx.HTTP_OK)
    end
    return store.answer_get({ backends = list })
  end
  if method ~= "POST" then
    return reply(ngx.HTTP_NOT_ALLOWED, "use GET or POST")
  end
  return store.post(shape, function(data)
    return push.by_name(data.backends)
  end, check)
end

-- pin picks a new endpoint of sticky backend b, not one of tried, and
-- sets the cookie that pins the client to it. The cookie's Path, unless
-- the settings name one, is the Ingress path of the request's route, or
-- of its static location ($portico_path).
local function pin(b, tried)
  local ep, key = b.sticky:pick(b.picker, tried)
  if not ep then
    return b.picker:pick(tried)
  end
  local var = ngx.var
  local route = ngx.ctx.portico_route
  local path = route and route.ingressPath
  if not path and not b.sticky.settings.path then
    path = var.portico_path
  end
  ngx.header["Set-Cookie"] = b.sticky:cookie(key, ngx.time(), var.scheme == "https", var.http_user_agent,
    path ~= "" and path or nil)
  return ep
end

-- unavailable hands a request whose backend has no endpoint to the
-- default backend d (the default-backend annotation: backend, and the
-- namespace, ingress, service and port it is told of), as ingress-nginx
-- does: the request goes unchanged, with X-Code 503, X-Format (the
-- client's Accept) and the names. It returns d's backend, or nil when d
-- has no endpoint either.
local function unavailable(d)
  local b = entry(d.backend)
  if not b or #b.endpoints == 0 then
    return nil
  end
  local set = ngx.req.set_header
  set("X-Code", "503")
  set("X-Format", ngx.var.http_accept)
  set("X-Namespace", d.namespace)
  set("X-Ingress-Name", d.ingress)
  set("X-Service-Name", d.service)
  set("X-Service-Port", d.port)
  return b
end

-- access runs before proxying: it finds the backend (name, else the
-- location's $portico_backend) and answers 503, naming the cause, when no
-- endpoint can take the request and no default backend (default, else
-- the route's) can. route, when given, is the Lua router's route: its
-- timeouts ({connect, send, read}, nil for nginx.conf's) are set for the
-- request, its metrics labels kept for the log phase.
function _M.access(name, route, default)
  sync()
  local ctx = ngx.ctx
  if route then
    ctx.portico_route = route
  end
  name = name or ngx.var.portico_backend
  local b = entry(name)
  if not b then
    ngx_log(WARN, "portico: backend ", name, " is not known to nginx yet")
    return reply(ngx.HTTP_SERVICE_UNAVAILABLE, "503 Service Unavailable: backend " .. name .. " is not configured yet")
  end
  if b.canary then
    local alt = entry(b.canary.backend)
    -- A client the main backend pinned stays there; one the canary
    -- pinned stays on the canary; the others are shaped by header,
    -- cookie and weight, as ingress-nginx does. A canary without
    -- endpoints leaves the request on the main backend.
    local use
    if b.sticky and b.sticky:affinitized() then
      use = false
    elseif alt and alt.sticky and alt.sticky:affinitized() then
      use = true
    else
      use = b.canary:use()
    end
    if use and alt and #alt.endpoints > 0 then
      b = alt
      -- The metrics' canary label.
      ctx.portico_canary = alt.name
    end
  end
  if #b.endpoints == 0 then
    default = default or route and route.defaultBackend
    local d = default and unavailable(default)
    if not d then
      local why = b.reason or ("backend " .. name .. " has no endpoints")
      ngx_log(WARN, "portico: ", why)
      return reply(ngx.HTTP_SERVICE_UNAVAILABLE, "503 Service Unavailable: " .. why)
    end
    b = d
  end
  ctx.portico_backend = b
  -- Affinity first, then hashing, as ingress-nginx picks its balancer.
  if b.sticky then
    local ep = b.sticky:find()
    if not ep then
      ep = pin(b, {})
    end
    ctx.portico_first = ep
  elseif b.ring then
    ctx.portico_hash_key = chash.key(b.hash_by)
    ctx.portico_first = b.ring:pick(ctx.portico_hash_key, {})
  end
end

-- NONE is the endpoints a first try has tried: pickers only read it.
local NONE = setmetatable({}, { __newindex = function()
  error("portico: NONE is read-only")
end })

-- retried returns the endpoints of eps that tried (endpoints of an
-- earlier build) holds, by address and port, as a tried table for eps.
local function retried(tried, eps)
  local seen = {}
  for ep in pairs(tried) do
    seen[ep.address .. ":" .. ep.port] = true
  end
  local out = {}
  for _, ep in ipairs(eps) do
    if seen[ep.address .. ":" .. ep.port] then
      out[ep] = true
    end
  end
  return out
end

-- balance runs in balancer_by_lua for every try of a request.
function _M.balance()
  local ctx = ngx.ctx
  local b = ctx.portico_backend
  if not b then
    ngx_log(ERR, "portico: balancer called without a backend")
    return ngx.exit(ngx.ERROR)
  end
  -- The endpoints tried: none on the first try (no table made for the
  -- requests that need no retry), then a table from the second.
  local first, tried = ctx.portico_tried_first, NONE
  if not first then
    ngx_balancer.set_more_tries(1)
    local t = ctx.portico_route and ctx.portico_route.timeouts
    if t then
      local ok, err = ngx_balancer.set_timeouts(t[1], t[2], t[3])
      if not ok then
        ngx_log(ERR, "portico: cannot set timeouts: ", err)
      end
    end
  else
    tried = ctx.portico_tried
    if not tried then
      tried = { [first] = true }
      ctx.portico_tried = tried
    end
    local tries = (ctx.portico_tries or 1) + 1
    ctx.portico_tries = tries
    if tries < MAX_TRIES then
      ngx_balancer.set_more_tries(1)
    end
    -- A retry goes to the endpoints nginx holds now: the one that failed
    -- may be a pod that stopped after its endpoint was removed, and the
    -- others of the first try's list may have stopped with it.
    sync()
    local now = entry(b.name)
    if now and now ~= b and #now.endpoints > 0 then
      tried = retried(tried, now.endpoints)
      ctx.portico_tried, ctx.portico_backend, b = tried, now, now
    end
  end
  local ep
  if not first and ctx.portico_first then
    ep = ctx.portico_first
  elseif b.sticky then
    -- A retry stays on the client's endpoint, as ingress-nginx's does,
    -- unless session-cookie-change-on-failure moves the client to
    -- another, with a new cookie (or the endpoint went).
    ep = b.sticky:find()
    if not ep or b.sticky.settings.changeOnFailure then
      ep = pin(b, tried)
    end
  elseif b.ring then
    ep = b.ring:pick(ctx.portico_hash_key, tried)
  else
    ep = b.picker:pick(tried)
  end
  if first then
    tried[ep] = true
  else
    ctx.portico_tried_first = ep
  end
  local ok, err = ngx_balancer.set_current_peer(ep.address, ep.port)
  if not ok then
    ngx_log(ERR, "portico: cannot set peer ", ep.address, ":", ep.port, ": ", err)
    return ngx.exit(ngx.ERROR)
  end
end

-- observe feeds the response time of the request whose ngx.ctx is ctx
-- back to algorithms that use it.
function _M.observe(ctx)
  local b = ctx.portico_backend
  if b and b.picker.observe then
    b.picker:observe(ngx.var.upstream_addr, ngx.var.upstream_response_time)
  end
end

-- log runs in the log phase of static locations.
function _M.log()
  return _M.observe(ngx.ctx)
end

local format, random = string.format, math.random

-- A worker's request ids: a random prefix of its own, then a counter.
local id_prefix, id_count = "0000000000000000", 0

-- seed seeds math.random (canary weights) per worker from /dev/urandom,
-- then draws the worker's request id prefix: two workers, or two
-- replicas whose workers have the same pid, must not share either.
function _M.seed()
  local seed = ngx.now() * 1000 + ngx.worker.pid()
  local f = io.open("/dev/urandom", "rb")
  if f then
    local b = f:read(6)
    f:close()
    if b and #b == 6 then
      local n = 0
      for i = 1, 6 do
        n = n * 256 + b:byte(i)
      end
      seed = n
    end
  end
  math.randomseed(seed)
  id_prefix = format("%08x%08x", random(0, 0xffffffff), random(0, 0xffffffff))
end

-- request_id makes an X-Request-ID that looks like nginx's $request_id,
-- 32 hex digits: the worker's random 64-bit prefix and a count. Unique,
-- not unpredictable (a client may send any X-Request-ID anyway); a tenth
-- of the cost of four random numbers formatted.
function _M.request_id()
  id_count = id_count + 1
  return format("%s%016x", id_prefix, id_count)
end

-- access_making_id is access for locations of servers without a
-- set_by_lua: it makes the request's X-Request-ID ($portico_generated_id)
-- first, in the phase the location runs anyway; default is access's.
function _M.access_making_id(default)
  ngx.var.portico_generated_id = _M.request_id()
  return _M.access(nil, nil, default)
end

-- backends returns this worker's view of every backend, for tests.
function _M.backends()
  sync()
  for name, data in pairs(store.all()) do
    if not backends[name] then
      backends[name] = build(name, data)
    end
  end
  return backends
end

return _M
