package annotations

import (
	"strconv"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	nameSSLRedirect      = "ssl-redirect"
	nameForceSSLRedirect = "force-ssl-redirect"
)

// parseBool parses a boolean annotation; ok is false when it is not set.
func parseBool(a Annotations, name string) (v, ok bool, ds []diag.Diagnostic) {
	s, set := a.lookup(name)
	if !set {
		return false, false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, false, invalid(name, s, "want true or false")
	}
	return b, true, nil
}

// parseSSLRedirect parses ssl-redirect: whether plain-HTTP requests to a
// host with TLS are redirected to HTTPS. nil means the ConfigMap decides.
func parseSSLRedirect(a Annotations) (*bool, []diag.Diagnostic) {
	v, ok, ds := parseBool(a, nameSSLRedirect)
	if !ok {
		return nil, ds
	}
	return &v, nil
}

// parseForceSSLRedirect parses force-ssl-redirect: redirect to HTTPS even
// when the host has no TLS section (TLS terminated in front of Portico).
func parseForceSSLRedirect(a Annotations) (bool, []diag.Diagnostic) {
	v, _, ds := parseBool(a, nameForceSSLRedirect)
	return v, ds
}
