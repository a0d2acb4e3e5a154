package apply

import (
	"bufio"
	"net/netip"
	"os"
	"strings"
)

// SystemResolvers returns the nameservers of a resolv.conf file in nginx's
// resolver syntax (IPv6 in brackets); nil when there are none.
func SystemResolvers(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 || fs[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(fs[1])
		if err != nil || a.Zone() != "" {
			continue
		}
		if a.Is6() && !a.Is4In6() {
			out = append(out, "["+a.String()+"]")
		} else {
			out = append(out, a.Unmap().String())
		}
	}
	return out
}
