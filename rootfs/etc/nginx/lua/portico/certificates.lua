-- Portico's certificate store: the controller POSTs every TLS certificate
-- and the host → certificate map to /configuration/certificates; each
-- certificate is a document of its own in a shared dict (memory only,
-- never on disk; push.keyed), the map and the default next to them, with
-- a generation counter. One certificate that does not parse is refused
-- alone: its hosts get the version nginx held, else the default. The
-- store's certificate() runs in ssl_certificate_by_lua and picks the
-- certificate for the SNI name: the exact host, then the wildcard for its
-- parent domain, then the configured default. With none, nginx serves the
-- default certificate from nginx.conf. Rotation is a push: no reload.
-- With rejectUnknown (ssl-reject-handshake) the map names every host,
-- those without TLS mapped to "" (the default certificate), and a
-- handshake without SNI or for a name it lacks fails. With ocsp
-- (enable-ocsp) each handshake staples its certificate's OCSP response
-- (portico.ocsp).
local cjson = require("cjson.safe")
local push = require("portico.push")
local stapling = require("portico.ocsp")
local ssl = require("ngx.ssl")

local shm = ngx.shared.portico_certificates
local ngx_log, ERR = ngx.log, ngx.ERR

local _M = {}

local reply = push.reply

local store = push.keyed(shm, "c:")

-- Per-worker view of the shared dict: the host map, the default, whether
-- names the map lacks are refused, whether OCSP responses are stapled,
-- and the certificates parsed since the last change.
local servers, default, reject, staple, parsed = {}, nil, false, false, {}

-- shape checks a decoded push as a whole; it returns nil or what is wrong.
local function shape(data)
  if type(data.servers) ~= "table" or type(data.certificates) ~= "table"
    or (data.default ~= nil and type(data.default) ~= "string")
    or (data.rejectUnknown ~= nil and type(data.rejectUnknown) ~= "boolean")
    or (data.ocsp ~= nil and type(data.ocsp) ~= "boolean") then
    return "want an object with servers, certificates, a default name, rejectUnknown and ocsp"
  end
  for host, name in pairs(data.servers) do
    if type(host) ~= "string" or type(name) ~= "string" then
      return "servers must map host names to certificate names"
    end
  end
  return nil
end

-- check parses one certificate and its key; nil or what is wrong (never
-- key material).
local function check(name, c)
  if type(c) ~= "table" or c.name ~= name or type(c.cert) ~= "string" or type(c.key) ~= "string" then
    return "needs a name, a cert and a key"
  end
  if not ssl.parse_pem_cert(c.cert) then
    return "cert does not parse"
  end
  if not ssl.parse_pem_priv_key(c.key) then
    return "key does not parse"
  end
  return nil
end

-- The map of the last push, and the default: a host naming a certificate
-- nginx does not hold gets the default.
local function store_map(data)
  for key, v in pairs({ servers = cjson.encode(data.servers), default = data.default or "", reject = data.rejectUnknown == true,
    ocsp = data.ocsp == true }) do
    local ok, err = shm:safe_set(key, v)
    if not ok then
      ngx_log(ERR, "portico: cannot store the certificates' ", key, ": ", err)
    end
  end
end

local generation = nil
local function sync()
  local gen = shm:get("generation")
  if gen == generation then
    return
  end
  servers = cjson.decode(shm:get("servers") or "{}") or {}
  default, reject, parsed, generation = shm:get("default"), shm:get("reject") == true, {}, gen
  -- nginx.conf declares the OCSP cache when the ConfigMap turns it on.
  staple = shm:get("ocsp") == true and stapling.available()
end

local function get(name)
  local p = parsed[name]
  if p then
    return p
  end
  local pem = store.get(name)
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
  if staple then
    p.der, p.ocsp = ssl.cert_pem_to_der(pem.cert), stapling.key(name, pem.cert)
  end
  parsed[name] = p
  return p
end

-- entry returns the map's entry for an SNI name: a certificate name, ""
-- for the default one, or nil when the map lacks the name.
local function entry(sni)
  if not sni then
    return nil
  end
  sni = sni:lower()
  local name = servers[sni]
  if name == nil then
    local dot = sni:find(".", 1, true)
    if dot then
      name = servers["*" .. sni:sub(dot)]
    end
  end
  return name
end

-- lookup returns the certificate name for an SNI name, or nil.
local function lookup(sni)
  local name = entry(sni)
  if name and name ~= "" then
    return name
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
  local sni = ssl.server_name()
  if reject and entry(sni) == nil then
    return ngx.exit(ngx.ERROR) -- ssl-reject-handshake: a name no host has
  end
  local name = lookup(sni)
  if not name then
    return -- nginx.conf's default certificate
  end
  -- A certificate nginx does not hold (refused) leaves the default.
  local p = get(name) or (default and default ~= "" and get(default))
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
  if p.ocsp and p.der then
    stapling.staple(p.ocsp, p.der)
  end
end

-- configure serves /configuration/certificates: POST replaces the store
-- (push.keyed: a certificate that does not parse is refused alone), GET
-- returns the host map and certificate names, never keys.
function _M.configure()
  local method = ngx.req.get_method()
  if method == "GET" then
    sync()
    local names = {}
    for name in pairs(store.all()) do
      names[#names + 1] = name
    end
    table.sort(names)
    ngx.header["Content-Type"] = "application/json"
    local doc = cjson.encode({ servers = servers, default = default or "", rejectUnknown = reject, ocsp = shm:get("ocsp") == true,
      certificates = names })
    -- cjson would write an empty list as an object.
    ngx.say((doc:gsub('"certificates":{}', '"certificates":[]')))
    return ngx.exit(ngx.HTTP_OK)
  end
  if method ~= "POST" then
    return reply(ngx.HTTP_NOT_ALLOWED, "use GET or POST")
  end
  return store.post(shape, function(data)
    return push.by_name(data.certificates)
  end, check, store_map)
end

return _M
