package model

import (
	"time"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Config is the typed configuration Build produces.
type Config struct {
	Global  Global    `json:"global"`
	Servers []*Server `json:"servers"`
	// Backends are sorted by Name; their endpoints go to the Lua balancer.
	Backends []*Backend `json:"backends"`
	// Ingresses are the Ingresses this controller owns, sorted, whether or
	// not they were accepted; their status is ours to write.
	Ingresses []IngressRef `json:"ingresses"`
	// Certificates are the valid TLS Secrets in use, sorted by Name; they
	// go to the Lua certificate store, not into nginx.conf.
	Certificates []*Certificate `json:"certificates"`
	// DefaultCertificate names the Certificate served when SNI matches no
	// TLS host; "" means the controller's own.
	DefaultCertificate string `json:"defaultCertificate,omitempty"`
	// DataFiles are the files operators mount that the config reads
	// (GeoIP2 databases, WAF rules), by the path the operator configured,
	// sorted. nginx.conf names Portico's copy of each, the newest version
	// nginx did not refuse (plan.Options.DataFiles), never the file
	// itself.
	DataFiles []string `json:"dataFiles,omitempty"`
	// RateLimits are the limit zones of Ingresses with limits, in Ingress
	// order; locations refer to them.
	RateLimits []*RateLimit `json:"rateLimits,omitempty"`
	// Streams are the TCP and UDP services of the tcp-services and
	// udp-services ConfigMaps, sorted by protocol and port.
	Streams []*StreamService `json:"streams,omitempty"`
	// StreamSnippets are the stream-snippet annotations of the served
	// Ingresses, in Ingress order (streamsnippets.go).
	StreamSnippets []StreamSnippet `json:"streamSnippets,omitempty"`
	// AuthFiles are the htpasswd files basic auth locations name, sorted
	// by Name; pkg/apply writes them, never into nginx.conf.
	AuthFiles []*AuthFile `json:"authFiles,omitempty"`
	// ConfigMapRefs are the ConfigMaps the controller's ConfigMap
	// (add-headers, proxy-set-headers) and annotations
	// (auth-proxy-set-headers) name, "namespace/name", sorted, whether they
	// exist or not: a change to one of them changes the model.
	ConfigMapRefs []string `json:"configMapRefs,omitempty"`
	// Diagnostics are sorted; see package diag.
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty"`
	// ConfigMapValues are the ConfigMap values in effect, per key: the
	// ConfigMap's own when valid, else those of Input.Previous.
	ConfigMapValues map[string]string `json:"configMapValues,omitempty"`
	// ServedPrevious are the Ingresses whose latest version is refused
	// and whose previous one (Input.Served) is served instead, in
	// Ingress order.
	ServedPrevious []IngressRef `json:"servedPrevious,omitempty"`
}

// Global holds settings from the controller's ConfigMap.
type Global struct {
	// LoadBalance is the default algorithm of backends.
	LoadBalance annotations.LoadBalance `json:"loadBalance"`
	// DynamicRouting routes plain hosts in Lua instead of server blocks
	// (dynamic-routing; package plan decides which hosts are plain).
	DynamicRouting bool `json:"dynamicRouting"`
	// SSLRedirect is the default of the ssl-redirect annotation.
	SSLRedirect bool `json:"sslRedirect"`
	// HSTS is the Strict-Transport-Security value for TLS hosts; "" is off.
	HSTS string `json:"hsts,omitempty"`
	// SSLProtocols are nginx ssl_protocols names.
	SSLProtocols []string `json:"sslProtocols"`
	// SSLCiphers is an OpenSSL cipher list.
	SSLCiphers string `json:"sslCiphers"`
	// TLS, Client, Listen, Workers and Hashes are the ConfigMap's settings
	// of the HTTPS port, of client connections and requests, of the
	// listeners, and of nginx's workers and hash tables.
	TLS     TLSSettings    `json:"tls"`
	Client  ClientLimits   `json:"client"`
	Listen  ListenSettings `json:"listen"`
	Workers WorkerSettings `json:"workers"`
	Hashes  HashSizes      `json:"hashes"`
	// AllowedResponseHeaders are the headers custom-headers may set
	// (global-allowed-response-headers).
	AllowedResponseHeaders []string `json:"allowedResponseHeaders,omitempty"`
	// RelativeRedirects leaves nginx's redirects to a path relative in
	// every location (relative-redirects: absolute_redirect off).
	RelativeRedirects bool `json:"relativeRedirects,omitempty"`

	// AllowSnippets accepts configuration-snippet and server-snippet.
	AllowSnippets bool `json:"allowSnippets,omitempty"`
	// RiskLevel is the highest annotation risk accepted.
	RiskLevel annotations.Risk `json:"riskLevel"`
	// CustomHTTPErrors are intercepted on every location and served by the
	// controller's default backend, unless an Ingress sets its own.
	CustomHTTPErrors []int `json:"customHTTPErrors,omitempty"`
	// LimitReqStatus and LimitConnStatus answer requests over a limit.
	LimitReqStatus  int `json:"limitReqStatus"`
	LimitConnStatus int `json:"limitConnStatus"`

	// ProxyBodySize is client_max_body_size: digits with an optional k, m
	// or g suffix; "0" disables the check.
	ProxyBodySize string `json:"proxyBodySize"`
	// Proxy timeouts, in seconds.
	ProxyConnectTimeout int `json:"proxyConnectTimeout"`
	ProxyReadTimeout    int `json:"proxyReadTimeout"`
	ProxySendTimeout    int `json:"proxySendTimeout"`
	// UseForwardedHeaders passes the client's X-Forwarded-Proto, -Host and
	// -Port on instead of replacing them (a trusted proxy is in front).
	UseForwardedHeaders bool `json:"useForwardedHeaders,omitempty"`
	// AppendForwardedFor appends the client address to the X-Forwarded-For
	// the request carried, instead of replacing it; only with
	// UseForwardedHeaders (compute-full-forwarded-for).
	AppendForwardedFor bool `json:"appendForwardedFor,omitempty"`
	// RealIP, when set, takes the client address from a header or the
	// PROXY protocol for connections from trusted networks.
	RealIP *RealIP `json:"realIP,omitempty"`
	// TrustedProxies are the networks of proxy-real-ip-cidr, canonical
	// CIDRs: whose PROXY protocol header names the client on the ports
	// of TCP services that decode it, whatever RealIP says.
	TrustedProxies []string `json:"trustedProxies"`
	// UseProxyProtocol makes the traffic ports expect the PROXY protocol.
	UseProxyProtocol bool `json:"useProxyProtocol,omitempty"`
	// WorkerProcesses is "auto" or a number from 1 to 1024.
	WorkerProcesses string `json:"workerProcesses"`
	// LogFormat is the access log format: nginx variables and literal
	// characters of the grammar in configmap.go; printed single-quoted.
	LogFormat string `json:"logFormat"`
	// AccessLog is false when disable-access-log turns the access log off.
	AccessLog bool `json:"accessLog"`
	// ServerTokens shows the nginx version in headers and error pages.
	ServerTokens bool `json:"serverTokens,omitempty"`
	// GenerateRequestID sends backends a new X-Request-ID when the client
	// sent none (the client's own always passes).
	GenerateRequestID bool `json:"generateRequestID,omitempty"`
	// Keep-alive connections to backends: idle connections kept per
	// worker (0 disables), idle timeout in seconds, requests per connection.
	UpstreamKeepaliveConnections int `json:"upstreamKeepaliveConnections"`
	UpstreamKeepaliveTimeout     int `json:"upstreamKeepaliveTimeout"`
	UpstreamKeepaliveRequests    int `json:"upstreamKeepaliveRequests"`
	// Auth is the global auth (global-auth-url and its family): the
	// locations of Ingresses without auth-url ask it, unless their Ingress
	// opts out (enable-global-auth: "false"); nil: none.
	Auth *annotations.ExternalAuth `json:"auth,omitempty"`
	// NoAuthLocations are path prefixes: an Ingress path starting with one
	// is checked by no auth (auth-url, global, basic), as in ingress-nginx
	// (no-auth-locations).
	NoAuthLocations []string `json:"noAuthLocations,omitempty"`
	// Headers are what the ConfigMap adds to, or hides from, every answer
	// and proxied request.
	Headers GlobalHeaders `json:"headers,omitzero"`
	// Logging is where the logs go and what the access log holds.
	Logging Logging `json:"logging"`
	// Gzip and Brotli compress answers when set (use-gzip, enable-brotli).
	Gzip   *Compression `json:"gzip,omitempty"`
	Brotli *Compression `json:"brotli,omitempty"`
	// UpstreamKeepaliveTime (an nginx time) bounds the life of a backend
	// connection.
	UpstreamKeepaliveTime string `json:"upstreamKeepaliveTime"`
	// RetryNonIdempotent lets POST, LOCK and PATCH requests go to the
	// next endpoint too (non_idempotent in every proxy_next_upstream).
	RetryNonIdempotent bool `json:"retryNonIdempotent,omitempty"`
	// LimitConnZoneVariable is what the rate limit zones count by: an
	// nginx variable, $binary_remote_addr by default.
	LimitConnZoneVariable string `json:"limitConnZoneVariable"`
	// GRPCBufferSizeKB is grpc_buffer_size in KiB; 0 keeps nginx's.
	GRPCBufferSizeKB int `json:"grpcBufferSizeKB,omitempty"`
	// Stream are the settings of the TCP and UDP services.
	Stream StreamOptions `json:"stream"`

	// Defaults are the ConfigMap's defaults of per-Ingress settings
	// (configdefaults.go).
	Defaults Defaults `json:"defaults"`
	// Policy is the ConfigMap's security policy (securitypolicy.go).
	Policy Policy `json:"policy"`
	// Snippets are the ConfigMap's own snippets (configsnippets.go).
	Snippets ConfigSnippets `json:"snippets,omitzero"`
	// WAF is ModSecurity on every location (enable-modsecurity and its
	// keys).
	WAF WAF `json:"waf,omitzero"`
	// Tracing sends backends a W3C traceparent (enable-opentelemetry).
	Tracing Tracing `json:"tracing,omitzero"`
	// UseGeoIP2 looks client addresses up in the GeoIP2 databases
	// (Options.GeoIP2Databases).
	UseGeoIP2 bool `json:"useGeoIP2,omitempty"`
}

// Tracing is the ConfigMap's OpenTelemetry: On sends every backend a
// traceparent that continues a valid incoming one when TrustIncoming.
type Tracing struct {
	On            bool `json:"on,omitempty"`
	TrustIncoming bool `json:"trustIncoming,omitempty"`
	// Export, when set, sends nginx's spans to an OTLP/HTTP collector.
	Export *SpanExport `json:"export,omitempty"`
	// Sampler decides the sampled flag of a new trace (and, without
	// ParentBased, of a continued one): AlwaysOn, AlwaysOff or
	// TraceIdRatioBased with Ratio.
	Sampler     string  `json:"sampler,omitempty"`
	Ratio       float64 `json:"ratio,omitempty"`
	ParentBased bool    `json:"parentBased,omitempty"`
	// OperationName names nginx's spans (opentelemetry-operation-name);
	// "": Portico's default name.
	OperationName annotations.SpanName `json:"operationName,omitempty"`
}

// SpanExport is where and how nginx's spans go: POST /v1/traces (OTLP/HTTP
// JSON) to Host (an IPv4 address or a DNS name) and Port, in batches of
// at most Batch every DelayMillis, at most Queue waiting per worker.
type SpanExport struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Service     string `json:"service"`
	DelayMillis int    `json:"delayMillis"`
	Batch       int    `json:"batch"`
	Queue       int    `json:"queue"`
}

