-- router.lua on the shared table of routing cases
-- (pkg/model/testdata/match.json, which the Go matchers are tested on
-- too; TestLua reads it into portico_match_cases).
local cjson = require("cjson.safe")
local router = require("portico.router")
local eq = require("runner").eq

local _M = {}

function _M.test_the_shared_table_of_cases()
  local t = assert(cjson.decode(portico_match_cases), "match.json does not decode")
  local res = ngx.location.capture("/configuration/routes",
    { method = ngx.HTTP_POST, body = cjson.encode({ hosts = t.hosts }) })
  eq(res.status, 201, "push")
  for _, c in ipairs(t.cases) do
    local what = c.host .. c.path
    local key, _, r = router.lookup(c.host, c.path)
    eq(key, c.key, what .. ": host entry")
    -- The first route like r: a regex host may hold one location twice
    -- (as ingress-nginx makes them), and nginx takes the first.
    local got = -1
    for i, x in ipairs(t.hosts[key].routes) do
      if r and x.path == r.path and (x.exact or false) == (r.exact or false) and (x.regex or false) == (r.regex or false)
        and x.backend == r.backend then
        got = i - 1
        break
      end
    end
    eq(got, c.route, what .. ": route")
  end
end

return _M
