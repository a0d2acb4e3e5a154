package plan

import (
	"slices"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
)

// Options are the controller's settings that nginx.conf carries.
type Options struct {
	HTTPPort  int
	HTTPSPort int
	// DefaultCertificate and DefaultCertificateKey are the files of the
	// certificate served when no TLS host matches the SNI name.
	DefaultCertificate, DefaultCertificateKey string
	// StatusPort is the loopback port of the Lua configuration endpoints
	// and nginx's own health check.
	StatusPort int
	// RunDir holds the pid file, nginx's temporary files and, in auth/,
	// the files nginx reads per request (Plan.AuthFiles).
	RunDir string
	// LuaDir holds Portico's Lua modules (the portico/ package).
	LuaDir string
	// ModulesDir holds the nginx dynamic modules (ndk and lua).
	ModulesDir string
	// Resolvers are the nameservers nginx resolves auth-url host names
	// with, in its syntax (IPv6 in brackets, an optional :port); none
	// means such URLs fail (500).
	Resolvers []string
	// RoutedHostsFile is where the routed hosts are written as the server
	// blocks they stand for (RoutedHosts); nginx.conf names it where the
	// catch-all server hands requests to the Lua router. "": nowhere.
	RoutedHostsFile string
	// SSLPassthrough puts the passthrough front on the HTTPS port
	// (--enable-ssl-passthrough).
	SSLPassthrough bool
	// DataFiles maps each of model.Config.DataFiles with a copy to the
	// copy nginx.conf names (apply.DataFiles).
	DataFiles map[string]string
	// IPv6 is true when the host has IPv6: the traffic ports listen on
	// it too unless the ConfigMap says not to, and the resolver asks for
	// IPv6 addresses.
	IPv6 bool
	// OpenFilesLimit is the controller's hard limit of open files (0:
	// unknown), which max-worker-open-files 0 derives nginx's from.
	OpenFilesLimit int
	// RequestMetrics makes Lua count each request for /metrics
	// (--enable-metrics); without it the log phase counts nothing.
	RequestMetrics bool
}

// HTTP is what nginx.conf's main and http contexts print: the
// controller's settings, the ConfigMap's, and what the plan decides of
// them. The server blocks and locations print the settings they share
// through it.
type HTTP struct {
	Options
	model.Global
	// AuthDir is where the files of Plan.AuthFiles are.
	AuthDir string
	// Listen are the arguments of a server block's traffic listen
	// directives (listen.go); DefaultListen the catch-all server's.
	Listen, DefaultListen []string
	// ResolverIPv6Off: the resolver asks for IPv4 addresses only.
	ResolverIPv6Off bool
	// DHParamFile and TicketKeyFile are the paths of ssl_dhparam and
	// ssl_session_ticket_key, files of AuthDir (Plan.AuthFiles); "" for
	// none.
	DHParamFile, TicketKeyFile string
	// OpenFiles is worker_rlimit_nofile (0: not set) and Connections
	// worker_connections (workers.go).
	OpenFiles, Connections int
	// ServerNames are the server names hash sizes: the ConfigMap's,
	// raised to fit the server blocks' names (Make sets them).
	ServerNames ServerNamesHash
	// NextUpstream is the http level's proxy_next_upstream and
	// grpc_next_upstream.
	NextUpstream string
	// BackendSSLProtocols are the TLS versions nginx offers HTTPS and
	// GRPCS backends unless proxy-ssl-protocols says otherwise
	// (proxy_ssl_protocols, grpc_ssl_protocols): those of ingress-nginx's
	// nginx (1.23.4 and later), where Debian's 1.22 would offer TLSv1 to
	// TLSv1.2 and fail a backend of TLS 1.3 only.
	BackendSSLProtocols string
	// ServerPort is the variable of the port the client connected to:
	// $server_port, or behind the passthrough front
	// $portico_server_port (the PROXY header's port for its socket),
	// which ServerPortFromProxy maps.
	ServerPort          string
	ServerPortFromProxy bool
	// Forwarded names the nginx variable each X-Forwarded-* header sends.
	Forwarded ForwardedVars
	// ProxyHeaders are the headers every proxied request gets
	// (proxy_set_header at the http level): Host, then forwardHeaders.
	// AuthRequestHeaders are what an auth subrequest tells the auth
	// service of the request.
	ProxyHeaders, AuthRequestHeaders []Header
	// RequestIDByLua makes the X-Request-ID of GenerateRequestID in Lua
	// (32 hex digits as nginx's: a random per-worker prefix and a count)
	// rather than with nginx's $request_id, whose OpenSSL RAND_bytes costs
	// ~6,600 instructions a request; false when the access log names
	// $request_id (or ingress-nginx's $req_id), so that the log and the
	// header agree for every request, proxied or not. RequestIDVar is
	// what $portico_request_id is when the client sent none.
	RequestIDByLua bool
	RequestIDVar   string
	// DefaultPass is where plain HTTP is proxied: the balancer's upstream;
	// HTTPSPass where HTTPS is.
	DefaultPass, HTTPSPass string
	// DefaultSettings are the directives of the ConfigMap's defaults of
	// per-location proxy settings (model.Defaults.Proxy), printed at the
	// http level: every location inherits them unless it sets its own.
	DefaultSettings []string
	// BlockedAgents and BlockedReferers are the keys of the maps of
	// block-user-agents and block-referers, as nginx.conf prints them
	// (blockKeys).
	BlockedAgents, BlockedReferers []string
	// LogsRouteLabels is true when the access log names $portico_server,
	// $portico_ingress or $portico_path (or ingress-nginx's variables
	// made of them), or the ConfigMap's span name does: the Lua router
	// then sets them per request (it always sets $portico_backend).
	LogsRouteLabels bool
	// Logs are the log directives.
	Logs Logs
	// GzipFilter and BrotliFilter compress answers when set; the Brotli
	// module is loaded only then.
	GzipFilter, BrotliFilter *Compress
	// ResponseHeaders are the more_set_headers arguments of add-headers
	// (Plan.HeadersMore).
	ResponseHeaders []string
	// WAF is ModSecurity's part; GeoIP2 the databases nginx reads.
	WAF    *WAF
	GeoIP2 []GeoIP2Database
	// TraceConfig configures portico/tracing.lua in each worker (a Lua
	// table of validated values); "" when nothing traces.
	TraceConfig string
}

