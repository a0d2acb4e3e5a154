package annotations

import (
	"slices"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameServerAlias       = "server-alias"
	nameFromToWWWRedirect = "from-to-www-redirect"
)

// maxServerAliases bounds the names of one server-alias annotation.
const maxServerAliases = 32

// parseServerAlias parses server-alias: comma-separated host names that
// the Ingress's hosts answer to as well, lower-cased, without duplicates.
// A name may start with "*." (a wildcard for one label, as an Ingress
// host); other wildcards and regexes, IP addresses and ports are refused.
func parseServerAlias(a Annotations) ([]string, []diag.Diagnostic) {
	v, ok := a.lookup(nameServerAlias)
	if !ok {
		return nil, nil
	}
	var out []string
	for n := range strings.SplitSeq(v, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		name, wild := strings.CutPrefix(n, "*.")
		if len(n) > 253 || !dnsName.MatchString(name) || !strings.Contains(name, ".") || !wild && ipLike(name) {
			return nil, invalid(nameServerAlias, v, "want comma-separated host names such as www.example.com or *.example.com (no regexes, addresses or ports)")
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 || len(out) > maxServerAliases {
		return nil, invalid(nameServerAlias, v, "want 1 to 32 comma-separated host names")
	}
	return out, nil
}

// ipLike reports a name of four numeric labels: an IPv4 address.
func ipLike(n string) bool {
	labels := strings.Split(n, ".")
	if len(labels) != 4 {
		return false
	}
	for _, l := range labels {
		if strings.Trim(l, "0123456789") != "" {
			return false
		}
	}
	return true
}

// parseFromToWWW parses from-to-www-redirect: the host's www. twin (or,
// for a www. host, the name without it) redirects to the host.
func parseFromToWWW(a Annotations) (bool, []diag.Diagnostic) {
	v, _, ds := parseBool(a, nameFromToWWWRedirect)
	return v, ds
}
