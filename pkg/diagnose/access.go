package diagnose

import (
	"fmt"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
)

// accessNotes are what answers 403 before the route's backend: the
// ConfigMap's block lists on every host, and the location's source range
// (its Ingress's annotations, else the ConfigMap's whitelist-source-range
// and denylist-source-range).
func accessNotes(p model.Policy, loc *model.Location) []string {
	var lists []string
	for _, l := range []struct {
		key string
		n   int
	}{{"block-cidrs", len(p.BlockCIDRs)}, {"block-user-agents", len(p.BlockUserAgents)}, {"block-referers", len(p.BlockReferers)}} {
		if l.n > 0 {
			lists = append(lists, fmt.Sprintf("%s (%d)", l.key, l.n))
		}
	}
	var out []string
	if len(lists) > 0 {
		out = append(out, "the ConfigMap's "+strings.Join(lists, ", ")+" answer 403 to the clients they match, on every host, before any route")
	}
	if sr := loc.SourceRange; sr != nil {
		var parts []string
		if len(sr.Deny) > 0 {
			parts = append(parts, "clients in "+strings.Join(sr.Deny, ", ")+" get 403")
		}
		if len(sr.Allow) > 0 {
			parts = append(parts, "clients outside "+strings.Join(sr.Allow, ", ")+" get 403")
		}
		out = append(out, "source range: "+strings.Join(parts, "; "))
	}
	return out
}
