-- Portico's router: the hosts without a snippet have no server block; the
-- controller POSTs their routes as JSON to /configuration/routes. The
-- catch-all server hands every request to route(). Matching is nginx's:
-- the host's exact route equal to the URI, else its first regex route
-- (case-insensitive, in the pushed order) that matches, else its longest
-- prefix route. A host not in the table uses the wildcard one label above
-- it ("*.example.com" for a.example.com, as the Ingress API matches one
-- label), else the rules without a host (key ""); the Go matcher of
-- pkg/model/match.go is the same, and both are tested on the cases of
-- pkg/model/testdata/match.json. A host's app-root
-- redirects "/" first. A route then does what a static location would,
-- in its order (route() says which): location settings and body limit,
-- redirects, CORS, source range, URI rewrite as "rewrite ... break",
-- X-Forwarded-Prefix, Host and upstream. route() sets the
-- variables a static location sets for the access log ($portico_backend;
-- $portico_server, $portico_ingress and $portico_path when the log names
-- them), makes the X-Request-ID ($portico_generated_id) when
-- request_ids() asked, and hands the backend and the route (its metrics
-- labels, its timeouts) to the balancer directly, so that no request
-- reads them back.
--
-- Storage: each host's routes are a JSON document of their own in the
-- shared dict (key "h:" .. host, "h:" for the rules without a host), so a
-- push may carry only the hosts that changed (a patch on the generation
-- the controller last saw), and a worker decodes a host when a request
-- for it first comes after a change, not the whole table on every change.
local push = require("portico.push")
local reply = push.reply
local metrics = require("portico.metrics")
local balancer = require("portico.balancer")
local tracing = require("portico.tracing")
local cidr = require("portico.cidr")

local shm = ngx.shared.portico_routes
local re_find, re_match = ngx.re.find, ngx.re.match
local set_uri, set_header = ngx.req.set_uri, ngx.req.set_header
local ngx_log, NOTICE = ngx.log, ngx.NOTICE

local _M = {}

-- Per-worker view of the shared dict: the hosts decoded since the last
-- change (only hosts the table holds: a request's Host is not a key
-- until then), the HSTS header, and the status of the redirects to HTTPS
-- and to a host's twin (http-redirect-code).
local hosts, hsts, redirect_code = {}, "", 308

local store = push.keyed(shm, "h:")

local function opt(v, t)
  return v == nil or type(v) == t
end

-- whole reports whether v is absent or a whole number from 0 (seconds,
-- bytes).
local function whole(v)
  return v == nil or (type(v) == "number" and v >= 0 and v == math.floor(v))
end

local redirect_codes = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }
local https_redirect_codes = { [301] = true, [302] = true, [307] = true, [308] = true }

-- The methods an auth subrequest may use (auth-method).
local auth_methods = {
  GET = true, HEAD = true, POST = true, PUT = true, PATCH = true, DELETE = true, CONNECT = true, OPTIONS = true, TRACE = true,
}

-- The variables a mirror target may name (mirror-target): the parts of
-- the request's URI.
local mirror_variables = { request_uri = true, is_args = true, args = true, query_string = true }

-- mirror_target_ok reports whether every '$' of target t starts the name
-- of one of mirror_variables.
local function mirror_target_ok(t)
  local rest = t:gsub("%$([%a_]+)", function(name)
    if mirror_variables[name] then
      return ""
    end
  end)
  return not rest:find("$", 1, true)
end

-- mirror_target is target t with its variables replaced by the request's
-- (var), as nginx would expand them in the mirror's subrequest.
local function mirror_target(t, var)
  return (t:gsub("%$([%a_]+)", function(name)
    return var[name] or ""
  end))
end

-- header_value reports whether v is absent or a string fit for a response
-- header (no control characters).
local function header_value(v)
  return v == nil or type(v) == "string" and not v:find("%c")
end

-- validate_cors checks a route's CORS policy; nil or what is wrong.
local function validate_cors(c)
  if type(c) ~= "table" or not opt(c.anyOrigin, "boolean") or not opt(c.credentials, "boolean")
    or not header_value(c.methods) or not header_value(c.headers) or not header_value(c.exposeHeaders)
    or not whole(c.maxAge) or not opt(c.originRegex, "string") then
    return "want typed fields"
  end
  if not c.anyOrigin then
    if not c.originRegex then
      return "want anyOrigin or an originRegex"
    end
    local _, _, err = re_find("", c.originRegex, "joi")
    if err then
      return err
    end
  end
  return nil