// ForwardedVars are the nginx variables the X-Forwarded-* headers send:
// nginx's own, or Portico's maps over the client's headers when the
// ConfigMap trusts them (a map costs ~550 instructions a request, so none
// stands in for a plain variable).
type ForwardedVars struct {
	Proto, Host, Port, For string
}

// Header is a header nginx sends a backend: Name, and Value as nginx.conf
// prints it (a variable, or a quoted string of a validated value).
type Header struct {
	Name, Value string
}

// httpOf is the HTTP of g and opts.
func httpOf(g model.Global, opts Options) *HTTP {
	h := &HTTP{Options: opts, Global: g, AuthDir: opts.RunDir + "/auth", DefaultPass: "http://" + upstreamHTTP,
		HTTPSPass: "https://" + upstreamHTTPS}
	h.Listen, h.DefaultListen = listens(g, opts)
	h.Resolvers, h.ResolverIPv6Off = resolversOf(opts.Resolvers, g.Listen.DisableIPv6DNS || !opts.IPv6)
	h.OpenFiles, h.Connections = workerLimits(g.Workers, opts.OpenFilesLimit)
	h.NextUpstream = nextUpstream(g.Defaults.Proxy.NextUpstream, g.RetryNonIdempotent)
	h.BackendSSLProtocols = "TLSv1.2 TLSv1.3"
	h.ServerPort = "$server_port"
	if opts.SSLPassthrough {
		h.passthroughFront()
	}
	h.Forwarded = ForwardedVars{Proto: "$scheme", Host: "$portico_host", Port: h.ServerPort, For: "$remote_addr"}
	if g.UseForwardedHeaders {
		h.Forwarded.Proto, h.Forwarded.Host, h.Forwarded.Port = "$portico_fwd_proto", "$portico_fwd_host", "$portico_fwd_port"
	}
	if g.AppendForwardedFor {
		h.Forwarded.For = "$portico_fwd_for"
	}
	h.GzipFilter, h.BrotliFilter = compressOf(g.Gzip, true), compressOf(g.Brotli, g.Gzip == nil)
	h.ResponseHeaders = h.responseHeaders()
	// proxy_next_upstream is NextUpstream's (with retry-non-idempotent).
	defaults := g.Defaults.Proxy
	defaults.NextUpstream = nil
	h.DefaultSettings = h.settingsDirectives(defaults)
	h.BlockedAgents, h.BlockedReferers = blockKeys(g.Policy.BlockUserAgents), blockKeys(g.Policy.BlockReferers)
	h.ProxyHeaders = append([]Header{{"Host", "$portico_host"}}, h.forwardHeaders(false)...)
	h.AuthRequestHeaders = []Header{{"X-Original-URL", "$scheme://$portico_host$request_uri"}, {"X-Original-Method", "$request_method"},
		{"X-Original-URI", "$request_uri"}, {"X-Forwarded-For", "$remote_addr"}, {"X-Forwarded-Proto", "$scheme"},
		{"X-Forwarded-Host", "$portico_host"}, {"X-Auth-Request-Redirect", "$request_uri"}, {"X-Request-ID", "$portico_request_id"}}
	h.Logs = logsOf(g)
	h.LogsRouteLabels = logsAny(g, routeLabelVariables) || g.Tracing.On && g.Tracing.Export != nil && g.Tracing.OperationName.RouteLabels()
	h.RequestIDByLua = g.GenerateRequestID && !logsAny(g, requestIDVariables)
	switch {
	case h.RequestIDByLua:
		h.RequestIDVar = "$portico_generated_id"
	case g.GenerateRequestID:
		h.RequestIDVar = "$request_id"
	default:
		h.RequestIDVar = `""`
	}
	return h
}

