package plan

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParseResolver turns a nameserver given as an IP address with an
// optional port (IPv6 in brackets with one) into nginx's resolver syntax.
func ParseResolver(s string) (string, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 || ap.Addr().Zone() != "" {
			return "", fmt.Errorf("resolver %q: want an IP address with a port from 1 to 65535, without a zone", s)
		}
		return nginxAddr(ap.Addr()) + ":" + strconv.Itoa(int(ap.Port())), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", fmt.Errorf("resolver %q: want an IP address, optionally with a port (IPv6 in brackets then)", s)
	}
	return nginxAddr(a), nil
}

// nginxAddr is a in nginx's syntax: IPv6 in brackets, IPv4 plain.
func nginxAddr(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "[" + a.String() + "]"
	}
	return a.Unmap().String()
}

// Resolvers returns the nameservers of a resolv.conf file's content in
// nginx's resolver syntax (IPv6 in brackets); nil when there are none.
func Resolvers(resolvConf []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(resolvConf))
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 || fs[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(fs[1])
		if err != nil || a.Zone() != "" {
			continue
		}
		out = append(out, nginxAddr(a))
	}
	return out
}
