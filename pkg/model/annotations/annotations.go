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
	// SSLPassthrough hands the TLS connections of the Ingress's hosts to
	// the backend of their "/" path without ending TLS.
	SSLPassthrough bool
	// ServiceUpstream proxies to the Services' cluster IPs, not their Pods.
	ServiceUpstream bool

	// Traffic is the traffic policy: canary, limits, source ranges,
	// affinity and hashing.
	Traffic Traffic

	// UseRegex makes the Ingress's paths case-insensitive regexes.
	UseRegex bool
	// AppRoot redirects "/" there (302).
	AppRoot URIPath
	// ServerAliases are more names of the Ingress's hosts.
	ServerAliases []string
	// FromToWWW redirects the hosts' www. twins to them (308).
	FromToWWW bool
	// XForwardedPrefix is sent as the X-Forwarded-Prefix header.
	XForwardedPrefix URIPath
	// Redirect answers every request with a redirect.
	Redirect *Redirect
	Proxy    Proxy
	CORS     *CORS
	// BasicAuth is auth-type basic; the model reads its Secret.
	BasicAuth    *BasicAuth
	ExternalAuth *ExternalAuth
	// NoGlobalAuth leaves the Ingress out of the ConfigMap's global auth
	// (enable-global-auth: "false").
	NoGlobalAuth bool
	// ClientTLS is auth-tls: client certificates on the hosts' HTTPS.
	ClientTLS *ClientTLS
	// CustomHTTPErrors are intercepted and served by DefaultBackend (or
	// the controller's default backend).
	CustomHTTPErrors []int
	// DefaultBackend is a Service in the Ingress's namespace.
	DefaultBackend string
	// NoInterceptErrors passes the backend's own answers with
	// CustomHTTPErrors (disable-proxy-intercept-errors).
	NoInterceptErrors    bool
	ConfigurationSnippet Snippet
	ServerSnippet        Snippet
	// StreamSnippet goes into nginx's stream block, once per Ingress.
	StreamSnippet Snippet

	// RedirectForm is how the locations' redirects are written.
	RedirectForm RedirectForm
	// Satisfy is "any" (the source ranges or the auth suffice) or "".
	Satisfy string
	// TLSCiphers are the hosts' ssl-ciphers and ssl-prefer-server-ciphers.
	TLSCiphers TLSCiphers
	// CustomHeaders names the ConfigMap of headers added to the answers.
	CustomHeaders ObjectRef
	// Mirror copies each request to another server; nil: none.
	Mirror *Mirror
	// FastCGI is fastcgi-index and fastcgi-params-configmap.
	FastCGI FastCGI
	// ModSecurity is nil when no ModSecurity annotation is set.
	ModSecurity *ModSecurity
	// Tracing is nil when no OpenTelemetry annotation is set.
	Tracing *Tracing
}

// Annotations are the annotations of one object.
type Annotations map[string]string

// lookup returns the value of the annotation Prefix+name; an empty value
// is no value, as in ingress-nginx, which skips an annotation whose value
// is empty (an empty x-forwarded-prefix sends no header). It allocates
// nothing: a build looks up every name on every Ingress.
func (a Annotations) lookup(name string) (string, bool) {
	if len(a) == 0 {
		return "", false
	}
	var buf [128]byte
	key := append(append(buf[:0], Prefix...), name...)
	v := a[string(key)]
	return v, v != ""
}

// Parse parses every annotation under Prefix: it runs the parser of each
// supported catalog entry once, in catalog order. Diagnostics carry the
// annotation as Field and no Object; the caller sets it.
func Parse(a Annotations) (Set, []diag.Diagnostic) {
	var (
		s  Set
		ds []diag.Diagnostic
	)
	for _, p := range parsers {
		ds = append(ds, p.run(a, &s)...)
	}
	return s, append(ds, unknown(a)...)
}

// unknown reports annotations under Prefix that Parse does not support.
func unknown(a Annotations) []diag.Diagnostic {
	var names []string
	for k := range a {
		if name, ok := strings.CutPrefix(k, Prefix); ok && !Supported(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) > maxUnknownReported {
		// One finding, not one Event per name: an object with thousands
		// of annotations must not flood the API server.
		shown := make([]string, maxUnknownReported)
		for i, n := range names[:maxUnknownReported] {
			shown[i] = quoteName(n)
		}
		return []diag.Diagnostic{diag.Warnf("metadata.annotations", "UnsupportedAnnotation",
			"%d annotations under %s are not supported by Portico and are ignored, among them %s",
			len(names), Prefix, strings.Join(shown, ", "))}
	}
	ds := make([]diag.Diagnostic, 0, len(names))
	for _, n := range names {
		why := ""
		if e, ok := byName[n]; ok {
			why = ": " + e.Differs
		}
		ds = append(ds, diag.Warnf(field(n), "UnsupportedAnnotation",
			"annotation %s%s is not supported by Portico and is ignored%s", Prefix, quoteName(n), why))
	}
	return ds
}

// maxUnknownReported is how many unsupported annotations are reported one
// by one; more are reported as one finding.
const maxUnknownReported = 10

// field is the diagnostic field path of annotation name.
func field(name string) string {
	return "metadata.annotations[" + Prefix + quoteName(name) + "]"
}

// invalid is the diagnostic for a value outside an annotation's grammar.
func invalid(name, value, want string) []diag.Diagnostic {
	return []diag.Diagnostic{diag.Errorf(field(name), "InvalidAnnotation",
		"invalid value %s: %s", quoteValue(value), want)}
}