// WAF is the ConfigMap's ModSecurity: On on every location (a location's
// annotations may turn it off), with the OWASP Core Rule Set when CRS,
// and Rules in place of Portico's modsecurity.conf when set.
type WAF struct {
	On    bool                         `json:"on,omitempty"`
	CRS   bool                         `json:"crs,omitempty"`
	Rules annotations.ModSecurityRules `json:"rules,omitempty"`
}

// RealIP is the realip setup: which source names the client, and the
// networks whose connections are trusted to say so.
type RealIP struct {
	// Header is "X-Forwarded-For" or "proxy_protocol".
	Header string `json:"header"`
	// From are canonical CIDRs.
	From []string `json:"from"`
}

// IngressRef names an Ingress.
type IngressRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (r IngressRef) String() string { return r.Namespace + "/" + r.Name }

// Server is one host: the locations of its Ingress rules and the settings
// of the host (package plan decides whether it is a server block).
type Server struct {
	// Host is the Ingress host, "*.example.com" for a wildcard, or "" for
	// the catch-all server that also serves rules without a host.
	Host string `json:"host"`
	// Default marks the catch-all server: the rules without a host, and
	// the hosts no rule names.
	Default bool `json:"default,omitempty"`
	// Locations are sorted by Path, then Modifier; on a regex host (all
	// ModRegex, regexhosts.go) they are in the order nginx tries them.
	Locations []*Location `json:"locations"`
	// TLS is set when an Ingress lists the host under spec.tls.
	TLS *ServerTLS `json:"tls,omitempty"`

	// AppRoot redirects requests for "/" there (302), from the oldest
	// Ingress of the host that sets app-root.
	AppRoot annotations.URIPath `json:"appRoot,omitempty"`
	// Snippets are the server-snippet annotations of the host's Ingresses,
	// oldest first.
	Snippets []annotations.Snippet `json:"snippets,omitempty"`
	// Aliases are more names of the host (server-alias), served by the
	// same locations and certificate.
	Aliases []string `json:"aliases,omitempty"`
	// ClientTLS asks HTTPS clients for a certificate (auth-tls); such a
	// server has a server block.
	ClientTLS *ClientTLS `json:"clientTLS,omitempty"`
	// TLSCiphers are the host's ssl-ciphers and ssl-prefer-server-ciphers,
	// each from the oldest Ingress of the host that sets it.
	TLSCiphers annotations.TLSCiphers `json:"tlsCiphers,omitzero"`
	// RedirectTo, on a server of no locations, is the host its requests
	// redirect to (308, same scheme and URI): the www. twin of
	// from-to-www-redirect. TLS is the host's.
	RedirectTo string `json:"redirectTo,omitempty"`
	// Passthrough, on a host of an ssl-passthrough Ingress (with
	// --enable-ssl-passthrough), names the entry of Config.Backends its
	// TLS connections go to untouched; "" when TLS ends at Portico.
	Passthrough string `json:"passthrough,omitempty"`
}

