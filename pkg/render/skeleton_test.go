package render

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/portico-ingress/portico/pkg/nginxconf"
)

// variadic directives take a list whose length follows the value.
var variadic = map[string]bool{"error_page": true, "proxy_next_upstream": true, "grpc_next_upstream": true}

// repeated directives come once per list item (auth-response-headers);
// the skeleton keeps one of each run.
// Source ranges and allowlists give one allow/deny or geo entry per
// address, whose name is the address itself.
var repeated = map[string]bool{"auth_request_set": true, "proxy_set_header": true, "allow": true, "deny": true, cidrEntry: true}

// cidrEntry names a directive whose name is an address or prefix (a geo
// entry) in a skeleton.
const cidrEntry = "<address>"

// shapeName is d's name in a skeleton.
func shapeName(d *nginxconf.Directive) string {
	if _, err := netip.ParsePrefix(d.Name); err == nil {
		return cidrEntry
	}
	if _, err := netip.ParseAddr(d.Name); err == nil {
		return cidrEntry
	}
	return d.Name
}

// skeleton is the directive structure of a config: one line per directive
// with its depth, name, argument count (except variadic ones) and block.
func skeleton(ds []*nginxconf.Directive) string {
	var b strings.Builder
	var walk func([]*nginxconf.Directive, int)
	walk = func(ds []*nginxconf.Directive, depth int) {
		for i, d := range ds {
			name := shapeName(d)
			if repeated[name] && i > 0 && shapeName(ds[i-1]) == name && len(ds[i-1].Args) == len(d.Args) {
				continue
			}
			n := fmt.Sprint(len(d.Args))
			if variadic[d.Name] {
				n = "*"
			}
			fmt.Fprintf(&b, "%s%s/%s", strings.Repeat(" ", depth), name, n)
			if d.HasBlock {
				b.WriteString(" {")
			}
			b.WriteByte('\n')
			walk(d.Block, depth+1)
		}
	}
	walk(ds, 0)
	return b.String()
}
