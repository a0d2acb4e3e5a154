-- Portico's router: the hosts that need nothing but path matching and a
-- backend have no server block; the controller POSTs their routes as JSON
-- to /configuration/routes. The catch-all server hands every request to
-- route() or, when it keeps locations of its own, these claim() the
-- requests for the hosts in the table and hand them to route(). Matching
-- is nginx's: the host's exact route equal to the URI, else its longest
-- prefix route; a host not in the table uses the rules without a host
-- (key ""). route() sets the variables a static location sets for the
-- access log ($portico_backend; $portico_server, $portico_ingress and
-- $portico_path when the log names them) and hands the backend and the
-- route (its metrics labels, its timeouts) to the balancer directly, so
-- that no request reads them back.
local push = require("portico.push")
local metrics = require("portico.metrics")
local balancer = require("portico.balancer")

local shm = ngx.shared.portico_routes

local _M = {}

-- Per-worker view of the shared dict.
local hosts, hsts = {}, ""

local function opt(v, t)
  return v == nil or type(v) == t
end

local function seconds(v)
  return v == nil or (type(v) == "number" and v >= 0 and v == math.floor(v))
end

-- validate checks a decoded push; it returns nil or what is wrong.
local function validate(data)
  if type(data) ~= "table" or type(data.hosts) ~= "table" or not opt(data.hsts, "string") then
    return "want an object with a hosts map"
  end
  for host, h in pairs(data.hosts) do
    if type(host) ~= "string" or type(h) ~= "table" or type(h.routes) ~= "table" or not opt(h.hsts, "boolean") then
      return "host " .. tostring(host) .. " needs a routes array"
    end
    for i, r in ipairs(h.routes) do
      if type(r) ~= "table" or type(r.path) ~= "string" or r.path:sub(1, 1) ~= "/"
        or not opt(r.exact, "boolean") or not opt(r.backend, "string") or not opt(r.ingress, "string")
        or not opt(r.ingressPath, "string") or not opt(r.sslRedirect, "boolean")
        or not seconds(r.connectTimeout) or not seconds(r.sendTimeout) or not seconds(r.readTimeout) then
        return "host " .. host .. ": route " .. i .. " needs a path starting with / and typed fields"
      end
    end
  end
  return nil
end

-- nonzero is v, or nil for 0 (nginx.conf's value).
local function nonzero(v)
  if v ~= 0 then
    return v
  end
end

-- build indexes each host's routes: exact ones by path, prefix ones
-- longest first; each route with a backend gets its metrics labels and
-- its timeouts for the balancer.
local function build(data)
  local out = {}
  for host, h in pairs(data.hosts) do
    local exact, prefixes = {}, {}
    for _, r in ipairs(h.routes) do
      if r.backend then
        r.labels = metrics.labels(r.ingressPath and r.ingress or "", host, r.ingressPath or "", r.backend)
      end
      if nonzero(r.connectTimeout) or nonzero(r.sendTimeout) or nonzero(r.readTimeout) then
        r.timeouts = { nonzero(r.connectTimeout), nonzero(r.sendTimeout), nonzero(r.readTimeout) }
      end
      if r.exact then
        exact[r.path] = r
      else
        prefixes[#prefixes + 1] = r
      end
    end
    table.sort(prefixes, function(a, b)
      return #a.path > #b.path
    end)
    out[host] = { hsts = h.hsts, exact = exact, prefixes = prefixes }
  end
  return out
end

local sync = push.follower(shm, "routes", function(data)
  hosts, hsts = build(data), data.hsts or ""
end)

-- lookup returns the table key that serves host ("" for the rules without
-- a host), its entry and the route for uri; the route is nil when none
-- matches, the entry too when there are no routes at all.
function _M.lookup(host, uri)
  sync()
  local key = host
  local h = hosts[key]
  if not h then
    key = ""
    h = hosts[key]
    if not h then
      return nil
    end
  end
  local r = h.exact[uri]
  if r then
    return key, h, r
  end
  -- A numeric loop: LuaJIT runs ipairs with an early exit here at ~13,000
  -- more instructions a request (callgrind).
  local prefixes = h.prefixes
  for i = 1, #prefixes do
    local p = prefixes[i]
    if uri:sub(1, #p.path) == p.path then
      return key, h, p
    end
  end
  return key, h, nil
end

-- claim runs first in each location of the catch-all server when that
-- server keeps locations of its own (rewrite_by_lua_no_postpone): a
-- request for a host in the table goes to the router's named location
-- before the location's rewrites, redirects, limits or auth run, with
-- its URI untouched. Other requests go on through the location.
function _M.claim()
  sync()
  local host = ngx.var.host
  if host ~= "" and hosts[host] then
    return ngx.exec("@portico_router")
  end
end

-- route runs in the access phase of the catch-all server; suffix is the
-- HTTPS port suffix of redirects (":8443", or "" for 443). It answers 404
-- for what no route serves and 308 for plain HTTP on ssl-redirect routes,
-- as a static location does. It sets $portico_backend, and with
-- log_labels $portico_server, $portico_ingress and $portico_path too
-- (each variable write costs a request ~500 instructions; the controller
-- asks for them when the access log names them).
function _M.route(suffix, log_labels)
  local var = ngx.var
  local host = var.host
  local key, h, r = _M.lookup(host, var.uri)
  if not h then
    return ngx.exit(ngx.HTTP_NOT_FOUND)
  end
  if log_labels then
    var.portico_server = key
  end
  if h.hsts and var.scheme == "https" then
    var.portico_route_hsts = hsts
  end
  if not r then
    return ngx.exit(ngx.HTTP_NOT_FOUND)
  end
  if r.sslRedirect and var.scheme == "http" then
    return ngx.redirect("https://" .. host .. suffix .. var.request_uri, 308)
  end
  if not r.backend then
    return ngx.exit(ngx.HTTP_NOT_FOUND)
  end
  var.portico_backend = r.backend
  if log_labels and r.ingressPath then
    var.portico_ingress = r.ingress
    var.portico_path = r.ingressPath
  end
  return balancer.access(r.backend, r)
end

-- log counts proxied requests only, as static locations do.
function _M.log()
  local ctx = ngx.ctx
  local r = ctx.portico_route
  if r then
    balancer.observe(ctx)
    metrics.observe(r.labels, ngx.status, metrics.elapsed())
  end
end

-- configure serves /configuration/routes: GET returns what nginx holds,
-- POST replaces it.
function _M.configure()
  return push.serve(shm, "routes", '{"hosts":{}}', validate)
end

return _M