// ServerTLS is the TLS setup of a host.
type ServerTLS struct {
	// Certificate names the entry of Config.Certificates served for the
	// host; "" means the default certificate (the Secret is missing or
	// invalid, which a diagnostic reports).
	Certificate string `json:"certificate"`
}

// Certificate is a validated TLS key pair from a Secret.
type Certificate struct {
	// Name is "namespace/secret".
	Name string `json:"name"`
	// CertPEM is the chain, re-encoded from the parsed certificates.
	CertPEM string `json:"-"`
	// KeyPEM is the PKCS #8 private key; it never appears in output.
	KeyPEM   string    `json:"-"`
	NotAfter time.Time `json:"notAfter"`
	DNSNames []string  `json:"dnsNames,omitempty"`
	// Serial is the leaf's serial number (decimal); IssuerSerial the
	// serialNumber attribute of its issuer's name, usually "".
	Serial       string `json:"serial,omitempty"`
	IssuerSerial string `json:"issuerSerial,omitempty"`
}

// Modifier is an nginx location modifier.
type Modifier string

const (
	// ModExact is "location = /p": the URI equals the path.
	ModExact Modifier = "="
	// ModPrefix is "location /p": the URI starts with the path.
	ModPrefix Modifier = ""
	// ModRegex is "location ~* re": Path is a case-insensitive regular
	// expression anchored at the start (every path of a regex host).
	ModRegex Modifier = "~*"
)

