package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const nameConnectionProxyHeader = "connection-proxy-header"

// parseConnectionHeader parses connection-proxy-header: the Connection
// header sent to the backend instead of Portico's (upgrade for upgrade
// requests, else none): "close" or "keep-alive", as ingress-nginx takes
// them; "" when unset.
func parseConnectionHeader(a Annotations) (string, []diag.Diagnostic) {
	v, ok := a.lookup(nameConnectionProxyHeader)
	if !ok {
		return "", nil
	}
	if v != "close" && v != "keep-alive" {
		return "", invalid(nameConnectionProxyHeader, v, "want close or keep-alive")
	}
	return v, nil
}
