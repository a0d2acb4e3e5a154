package annotations

import (
	"sort"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Prefix is the annotation prefix shared with ingress-nginx.
const Prefix = "nginx.ingress.kubernetes.io/"

// Set holds the parsed value of every supported annotation of one Ingress.
// The zero value of a field means "not set".
type Set struct {
	// RewriteTarget replaces the request URI before proxying.
	RewriteTarget URIPath
	// LoadBalance overrides the ConfigMap's load-balance algorithm.
	LoadBalance LoadBalance
	// SSLRedirect overrides the ConfigMap's ssl-redirect; nil when unset.
	SSLRedirect *bool
	// ForceSSLRedirect redirects to HTTPS even without a TLS section.
	ForceSSLRedirect bool

	// --- traffic policy (canary, limits, source ranges, affinity, hash) ---
	Traffic Traffic
	// --- end traffic policy ---
}

// Annotations are the annotations of one object.
type Annotations map[string]string

// lookup returns the value of the annotation Prefix+name.
func (a Annotations) lookup(name string) (string, bool) {
	v, ok := a[Prefix+name]
	return v, ok
}

// supported lists the names (without Prefix) that Parse understands.
var supported = map[string]bool{
	nameRewriteTarget:    true,
	nameLoadBalance:      true,
	nameSSLRedirect:      true,
	nameForceSSLRedirect: true,
}

// The traffic-policy names (traffic.go) are supported too.
func init() {
	for _, n := range trafficNames {
		supported[n] = true
	}
}

// Supported reports whether name (without Prefix) is a supported annotation.
func Supported(name string) bool { return supported[name] }

// Parse parses every annotation under Prefix. Diagnostics carry the
// annotation as Field and no Object; the caller sets it.
func Parse(a Annotations) (Set, []diag.Diagnostic) {
	var (
		s     Set
		ds, d []diag.Diagnostic
	)
	s.RewriteTarget, d = parseRewriteTarget(a)
	ds = append(ds, d...)
	s.LoadBalance, d = parseLoadBalance(a)
	ds = append(ds, d...)
	s.SSLRedirect, d = parseSSLRedirect(a)
	ds = append(ds, d...)
	s.ForceSSLRedirect, d = parseForceSSLRedirect(a)
	ds = append(ds, d...)
	// --- traffic policy ---
	s.Traffic, d = parseTraffic(a)
	ds = append(ds, d...)
	// --- end traffic policy ---
	return s, append(ds, unknown(a)...)
}

// unknown reports annotations under Prefix that Parse does not support.
func unknown(a Annotations) []diag.Diagnostic {
	var names []string
	for k := range a {
		if name, ok := strings.CutPrefix(k, Prefix); ok && !supported[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	ds := make([]diag.Diagnostic, 0, len(names))
	for _, n := range names {
		ds = append(ds, diag.Warnf(field(n), "UnsupportedAnnotation",
			"annotation %s%s is not supported by Portico and is ignored", Prefix, quoteName(n)))
	}
	return ds
}

// field is the diagnostic field path of annotation name.
func field(name string) string {
	return "metadata.annotations[" + Prefix + quoteName(name) + "]"
}

// invalid is the diagnostic for a value outside an annotation's grammar.
func invalid(name, value, want string) []diag.Diagnostic {
	return []diag.Diagnostic{diag.Errorf(field(name), "InvalidAnnotation",
		"invalid value %s: %s", quoteValue(value), want)}
}
