package annotations

import (
	"net/netip"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameAllowlistSourceRange = "allowlist-source-range"
	nameWhitelistSourceRange = "whitelist-source-range"
	nameDenylistSourceRange  = "denylist-source-range"
)

// SourceRange restricts which client addresses a location serves: Deny
// is checked first (it wins on overlap), then Allow; when Allow is set,
// every other address is denied. Denied clients get 403.
type SourceRange struct {
	Allow []netip.Prefix
	Deny  []netip.Prefix
}

// maxCIDRs bounds the entries of one list.
const maxCIDRs = 1024

// parseCIDRs parses a comma-separated list of IPv4/IPv6 networks or
// addresses (an address is its /32 or /128). Networks are masked, so
// 10.1.2.3/8 becomes 10.0.0.0/8; IPv4-mapped IPv6 addresses and zones are
// refused.
func parseCIDRs(a Annotations, name string) ([]netip.Prefix, []diag.Diagnostic) {
	v, ok := a.lookup(name)
	if !ok {
		return nil, nil
	}
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, ok := parseCIDR(s)
		if !ok {
			return nil, invalid(name, v, "want comma-separated IPv4 or IPv6 addresses or CIDRs such as 10.0.0.0/8, 2001:db8::/32")
		}
		out = append(out, p)
	}
	if len(out) > maxCIDRs {
		return nil, invalid(name, v, "want at most 1024 entries")
	}
	if len(out) == 0 {
		return nil, invalid(name, v, "want at least one address or CIDR")
	}
	return out, nil
}

func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Is4In6() {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" || addr.Is4In6() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(addr, addr.BitLen()), true
}

func parseSourceRange(a Annotations) (SourceRange, []diag.Diagnostic) {
	var (
		r     SourceRange
		ds, d []diag.Diagnostic
	)
	// allowlist-source-range is the current name; whitelist the old one.
	name := nameAllowlistSourceRange
	if _, ok := a.lookup(name); !ok {
		name = nameWhitelistSourceRange
	}
	r.Allow, d = parseCIDRs(a, name)
	ds = append(ds, d...)
	r.Deny, d = parseCIDRs(a, nameDenylistSourceRange)
	ds = append(ds, d...)
	if diag.HasError(ds) {
		return SourceRange{}, ds
	}
	return r, ds
}
