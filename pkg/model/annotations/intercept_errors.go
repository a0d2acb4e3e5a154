package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const nameDisableInterceptErrors = "disable-proxy-intercept-errors"

// parseNoInterceptErrors parses disable-proxy-intercept-errors: with
// "true", the backend's answers pass as they are, and only the errors
// nginx makes itself (an unreachable or failing backend) go to the error
// backend of custom-http-errors.
func parseNoInterceptErrors(a Annotations) (bool, []diag.Diagnostic) {
	v, _, ds := parseBool(a, nameDisableInterceptErrors)
	return v, ds
}
