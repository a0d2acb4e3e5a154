local cidr = require("portico.cidr")
local eq = require("runner").eq

local _M = {}

-- bin builds a binary address from its bytes.
local function bin(...)
  return string.char(...)
end

local v6 = bin(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) -- 2001:db8::1

function _M.test_ipv4_networks()
  local list = assert(cidr.compile({ "0a000000/8", "c0a80180/25", "7f000001/32" }))
  for _, c in ipairs({
    { bin(10, 1, 2, 3), true },
    { bin(11, 0, 0, 0), false },
    { bin(192, 168, 1, 128), true },
    { bin(192, 168, 1, 255), true },
    { bin(192, 168, 1, 127), false }, -- the /25's other half
    { bin(127, 0, 0, 1), true },
    { bin(127, 0, 0, 2), false },
    { v6, false }, -- another family never matches
  }) do
    eq(cidr.contains(list, c[1]), c[2], "address " .. table.concat({ c[1]:byte(1, -1) }, "."))
  end
end

function _M.test_ipv6_and_everything()
  local list = assert(cidr.compile({ "20010db8000000000000000000000000/33" }))
  eq(cidr.contains(list, v6), true, "2001:db8::1 in 2001:db8::/33")
  eq(cidr.contains(list, bin(0x20, 0x01, 0x0d, 0xb8, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)), false, "2001:db8:8000::1")
  local all = assert(cidr.compile({ "00000000/0" }))
  eq(cidr.contains(all, bin(203, 0, 113, 9)), true, "0.0.0.0/0")
  eq(cidr.contains(all, v6), false, "0.0.0.0/0 holds no IPv6 address")
end

function _M.test_ipv4_mapped_counts_as_ipv4()
  local mapped = bin(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7)
  eq(cidr.address(mapped), bin(10, 0, 0, 7), "::ffff:10.0.0.7")
  eq(cidr.address(v6), v6, "2001:db8::1 stays")
end

function _M.test_rejects_malformed()
  for _, list in ipairs({
    { "0a000000" },
    { "0a0000/8" },
    { "0a000000/33" },
    { "zz000000/8" },
    { "0a000000/-1" },
    { 10 },
    "0a000000/8",
  }) do
    local got, err = cidr.compile(list)
    eq(got, nil, "compile " .. tostring(list[1] or list))
    eq(type(err), "string", "error of " .. tostring(list[1] or list))
  end
end

return _M