// Location is one path of a host: how requests match it (Modifier, Path)
// and what serves them.
type Location struct {
	Modifier Modifier `json:"modifier"`
	// Path is validated: it starts with '/' and holds no character that
	// needs escaping in nginx.conf.
	Path string `json:"path"`
	// Backend names the entry of Config.Backends that serves the
	// location; empty means the location answers 404.
	Backend string `json:"backend,omitempty"`
	// Ingress is where the route came from; zero for a synthesized one.
	Ingress IngressRef `json:"ingress"`
	// IngressPath is the Ingress path the location serves, as validated
	// and without '$' (a regex path's anchors); "" for a synthesized one.
	// It labels request metrics.
	IngressPath string `json:"ingressPath,omitempty"`
	// RewriteTarget, when set, replaces the URI before proxying, its
	// $1..$9 the groups of Path (only a regex location rewrites).
	RewriteTarget annotations.URIPath `json:"rewriteTarget,omitempty"`
	// SSLRedirect answers plain-HTTP requests with a 308 to HTTPS.
	SSLRedirect bool `json:"sslRedirect,omitempty"`
	// RateLimit is the location's Ingress's limits; nil when none.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// SourceRange restricts client addresses; nil when unrestricted.
	SourceRange *SourceRange `json:"sourceRange,omitempty"`

	// Redirect answers every request with a redirect instead of proxying.
	Redirect *annotations.Redirect `json:"redirect,omitempty"`
	Proxy    annotations.Proxy     `json:"proxy,omitzero"`
	// Headers are sent to the backend in addition to the standard ones;
	// when set, the location repeats the standard set (nginx does not
	// inherit proxy_set_header into a level that has its own).
	Headers []Header          `json:"headers,omitempty"`
	CORS    *annotations.CORS `json:"cors,omitempty"`
	// BasicAuth checks credentials against an entry of Config.AuthFiles.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// ExternalAuth sends a subrequest to an auth service first: the
	// Ingress's auth-url, or the ConfigMap's global auth (GlobalAuth).
	ExternalAuth *annotations.ExternalAuth `json:"externalAuth,omitempty"`
	GlobalAuth   bool                      `json:"globalAuth,omitempty"`
	// Errors intercepts backend errors and serves them from another backend.
	Errors *ErrorPage `json:"errors,omitempty"`
	// DefaultBackend serves the location's requests, unchanged, with
	// X-Code 503, while Backend has no endpoint (the default-backend
	// annotation, as in ingress-nginx); nil: those get 503.
	DefaultBackend *ErrorBackend       `json:"defaultBackend,omitempty"`
	Snippet        annotations.Snippet `json:"snippet,omitempty"`
	// Redirects is how its redirects are written; Relative is on with the
	// ConfigMap's relative-redirects too.
	Redirects annotations.RedirectForm `json:"redirects,omitzero"`
	// Satisfy is "any" when the source range or the auth suffices.
	Satisfy string `json:"satisfy,omitempty"`
	// ResponseHeaders are set on every answer (custom-headers), sorted by
	// name; each name is allowed and each value of the annotation's
	// grammar.
	ResponseHeaders []KeyValue `json:"responseHeaders,omitempty"`
	// Mirror copies each request to another server; nil: none.
	Mirror *annotations.Mirror `json:"mirror,omitempty"`
	// FastCGI is set for backend-protocol FCGI.
	FastCGI *FastCGI `json:"fastCGI,omitempty"`
	// ModSecurity is its Ingress's ModSecurity annotations; nil when none.
	ModSecurity *annotations.ModSecurity `json:"modSecurity,omitempty"`
	// Tracing is its Ingress's OpenTelemetry annotations; nil when none.
	Tracing *annotations.Tracing `json:"tracing,omitempty"`
}

