-- Minimal test runner: GET /run?suite=NAME loads NAME_test.lua and calls
-- every function whose name starts with "test_", printing PASS or FAIL per
-- test and a closing "N passed, M failed" line.
local _M = {}

function _M.run()
  local suite = ngx.var.arg_suite
  local ok, tests = pcall(require, suite .. "_test")
  if not ok then
    ngx.say("FAIL load ", suite, ": ", tests)
    ngx.say("0 passed, 1 failed")
    return
  end
  local names = {}
  for name, fn in pairs(tests) do
    if type(fn) == "function" and name:sub(1, 5) == "test_" then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  local passed, failed = 0, 0
  for _, name in ipairs(names) do
    local good, err = pcall(tests[name])
    if good then
      passed = passed + 1
      ngx.say("PASS ", suite, ".", name)
    else
      failed = failed + 1
      ngx.say("FAIL ", suite, ".", name, ": ", tostring(err))
    end
  end
  ngx.say(passed, " passed, ", failed, " failed")
end

-- eq fails the test when got differs from want.
function _M.eq(got, want, what)
  if got ~= want then
    error((what or "value") .. ": got " .. tostring(got) .. ", want " .. tostring(want), 2)
  end
end

-- same reports whether a and b are equal values, tables compared deeply.
function _M.same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    return a == b
  end
  for k, v in pairs(a) do
    if not _M.same(v, b[k]) then
      return false
    end
  end
  for k in pairs(b) do
    if a[k] == nil then
      return false
    end
  end
  return true
end

-- refused fails the test unless res is a push nginx took (201) that
-- refused the item name, and returns the reason.
function _M.refused(res, name, what)
  if res.status ~= 201 then
    error((what or "push") .. ": got " .. tostring(res.status) .. " " .. tostring(res.body) .. ", want 201", 2)
  end
  local doc = require("cjson.safe").decode(res.body)
  local why = type(doc) == "table" and type(doc.refused) == "table" and doc.refused[name]
  if type(why) ~= "string" then
    error((what or "push") .. ": " .. name .. " not refused: " .. tostring(res.body), 2)
  end
  return why
end

return _M
