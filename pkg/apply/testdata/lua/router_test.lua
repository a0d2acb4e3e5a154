local cjson = require("cjson.safe")
local router = require("portico.router")
local runner = require("runner")
local eq, refused, same = runner.eq, runner.refused, runner.same

local _M = {}

local function post(body)
  return ngx.location.capture("/configuration/routes", { method = ngx.HTTP_POST, body = body })
end

-- A Prefix path "/aaa" arrives as the model makes it: "= /aaa" and "/aaa/".
local routes = {
  hsts = "max-age=60",
  hosts = {
    [""] = { routes = {
      { path = "/" },
      { exact = true, path = "/lobby", backend = "ns/lobby:80", ingress = "ns/hostless", ingressPath = "/lobby" },
      { path = "/lobby/", backend = "ns/lobby:80", ingress = "ns/hostless", ingressPath = "/lobby" },
    } },
    ["a.example.com"] = { routes = {
      { path = "/", backend = "ns/root:80", ingress = "ns/a", ingressPath = "/" },
      { exact = true, path = "/aaa", backend = "ns/aaa:80", ingress = "ns/a", ingressPath = "/aaa" },
      { path = "/aaa/", backend = "ns/aaa:80", ingress = "ns/a", ingressPath = "/aaa" },
      { path = "/aaa/b/", backend = "ns/aaab:80", ingress = "ns/a", ingressPath = "/aaa/b" },
      { exact = true, path = "/exact", backend = "ns/exact:80", ingress = "ns/a", ingressPath = "/exact" },
      { path = "/exact", backend = "ns/impl:80", ingress = "ns/a", ingressPath = "/exact" },
    } },
    -- The routed test location of the runner is /routed/; its host is 127.0.0.1.
    ["127.0.0.1"] = { hsts = true, routes = {
      { path = "/routed/", backend = "ns/r:80", ingress = "ns/r", ingressPath = "/routed" },
      { path = "/routed/secure/", backend = "ns/r:80", ingress = "ns/r", ingressPath = "/routed/secure", sslRedirect = true },
      { exact = true, path = "/routed/none" },
    } },
  },
}