// Header is a request header for the backend: Name is a token; exactly
// one of Value (validated, printed quoted) and Var (an nginx variable
// name without '$') is set.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
	Var   string `json:"var,omitempty"`
}

// AuthFile is a validated htpasswd file.
type AuthFile struct {
	// Name is a file name: "namespace_secret".
	Name string `json:"name"`
	// Content is one "user:hash" line per user.
	Content string `json:"-"`
}

// BasicAuth is the basic authentication of a location.
type BasicAuth struct {
	Realm string `json:"realm"`
	// File names the entry of Config.AuthFiles.
	File string `json:"file"`
}

// ErrorPage intercepts backend answers with Codes and serves them from
// Backend.
type ErrorPage struct {
	Codes []int `json:"codes"`
	ErrorBackend
	// NoIntercept leaves the backend's answers as they are: only the
	// errors nginx makes itself go to Backend
	// (disable-proxy-intercept-errors).
	NoIntercept bool `json:"noIntercept,omitempty"`
}

// ErrorBackend is a backend that answers for a location's Service, and
// what it is told of that Service.
type ErrorBackend struct {
	Backend string `json:"backend"`
	// Service and Port are sent to the error backend as X-Service-Name
	// and X-Service-Port; Ingress as X-Namespace and X-Ingress-Name.
	Service string     `json:"service"`
	Port    string     `json:"port"`
	Ingress IngressRef `json:"ingress"`
}

