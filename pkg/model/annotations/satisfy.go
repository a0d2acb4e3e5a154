package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const nameSatisfy = "satisfy"

// parseSatisfy parses satisfy: "any" lets a request in that passes the
// source ranges or the auth (basic auth, auth-url), "all" (the default,
// returned as "") needs both.
func parseSatisfy(a Annotations) (string, []diag.Diagnostic) {
	v, ok := a.lookup(nameSatisfy)
	switch {
	case !ok || v == "all":
		return "", nil
	case v == "any":
		return v, nil
	}
	return "", invalid(nameSatisfy, v, "want any or all")
}
