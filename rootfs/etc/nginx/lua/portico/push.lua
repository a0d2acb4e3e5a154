-- What the controller's configuration endpoints share: a plain-text reply,
-- and accept(), which takes a POSTed JSON document, checks it, and keeps
-- the raw body in a shared dict with a generation counter that workers
-- compare to know when to rebuild their view.
local cjson = require("cjson.safe")

local _M = {}

function _M.reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "text/plain; charset=utf-8"
  ngx.say(body)
  return ngx.exit(ngx.HTTP_OK)
end
local reply = _M.reply

-- accept answers a POST: 400 when the body is not JSON or validate(data)
-- returns what is wrong, else the body is stored under key in shm, the
-- generation moves, and the answer is 201.
function _M.accept(shm, key, validate)
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then
    return reply(ngx.HTTP_BAD_REQUEST, "empty body, or larger than client_body_buffer_size")
  end
  local data, err = cjson.decode(body)
  if not data then
    return reply(ngx.HTTP_BAD_REQUEST, "invalid JSON: " .. tostring(err))
  end
  local bad = validate(data)
  if bad then
    return reply(ngx.HTTP_BAD_REQUEST, bad)
  end
  local ok, serr = shm:set(key, body)
  if not ok then
    return reply(ngx.HTTP_INTERNAL_SERVER_ERROR, "cannot store " .. key .. ": " .. tostring(serr))
  end
  ngx.header["X-Portico-Generation"] = tostring(shm:incr("generation", 1, 0))
  return reply(ngx.HTTP_CREATED, "ok")
end

-- serve answers a configuration endpoint: GET returns the document stored
-- under key (empty when none was pushed) with its generation, POST
-- replaces it through accept.
function _M.serve(shm, key, empty, validate)
  local method = ngx.req.get_method()
  if method == "GET" then
    ngx.header["Content-Type"] = "application/json"
    ngx.header["X-Portico-Generation"] = tostring(shm:get("generation") or 0)
    ngx.say(shm:get(key) or empty)
    return ngx.exit(ngx.HTTP_OK)
  end
  if method ~= "POST" then
    return reply(ngx.HTTP_NOT_ALLOWED, "use GET or POST")
  end
  return _M.accept(shm, key, validate)
end

-- follower returns a function that brings a worker's view up to the
-- shared dict's generation: when the generation moved, apply(data) gets
-- the document stored under key, decoded. A document that does not decode
-- is logged and the view kept.
function _M.follower(shm, key, apply)
  local generation = nil
  return function()
    local gen = shm:get("generation")
    if gen == generation then
      return
    end
    local data, err = cjson.decode(shm:get(key) or "")
    if data then
      apply(data)
    else
      ngx.log(ngx.ERR, "portico: stored ", key, " do not decode: ", err)
    end
    generation = gen
  end
end

return _M
