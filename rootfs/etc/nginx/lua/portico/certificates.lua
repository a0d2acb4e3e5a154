-- Portico's certificate store: the controller POSTs every TLS certificate
-- and the host → certificate map to /configuration/certificates; the body
-- stays in a shared dict (memory only, never on disk) with a generation
-- counter. certificate() runs in ssl_certificate_by_lua and picks the
-- certificate for the SNI name: the exact host, then the wildcard for its
-- parent domain, then the configured default. With none, nginx serves the
-- default certificate from nginx.conf. Rotation is a push: no reload.
local cjson = require("cjson.safe")
local push = require("portico.push")
local ssl = require("ngx.ssl")

local shm = ngx.shared.portico_certificates
local ngx_log, ERR = ngx.log, ngx.ERR

local _M = {}

local reply = push.reply

-- Per-worker view of the shared dict; certificates parsed on first use.
local servers, default, pems, parsed = {}, nil, {}, {}


-- validate checks a decoded push, parsing every certificate and key;
-- it returns nil or what is wrong (never key material).
local function validate(data)
  if type(data) ~= "table" or type(data.servers) ~= "table" or type(data.certificates) ~= "table" then
    return "want an object with servers and certificates"
  end
  local names = {}
  for i, c in ipairs(data.certificates) do
    if type(c) ~= "table" or type(c.name) ~= "string" or type(c.cert) ~= "string" or type(c.key) ~= "string" then
      return "certificate " .. i .. " needs a name, a cert and a key"
    end
    if not ssl.parse_pem_cert(c.cert) then
      return "certificate " .. c.name .. ": cert does not parse"
    end
    if not ssl.parse_pem_priv_key(c.key) then
      return "certificate " .. c.name .. ": key does not parse"
    end
    names[c.name] = true
  end
  for host, name in pairs(data.servers) do
    if type(host) ~= "string" or type(name) ~= "string" then
      return "servers must map host names to certificate names"
    end
    if name ~= "" and not names[name] then
      return "host " .. host .. " names unknown certificate " .. name
    end
  end
  if data.default ~= nil and data.default ~= "" and not names[data.default] then
    return "default names unknown certificate " .. tostring(data.default)
  end
  return nil
end

local sync = push.follower(shm, "certificates", function(data)
  servers, default, pems, parsed = data.servers, data.default, {}, {}
  for _, c in ipairs(data.certificates) do
    pems[c.name] = c
  end
end)

local function get(name)
  local p = parsed[name]
  if p then
    return p
  end
  local pem = pems[name]
  if not pem then
    return nil
  end
  local cert, cerr = ssl.parse_pem_cert(pem.cert)
  local key, kerr = ssl.parse_pem_priv_key(pem.key)
  if not cert or not key then
    ngx_log(ERR, "portico: certificate ", name, " does not parse: ", cerr or kerr)
    return nil
  end
  p = { cert = cert, key = key }
  parsed[name] = p
  return p
end

-- lookup returns the certificate name for an SNI name, or nil.
local function lookup(sni)
  if sni then
    sni = sni:lower()
    local name = servers[sni]
    if name == nil then
      local dot = sni:find(".", 1, true)
      if dot then
        name = servers["*" .. sni:sub(dot)]
      end
    end
    if name and name ~= "" then
      return name
    end
  end
  if default and default ~= "" then
    return default
  end
  return nil
end
_M.lookup = function(sni)
  sync()
  return lookup(sni)
end

-- certificate runs for every TLS handshake.
function _M.certificate()
  sync()
  local name = lookup(ssl.server_name())
  if not name then
    return -- nginx.conf's default certificate
  end
  local p = get(name)
  if not p then
    return
  end
  local ok, err = ssl.clear_certs()
  if ok then
    ok, err = ssl.set_cert(p.cert)
  end
  if ok then
    ok, err = ssl.set_priv_key(p.key)
  end
  if not ok then
    ngx_log(ERR, "portico: cannot serve certificate ", name, ": ", err)
    return ngx.exit(ngx.ERROR)
  end
end

-- configure serves /configuration/certificates: POST replaces the store,
-- GET returns the host map and certificate names, never keys.
function _M.configure()
  local method = ngx.req.get_method()
  if method == "GET" then
    sync()
    local names = {}
    for name in pairs(pems) do
      names[#names + 1] = name
    end
    table.sort(names)
    ngx.header["Content-Type"] = "application/json"
    ngx.say(cjson.encode({ servers = servers, default = default or "", certificates = names }))
    return ngx.exit(ngx.HTTP_OK)
  end
  if method ~= "POST" then
    return reply(ngx.HTTP_NOT_ALLOWED, "use GET or POST")
  end
  return push.accept(shm, "certificates", validate)
end

return _M
