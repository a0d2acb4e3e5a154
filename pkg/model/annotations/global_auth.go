package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const nameEnableGlobalAuth = "enable-global-auth"

// parseEnableGlobalAuth parses enable-global-auth: "false" leaves the
// Ingress out of the ConfigMap's global auth (global-auth-url). It
// returns whether the Ingress opts out.
func parseEnableGlobalAuth(a Annotations) (bool, []diag.Diagnostic) {
	v, ok, ds := parseBool(a, nameEnableGlobalAuth)
	return ok && !v, ds
}
