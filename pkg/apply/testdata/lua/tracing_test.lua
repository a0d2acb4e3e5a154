local tracing = require("portico.tracing")
local eq = require("runner").eq

local _M = {}

local incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

function _M.test_parse()
  eq(tracing.parse(incoming), "4bf92f3577b34da6a3ce929d0e0e4736", "a valid traceparent")
  eq(tracing.parse(incoming:upper()), "4bf92f3577b34da6a3ce929d0e0e4736", "upper-case hex")
  eq(select(3, tracing.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")), "00", "flags read")
  eq(select(2, tracing.parse(incoming)), "00f067aa0ba902b7", "parent id read")
  eq(tracing.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more"), "4bf92f3577b34da6a3ce929d0e0e4736", "a later version's prefix")
  for _, bad in ipairs({
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more", -- version 00 has four fields
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
    "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
    "garbage", "",
  }) do
    eq(tracing.parse(bad), nil, "refused " .. bad)
  end
end

function _M.test_next()
  tracing.configure({ sampler = "AlwaysOn", parent_based = true })
  local tp, trace, parent, sampled = tracing.next(incoming, true)
  eq(parent, "00f067aa0ba902b7", "the client's span is nginx's parent")
  eq(sampled, true, "sampled as the client's flags say")
  eq(trace, "4bf92f3577b34da6a3ce929d0e0e4736", "trusted: the client's trace continues")
  eq(tp:sub(1, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-", "same trace id")
  eq(tp:sub(-3), "-01", "its flags")
  eq(#tp, 55, "a version-00 traceparent")
  eq(tp:sub(37, 52) ~= "00f067aa0ba902b7", true, "a new parent id")
  local fresh = tracing.next(incoming, false)
  eq(tracing.parse(fresh) ~= "4bf92f3577b34da6a3ce929d0e0e4736", true, "untrusted: a new trace")
  eq(tracing.parse(fresh) ~= nil, true, "which is valid")
  eq(fresh:sub(-3), "-01", "and sampled")
  local made = tracing.next(nil, true)
  eq(tracing.parse(made) ~= nil, true, "none incoming: a new valid trace")
  eq(tracing.parse(tracing.next("garbage", true)) ~= nil, true, "invalid incoming: a new valid trace")
  eq(select(3, tracing.next(incoming, false)), "", "a new trace has no parent")
end

function _M.test_samplers()
  local unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
  tracing.configure({ sampler = "AlwaysOff", parent_based = true })
  eq(tracing.next(nil, true):sub(-3), "-00", "AlwaysOff: a new trace is not sampled")
  eq(tracing.next(incoming, true):sub(-3), "-01", "parent-based: the client's decision stands")
  tracing.configure({ sampler = "AlwaysOn", parent_based = false })
  local tp, _, _, sampled = tracing.next(unsampled, true)
  eq(tp:sub(-3) .. tostring(sampled), "-01true", "not parent-based: the sampler decides for a continued trace")
  tracing.configure({ sampler = "TraceIdRatioBased", ratio = 0, parent_based = true })
  eq(tracing.next(nil, true):sub(-3), "-00", "ratio 0: none")
  tracing.configure({ sampler = "TraceIdRatioBased", ratio = 1, parent_based = true })
  eq(tracing.next(nil, true):sub(-3), "-01", "ratio 1: all")
  tracing.configure({ sampler = "AlwaysOn", parent_based = true })
end

function _M.test_span_name()
  local var = {
    uri = "/shop/cart", request_uri = "/shop/cart?x=1", host = "shop.example.com", scheme = "https",
    server_name = "_", portico_server = "shop.example.com", portico_ingress = "web/shop",
    portico_backend = "web/cart:8080", portico_path = "/shop",
  }
  eq(tracing.span_name("checkout", var), "checkout", "literal text stays")
  eq(tracing.span_name("$scheme://${host}$uri", var), "https://shop.example.com/shop/cart", "$name and ${name}")
  eq(tracing.span_name("$namespace/$ingress_name $service_name $location_path", var), "web/shop cart /shop",
    "the location's labels")
  eq(tracing.span_name("$server_name $request_uri", var), "shop.example.com /shop/cart?x=1", "the host, not nginx's server_name")
  var.portico_server = ""
  eq(tracing.span_name("$server_name", var), "_", "no host label: nginx's server_name")
  eq(tracing.span_name("$location_path|$namespace", {}), "|", "unset labels are empty")
  eq(tracing.span_name("$secret ${uri", var), "$secret ${uri", "anything else stays as written")
end

function _M.test_name()
  local var = { uri = "/api/x", portico_location = "/api/" }
  eq(tracing.name("op $uri", "= /x", var), "op /api/x", "a configured name first")
  eq(tracing.name(nil, "^/api\\d+", var), "^/api\\d+", "else the server block location's")
  eq(tracing.name(nil, nil, var), "/api/", "else the route's location")
  eq(tracing.name(nil, nil, { portico_location = "" }), "/", "no route: ingress-nginx's default location")
end

return _M
