package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const nameHTTP2PushPreload = "http2-push-preload"

// parseHTTP2PushPreload checks http2-push-preload, "true" or "false",
// which changes nothing: nginx removed HTTP/2 server push in 1.25.1, and
// ingress-nginx v1.15's nginx (1.27) ignores http2_push_preload.
func parseHTTP2PushPreload(a Annotations) []diag.Diagnostic {
	_, _, ds := parseBool(a, nameHTTP2PushPreload)
	return ds
}
