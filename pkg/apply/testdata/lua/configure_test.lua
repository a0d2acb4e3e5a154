local cjson = require("cjson.safe")
local balancer = require("portico.balancer")
local runner = require("runner")
local eq, refused, same = runner.eq, runner.refused, runner.same

local _M = {}

local function post(body)
  return ngx.location.capture("/configuration/backends", { method = ngx.HTTP_POST, body = body })
end

function _M.test_rejects_malformed_pushes()
  for _, body in ipairs({ "not json", "[]", '{"backends":"x"}' }) do
    eq(post(body).status, 400, body)
  end
  -- A bad backend is refused alone, with its reason; the good one beside
  -- it is taken, and a refused one keeps the version nginx held.
  refused(post('{"backends":[{"endpoints":[]}]}'), "#1", "a backend without a name")
  eq(post(cjson.encode({ backends = { { name = "a", endpoints = { { address = "198.18.0.7", port = 80 } } } } })).status, 201, "first a")
  for _, b in ipairs({
    '{"name":"a","endpoints":[{"address":"198.18.0.1","port":0}]}',
    '{"name":"a","endpoints":[{"address":"198.18.0.1","port":1.5}]}',
    '{"name":"a","endpoints":[{"port":80}]}',
    '{"name":"a","endpoints":"x"}',
    '{"name":"a","endpoints":[],"hashBy":"x; y"}',
  }) do
    local res = post('{"backends":[' .. b .. ',{"name":"good","endpoints":[{"address":"198.18.0.2","port":80}]}]}')
    local name = cjson.decode(b).name or "#1"
    local why = refused(res, name, b)
    assert(not why:find("198.18", 1, true), "the reason names no endpoint: " .. why)
    eq(cjson.decode(res.body).refused.good, nil, "the good backend beside " .. b)
    local bs = balancer.backends()
    eq(bs.good and bs.good.endpoints[1].address, "198.18.0.2", "the good backend beside " .. b)
    if name == "a" then
      eq(bs.a and bs.a.endpoints[1].address, "198.18.0.7", "a keeps the version nginx held")
    end
  end
end

function _M.test_push_is_visible_to_get_and_to_the_worker()
  local body = cjson.encode({ backends = {
    { name = "ns/a:80", loadBalance = "ewma", endpoints = { { address = "198.18.0.1", port = 8080 } } },
    { name = "ns/b:80", endpoints = {}, noEndpoints = "service ns/b has no endpoints" },
  } })
  eq(post(body).status, 201, "push")
  local got = ngx.location.capture("/configuration/backends")
  eq(got.status, 200, "get")
  -- An empty endpoint list is left out, not written as an object.
  eq(got.body:find('"endpoints":{}', 1, true), nil, "no endpoints written as {}: " .. got.body)
  local doc = cjson.decode(got.body).backends
  assert(same(doc[1], cjson.decode(body).backends[1]), "a as pushed: " .. cjson.encode(doc[1]))
  eq(doc[2].name .. " " .. tostring(doc[2].endpoints) .. " " .. doc[2].noEndpoints, "ns/b:80 nil service ns/b has no endpoints", "b")
  local bs = balancer.backends()
  eq(#bs["ns/a:80"].endpoints, 1, "endpoints of a")
  eq(bs["ns/a:80"].endpoints[1].port, 8080, "port of a")
  eq(bs["ns/b:80"].reason, "service ns/b has no endpoints", "reason of b")
  assert(bs["ns/a:80"].picker.observe ~= nil, "ewma picker for a")
end

-- A patch on the generation nginx is at replaces the backends it carries,
-- removes the deleted ones and keeps the rest; on another generation it
-- is refused.
function _M.test_patch()
  eq(post(cjson.encode({ backends = {
    { name = "ns/a:80", endpoints = { { address = "198.18.0.1", port = 8080 } } },
    { name = "ns/b:80", endpoints = { { address = "198.18.0.2", port = 8080 } } },
    { name = "ns/c:80", endpoints = { { address = "198.18.0.3", port = 8080 } } },
  } })).status, 201, "push")
  local gen = ngx.location.capture("/configuration/backends").header["X-Portico-Generation"]
  local function patch(base, body)
    return ngx.location.capture("/configuration/backends", { method = ngx.HTTP_POST, args = { base = base }, body = cjson.encode(body) })
  end
  local res = patch(gen, { deleted = { "ns/b:80" }, backends = {
    { name = "ns/a:80", endpoints = { { address = "198.18.0.9", port = 9090 } } },
  } })
  eq(res.status, 201, "patch: " .. res.body)
  local bs = balancer.backends()
  eq(bs["ns/a:80"].endpoints[1].address, "198.18.0.9", "patched backend")
  eq(bs["ns/b:80"], nil, "deleted backend")
  eq(bs["ns/c:80"].endpoints[1].address, "198.18.0.3", "untouched backend")
  eq(patch(gen, { backends = {} }).status, 409, "patch on a stale generation")
  eq(patch(res.header["X-Portico-Generation"], { backends = {}, deleted = { 1 } }).status, 400, "deleted must be names")
end

-- A backend built again after a change gets its picker's state from the
-- one before: EWMA scores survive pushes.
function _M.test_scores_survive_a_patch()
  eq(post(cjson.encode({ backends = {
    { name = "ns/e:80", loadBalance = "ewma", endpoints = { { address = "198.18.0.1", port = 80 } } },
  } })).status, 201, "push")
  balancer.backends()["ns/e:80"].picker.stats["198.18.0.1:80"].ewma = 0.3
  local gen = ngx.location.capture("/configuration/backends").header["X-Portico-Generation"]
  local res = ngx.location.capture("/configuration/backends", { method = ngx.HTTP_POST, args = { base = gen },
    body = cjson.encode({ backends = { { name = "ns/other:80", endpoints = {} } } }) })
  eq(res.status, 201, "patch")
  eq(balancer.backends()["ns/e:80"].picker.stats["198.18.0.1:80"].ewma, 0.3, "score after the patch")
end

function _M.test_request_ids_are_32_hex_digits_and_differ()
  balancer.seed()
  local seen = {}
  local first = balancer.request_id()
  for i = 1, 1000 do
    local id = balancer.request_id()
    eq(id:match("^%x+$") ~= nil and #id, 32, "id " .. id)
    eq(seen[id], nil, "id " .. i .. " repeats")
    seen[id] = true
  end
  -- Another worker (a new seed) draws another prefix.
  balancer.seed()
  local other = balancer.request_id()
  assert(other:sub(1, 16) ~= first:sub(1, 16), "a second seed kept the prefix " .. first:sub(1, 16))
end

return _M
