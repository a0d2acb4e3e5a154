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
	// ServiceUpstream proxies to the Services' cluster IPs, not their Pods.
	ServiceUpstream bool

	// --- traffic policy (canary, limits, source ranges, affinity, hash) ---
	Traffic Traffic
	// --- end traffic policy ---
	// --- HTTP annotations (paths, proxy, CORS, auth, errors, snippets) ---

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
	// ClientTLS is auth-tls: client certificates on the hosts' HTTPS.
	ClientTLS *ClientTLS
	// CustomHTTPErrors are intercepted and served by DefaultBackend (or
	// the controller's default backend).
	CustomHTTPErrors []int
	// DefaultBackend is a Service in the Ingress's namespace.
	DefaultBackend       string
	ConfigurationSnippet Snippet
	ServerSnippet        Snippet
	// --- end HTTP annotations ---
}

// Annotations are the annotations of one object.
type Annotations map[string]string

// lookup returns the value of the annotation Prefix+name. It allocates
// nothing: a build looks up every name on every Ingress.
func (a Annotations) lookup(name string) (string, bool) {
	if len(a) == 0 {
		return "", false
	}
	var buf [128]byte
	key := append(append(buf[:0], Prefix...), name...)
	v, ok := a[string(key)]
	return v, ok
}

// supported lists the names (without Prefix) that Parse understands.
var supported = map[string]bool{
	nameRewriteTarget:    true,
	nameLoadBalance:      true,
	nameSSLRedirect:      true,
	nameForceSSLRedirect: true,
	nameServiceUpstream:  true,
	// HTTP annotations.
	nameUseRegex: true, nameAppRoot: true, nameXFwdPrefix: true, nameServerAlias: true, nameFromToWWWRedirect: true,
	namePermanentRedirect: true, namePermanentRedirectCode: true, nameTemporalRedirect: true, nameTemporalRedirectCode: true,
	nameBackendProtocol: true, nameProxyBodySize: true, nameProxyConnectTimeout: true, nameProxySendTimeout: true,
	nameProxyReadTimeout: true, nameProxyBuffering: true, nameProxyBufferSize: true, nameProxyNextUpstream: true,
	nameProxyNextTries: true, nameProxyNextTimeout: true, nameUpstreamVhost: true, nameProxyHTTPVersion: true,
	nameRequestBuffering: true, nameBodyBufferSize: true, nameProxyBuffersNumber: true, nameMaxTempFileSize: true,
	nameEnableCORS: true, nameCORSOrigin: true, nameCORSMethods: true, nameCORSHeaders: true,
	nameCORSCredentials: true, nameCORSMaxAge: true, nameCORSExposeHeader: true,
	nameAuthType: true, nameAuthSecret: true, nameAuthSecretType: true, nameAuthRealm: true,
	nameAuthURL: true, nameAuthSignin: true, nameAuthResponseHeaders: true, nameAuthMethod: true,
	nameCustomHTTPErrors: true, nameDefaultBackend: true, nameConfigurationSnippet: true, nameServerSnippet: true,
	nameAuthTLSSecret: true, nameAuthTLSVerify: true, nameAuthTLSDepth: true, nameAuthTLSPassCert: true,
	nameAuthTLSMatchCN: true, nameAuthTLSErrorPage: true,
	nameProxySSLSecret: true, nameProxySSLVerify: true, nameProxySSLDepth: true, nameProxySSLName: true,
	nameProxySSLServerName: true, nameProxySSLProtocols: true, nameProxySSLCiphers: true,
	nameProxyRedirectFrom: true, nameProxyRedirectTo: true, nameProxyCookieDomain: true, nameProxyCookiePath: true,
	nameLimitRate: true, nameLimitRateAfter: true, nameEnableAccessLog: true, nameEnableRewriteLog: true,
}

// SupportedNames returns every supported annotation name, sorted.
func SupportedNames() []string {
	out := make([]string, 0, len(supported))
	for n := range supported {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
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
	s.UseRegex, d = parseUseRegex(a)
	ds = append(ds, d...)
	s.RewriteTarget, d = parseRewriteTarget(a, s.UseRegex)
	ds = append(ds, d...)
	s.LoadBalance, d = parseLoadBalance(a)
	ds = append(ds, d...)
	s.SSLRedirect, d = parseSSLRedirect(a)
	ds = append(ds, d...)
	s.ForceSSLRedirect, d = parseForceSSLRedirect(a)
	ds = append(ds, d...)
	s.ServiceUpstream, d = parseServiceUpstream(a)
	ds = append(ds, d...)
	// --- traffic policy ---
	s.Traffic, d = parseTraffic(a)
	ds = append(ds, d...)
	if s.ServiceUpstream && (s.Traffic.Affinity.Cookie != "" || s.Traffic.HashBy != "") {
		ds = append(ds, diag.Warnf(field(nameServiceUpstream), "IneffectiveAnnotation",
			"with service-upstream every request goes to the Service's one cluster IP: affinity and upstream-hash-by have no effect"))
	}
	// --- end traffic policy ---
	// HTTP annotations.
	s.AppRoot, d = parseAppRoot(a)
	ds = append(ds, d...)
	s.ServerAliases, d = parseServerAlias(a)
	ds = append(ds, d...)
	s.FromToWWW, d = parseFromToWWW(a)
	ds = append(ds, d...)
	s.XForwardedPrefix, d = parseXForwardedPrefix(a)
	ds = append(ds, d...)
	s.Redirect, d = parseRedirect(a)
	ds = append(ds, d...)
	s.Proxy, d = parseProxy(a)
	ds = append(ds, d...)
	s.CORS, d = parseCORS(a)
	ds = append(ds, d...)
	s.BasicAuth, d = parseBasicAuth(a)
	ds = append(ds, d...)
	s.ClientTLS, d = parseClientTLS(a)
	ds = append(ds, d...)
	s.ExternalAuth, d = parseExternalAuth(a)
	ds = append(ds, d...)
	s.CustomHTTPErrors, d = parseCustomHTTPErrors(a)
	ds = append(ds, d...)
	s.DefaultBackend, d = parseDefaultBackend(a)
	ds = append(ds, d...)
	s.ConfigurationSnippet, d = parseSnippet(a, nameConfigurationSnippet)
	ds = append(ds, d...)
	s.ServerSnippet, d = parseSnippet(a, nameServerSnippet)
	ds = append(ds, d...)
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
		ds = append(ds, diag.Warnf(field(n), "UnsupportedAnnotation",
			"annotation %s%s is not supported by Portico and is ignored", Prefix, quoteName(n)))
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
