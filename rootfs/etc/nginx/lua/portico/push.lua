-- What the controller's configuration endpoints share: a plain-text reply,
-- and keyed(), the storage of an endpoint whose items (backends, hosts,
-- certificates) are documents of their own in a shared dict next to a
-- generation counter that workers compare to know when to rebuild their
-- view: a push may be a patch, a worker decodes an item when it needs it,
-- and one bad item is refused alone, never the push.
local cjson = require("cjson.safe")

local _M = {}

function _M.reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "text/plain; charset=utf-8"
  ngx.say(body)
  return ngx.exit(ngx.HTTP_OK)
end
local reply = _M.reply

-- read_json returns the request body and its decoded JSON, or nil and
-- what is wrong.
local function read_json()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then
    return nil, nil, "empty body, or larger than client_body_buffer_size"
  end
  local data, err = cjson.decode(body)
  if not data then
    return nil, nil, "invalid JSON: " .. tostring(err)
  end
  return body, data
end

-- by_name maps a pushed list of items by their name field, an item
-- without one by its place ("#3"), for check to refuse.
function _M.by_name(list)
  local out = {}
  for i, item in ipairs(list) do
    local name = type(item) == "table" and type(item.name) == "string" and item.name ~= "" and item.name or ("#" .. i)
    out[name] = item
  end
  return out
end

-- keyed returns the storage of an endpoint whose items are documents of
-- their own in shm, under prefix .. name, next to a generation counter.
-- POST bodies name the items in a field, items (see post); a POST with
-- ?base=<generation> is a patch: its items replace theirs, the names in
-- "deleted" go, the others stay; nginx refuses it with 409 unless shm is
-- still at that generation (nginx restarted, or another push came).
function _M.keyed(shm, prefix)
  local k = {}

  -- get returns the item name, decoded, or nil.
  function k.get(name)
    local raw = shm:get(prefix .. name)
    if not raw then
      return nil
    end
    local data, err = cjson.decode(raw)
    if not data then
      ngx.log(ngx.ERR, "portico: stored ", prefix, name, " does not decode: ", err)
    end
    return data
  end

  -- entry returns cache[name], else the item name made by build(name,
  -- decoded item) and kept in cache; nil when shm does not hold it.
  function k.entry(cache, name, build)
    local v = cache[name]
    if v then
      return v
    end
    local data = k.get(name)
    if not data then
      return nil
    end
    v = build(name, data)
    cache[name] = v
    return v
  end

  -- all returns every item, decoded, by name.
  function k.all()
    local out = {}
    for _, key in ipairs(shm:get_keys(0)) do
      if key:sub(1, #prefix) == prefix then
        local name = key:sub(#prefix + 1)
        out[name] = k.get(name)
      end
    end
    return out
  end

  -- generation is shm's generation, 0 before the first push.
  function k.generation()
    return shm:get("generation") or 0
  end

  -- post answers a POST. The body decodes to data; shape(data) says what
  -- is wrong with the document as a whole (400, nothing changes). items(
  -- data) maps names to items and check(name, item) says what is wrong
  -- with one: that item is refused and keeps the version nginx holds, if
  -- any; the others are stored (a full push removes the ones it lacks),
  -- the names in data.deleted removed, extra(data) may store the rest,
  -- and the generation moves. The answer, 201, names the refused items
  -- with their reasons: {"refused":{"<name>":"<reason>"}}.
  function k.post(shape, items, check, extra)
    local base = ngx.var.arg_base
    if base and base ~= tostring(k.generation()) then
      return reply(ngx.HTTP_CONFLICT, "nginx is at generation " .. tostring(k.generation())
        .. ", not " .. base .. ": push everything")
    end
    local body, data, why = read_json()
    if not body then
      return reply(ngx.HTTP_BAD_REQUEST, why)
    end
    if type(data) ~= "table" or (data.deleted ~= nil and type(data.deleted) ~= "table") then
      return reply(ngx.HTTP_BAD_REQUEST, "want an object; deleted, when given, a list of names")
    end
    for _, name in ipairs(data.deleted or {}) do
      if type(name) ~= "string" then
        return reply(ngx.HTTP_BAD_REQUEST, "deleted must list names")
      end
    end
    local bad = shape(data)
    if bad then
      return reply(ngx.HTTP_BAD_REQUEST, bad)
    end
    local new, refused = items(data), {}
    for name, item in pairs(new) do
      local why_not = check(name, item)
      if not why_not then
        -- safe_set: a full dict refuses this item, it never evicts others.
        local ok, serr = shm:safe_set(prefix .. name, cjson.encode(item))
        if not ok then
          why_not = "cannot store it: " .. tostring(serr)
        end
      end
      if why_not then
        refused[tostring(name)] = why_not:sub(1, 300)
        ngx.log(ngx.WARN, "portico: refused ", prefix, name, ": ", why_not)
      end
    end
    if not base then
      for _, key in ipairs(shm:get_keys(0)) do
        if key:sub(1, #prefix) == prefix and new[key:sub(#prefix + 1)] == nil then
          shm:delete(key)
        end
      end
    end
    for _, name in ipairs(data.deleted or {}) do
      shm:delete(prefix .. name)
    end
    if extra then
      extra(data)
    end
    ngx.status = ngx.HTTP_CREATED
    ngx.header["Content-Type"] = "application/json"
    ngx.header["X-Portico-Generation"] = tostring(shm:incr("generation", 1, 0))
    ngx.say(cjson.encode({ refused = refused }))
    return ngx.exit(ngx.HTTP_OK)
  end

  -- answer_get answers a GET with doc (a table), encoded, and the
  -- generation.
  function k.answer_get(doc)
    ngx.header["Content-Type"] = "application/json"
    ngx.header["X-Portico-Generation"] = tostring(k.generation())
    ngx.say(cjson.encode(doc))
    return ngx.exit(ngx.HTTP_OK)
  end

  return k
end

return _M