-- The routes' backends, so that route() hands requests on (the endpoint
-- is never dialled: the test locations answer themselves).
local function push_backends()
  local bs = {}
  for _, name in ipairs({ "ns/r:80", "ns/dyn:80" }) do
    bs[#bs + 1] = { name = name, endpoints = { { address = "127.0.0.1", port = 1 } } }
  end
  local res = ngx.location.capture("/configuration/backends",
    { method = ngx.HTTP_POST, body = cjson.encode({ backends = bs }) })
  eq(res.status, 201, "backends push")
end

local function setup()
  eq(post(cjson.encode(routes)).status, 201, "push")
  push_backends()
end

local function backend_of(host, uri)
  local key, _, r = router.lookup(host, uri)
  return tostring(key) .. " " .. tostring(r and r.backend)
end

function _M.test_rejects_malformed_pushes()
  for _, body in ipairs({
    "not json",
    "[]",
    '{"hsts":1,"hosts":{}}',
    '{"hsts":"","redirectCode":303,"hosts":{}}',
    '{"hsts":"","redirectCode":"301","hosts":{}}',
  }) do
    eq(post(body).status, 400, body)
  end
  -- A bad host is refused alone: the good one beside it is taken.
  for _, host in ipairs({
    '{"hosts":[1]}',
    '{"hosts":{"a":{}}}',
    '{"hosts":{"a":{"routes":[{"path":"x"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","backend":1}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","exact":"yes"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","readTimeout":-1}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/(","regex":true}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"^/(","regex":true}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","rewriteTarget":"x"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","rewriteTarget":"/x","rewriteLog":"yes"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","forwardedPrefix":1}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","connectTimeout":1.5}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","sendTimeout":"5s"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","bodyLimit":-1}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","bodyLimit":"1m"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_body_1"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab; deny all"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","sourceRange":{}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","redirect":{"code":200,"url":"https://a/"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","redirect":{"code":301,"url":"relative"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","mirror":{"target":"http://m/$host","host":"m"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","mirror":{"target":"http://m$request_uri_x","host":"m"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","mirror":{"target":"http://m$request_uri","host":"m"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","mirror":{"target":"http://m$request_uri","host":"m;"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","satisfyAny":"yes"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","redirect":{"code":301,"url":"https://a/\\r\\nX: y"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","upstreamVhost":"a b"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","pass":"https://evil.example"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","pass":"https://portico_balancer; return 200"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","cors":{"methods":"GET","headers":"X","maxAge":1}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","cors":{"anyOrigin":true,"methods":"GET\\r\\nX: y","headers":"X","maxAge":1}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","cors":{"originRegex":"^(","methods":"GET","headers":"X","maxAge":1}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","upstreamVhost":"a;b"}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","sourceRange":{"allow":["10.0.0.0/8"]}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","sourceRange":{"deny":"0a000000/8"}}]}}}',
    '{"hosts":{"a":{"appRoot":"app","routes":[]}}}',
    '{"hosts":{"a":{"appRoot":"/a b","routes":[]}}}',
    '{"hosts":{"a":{"appRoot":"/a\\r\\nX: y","routes":[]}}}',
    '{"hosts":{"a":{"appRoot":1,"routes":[]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","auth":{"url":"http://a/","host":"a","method":"GET"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","auth":{"url":"ftp://a/","host":"a","method":"GET"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","auth":{"url":"http://a/","host":"a b","method":"GET"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","auth":{"url":"http://a/","host":"a","method":"GET;"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","auth":{"url":"http://a/","host":"a","method":"GET","signin":"/x"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","auth":{"url":"http://a/","host":"a","method":"GET","signin":"http://s/","signinRD":"args"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","auth":{"url":"http://a/","host":"a","method":"GET","cacheScope":"x;"}}]}}}',
    '{"hosts":{"a":{"routes":[{"path":"/","location":"@portico_proxy_ab","auth":{"url":"http://a/\\"","host":"a","method":"GET"}}]}}}',
  }) do
    local data = cjson.decode(host)
    local name = next(data.hosts)
    data.hosts["good.example.com"] = { routes = { { path = "/", backend = "ns/good:80" } } }
    local res = post(cjson.encode(data))
    refused(res, tostring(name), host)
    eq(cjson.decode(res.body).refused["good.example.com"], nil, "the good host beside " .. host)
    eq(backend_of("good.example.com", "/x"), "good.example.com ns/good:80", "the good host beside " .. host)
  end
end

local function get()
  local res = ngx.location.capture("/configuration/routes")
  eq(res.status, 200, "get")
  return cjson.decode(res.body), res.header["X-Portico-Generation"]
end

function _M.test_push_is_visible_to_get()
  eq(post(cjson.encode(routes)).status, 201, "push")
  local got = get()
  assert(same(got, routes), "GET answers what was pushed: " .. cjson.encode(got))
end

-- A patch on the generation nginx is at replaces the hosts it carries,
-- removes the deleted ones and keeps the rest; on another generation it
-- is refused, and nothing changes.
function _M.test_patch()
  setup()
  local _, gen = get()
  local function patch(base, body)
    return ngx.location.capture("/configuration/routes", { method = ngx.HTTP_POST, args = { base = base }, body = cjson.encode(body) })
  end
  local res = patch(gen, { hsts = "max-age=60", deleted = { "a.example.com" }, hosts = {
    ["b.example.com"] = { routes = { { path = "/", backend = "ns/b:80" } } },
  } })
  eq(res.status, 201, "patch: " .. res.body)
  eq(backend_of("b.example.com", "/x"), "b.example.com ns/b:80", "added host")
  eq(backend_of("a.example.com", "/lobby/x"), " ns/lobby:80", "deleted host: the rules without a host")
  eq(backend_of("127.0.0.1", "/routed/x"), "127.0.0.1 ns/r:80", "untouched host")
  local want = cjson.decode(cjson.encode(routes))
  want.hosts["a.example.com"] = nil
  want.hosts["b.example.com"] = { routes = { { path = "/", backend = "ns/b:80" } } }
  local got = get()
  assert(same(got, want), "GET after the patch: " .. cjson.encode(got))
  res = patch(gen, { hosts = { ["c.example.com"] = { routes = { { path = "/", backend = "ns/c:80" } } } } })
  eq(res.status, 409, "patch on a stale generation")
  eq(backend_of("c.example.com", "/"), " nil", "refused patch: no host c")
end

function _M.test_exact_beats_prefix_and_the_longest_prefix_wins()
  setup()
  eq(backend_of("a.example.com", "/exact"), "a.example.com ns/exact:80", "exact over an equal prefix")
  eq(backend_of("a.example.com", "/exactly"), "a.example.com ns/impl:80", "nginx prefix")
  eq(backend_of("a.example.com", "/aaa/b/c"), "a.example.com ns/aaab:80", "longest prefix")
  eq(backend_of("a.example.com", "/aaa/bc"), "a.example.com ns/aaa:80", "element-wise, not /aaa/b")
end

function _M.test_prefix_is_element_wise()
  setup()
  eq(backend_of("a.example.com", "/aaa"), "a.example.com ns/aaa:80", "/aaa")
  eq(backend_of("a.example.com", "/aaa/"), "a.example.com ns/aaa:80", "/aaa/")
  eq(backend_of("a.example.com", "/aaa/x"), "a.example.com ns/aaa:80", "/aaa/x")
  eq(backend_of("a.example.com", "/aaab"), "a.example.com ns/root:80", "never /aaab")
end

-- A wildcard covers one label, after the exact host and before the rules
-- without a host.
function _M.test_wildcard_hosts()
  eq(post(cjson.encode({ hosts = {
    [""] = { routes = { { path = "/", backend = "ns/hostless:80" } } },
    ["*.wild.example.com"] = { routes = { { path = "/", backend = "ns/wild:80" } } },
    ["named.wild.example.com"] = { routes = { { path = "/x", backend = "ns/named:80" } } },
  } })).status, 201, "push")
  eq(backend_of("one.wild.example.com", "/"), "*.wild.example.com ns/wild:80", "one label")
  eq(backend_of("named.wild.example.com", "/x"), "named.wild.example.com ns/named:80", "the exact host first")
  eq(backend_of("named.wild.example.com", "/y"), "named.wild.example.com nil", "never its wildcard's routes")
  eq(backend_of("two.one.wild.example.com", "/"), " ns/hostless:80", "two labels")
  eq(backend_of("wild.example.com", "/"), " ns/hostless:80", "no label")
  eq(backend_of(".one.wild.example.com", "/"), " ns/hostless:80", "an empty first label")
end

function _M.test_unknown_hosts_use_the_rules_without_a_host()
  setup()
  eq(backend_of("b.example.com", "/lobby/x"), " ns/lobby:80", "host-less rule")
  eq(backend_of("b.example.com", "/other"), " nil", "no backend: 404")
  -- A known host never falls through to the host-less rules.
  eq(backend_of("a.example.com", "/lobby"), "a.example.com ns/root:80", "host rules first")
end

-- A host the table did not hold is found once a push adds it, and so is
-- a new wildcard: the worker forgets its misses with the change.
function _M.test_misses_go_with_a_change()
  setup()
  eq(backend_of("late.example.com", "/lobby/x"), " ns/lobby:80", "not in the table yet")
  eq(backend_of("x.late.example.com", "/lobby/x"), " ns/lobby:80", "no wildcard yet")
  local more = cjson.decode(cjson.encode(routes))
  more.hosts["late.example.com"] = { routes = { { path = "/", backend = "ns/late:80" } } }
  more.hosts["*.late.example.com"] = { routes = { { path = "/", backend = "ns/wild:80" } } }
  eq(post(cjson.encode(more)).status, 201, "push")
  eq(backend_of("late.example.com", "/lobby/x"), "late.example.com ns/late:80", "pushed")
  eq(backend_of("x.late.example.com", "/lobby/x"), "*.late.example.com ns/wild:80", "its wildcard pushed")
end

-- route sets the variables the access log names (all of them under
-- /routed/, only $portico_backend under /routed/lean/) and always hands
-- the metrics labels on.
function _M.test_route_sets_the_location_variables()
  setup()
  for uri, want in pairs({
    ["/routed/x"] = "ns/r:80|127.0.0.1|ns/r|/routed||ns/r\t127.0.0.1\t/routed\tns/r:80\n",
    ["/routed/lean/x"] = "ns/r:80||||ns/r\t127.0.0.1\t/routed\tns/r:80\n",
  }) do
    local res = ngx.location.capture(uri)
    eq(res.status, 200, uri .. " status")
    eq(res.body, want, uri .. " variables and metrics labels")
  end
end

-- route makes $portico_generated_id for what it proxies once nginx.conf
-- asked for it (request_ids), a new one per request, as nginx's
-- $request_id looks: 32 hex digits.
function _M.test_route_makes_request_ids_when_asked()
  setup()
  eq(ngx.location.capture("/routed/id/x").body, "\n", "no id unless asked")
  router.request_ids(true)
  local a, b = ngx.location.capture("/routed/id/x").body, ngx.location.capture("/routed/id/x").body
  router.request_ids(false)
  eq(a:match("^%x+\n$") and #a, 33, "32 hex digits: " .. a)
  eq(a ~= b, true, "a new id per request: " .. a .. " " .. b)
  eq(ngx.location.capture("/routed/id/x").body, "\n", "off again")
end

function _M.test_route_timeouts_are_kept_for_the_balancer()
  eq(post(cjson.encode({ hosts = { ["t.example.com"] = { routes = {
    { path = "/slow/", backend = "ns/r:80", readTimeout = 120, connectTimeout = 0 },
    { path = "/", backend = "ns/r:80" },
  } } } })).status, 201, "push")
  local _, _, r = router.lookup("t.example.com", "/slow/x")
  eq(r.timeouts and tostring(r.timeouts[1]) .. " " .. tostring(r.timeouts[2]) .. " " .. tostring(r.timeouts[3]),
    "nil nil 120", "read timeout only; 0 keeps nginx.conf's")
  _, _, r = router.lookup("t.example.com", "/other")
  eq(r.timeouts, nil, "no timeouts")
end

function _M.test_regex_routes_and_rewrites()
  push_backends()
  eq(post(cjson.encode({ hosts = { ["127.0.0.1"] = { routes = {
    { exact = true, path = "/rw/something/exact", backend = "ns/exact:80" },
    { path = "/rw/", backend = "ns/r:80", rewriteTarget = "/fixed", forwardedPrefix = "/rw" },
    { path = "/rw/something/deep/", backend = "ns/deep:80" },
    { regex = true, path = "^/rw/something(/|$)(.*)", backend = "ns/r:80", rewriteTarget = "/$2", rewriteLog = true },
    { regex = true, path = "^/rw/other$", backend = "ns/other:80" },
  } } } })).status, 201, "push")
  eq(backend_of("127.0.0.1", "/rw/something/exact"), "127.0.0.1 ns/exact:80", "exact before regex")
  eq(backend_of("127.0.0.1", "/rw/something/deep/x"), "127.0.0.1 ns/r:80", "regex before a longer prefix")
  eq(backend_of("127.0.0.1", "/rw/OTHER"), "127.0.0.1 ns/other:80", "case-insensitive")
  eq(backend_of("127.0.0.1", "/rw/other/x"), "127.0.0.1 ns/r:80", "anchored at the end: the prefix")
  eq(ngx.location.capture("/rw/something/x/y", { args = "q=1" }).body, "/x/y?q=1 ns/r:80 nil\n", "captures")
  eq(ngx.location.capture("/rw/SOMETHING").body, "/?nil ns/r:80 nil\n", "an unmatched group is empty")
  eq(ngx.location.capture("/rw/else", { args = "a=b" }).body, "/fixed?a=b ns/r:80 /rw\n",
    "whole-URI rewrite of a prefix route, with X-Forwarded-Prefix")
end

function _M.test_redirects_upstream_vhost_and_pass()
  push_backends()
  eq(post(cjson.encode({ hosts = { ["127.0.0.1"] = { routes = {
    { path = "/vh/", backend = "ns/r:80", upstreamVhost = "internal.example:8080", pass = "https://portico_balancer_https" },
    { path = "/vh/plain/", backend = "ns/r:80" },
    { path = "/vh/moved/", backend = "ns/r:80", redirect = { code = 301, url = "https://new.example.com/x?y=1" },
      sourceRange = { deny = { "7f000001/32" } } },
    { path = "/vh/secure/", backend = "ns/r:80", sslRedirect = true, redirect = { code = 302, url = "http://other.example.com/" } },
  } } } })).status, 201, "push")
  eq(ngx.location.capture("/vh/x").body, "internal.example:8080|https://portico_balancer_https\n", "upstream-vhost and pass")
  eq(ngx.location.capture("/vh/plain/x").body, "|\n", "no upstream-vhost, plain HTTP")
  -- The redirect comes before the source range, as return before deny.
  local res = ngx.location.capture("/vh/moved/z")
  eq(res.status, 301, "redirect status")
  eq(res.header["Location"], "https://new.example.com/x?y=1", "redirect location")
  -- ssl-redirect first (the runner is plain HTTP).
  res = ngx.location.capture("/vh/secure/z")
  eq(res.status, 308, "ssl-redirect first")
  -- A location that cannot send them (the reload is not done): 503.
  eq(post(cjson.encode({ hosts = { ["127.0.0.1"] = { routes = {
    { path = "/vh-old/vhost/", backend = "ns/r:80", upstreamVhost = "internal.example" },
    { path = "/vh-old/tls/", backend = "ns/r:80", pass = "https://portico_balancer_https" },
    { path = "/vh-old/plain/", backend = "ns/r:80" },
  } } } })).status, 201, "push")
  local res503 = ngx.location.capture("/vh-old/vhost/x")
  eq(res503.status, 503, "vhost route in a location without it")
  eq(res503.body, "503 Service Unavailable: this route is not configured yet (nginx is reloading)\n", "503 body")
  eq(ngx.location.capture("/vh-old/tls/x").status, 503, "HTTPS route in a location without it")
  eq(ngx.location.capture("/vh-old/plain/x").body, "proxied\n", "a plain route there")
end

-- request_with sends method uri with extra header lines; it returns the
-- status and the raw head.
local function request_with(method, host, uri, lines)
  local sock = ngx.socket.tcp()
  assert(sock:connect("127.0.0.1", tonumber(ngx.var.server_port)))
  assert(sock:send(method .. " " .. uri .. " HTTP/1.0\r\nHost: " .. host .. "\r\n" .. (lines or "") .. "\r\n"))
  local raw = assert(sock:receive("*a"))
  sock:close()
  local head = raw:match("^(.-)\r\n\r\n")
  return tonumber(head:match("^HTTP/1%.%d (%d+)")), head
end

-- raw sends a raw HTTP request and returns the status and the body.
local function raw(req)
  local sock = ngx.socket.tcp()
  assert(sock:connect("127.0.0.1", tonumber(ngx.var.server_port)))
  assert(sock:send(req))
  local answer = assert(sock:receive("*a"))
  sock:close()
  return tonumber(answer:match("^HTTP/1%.%d (%d+)")), answer:match("\r\n\r\n(.*)$")
end

-- unset_after runs fn, then unsets the router's body limits and
-- locations (as nginx.conf without them would set), whether fn failed or
-- not.
local function unset_after(fn)
  local ok, err = pcall(fn)
  router.body_limits(nil, {})
  assert(ok, err)
end

-- Body limits of a route in a location with another limit (here none):
-- a Content-Length is checked here; a chunked body goes to the location
-- of the route's limit, or gets 503 while that location does not exist.
function _M.test_body_limits()
  push_backends()
  eq(post(cjson.encode({ hosts = { ["body.example.com"] = { routes = {
    { path = "/by-host/small/", backend = "ns/dyn:80", bodyLimit = 1024 },
  } } } })).status, 201, "push")
  router.body_limits(1048576, {})
  unset_after(function()
    local head = "POST /by-host/small/x HTTP/1.1\r\nHost: body.example.com\r\nConnection: close\r\n"
    eq(raw(head .. "Content-Length: 5\r\n\r\nhello"), 200, "Content-Length within the limit")
    eq(raw(head .. "Content-Length: 2000\r\n\r\n" .. string.rep("x", 2000)), 413, "Content-Length above it")
    eq(raw(head .. "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), 503, "chunked, no location for the limit yet")
    eq(raw("GET /by-host/small/x HTTP/1.1\r\nHost: body.example.com\r\nConnection: close\r\n\r\n"), 200, "GET without a body")
  end)
end

-- A route with proxy settings nginx applies per location goes to its
-- location (ngx.exec); a Content-Length above its body limit gets 413
-- first, and 503 comes while the location does not exist. There the
-- route proxies.
function _M.test_proxy_locations()
  push_backends()
  eq(post(cjson.encode({ hosts = { ["buf.example.com"] = { routes = {
    { path = "/by-host/buf/", backend = "ns/dyn:80", location = "@portico_proxy_00112233aabbccdd" },
    { path = "/by-host/plain/", backend = "ns/dyn:80" },
  } } } })).status, 201, "push")
  unset_after(function()
    -- HTTP/1.0: an answer without chunks.
    local get = "GET /by-host/buf/x HTTP/1.0\r\nHost: buf.example.com\r\n\r\n"
    router.body_limits(1048576, {})
    local code, body = raw(get)
    eq(code .. " " .. tostring(body:find("not configured yet", 1, true) ~= nil), "503 true", "no such location yet: " .. body)
    router.body_limits(1048576, {}, { ["@portico_proxy_00112233aabbccdd"] = true })
    code, body = raw(get)
    eq(code .. " " .. body, "200 settled /by-host/buf/x ns/dyn:80\n", "handed to its location, which proxies")
    eq(raw("POST /by-host/buf/x HTTP/1.1\r\nHost: buf.example.com\r\nConnection: close\r\nContent-Length: 2000000\r\n\r\n"),
      413, "Content-Length above the body limit")
    code, body = raw("GET /by-host/plain/x HTTP/1.0\r\nHost: buf.example.com\r\n\r\n")
    eq(code .. " " .. body:sub(1, 7), "200 router ", "a route without settings stays")
  end)
end

-- A route with rate limits goes to their location with its Ingress's
-- scope in $portico_limit_scope: nginx counts each scope apart, and an
-- allowlisted client ("" scope) not at all. Redirects come first.
function _M.test_rate_limit_locations()
  push_backends()
  local loc = "@portico_proxy_11112222aaaabbbb"
  eq(post(cjson.encode({ hosts = { ["limit.example.com"] = { routes = {
    { path = "/by-host/one/", backend = "ns/dyn:80", location = loc, rateLimit = { scope = "0a" } },
    { path = "/by-host/two/", backend = "ns/dyn:80", location = loc, rateLimit = { scope = "0b" } },
    { path = "/by-host/exempt/", backend = "ns/dyn:80", location = loc, rateLimit = { scope = "0c", allowlist = { "7f000000/8" } } },
    { path = "/by-host/moved/", backend = "ns/dyn:80", location = loc, rateLimit = { scope = "0d" },
      redirect = { code = 308, url = "https://elsewhere.example.com/" } },
  } } } })).status, 201, "push")
  unset_after(function()
    router.body_limits(1048576, {}, { [loc] = true })
    local function get(path)
      local code, body = raw("GET " .. path .. " HTTP/1.0\r\nHost: limit.example.com\r\n\r\n")
      return code .. " " .. body
    end
    -- 1 r/s with a burst of 1: two pass, the third is refused.
    eq(get("/by-host/one/x"), "200 limited 0a\n", "first")
    eq(get("/by-host/one/x"), "200 limited 0a\n", "second (burst)")
    eq(get("/by-host/one/x"):sub(1, 4), "503 ", "third, over the limit")
    eq(get("/by-host/two/x"), "200 limited 0b\n", "another Ingress counts apart")
    for i = 1, 4 do
      eq(get("/by-host/exempt/x"), "200 limited \n", "allowlisted, not counted: " .. i)
    end
    for i = 1, 4 do
      eq(get("/by-host/moved/x"):sub(1, 4), "308 ", "the redirect before the limit: " .. i)
    end
  end)
  refused(post(cjson.encode({ hosts = { ["bad.example.com"] = { routes = {
    { path = "/", backend = "ns/dyn:80", rateLimit = { scope = "0a" } } } } } })), "bad.example.com", "a rate limit needs a location")
  refused(post(cjson.encode({ hosts = { ["bad.example.com"] = { routes = {
    { path = "/", backend = "ns/dyn:80", location = loc, rateLimit = { scope = "x; y" } } } } } })), "bad.example.com", "a scope is hex")
end

-- A route with custom errors goes to its location with the error
-- backend in $portico_err_*, where error_page sends the statuses it
-- intercepts to @portico_route_error_<code>.
function _M.test_error_locations()
  push_backends()
  local loc = "@portico_proxy_33334444ccccdddd"
  local errors = { backend = "ns/errs:80", namespace = "ns", ingress = "web", service = "dyn", port = "http" }
  eq(post(cjson.encode({ hosts = { ["errors.example.com"] = { routes = {
    { path = "/by-host/e/", backend = "ns/dyn:80", location = loc, errors = errors },
  } } } })).status, 201, "push")
  unset_after(function()
    router.body_limits(1048576, {}, { [loc] = true })
    local function get(path)
      local code, body = raw("GET " .. path .. " HTTP/1.0\r\nHost: errors.example.com\r\n\r\n")
      return code .. " " .. body
    end
    eq(get("/by-host/e/ok"), "200 answered ns/dyn:80\n", "no error")
    eq(get("/by-host/e/404"), "404 error 404 ns/errs:80 ns/web dyn:http\n", "404 from the error location")
    eq(get("/by-host/e/502"), "502 error 502 ns/errs:80 ns/web dyn:http\n", "502 from the error location")
    eq(get("/by-host/e/500"):sub(1, 4), "500 ", "500 is not intercepted")
  end)
  local bad = { backend = "ns/errs:80", namespace = "ns", ingress = "web", service = "dyn", port = "80\r\nX: y" }
  refused(post(cjson.encode({ hosts = { ["bad.example.com"] = { routes = {
    { path = "/", backend = "ns/dyn:80", location = loc, errors = bad } } } } })), "bad.example.com", "error headers are names")
  refused(post(cjson.encode({ hosts = { ["bad.example.com"] = { routes = {
    { path = "/", backend = "ns/dyn:80", errors = errors } } } } })), "bad.example.com", "errors need a location")
  refused(post(cjson.encode({ hosts = { ["bad.example.com"] = { routes = {
    { path = "/", backend = "ns/dyn:80", defaultBackend = bad } } } } })), "bad.example.com", "default backend headers are names")
  refused(post(cjson.encode({ hosts = { ["bad.example.com"] = { routes = {
    { path = "/", backend = "ns/dyn:80", defaultBackend = "ns/errs:80" } } } } })), "bad.example.com", "a default backend is an object")
  eq(post(cjson.encode({ hosts = { ["errors.example.com"] = { routes = {
    { path = "/", backend = "ns/dyn:80", defaultBackend = errors } } } } })).status, 201, "a default backend needs no location")
end

-- A route with basic auth goes to its location with its realm and
-- htpasswd file set; routes with other files share the location. A
-- source range refuses before auth asks.
function _M.test_basic_auth_locations()
  push_backends()
  local loc = "@portico_proxy_55556666eeeeffff"
  eq(post(cjson.encode({ hosts = { ["basic.example.com"] = { routes = {
    { path = "/by-host/a/", backend = "ns/dyn:80", location = loc, basicAuth = { realm = "Staff only", file = "ns_users" } },
    { path = "/by-host/b/", backend = "ns/dyn:80", location = loc, basicAuth = { realm = "Others", file = "ns_others" } },
    { path = "/by-host/denied/", backend = "ns/dyn:80", location = loc, basicAuth = { realm = "X", file = "ns_users" },
      sourceRange = { allow = { "0a000000/8" } } },
  } } } })).status, 201, "push")
  unset_after(function()
    router.body_limits(1048576, {}, { [loc] = true })
    local function get(path, user, pass)
      local auth = user and ("Authorization: Basic " .. ngx.encode_base64(user .. ":" .. pass) .. "\r\n") or ""
      local code, body = raw("GET " .. path .. " HTTP/1.0\r\nHost: basic.example.com\r\n" .. auth .. "\r\n")
      return code, body
    end
    local code = get("/by-host/a/x")
    eq(code, 401, "no credentials")
    local sock = ngx.socket.tcp()
    assert(sock:connect("127.0.0.1", tonumber(ngx.var.server_port)))
    assert(sock:send("GET /by-host/a/x HTTP/1.0\r\nHost: basic.example.com\r\n\r\n"))
    local head = assert(sock:receive("*a"))
    sock:close()
    eq(head:match('WWW%-Authenticate: ([^\r]+)'), 'Basic realm="Staff only"', "the route's realm")
    local body
    code, body = get("/by-host/a/x", "alice", "wonderland")
    eq(code .. " " .. body, "200 welcome alice\n", "alice in her file")
    eq((get("/by-host/a/x", "alice", "nope")), 401, "wrong password")
    eq((get("/by-host/a/x", "bob", "builder")), 401, "bob is not in ns_users")
    code, body = get("/by-host/b/x", "bob", "builder")
    eq(code .. " " .. body, "200 welcome bob\n", "bob in the other route's file")
    eq((get("/by-host/denied/x")), 403, "the source range first")
  end)
  for _, ba in ipairs({ { realm = "a\"b", file = "f" }, { realm = "r", file = "../etc/passwd" }, { realm = "r" } }) do
    refused(post(cjson.encode({ hosts = { ["bad.example.com"] = { routes = {
      { path = "/", backend = "ns/dyn:80", location = loc, basicAuth = ba } } } } })), "bad.example.com", "refused basicAuth " .. cjson.encode(ba))
  end
end

function _M.test_cors()
  push_backends()
  local listed = { originRegex = "^(https://app\\.example\\.com|https://[a-z0-9-]+\\.partner\\.example)$",
    methods = "GET, POST", headers = "X-Token", exposeHeaders = "X-Request-Id", credentials = true, maxAge = 600 }
  eq(post(cjson.encode({ hosts = { ["cors.example.com"] = { routes = {
    { path = "/by-host/listed/", backend = "ns/dyn:80", cors = listed },
    { path = "/by-host/any/", backend = "ns/dyn:80", cors = { anyOrigin = true, methods = "GET", headers = "X", maxAge = 5 },
      sourceRange = { allow = { "0a000000/8" } } },
  } } } })).status, 201, "push")
  local code, head = request_with("OPTIONS", "cors.example.com", "/by-host/listed/x",
    "Origin: https://eu.partner.example\r\nAccess-Control-Request-Method: POST\r\n")
  eq(code, 204, "preflight status")
  for _, want in ipairs({ "Access-Control-Allow-Origin: https://eu.partner.example", "Access-Control-Allow-Methods: GET, POST",
    "Access-Control-Allow-Headers: X-Token", "Access-Control-Allow-Credentials: true", "Access-Control-Max-Age: 600", "Vary: Origin" }) do
    eq(head:find(want, 1, true) ~= nil, true, "preflight header " .. want)
  end
  code, head = request_with("OPTIONS", "cors.example.com", "/by-host/listed/x", "Origin: https://a.b.partner.example\r\n")
  eq(code, 204, "preflight of another origin")
  eq(head:find("Access-Control-Allow-Origin", 1, true), nil, "no Allow-Origin for an origin not listed")
  code, head = request_with("GET", "cors.example.com", "/by-host/listed/x", "Origin: https://app.example.com\r\n")
  eq(code, 200, "request status")
  eq(head:find("Access-Control-Allow-Origin: https://app.example.com", 1, true) ~= nil, true, "request Allow-Origin")
  eq(head:find("Access-Control-Expose-Headers: X-Request-Id", 1, true) ~= nil, true, "request Expose-Headers")
  eq(head:find("Access-Control-Max-Age", 1, true), nil, "no Max-Age outside preflights")
  -- A refused client still gets the CORS headers (add_header ... always),
  -- and a preflight is answered before the source range, as in nginx.
  code, head = request_with("GET", "cors.example.com", "/by-host/any/x", "Origin: https://x.example\r\n")
  eq(code, 403, "source range")
  eq(head:find("Access-Control-Allow-Origin: *", 1, true) ~= nil, true, "403 carries Allow-Origin")
  eq((request_with("OPTIONS", "cors.example.com", "/by-host/any/x")), 204, "preflight before the source range")
end

function _M.test_route_answers_503_for_a_backend_nginx_does_not_know()
  setup()
  eq(post(cjson.encode({ hosts = { ["127.0.0.1"] = { routes = {
    { path = "/routed/", backend = "ns/unknown:80" } } } } })).status, 201, "push")
  local res = ngx.location.capture("/routed/x")
  eq(res.status, 503, "status")
  eq(res.body, "503 Service Unavailable: backend ns/unknown:80 is not configured yet\n", "body")
end

function _M.test_ssl_redirect_and_404()
  setup()
  local res = ngx.location.capture("/routed/secure/x")
  eq(res.status, 308, "redirect")
  -- A subrequest's $request_uri is its parent's: this runner's.
  eq(res.header["Location"], "https://127.0.0.1/run?suite=router", "location")
  eq(ngx.location.capture("/routed/none").status, 404, "route without a backend")
  eq(backend_of("127.0.0.1", "/elsewhere"), "127.0.0.1 nil", "no route of the host: 404")
end

-- request sends a real request to this server, so that Host is what the
-- test says; it returns the status, the Location header and the body.
local function request(host, uri)
  local sock = ngx.socket.tcp()
  assert(sock:connect("127.0.0.1", tonumber(ngx.var.server_port)))
  assert(sock:send("GET " .. uri .. " HTTP/1.0\r\nHost: " .. host .. "\r\n\r\n"))
  local raw = assert(sock:receive("*a"))
  sock:close()
  local head, body = raw:match("^(.-)\r\n\r\n(.*)$")
  return tonumber(head:match("^HTTP/1%.%d (%d+)")), head:match("\r\nLocation: ([^\r]*)"), body
end

-- Real requests: the Host header picks the table key, whatever its case
-- and port; a wildcard covers one label; other hosts get the rules
-- without a host.
function _M.test_requests_by_host()
  push_backends()
  eq(post(cjson.encode({ hosts = {
    [""] = { routes = { { path = "/", backend = "ns/dyn:80", ingress = "ns/hostless", ingressPath = "/" } } },
    ["dyn.example.com"] = { routes = {
      { path = "/", backend = "ns/dyn:80", ingress = "ns/dyn", ingressPath = "/" },
      { path = "/by-host/secure/", backend = "ns/dyn:80", sslRedirect = true },
      { path = "/by-host/port/", backend = "ns/dyn:80", sslRedirect = true, sslRedirectPort = true, sslRedirectSlash = true },
    } },
    ["*.wc.example.com"] = { routes = { { path = "/", backend = "ns/dyn:80", ingress = "ns/wc", ingressPath = "/" } } },
  } })).status, 201, "push")
  local _, code, loc, body
  code, _, body = request("dyn.example.com", "/by-host/x?q=1")
  eq(code .. " " .. body, "200 router /by-host/x?q=1 ns/dyn:80|dyn.example.com|ns/dyn|/\n", "routed")
  _, _, body = request("DYN.example.com:80", "/by-host/y")
  eq(body, "router /by-host/y?nil ns/dyn:80|dyn.example.com|ns/dyn|/\n", "Host with case and port")
  code, loc = request("dyn.example.com", "/by-host/secure/z?a=b")
  eq(code .. " " .. tostring(loc), "308 https://dyn.example.com/by-host/secure/z?a=b", "ssl-redirect")
  -- As ingress-nginx writes it: one trailing '/' dropped, no port, unless
  -- preserve-trailing-slash and use-port-in-redirects.
  code, loc = request("dyn.example.com", "/by-host/secure/z/")
  eq(code .. " " .. tostring(loc), "308 https://dyn.example.com/by-host/secure/z", "ssl-redirect drops a trailing /")
  code, loc = request("dyn.example.com", "/by-host/port/z/")
  eq(code .. " " .. tostring(loc), "308 https://dyn.example.com:8443/by-host/port/z/", "ssl-redirect with port and slash")
  _, _, body = request("one.wc.example.com", "/by-host/x")
  eq(body, "router /by-host/x?nil ns/dyn:80|*.wc.example.com|ns/wc|/\n", "a wildcard's host")
  _, _, body = request("two.one.wc.example.com", "/by-host/x")
  eq(body, "router /by-host/x?nil ns/dyn:80||ns/hostless|/\n", "two labels under the wildcard: no host")
end

-- http-redirect-code: the redirects to HTTPS and to a host's twin take
-- the document's code, 308 when it names none.
function _M.test_redirect_code()
  push_backends()
  local function push(code)
    eq(post(cjson.encode({ redirectCode = code, hosts = {
      ["dyn.example.com"] = { routes = { { path = "/by-host/", backend = "ns/dyn:80", sslRedirect = true } } },
      ["www.dyn.example.com"] = { redirectTo = "dyn.example.com", routes = {} },
    } })).status, 201, "push")
  end
  for _, code in ipairs({ 301, 302, 307 }) do
    push(code)
    local got, loc = request("dyn.example.com", "/by-host/a?b=c")
    eq(got .. " " .. tostring(loc), code .. " https://dyn.example.com/by-host/a?b=c", "ssl-redirect")
    got, loc = request("www.dyn.example.com", "/by-host/x")
    eq(got .. " " .. tostring(loc), code .. " http://dyn.example.com/by-host/x", "redirectTo")
  end
  push(nil)
  local got = request("dyn.example.com", "/by-host/a")
  eq(got, 308, "no code: 308")
end

-- auth-url: the router names the auth service, its Host and method, and
-- makes X-Request-ID before the hand-off; the route's location asks the
-- service (auth_request) before the router's second pass proxies with
-- the service's X-User. A 401 redirects to the sign-in page with ?rd=
-- the request's URL, a 403 is refused, and neither reaches the backend.
function _M.test_auth_locations()
  push_backends()
  local loc = "@portico_proxy_77778888aaaabbbb"
  local service = "http://127.0.0.1:" .. ngx.var.server_port .. "/auth-service/"
  eq(post(cjson.encode({ hosts = { ["auth.example.com"] = { routes = {
    { path = "/by-host/ok/", backend = "ns/dyn:80", location = loc,
      auth = { url = service .. "200", host = "auth.internal", method = "POST", signin = "https://login.example.com/start?rd=",
        cacheScope = "0a1b" } },
    { path = "/by-host/login/", backend = "ns/dyn:80", location = loc,
      auth = { url = service .. "401", host = "auth.internal", method = "GET", signin = "https://login.example.com/start?c=1&next=" } },
    -- The sign-in URL's query fixes the redirect parameter: nothing added.
    { path = "/by-host/fixed/", backend = "ns/dyn:80", location = loc,
      auth = { url = service .. "401", host = "auth.internal", method = "GET", signin = "https://login.example.com/start?rd=home",
        signinRD = "none" } },
    { path = "/by-host/no/", backend = "ns/dyn:80", location = loc,
      auth = { url = service .. "403", host = "auth.internal", method = "GET" } },
    { path = "/by-host/denied/", backend = "ns/dyn:80", location = loc, sourceRange = { allow = { "0a000000/8" } },
      auth = { url = service .. "401", host = "auth.internal", method = "GET", signin = "https://login.example.com/start?rd=" } },
    -- oauth2-proxy's ?rd=$escaped_request_uri
    { path = "/by-host/uri/", backend = "ns/dyn:80", location = loc,
      auth = { url = service .. "401", host = "auth.internal", method = "GET", signin = "https://auth.example.com/oauth2/start?rd=",
        signinRD = "request-uri" } },
  } } } })).status, 201, "push")
  router.request_ids(true)
  router.body_limits(1048576, {}, { [loc] = true })
  local ok, err = pcall(function()
    local code, _, body = request("auth.example.com", "/by-host/ok/x?q=1")
    local user, backend, id = body:match("^authed (%S+) (%S+) (%x+)\n$")
    eq(code .. " " .. tostring(backend), "200 ns/dyn:80", "allowed: " .. body)
    eq(user, "POST,auth.internal," .. tostring(id) .. ",/by-host/ok/x?q=1,0a1b", "what the auth service saw, the same id, the cache scope")
    local loc_header
    code, loc_header = request("auth.example.com", "/by-host/login/x?a=b")
    eq(code .. " " .. tostring(loc_header), "302 https://login.example.com/start?c=1&next=http%3A%2F%2Fauth.example.com%2Fby-host%2Flogin%2Fx%3Fa%3Db",
      "401: to the sign-in page, its redirect parameter after its fixed ones")
    code, loc_header = request("auth.example.com", "/by-host/fixed/x")
    eq(code .. " " .. tostring(loc_header), "302 https://login.example.com/start?rd=home", "401: to the sign-in page as it is")
    code, loc_header = request("auth.example.com:8080", "/by-host/uri/x?a=b&c=%2F")
    eq(code .. " " .. tostring(loc_header), "302 https://auth.example.com/oauth2/start?rd=%2Fby-host%2Furi%2Fx%3Fa%3Db%26c%3D%252F",
      "401, ?rd= the request URI: to the sign-in page")
    -- The next request's ?rd= is its URL again, the Host as sent.
    code, loc_header = request("auth.example.com:8080", "/by-host/login/y")
    eq(code .. " " .. tostring(loc_header), "302 https://login.example.com/start?c=1&next=http%3A%2F%2Fauth.example.com%3A8080%2Fby-host%2Flogin%2Fy",
      "401 after one with ?rd= the URI: the URL")
    code, _, body = request("auth.example.com", "/by-host/no/x")
    eq(code, 403, "403: refused")
    eq(body:find("authed", 1, true), nil, "the backend never answered")
    -- The source range before the auth service, as allow and deny run
    -- before auth_request: 403, not the sign-in page.
    eq((request("auth.example.com", "/by-host/denied/x")), 403, "a refused client")
  end)
  router.request_ids(false)
  router.body_limits(nil, {})
  assert(ok, err)
end

-- Source ranges: the test client is 127.0.0.1; deny wins, an allow list
-- refuses every other address.
function _M.test_source_ranges()
  push_backends()
  eq(post(cjson.encode({ hosts = {
    ["src.example.com"] = { routes = {
      { path = "/by-host/in/", backend = "ns/dyn:80", sourceRange = { allow = { "0a000000/8", "7f000000/8" } } },
      { path = "/by-host/out/", backend = "ns/dyn:80", sourceRange = { allow = { "0a000000/8", "20010db8000000000000000000000000/32" } } },
      { path = "/by-host/denied/", backend = "ns/dyn:80", sourceRange = { allow = { "7f000000/8" }, deny = { "7f000001/32" } } },
      { path = "/by-host/other/", backend = "ns/dyn:80", sourceRange = { deny = { "c0000200/24" } } },
      { path = "/by-host/secure/", backend = "ns/dyn:80", sslRedirect = true, sourceRange = { allow = { "0a000000/8" } } },
    } },
  } })).status, 201, "push")
  for uri, want in pairs({ ["/by-host/in/x"] = 200, ["/by-host/out/x"] = 403, ["/by-host/denied/x"] = 403,
    ["/by-host/other/x"] = 200, ["/by-host/secure/x"] = 308 }) do
    eq((request("src.example.com", uri)), want, uri)
  end
end

return _M