end

-- validate_host checks one host's entry; it returns nil or what is wrong.
local function validate_host(host, h)
  if type(host) ~= "string" or type(h) ~= "table" or type(h.routes) ~= "table" or not opt(h.hsts, "boolean") then
    return "host " .. tostring(host) .. " needs a routes array"
  end
  if h.appRoot ~= nil and (type(h.appRoot) ~= "string" or not h.appRoot:find("^/[%w%-%._~/!&()*+,=:@]*$")) then
    return "host " .. host .. ": appRoot needs a path of letters, digits and -._~/!&()*+,=:@"
  end
  if h.redirectTo ~= nil and (type(h.redirectTo) ~= "string" or not h.redirectTo:find("^[%w][%w%.%-]*$")) then
    return "host " .. host .. ": redirectTo needs a host name"
  end
  for i, r in ipairs(h.routes) do
    if type(r) ~= "table" or type(r.path) ~= "string" or r.path:sub(1, r.regex and 2 or 1) ~= (r.regex and "^/" or "/")
      or not opt(r.exact, "boolean") or not opt(r.regex, "boolean")
      or not opt(r.rewriteTarget, "string") or (r.rewriteTarget and r.rewriteTarget:sub(1, 1) ~= "/")
      or not opt(r.rewriteLog, "boolean")
      or not opt(r.forwardedPrefix, "string")
      or not opt(r.backend, "string") or not opt(r.ingress, "string")
      or not opt(r.ingressPath, "string") or not opt(r.sslRedirect, "boolean")
      or not opt(r.sslRedirectPort, "boolean") or not opt(r.sslRedirectSlash, "boolean")
      or not opt(r.passHTTPSOnly, "boolean") or not opt(r.satisfyAny, "boolean")
      or not opt(r.redirectPort, "boolean") or not opt(r.redirectRelative, "boolean")
      or not whole(r.connectTimeout) or not whole(r.sendTimeout) or not whole(r.readTimeout)
      or not whole(r.bodyLimit)
      or r.location ~= nil and (type(r.location) ~= "string" or not r.location:find("^@portico_proxy_%x+$")) then
      return "host " .. host .. ": route " .. i .. " needs a path starting with / (^/ for a regex) and typed fields"
    end
    local rd = r.redirect
    if rd ~= nil and (type(rd) ~= "table" or not redirect_codes[rd.code]
      or type(rd.url) ~= "string" or not rd.url:find("^https?://[^%c%s]+$") and not rd.url:find("^/[^%c%s]*$")) then
      return "host " .. host .. ": route " .. i .. ": redirect needs a code (301, 302, 303, 307, 308) and an http(s) URL or a path"
    end
    local m = r.mirror
    if m ~= nil and (type(m) ~= "table" or r.location == nil or type(m.target) ~= "string"
      or not m.target:find("^https?://[^%c%s\"]+$") or not mirror_target_ok(m.target)
      or type(m.host) ~= "string" or not m.host:find("^[%w][%w%.%-]*$") and not m.host:find("^[%w][%w%.%-]*:%d+$")) then
      return "host " .. host .. ": route " .. i .. ": mirror needs an http(s) target whose only variables are $request_uri, "
        .. "$is_args, $args and $query_string, a host name and the route's location"
    end
    local vhost = r.upstreamVhost
    if vhost ~= nil and (type(vhost) ~= "string" or not vhost:find("^[%w][%w%.%-]*$") and not vhost:find("^[%w][%w%.%-]*:%d+$")) then
      return "host " .. host .. ": route " .. i .. ": upstreamVhost needs a host name, optionally with :port"
    end
    if r.pass ~= nil and (type(r.pass) ~= "string" or not r.pass:find("^https?://portico_balancer[%w_]*$")) then
      return "host " .. host .. ": route " .. i .. ": pass needs an upstream of nginx.conf"
    end
    local bad = r.cors ~= nil and validate_cors(r.cors)
    if bad then
      return "host " .. host .. ": route " .. i .. ": cors: " .. bad
    end
    local e = r.errors
    if e ~= nil and (type(e) ~= "table" or r.location == nil) then
      return "host " .. host .. ": route " .. i .. ": errors need the route's location"
    end
    for field, t in pairs({ errors = e, defaultBackend = r.defaultBackend }) do
      if type(t) ~= "table" then
        return "host " .. host .. ": route " .. i .. ": " .. field .. " must be an object"
      end
      for _, k in ipairs({ "backend", "namespace", "ingress", "service", "port" }) do
        if type(t[k]) ~= "string" or not t[k]:find("^[%w%._:/@+%-]+$") then
          return "host " .. host .. ": route " .. i .. ": " .. field .. "." .. k .. " must be a name"
        end
      end
    end
    local a = r.auth
    if a ~= nil and (type(a) ~= "table" or r.location == nil or type(a.url) ~= "string" or not a.url:find("^https?://[^%c%s\"]+$")
      or type(a.host) ~= "string" or not a.host:find("^[%w%.%-:%[%]]+$") or not auth_methods[a.method]
      or a.cacheScope ~= nil and (type(a.cacheScope) ~= "string" or not a.cacheScope:find("^%x+$"))
      or a.signin ~= nil and (type(a.signin) ~= "string" or not a.signin:find("^https?://[^%c%s\"$]+$"))
      or a.signinRD ~= nil and a.signinRD ~= "request-uri" and a.signinRD ~= "none") then
      return "host " .. host .. ": route " .. i .. ": auth needs an http(s) url, a host, a method, a hex cacheScope or none, "
        .. "an http(s) signin or none, signinRD request-uri, none or unset, and the route's location"
    end
    local ba = r.basicAuth
    if ba ~= nil and (type(ba) ~= "table" or r.location == nil or type(ba.realm) ~= "string"
      or not ba.realm:find("^[%w _.,:/@()!&*+=-]+$") or type(ba.file) ~= "string" or not ba.file:find("^[%w][%w._-]*$")) then
      return "host " .. host .. ": route " .. i .. ": basicAuth needs a realm, a file name and the route's location"
    end
    local rl = r.rateLimit
    if rl ~= nil then
      if type(rl) ~= "table" or type(rl.scope) ~= "string" or not rl.scope:find("^%x+$") or r.location == nil then
        return "host " .. host .. ": route " .. i .. ": rateLimit needs a hex scope and the route's location"
      end
      local _, err = cidr.compile(rl.allowlist or {})
      if err then
        return "host " .. host .. ": route " .. i .. ": rateLimit: " .. err
      end
    end
    local sr = r.sourceRange
    if sr ~= nil then
      if type(sr) ~= "table" or sr.allow == nil and sr.deny == nil then
        return "host " .. host .. ": route " .. i .. ": sourceRange needs allow or deny"
      end
      for _, list in ipairs({ sr.allow or {}, sr.deny or {} }) do
        local _, err = cidr.compile(list)
        if err then
          return "host " .. host .. ": route " .. i .. ": sourceRange: " .. err
        end
      end
    end
    if r.regex then
      local _, _, err = re_find("/", r.path, "joi")
      if err then
        return "host " .. host .. ": route " .. i .. ": " .. err
      end
    end
  end
  return nil
