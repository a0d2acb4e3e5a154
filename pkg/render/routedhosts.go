package render

import (
	"bytes"
	"fmt"

	"github.com/portico-ingress/portico/pkg/plan"
)

// RoutedHosts renders the routed-hosts file of p (plan.RoutedHosts): the
// hosts the Lua router serves as the server blocks they stand for. nginx
// does not load it, so it carries no checksum.
func RoutedHosts(p *plan.Plan) ([]byte, error) {
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "routed.tmpl", p.RoutedHosts()); err != nil {
		return nil, fmt.Errorf("render the routed-hosts file: %w", err)
	}
	return buf.Bytes(), nil
}