// DataFile is the copy nginx.conf names for the data file the operator
// configured at path; "" when there is none (it was never readable, or
// nginx refused every version so far): the feature that reads it is left
// out.
func (h HTTP) DataFile(path string) string { return h.DataFiles[path] }

// forwardHeaders are the headers of ProxyHeaders but Host: a location
// that sets a header of its own repeats them (nginx inherits none then).
// gRPC has no hop-by-hop Upgrade and Connection. X-Original-URI goes with
// proxy-add-original-uri-header; the ConfigMap's proxy-set-headers come
// last, each in place of Portico's header of its name.
func (h *HTTP) forwardHeaders(grpc bool) []Header {
	hs := h.standardHeaders(grpc, h.Headers.OriginalURI)
	user := h.Headers.Request
	if len(user) == 0 {
		return hs
	}
	hs = slices.DeleteFunc(hs, func(s Header) bool {
		return slices.ContainsFunc(user, func(u model.Header) bool { return strings.EqualFold(u.Name, s.Name) })
	})
	for _, u := range user {
		hs = append(hs, Header{u.Name, quoted(u.Value)})
	}
	return hs
}

// standardHeaders are Portico's own headers of forwardHeaders, with
// X-Original-URI when originalURI.
func (h *HTTP) standardHeaders(grpc, originalURI bool) []Header {
	f := h.Forwarded
	hs := []Header{{"Upgrade", "$http_upgrade"}, {"Connection", "$portico_connection"}}
	if grpc {
		hs = nil
	}
	hs = append(hs, Header{"X-Real-IP", "$remote_addr"}, Header{"X-Forwarded-For", f.For}, Header{"X-Forwarded-Host", f.Host},
		Header{"X-Forwarded-Port", f.Port}, Header{"X-Forwarded-Proto", f.Proto}, Header{"X-Forwarded-Scheme", f.Proto})
	if originalURI {
		hs = append(hs, Header{"X-Original-URI", "$request_uri"})
	}
	return append(hs, Header{"X-Request-ID", "$portico_request_id"})
}

// errorHeaders are what an error backend gets (custom-http-errors), as
// in ingress-nginx: Portico's headers with X-Original-URI, without the
// ConfigMap's, then those that say what failed (more).
func (h *HTTP) errorHeaders(more ...Header) []Header {
	return append(append([]Header{{"Host", "$portico_host"}}, h.standardHeaders(false, true)...), more...)
}

// Status is the loopback status server: the Lua configuration endpoints,
// nginx's health and request counters, and the declarations of the
// variables the router sets (nginx accepts a variable only where some
// server declares it).
type Status struct {
	Port int
	// Paths are the endpoints' (lua.go).
	Paths StatusPaths
	// The variables to declare besides those always set: the generated
	// X-Request-ID's, and those of the router's rate limits, basic auth,
	// auth-url (and its cache scope), its satisfy any, custom errors and
	// mirrors.
	GeneratedID, LimitScope, BasicAuth, Auth, AuthCacheScope, AuthSkip, Errors, Mirror bool
	// WAF: ModSecurity is on at the http level; the status server turns
	// it off.
	WAF bool
	// Tracing declares $portico_span, nginx's span of a traced request.
	Tracing bool
}

// StatusPaths are the paths of the status server's endpoints.
type StatusPaths struct {
	Backends, Certificates, Routes, Checksum, Requests, Connections string
}

var statusPaths = StatusPaths{Backends: BackendsPath, Certificates: CertificatesPath, Routes: RoutesPath, Checksum: ChecksumPath,
	Requests: RequestsPath, Connections: ConnectionsPath}

// Upstream names of the Lua balancer, one per scheme: nginx keeps idle
// upstream connections per block, and a connection of one scheme (TLS,
// HTTP/2) must never serve another.
const (
	upstreamHTTP  = "portico_balancer"
	upstreamHTTPS = "portico_balancer_https"
	upstreamGRPC  = "portico_balancer_grpc"
	upstreamGRPCS = "portico_balancer_grpcs"
	upstreamFCGI  = "portico_balancer_fcgi"
)

// upstreams are the balancer's upstream blocks.
var upstreams = []string{upstreamHTTP, upstreamHTTPS, upstreamGRPC, upstreamGRPCS, upstreamFCGI}
