package plan

import "strings"

// quoted is v, a validated header value (printable ASCII without '\'),
// as an nginx double-quoted string: its variables expand there.
func quoted(v string) string { return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"` }

// responseHeaders are the more_set_headers arguments of the ConfigMap's
// add-headers, quoted: "Name: value".
func (h *HTTP) responseHeaders() []string {
	var out []string
	for _, r := range h.Headers.Response {
		out = append(out, quoted(r.Name+": "+r.Value))
	}
	return out
}
