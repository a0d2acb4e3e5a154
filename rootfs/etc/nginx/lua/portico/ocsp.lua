-- OCSP stapling of the certificates the store serves (enable-ocsp), as
-- ingress-nginx staples them: nginx's own ssl_stapling knows only the
-- certificates of nginx.conf. A handshake staples the response cached for
-- its certificate, if any, and when none is fresh it starts a fetch in
-- the background (a timer): the responder named by the certificate's
-- Authority Information Access, asked over HTTP with the issuer taken
-- from the chain (tls.crt must carry it). A response is kept only if it
-- verifies against the issuer and says "good"; it is fetched again after
-- an hour, and a kept one is stapled for at most three days while its
-- responder does not answer. The cache is the shared dict portico_ocsp,
-- which nginx.conf declares when OCSP is on; keys name a certificate and
-- a hash of its PEM, so a rotated certificate never gets its
-- predecessor's response.
local ocsp = require("ngx.ocsp")

local ngx_log, ERR, NOTICE = ngx.log, ngx.ERR, ngx.NOTICE

local _M = {}

local REFRESH = 3600 -- seconds until a response is fetched again
local KEEP = 3 * 24 * 3600 -- seconds a response is stapled at most
local LOCK = 30 -- seconds one fetch per certificate may take
local MAX_RESPONSE = 64 * 1024

local cache = ngx.shared.portico_ocsp

-- available reports whether nginx.conf declared the cache.
function _M.available()
  return cache ~= nil
end

-- post sends body to an http:// URL and returns the answer's body.
local function post(url, body)
  local host, port, path = url:match("^http://([%w%.%-]+):?(%d*)(/?[^%s]*)$")
  if not host then
    return nil, "responder " .. url .. " is not an http:// URL"
  end
  if path == "" then
    path = "/"
  end
  local sock = ngx.socket.tcp()
  sock:settimeouts(2000, 2000, 5000)
  local ok, err = sock:connect(host, tonumber(port) or 80)
  if not ok then
    return nil, "connect " .. url .. ": " .. tostring(err)
  end
  ok, err = sock:send("POST " .. path .. " HTTP/1.0\r\nHost: " .. host .. "\r\nContent-Type: application/ocsp-request\r\n"
    .. "Content-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body)
  if not ok then
    sock:close()
    return nil, "send: " .. tostring(err)
  end
  local status = sock:receive("*l")
  local code = status and tonumber(status:match("^HTTP/1%.%d (%d%d%d)"))
  local length
  while true do
    local line, rerr = sock:receive("*l")
    if not line then
      sock:close()
      return nil, "headers: " .. tostring(rerr)
    end
    if line == "" then
      break
    end
    local n = line:lower():match("^content%-length:%s*(%d+)%s*$")
    if n then
      length = tonumber(n)
    end
  end
  if code ~= 200 then
    sock:close()
    return nil, "responder answered " .. tostring(status)
  end
  if length and length > MAX_RESPONSE then
    sock:close()
    return nil, "response of " .. length .. " bytes"
  end
  local data
  data, err = sock:receive(length or "*a")
  sock:close()
  if not data or #data > MAX_RESPONSE then
    return nil, "body: " .. tostring(err or "too large")
  end
  return data
end

-- fetch asks the responder of der (a DER chain) and caches a good answer.
local function fetch(premature, key, der)
  if premature then
    return
  end
  local url, err = ocsp.get_ocsp_responder_from_der_chain(der)
  if not url then
    if err then
      ngx_log(ERR, "portico: OCSP responder of ", key, ": ", err)
    end
    return -- the certificate names none
  end
  local req
  req, err = ocsp.create_ocsp_request(der)
  if not req then
    ngx_log(ERR, "portico: OCSP request for ", key, ": ", err)
    return
  end
  local resp
  resp, err = post(url, req)
  if not resp then
    ngx_log(ERR, "portico: OCSP response for ", key, ": ", err)
    return
  end
  local ok
  ok, err = ocsp.validate_ocsp_response(resp, der)
  if not ok then
    -- As nginx: a response that does not verify, or says other than
    -- "good", is not stapled.
    ngx_log(NOTICE, "portico: OCSP response for ", key, " not stapled: ", err)
    return
  end
  local forcible
  ok, err, forcible = cache:set("r:" .. key, resp, KEEP)
  if not ok then
    ngx_log(ERR, "portico: cannot cache the OCSP response for ", key, ": ", err)
    return
  end
  if forcible then
    ngx_log(NOTICE, "portico: the OCSP cache is full; older responses were dropped")
  end
  cache:set("f:" .. key, true, REFRESH)
end

-- key is the cache key of the certificate name whose PEM chain is pem.
function _M.key(name, pem)
  return name .. ":" .. ngx.md5(pem)
end

-- staple staples the cached response of the certificate of key, whose
-- DER chain is der, to this handshake, and starts a fetch when none is
-- fresh.
function _M.staple(key, der)
  if not cache:get("f:" .. key) and cache:add("l:" .. key, true, LOCK) then
    local ok, err = ngx.timer.at(0, fetch, key, der)
    if not ok then
      ngx_log(ERR, "portico: cannot start the OCSP fetch for ", key, ": ", err)
    end
  end
  local resp = cache:get("r:" .. key)
  if resp then
    local ok, err = ocsp.set_ocsp_status_resp(resp)
    if not ok then
      ngx_log(ERR, "portico: cannot staple the OCSP response for ", key, ": ", err)
    end
  end
end

return _M
