package annotations

import (
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// IsZero reports whether r names no object.
func (r ObjectRef) IsZero() bool { return r.Name == "" }

// parseConfigMapRef parses annotation name naming a ConfigMap as "name"
// or "namespace/name" (custom-headers, fastcgi-params-configmap,
// auth-proxy-set-headers); zero when unset or invalid. The model accepts
// only the Ingress's own namespace.
func parseConfigMapRef(a Annotations, name string) (ObjectRef, []diag.Diagnostic) {
	v, ok := a.lookup(name)
	if !ok {
		return ObjectRef{}, nil
	}
	ns, n, cut := strings.Cut(v, "/")
	if !cut {
		ns, n = "", v
	}
	if cut && !secretName.MatchString(ns) || !secretName.MatchString(n) {
		return ObjectRef{}, invalid(name, v, "want a ConfigMap as name or namespace/name")
	}
	return ObjectRef{Namespace: ns, Name: n}, nil
}
