package model

import (
	"net/netip"
	"slices"
	"strings"
)

// ListenSettings are the ConfigMap's say on where nginx listens for
// traffic and how it resolves names.
type ListenSettings struct {
	// DisableIPv6: no IPv6 listeners (nginx also has none where the host
	// has no IPv6, package plan decides).
	DisableIPv6 bool `json:"disableIPv6,omitempty"`
	// DisableIPv6DNS: nginx's resolver asks for IPv4 addresses only and
	// uses IPv4 nameservers only.
	DisableIPv6DNS bool `json:"disableIPv6DNS,omitempty"`
	// BindIPv4 and BindIPv6 are the addresses the traffic ports listen on
	// (bind-address), canonical; an empty list means all addresses of its
	// family.
	BindIPv4 []string `json:"bindIPv4,omitempty"`
	BindIPv6 []string `json:"bindIPv6,omitempty"`
	// ReusePort gives each worker its own listening socket (reuseport).
	ReusePort bool `json:"reusePort"`
}

func defaultListenSettings() ListenSettings { return ListenSettings{ReusePort: true} }

// maxBindAddresses bounds bind-address: each address is a listen
// directive in every server block.
const maxBindAddresses = 16

// parseBindAddress takes comma-separated IPv4 and IPv6 addresses. When
// the controller knows the host's addresses (Input.LocalAddresses), each
// must be one of them: nginx cannot listen on an address the host lacks,
// and a reload that tries keeps the last config for every change.
func parseBindAddress(v string, b *globalBuild) string {
	const want = "a comma-separated list of IPv4 and IPv6 addresses of this host"
	var v4, v6 []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
			return want
		}
		a = a.Unmap()
		if b.localAddrs != nil && !slices.Contains(b.localAddrs, a) {
			return want + "; " + a.String() + " is not"
		}
		if a.Is4() {
			v4 = append(v4, a.String())
		} else {
			v6 = append(v6, a.String())
		}
	}
	slices.Sort(v4)
	slices.Sort(v6)
	v4, v6 = slices.Compact(v4), slices.Compact(v6)
	if len(v4)+len(v6) > maxBindAddresses {
		return want + " (at most 16)"
	}
	b.g.Listen.BindIPv4, b.g.Listen.BindIPv6 = v4, v6
	return ""
}
