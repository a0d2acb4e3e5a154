package apply

import (
	"os"
	"strings"
)

// nginxEnviron is the controller's environment for nginx, less the
// LD_PRELOAD objects that do not exist. The dynamic loader ignores such an
// object anyway but says so on stderr each time nginx starts (as master,
// for nginx -t): ingress-nginx's chart sets LD_PRELOAD to its image's
// mimalloc, which Portico's image does not have, and that line would go
// into every start and every refused config's message. Objects that exist
// stay, as does an LD_PRELOAD naming only existing ones.
func nginxEnviron(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		v, ok := strings.CutPrefix(kv, "LD_PRELOAD=")
		if !ok {
			out = append(out, kv)
			continue
		}
		// ld.so splits LD_PRELOAD at spaces and colons.
		var keep []string
		for _, obj := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ':' }) {
			if _, err := os.Stat(obj); err == nil || !strings.Contains(obj, "/") {
				keep = append(keep, obj)
			}
		}
		if len(keep) > 0 {
			out = append(out, "LD_PRELOAD="+strings.Join(keep, ":"))
		}
	}
	return out
}
