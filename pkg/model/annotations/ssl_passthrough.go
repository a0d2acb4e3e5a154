package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const nameSSLPassthrough = "ssl-passthrough"

// parseSSLPassthrough parses ssl-passthrough: TLS connections whose SNI
// names the Ingress's hosts go to the backend of their "/" path as they
// are, without nginx ending TLS (with --enable-ssl-passthrough).
func parseSSLPassthrough(a Annotations) (bool, []diag.Diagnostic) {
	v, _, ds := parseBool(a, nameSSLPassthrough)
	return v, ds
}