end

-- shape checks a decoded push (a patch may name deleted hosts) as a
-- whole; it returns nil or what is wrong.
local function shape(data)
  if type(data.hosts) ~= "table" or not opt(data.hsts, "string") then
    return "want an object with a hosts map"
  end
  if data.redirectCode ~= nil and not https_redirect_codes[data.redirectCode] then
    return "redirectCode must be 301, 302, 307 or 308"
  end
  return nil
end

-- nonzero is v, or nil for 0 (nginx.conf's value).
local function nonzero(v)
  if v ~= 0 then
    return v
  end
end

-- build_host indexes a host's routes: exact ones by path, regex ones in
-- their pushed order, prefix ones longest first; each route with a backend
-- gets its metrics labels and its timeouts for the balancer.
local function build_host(host, h)
  local exact, prefixes, regexes = {}, {}, {}
  for _, r in ipairs(h.routes) do
    if r.backend then
      r.labels = metrics.labels(r.ingressPath and r.ingress or "", host, r.ingressPath or "", r.backend)
    end
    if nonzero(r.connectTimeout) or nonzero(r.sendTimeout) or nonzero(r.readTimeout) then
      r.timeouts = { nonzero(r.connectTimeout), nonzero(r.sendTimeout), nonzero(r.readTimeout) }
    end
    r.captures = r.rewriteTarget and r.rewriteTarget:find("$", 1, true) ~= nil
    local sr = r.sourceRange
    if sr then
      r.allow = sr.allow and cidr.compile(sr.allow)
      r.deny = sr.deny and cidr.compile(sr.deny)
    end
    local rl = r.rateLimit
    if rl then
      r.limit_scope = rl.scope
      r.limit_exempt = rl.allowlist and cidr.compile(rl.allowlist)
    end
    if r.exact then
      exact[r.path] = r
    elseif r.regex then
      regexes[#regexes + 1] = r
    else
      prefixes[#prefixes + 1] = r
    end
  end
  table.sort(prefixes, function(a, b)
    return #a.path > #b.path
  end)
  return { hsts = h.hsts, app_root = h.appRoot, redirect_to = h.redirectTo, exact = exact, prefixes = prefixes, regexes = regexes }
end

-- Names the table does not hold, as this worker found since the last
-- change: a request for a host without routes of its own (an address, a
-- name under no wildcard) would read the shared dict twice for them.
-- At most MAX_MISSES, so that random Host headers cannot grow it.
local misses, nmisses = {}, 0
local MAX_MISSES = 1024

-- sync drops this worker's decoded hosts and misses when the shared dict
-- changed.
local generation = nil
local function sync()
  local gen = shm:get("generation")
  if gen ~= generation then
    hosts, hsts, generation = {}, shm:get("hsts") or "", gen
    redirect_code = shm:get("redirect_code") or 308
    misses, nmisses = {}, 0
  end
end

-- entry returns host's routes, decoding them on first use since the last
-- change; nil when the table does not hold host.
local function entry(host)
  if misses[host] then
    return nil
  end
  local h = store.entry(hosts, host, build_host)
  if not h and nmisses < MAX_MISSES then
    misses[host], nmisses = true, nmisses + 1
  end
  return h
end

-- find returns the table key that serves host (its own, its wildcard's,
-- or "" for the rules without a host) and its entry; nil when none does.
local function find(host)
  local h = entry(host)
  if h then
    return host, h
  end
  local dot = host:find(".", 1, true)
  if dot and dot > 1 then
    local key = "*" .. host:sub(dot)
    h = entry(key)
    if h then
      return key, h
    end
  end
  h = entry("")
  if h then
    return "", h
  end
  return nil
end

-- lookup returns the table key that serves host (see find), its entry
-- and the route for uri; the route is nil when none matches, the entry
-- too when there are no routes at all.
function _M.lookup(host, uri)
  sync()
  local key, h = find(host)
  if not h then
    return nil
  end
  local r = h.exact[uri]
  if r then
    return key, h, r
  end
  local regexes = h.regexes
  for i = 1, #regexes do
    local x = regexes[i]
    if re_find(uri, x.path, "joi") then
      return key, h, x
    end
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

-- rewrite replaces the URI with r's target, its $1..$9 taken from r's
-- regex match of uri (an unmatched group is empty), as nginx's rewrite
-- does; the query string stays. With r.rewriteLog (enable-rewrite-log)
-- it writes the two notices nginx's rewrite_log writes for the
-- rewrite ... break of a server block (pkg/plan rewritePattern).
local function rewrite(r, uri)
  local target = r.rewriteTarget
  if r.captures then
    local m = re_match(uri, r.path, "joi") or {}
    target = target:gsub("%$(%d)", function(d)
      return m[tonumber(d)] or ""
    end)
  end
  if r.rewriteLog then
    ngx_log(NOTICE, '"', r.regex and "(?i)" .. r.path or "^", '" matches "', uri, '"')
    ngx_log(NOTICE, 'rewritten data: "', target, '", args: "', ngx.var.args or "", '"')
  end
  set_uri(target)
end

-- Request body limits in bytes, 0 for none (nginx.conf sets them on
-- load): the limit of routes without their own, the limits with a named
-- location @portico_body_<bytes>, and the named locations
-- @portico_proxy_<hash> of routes with proxy settings nginx applies per
-- location (a route names its own).
local body_global, body_named, proxied = nil, {}, {}

function _M.body_limits(global, named, locations)
  body_global, body_named, proxied = global, named, locations or {}
end

-- Whether route() makes $portico_generated_id for the requests it
-- proxies (nginx.conf says so on load, when no set_by_lua makes it).
local make_ids = false
local request_id = balancer.request_id

function _M.request_ids(on)
  make_ids = on
end

-- over reports whether a Content-Length (nil: none) is above limit (0:
-- none).
local function over(length, limit)
  return length ~= nil and limit ~= 0 and tonumber(length) > limit
end

-- body applies a route's body limit to a request that arrived in a
-- router location whose own limit differs; nginx has checked a
-- Content-Length against that one. It returns 413 for a Content-Length
-- above limit, as nginx would answer in the route's location, and the
-- location of limit for a body without one (chunked, or HTTP/2), where
-- nginx counts the body as it reads it; else nil. A GET or HEAD without
-- Transfer-Encoding has no body. Between a push and the reload that adds
-- a new limit's location, it returns 503: nginx.conf cannot read such a
-- body against that limit yet.
local function body(var, limit)
  local length = var.http_content_length
  if length then
    return over(length, limit) and 413 or nil
  end
  local method = var.request_method
  if var.http_transfer_encoding or method ~= "GET" and method ~= "HEAD" then
    return body_named[limit] and "@portico_body_" .. limit or 503
  end
  return nil
end

-- not_yet answers a route that needs a location nginx.conf does not have
-- yet: it was pushed before the reload that adds it.
local function not_yet()
  return reply(ngx.HTTP_SERVICE_UNAVAILABLE, "503 Service Unavailable: this route is not configured yet (nginx is reloading)")
end

-- settled checks a request for route r, whose proxy settings nginx
-- applies in r.location, which has r's body limit too: 413 for a
-- Content-Length above limit, as in body(); 503 between a push and the
-- reload that adds the location; else nil.
local function settled(var, r, limit)
  if over(var.http_content_length, limit) then
    return 413
  end
  if not proxied[r.location] then
    return 503
  end
  return nil
end

-- allowed reports whether the client may use route r: its address is on
-- no deny list, and on the allow list if r has one (an IPv4-mapped IPv6
-- address counts as IPv4), as nginx's deny and allow decide.
local function allowed(r)
  local addr = cidr.address(ngx.var.binary_remote_addr)
  if r.deny and cidr.contains(r.deny, addr) then
    return false
  end
  return not r.allow or cidr.contains(r.allow, addr)
end

-- cors sets route r's CORS headers on the answer, whatever it will be
-- (as add_header ... always does), and answers a preflight (OPTIONS) 204;
-- an Origin the policy does not list gets no Access-Control-Allow-Origin.
local function cors(var, c)
  local h = ngx.header
  local origin = "*"
  if not c.anyOrigin then
    origin = var.http_origin
    if origin and not re_find(origin, c.originRegex, "joi") then
      origin = nil
    end
  end
  h["Access-Control-Allow-Origin"] = origin
  if c.credentials then
    h["Access-Control-Allow-Credentials"] = "true"
  end
  h["Vary"] = "Origin"
  if var.request_method == "OPTIONS" then
    h["Access-Control-Allow-Methods"] = c.methods
    h["Access-Control-Allow-Headers"] = c.headers
    h["Access-Control-Max-Age"] = c.maxAge
    return true
  end
  if c.exposeHeaders then
    h["Access-Control-Expose-Headers"] = c.exposeHeaders
  end
  return false
end

-- absolute is the Location of route r's redirect to url: a path made
-- absolute with the request's scheme and host, and its port with
-- use-port-in-redirects unless the scheme's own, as nginx completes one
-- (port_in_redirect, absolute_redirect); relative with
-- relative-redirects.
local function absolute(r, var, host, url)
  if url:byte(1) ~= 47 or r.redirectRelative then -- '/'
    return url
  end
  local scheme, port = var.scheme, ""
  if r.redirectPort then
    local p = var.server_port
    if not (scheme == "http" and p == "80" or scheme == "https" and p == "443") then
      port = ":" .. p
    end
  end
  return scheme .. "://" .. host .. port .. url
end

-- https_url is where route r sends plain HTTP (ssl-redirect), as
-- ingress-nginx writes it: the host without a port, or with the HTTPS
-- port suffix (":443") with use-port-in-redirects, and the request URI
-- uri without one trailing '/' unless preserve-trailing-slash.
local function https_url(r, host, suffix, uri)
  if not r.sslRedirectSlash and uri:byte(-1) == 47 then -- '/'
    uri = uri:sub(1, -2)
  end
  return "https://" .. host .. (r.sslRedirectPort and suffix or "") .. uri
end

-- unrouted answers 404 for what no route serves, in the location
-- not_found when set.
local function unrouted(not_found)
  if not_found then
    return ngx.exec(not_found)
  end
  return ngx.exit(ngx.HTTP_NOT_FOUND)
end

-- route runs in the access phase of the catch-all server (the rewrite
-- phase in locations with satisfy any); suffix is the HTTPS port of
-- redirects (":443"), here_name and
-- here the name and body limit of the location it runs in, vhost and
-- pass whether that location sends the Host and uses the upstream the
-- router sets. A route with what nginx applies per location (proxy
-- settings, gRPC, rate limits, custom errors, basic auth, auth-url) goes
-- to the location of its own (ngx.exec), with $portico_limit_scope set
-- for the limits' key, $portico_err_* for the error backend,
-- $portico_basic_* for basic auth and $portico_auth_* and
-- $portico_signin for the auth service, and X-Request-ID made, which the
-- auth subrequest sends. A route that needs what its location lacks
-- (pushed before the reload that adds it) gets 503 rather than the
-- client's Host or plain HTTP. It answers 302 for "/" on a host with
-- app-root, 404 for what no route serves (in the location not_found
-- names, when set: ModSecurity inspects there), 413 for a body above the
-- route's limit, the redirect code (308 unless http-redirect-code says) for
-- plain HTTP on ssl-redirect routes, the route's
-- own redirect, 204 for CORS preflights and 403 for clients its source
-- range refuses, in the order a static location does. It sets
-- $portico_backend, and with log_labels $portico_server, $portico_ingress
-- and $portico_path too (each variable write costs a request ~500
-- instructions; the controller asks for them when the access log names
-- them), and $portico_location, the route's nginx location that names
-- its span, when tracing asks for it (tracing.route_locations).
function _M.route(suffix, log_labels, here, vhost, pass, here_name, not_found)
  local var = ngx.var
  local host, uri = var.host, var.uri
  local key, h, r = _M.lookup(host, uri)
  if not h then
    return unrouted(not_found)
  end
  if log_labels then
    var.portico_server = key
  end
  -- Set before any answer, so that errors carry it too (as add_header
  -- ... always would, at a complex value per request on every host).
  if h.hsts and var.scheme == "https" then
    ngx.header["Strict-Transport-Security"] = hsts
  end
  -- from-to-www-redirect: the host's twin sends everything to the host.
  if h.redirect_to then
    return ngx.redirect(var.scheme .. "://" .. h.redirect_to .. var.request_uri, redirect_code)
  end
  -- app-root: before any route, as a server-level "if" runs before the
  -- location is found.
  if h.app_root and uri == "/" then
    return ngx.redirect(var.scheme .. "://" .. (var.http_host or "") .. h.app_root, 302)
  end
  if not r then
    return unrouted(not_found)
  end
  if tracing.route_locations then
    var.portico_location = r.path
  end
  local limit = r.bodyLimit or body_global
  local act, there
  if r.location and r.location ~= here_name then
    act, there = settled(var, r, limit), r.location
  elseif limit ~= here then
    act = body(var, limit)
  end
  if act == 503 then
    return not_yet()
  elseif type(act) == "number" then
    return ngx.exit(act)
  elseif act then
    return ngx.exec(act)
  end
  if r.sslRedirect and var.scheme == "http" then
    return ngx.redirect(https_url(r, host, suffix, var.request_uri), redirect_code)
  end
  local redirect = r.redirect
  if redirect then
    return ngx.redirect(absolute(r, var, host, redirect.url), redirect.code)
  end
  if not r.backend then
    return unrouted(not_found)
  end
  if r.cors and cors(var, r.cors) then
    return ngx.exit(204)
  end
  -- The route's location does the rest: rate limits (preaccess) and
  -- basic auth run there before this access phase runs again, so after
  -- the redirects and CORS preflights, as in a location of its own.
  if there then
    local ba, a = r.basicAuth, r.auth
    -- nginx's allow and deny run before auth_basic and auth_request: so
    -- does the source range of a route with either (no auth subrequest
    -- for a refused client). With satisfy any, an address it allows needs
    -- no auth, and one it refuses goes on to the auth.
    local skip_auth = false
    if (ba or a) and (r.allow or r.deny) then
      local ok = allowed(r)
      if r.satisfyAny then
        skip_auth = ok
      elseif not ok then
        return ngx.exit(ngx.HTTP_FORBIDDEN)
      end
    end
    if ba then
      var.portico_basic_realm, var.portico_basic_file = skip_auth and "off" or ba.realm, ba.file
    end
    if a and skip_auth then
      var.portico_auth_skip = "1"
    end
    local m = r.mirror
    if m then
      var.portico_mirror_target, var.portico_mirror_host = mirror_target(m.target, var), m.host
    end
    local e = r.errors
    if e then
      var.portico_err_backend, var.portico_err_namespace, var.portico_err_ingress = e.backend, e.namespace, e.ingress
      var.portico_err_service, var.portico_err_port = e.service, e.port
    end
    if r.limit_scope then
      local exempt = r.limit_exempt and cidr.contains(r.limit_exempt, cidr.address(var.binary_remote_addr))
      var.portico_limit_scope = exempt and "" or r.limit_scope
    end
    if a then
      var.portico_auth_url, var.portico_auth_host, var.portico_auth_method = a.url, a.host, a.method
      if a.cacheScope then
        var.portico_auth_cache_scope = a.cacheScope
      end
      if a.signin then
        var.portico_signin = a.signin
        if a.signinRD then
          var.portico_signin_mode = a.signinRD
        end
      end
    end
    -- Before the hand-off: an auth subrequest or an error page there may
    -- send it, and the request keeps it.
    if make_ids then
      var.portico_generated_id = request_id()
    end
    return ngx.exec(there)
  end
  -- The route's own location has been here: with satisfy any, the auth
  -- decided for an address the source range refuses.
  if (r.allow or r.deny) and not (r.satisfyAny and (r.basicAuth or r.auth)) and not allowed(r) then
    return ngx.exit(ngx.HTTP_FORBIDDEN)
  end
  if r.upstreamVhost and not vhost or r.pass and not pass then
    return not_yet()
  end
  var.portico_backend = r.backend
  if make_ids and not r.location then
    var.portico_generated_id = request_id()
  end
  if r.upstreamVhost then
    var.portico_route_vhost = r.upstreamVhost
  end
  if r.pass and (not r.passHTTPSOnly or var.scheme == "https") then
    var.portico_route_pass = r.pass
  end
  if log_labels and r.ingressPath then
    var.portico_ingress = r.ingress
    var.portico_path = r.ingressPath
  end
  if r.rewriteTarget then
    rewrite(r, uri)
  end
  if r.forwardedPrefix then
    set_header("X-Forwarded-Prefix", r.forwardedPrefix)
  end
  return balancer.access(r.backend, r)
end

-- signin_rd is the value of a sign-in redirect's parameter, URL-escaped:
-- the request URI when mode is "request-uri", nothing when it is "none"
-- (the sign-in URL is whole), else the request's URL (the Host as the
-- client sent it).
function _M.signin_rd(mode)
  local var = ngx.var
  if mode == "request-uri" then
    return ngx.escape_uri(var.request_uri)
  elseif mode == "none" then
    return ""
  end
  return ngx.escape_uri(var.scheme .. "://" .. var.portico_host .. var.request_uri)
end

-- log counts proxied requests only, as static locations do.
function _M.log()
  local ctx = ngx.ctx
  local r = ctx.portico_route
  if r then
    balancer.observe(ctx)
    metrics.observe(r.labels, ctx.portico_canary)
  end
end

-- configure serves /configuration/routes: GET returns what nginx holds,
-- as one full push would carry it; POST replaces it, POST ?base=N patches
-- it (push.keyed: a host whose routes fail validate_host is refused alone).
function _M.configure()
  local method = ngx.req.get_method()
  if method == "GET" then
    -- An empty hosts table encodes as {}: right for a map.
    return store.answer_get({ hsts = shm:get("hsts") or "", redirectCode = shm:get("redirect_code"), hosts = store.all() })
  end
  if method ~= "POST" then
    return reply(ngx.HTTP_NOT_ALLOWED, "use GET or POST")
  end
  return store.post(shape, function(data)
    return data.hosts
  end, validate_host, function(data)
    shm:safe_set("hsts", data.hsts or "")
    shm:safe_set("redirect_code", data.redirectCode) -- nil deletes: 308
  end)
end

return _M
