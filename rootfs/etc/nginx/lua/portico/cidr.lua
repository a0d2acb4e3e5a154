-- CIDR lists for the router's source ranges. The controller sends each
-- network as "<hex of its address bytes>/<prefix length>" (8 hex digits
-- for IPv4, 32 for IPv6, host bits zero); a request's address is
-- $binary_remote_addr (4 or 16 bytes), so nothing is parsed per request.
local byte, band, lshift = string.byte, bit.band, bit.lshift

local _M = {}

-- compile turns a list of "hex/bits" strings into matchers; it returns nil
-- and what is wrong for a malformed entry.
function _M.compile(list)
  if type(list) ~= "table" then
    return nil, "want a list"
  end
  local out = {}
  for i, s in ipairs(list) do
    local hex, bits
    if type(s) == "string" then
      hex, bits = s:match("^(%x+)/(%d+)$")
    end
    bits = tonumber(bits)
    if not hex or (#hex ~= 8 and #hex ~= 32) or bits > #hex * 4 then
      return nil, "entry " .. i .. " is not hex/bits of an IPv4 or IPv6 network"
    end
    local addr = hex:gsub("%x%x", function(h)
      return string.char(tonumber(h, 16))
    end)
    local full, rest = math.floor(bits / 8), bits % 8
    local mask = rest > 0 and band(lshift(0xff, 8 - rest), 0xff) or 0
    out[i] = {
      size = #addr,
      full = full,
      head = addr:sub(1, full),
      mask = mask,
      last = mask > 0 and band(byte(addr, full + 1), mask) or 0,
    }
  end
  return out
end

local V4MAPPED = string.rep("\0", 10) .. "\255\255"

-- address returns a binary address as nginx's allow and deny compare it:
-- an IPv4-mapped IPv6 address as its IPv4 address.
function _M.address(bin)
  if #bin == 16 and bin:sub(1, 12) == V4MAPPED then
    return bin:sub(13)
  end
  return bin
end

-- contains reports whether the binary address addr is in a compiled list.
function _M.contains(list, addr)
  local n = #addr
  for i = 1, #list do
    local c = list[i]
    if n == c.size and (c.full == 0 or addr:sub(1, c.full) == c.head)
      and (c.mask == 0 or band(byte(addr, c.full + 1), c.mask) == c.last) then
      return true
    end
  end
  return false
end

return _M
