package e2e

import (
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"testing"
)

// mmdbNetwork is an IPv4 network of a MaxMind DB and the record it maps
// to: maps of strings, strings, uint16/uint32/uint64 and float64.
type mmdbNetwork struct {
	prefix netip.Prefix
	record map[string]any
}

// writeMMDB makes a MaxMind DB (format 2.0, maxmind.github.io/MaxMind-DB)
// of IPv4 networks: a binary search tree of 24-bit records, 16 zero
// bytes, the data section, then the metadata after its marker.
func writeMMDB(t *testing.T, dbType string, networks ...mmdbNetwork) []byte {
	t.Helper()
	// A record is a node (>= 0), no data (empty) or data k (-1-k).
	const empty = math.MinInt
	nodes := [][2]int{{empty, empty}}
	var data []byte
	var offsets []int
	for _, n := range networks {
		if !n.prefix.Addr().Is4() || n.prefix.Bits() == 0 {
			t.Fatalf("mmdb: %s is no IPv4 network", n.prefix)
		}
		k := len(offsets)
		offsets = append(offsets, len(data))
		data = append(data, mmdbValue(t, n.record)...)
		a := n.prefix.Masked().Addr().As4()
		ip := binary.BigEndian.Uint32(a[:])
		node := 0
		for depth := 0; depth < n.prefix.Bits(); depth++ {
			bit := int(ip>>(31-depth)) & 1
			if depth == n.prefix.Bits()-1 {
				nodes[node][bit] = -1 - k
				break
			}
			next := nodes[node][bit]
			if next < 0 {
				if next != empty {
					t.Fatalf("mmdb: %s lies inside an earlier network", n.prefix)
				}
				next = len(nodes)
				nodes = append(nodes, [2]int{empty, empty})
				nodes[node][bit] = next
			}
			node = next
		}
	}
	count := len(nodes)
	var out []byte
	for _, n := range nodes {
		for _, r := range n {
			v := r
			switch {
			case r == empty:
				v = count
			case r < 0:
				v = count + 16 + offsets[-1-r]
			}
			out = append(out, byte(v>>16), byte(v>>8), byte(v))
		}
	}
	out = append(out, make([]byte, 16)...)
	out = append(out, data...)
	out = append(out, "\xab\xcd\xefMaxMind.com"...)
	return append(out, mmdbValue(t, map[string]any{
		"binary_format_major_version": uint16(2), "binary_format_minor_version": uint16(0),
		"build_epoch": uint64(1796601600), "database_type": dbType, "description": map[string]any{"en": "Portico e2e"},
		"ip_version": uint16(4), "languages": []any{"en"}, "node_count": uint32(count), "record_size": uint16(24),
	})...)
}

// mmdbValue encodes v as a field of the data section.
func mmdbValue(t *testing.T, v any) []byte {
	t.Helper()
	uint := func(typ int, n uint64) []byte {
		var b []byte
		for ; n > 0; n >>= 8 {
			b = append([]byte{byte(n)}, b...)
		}
		return append(mmdbControl(typ, len(b)), b...)
	}
	switch v := v.(type) {
	case string:
		return append(mmdbControl(2, len(v)), v...)
	case float64:
		return binary.BigEndian.AppendUint64(mmdbControl(3, 8), math.Float64bits(v))
	case uint16:
		return uint(5, uint64(v))
	case uint32:
		return uint(6, uint64(v))
	case uint64:
		return uint(9, v)
	case map[string]any:
		out := mmdbControl(7, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = append(append(out, mmdbValue(t, k)...), mmdbValue(t, v[k])...)
		}
		return out
	case []any:
		out := mmdbControl(11, len(v))
		for _, e := range v {
			out = append(out, mmdbValue(t, e)...)
		}
		return out
	}
	t.Fatalf("mmdb: no encoding for %T", v)
	return nil
}

// mmdbControl is a field's control byte for type typ and size, then the
// extended type's byte (types above 7), then the size's extra bytes.
func mmdbControl(typ, size int) []byte {
	var out []byte
	if typ <= 7 {
		out = []byte{byte(typ << 5)}
	} else {
		out = []byte{0, byte(typ - 7)}
	}
	switch {
	case size < 29:
		out[0] |= byte(size)
	case size < 29+256:
		out[0] |= 29
		out = append(out, byte(size-29))
	case size < 285+65536:
		out[0] |= 30
		out = append(out, byte((size-285)>>8), byte(size-285))
	default:
		out[0] |= 31
		out = append(out, byte((size-65821)>>16), byte((size-65821)>>8), byte(size-65821))
	}
	return out
}

// cityRecord is a GeoLite2-City record of country code and name, and
// city name.
func cityRecord(code, country, city string) map[string]any {
	return map[string]any{
		"country": map[string]any{"iso_code": code, "names": map[string]any{"en": country}},
		"city":    map[string]any{"names": map[string]any{"en": city}},
	}
}