// Backend is a Service port as the Lua balancer sees it.
type Backend struct {
	// Name is "namespace/service:port", port as the Ingress wrote it.
	Name        string                  `json:"name"`
	Service     ServiceRef              `json:"service"`
	Port        string                  `json:"port"`
	LoadBalance annotations.LoadBalance `json:"loadBalance"`
	// ViaService: Endpoints is the Service's cluster IP and port
	// (service-upstream); kube-proxy or a mesh picks the Pod.
	ViaService bool `json:"viaService,omitempty"`
	// Endpoints are the addresses that receive traffic, sorted.
	Endpoints []Endpoint `json:"endpoints"`
	// NoEndpoints explains an empty Endpoints, for the 503 body and logs.
	NoEndpoints string `json:"noEndpoints,omitempty"`
	// ServiceBroken: the Service reference itself is broken (no such
	// Service or port, or one Portico does not proxy to); NoEndpoints
	// says how.
	ServiceBroken bool `json:"serviceBroken,omitempty"`
	// Refused: the stand-in of a refused Ingress's paths (refusal.go),
	// of no Service; NoEndpoints says why it answers 503.
	Refused bool `json:"refused,omitempty"`
	// The traffic policy travels to Lua, never into nginx.conf.
	Canary   *Canary               `json:"canary,omitempty"`
	Affinity *annotations.Affinity `json:"affinity,omitempty"`
	HashBy   annotations.HashBy    `json:"hashBy,omitempty"`
	// HashSubset is the size of the subsets HashBy maps keys to; 0: one
	// endpoint per key.
	HashSubset int `json:"hashSubset,omitempty"`
}

// Endpoint is one address and port of a Backend.
type Endpoint struct {
	Address string `json:"address"`
	Port    int32  `json:"port"`
}
