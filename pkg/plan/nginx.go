package plan

import (
	"regexp"
	"strconv"

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
	// DataFiles maps each of model.Config.DataFiles with a copy to the
	// copy nginx.conf names (apply.DataFiles).
	DataFiles map[string]string
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
	// HTTPSPortSuffix names the HTTPS port in redirects to HTTPS: "" for
	// 443, else ":<port>".
	HTTPSPortSuffix string
	// ListenOptions follow the port of every traffic listen directive:
	// " proxy_protocol" when the ConfigMap asks for it.
	ListenOptions string
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
	// $request_id, so that the log and the header agree. RequestIDVar is
	// what $portico_request_id is when the client sent none.
	RequestIDByLua bool
	RequestIDVar   string
	// DefaultPass is where plain HTTP is proxied: the balancer's upstream.
	DefaultPass string
	// LogsRouteLabels is true when the access log names $portico_server,
	// $portico_ingress or $portico_path: the Lua router then sets them per
	// request (it always sets $portico_backend).
	LogsRouteLabels bool
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

// routeLabelVariable finds the route variables a log format may name
// besides $portico_backend.
var routeLabelVariable = regexp.MustCompile(`\$portico_(server|ingress|path)\b`)

// requestIDVariable finds nginx's own request id in a log format.
var requestIDVariable = regexp.MustCompile(`\$request_id\b`)

// httpOf is the HTTP of g and opts.
func httpOf(g model.Global, opts Options) *HTTP {
	h := &HTTP{Options: opts, Global: g, AuthDir: opts.RunDir + "/auth", DefaultPass: "http://" + upstreamHTTP}
	if opts.HTTPSPort != 443 {
		h.HTTPSPortSuffix = ":" + strconv.Itoa(opts.HTTPSPort)
	}
	if g.UseProxyProtocol {
		h.ListenOptions = " proxy_protocol"
	}
	h.Forwarded = ForwardedVars{Proto: "$scheme", Host: "$portico_host", Port: "$server_port", For: "$remote_addr"}
	if g.UseForwardedHeaders {
		h.Forwarded.Proto, h.Forwarded.Host, h.Forwarded.Port = "$portico_fwd_proto", "$portico_fwd_host", "$portico_fwd_port"
	}
	if g.AppendForwardedFor {
		h.Forwarded.For = "$portico_fwd_for"
	}
	h.ProxyHeaders = append([]Header{{"Host", "$portico_host"}}, h.forwardHeaders(false)...)
	h.AuthRequestHeaders = []Header{{"X-Original-URL", "$scheme://$portico_host$request_uri"}, {"X-Original-Method", "$request_method"},
		{"X-Original-URI", "$request_uri"}, {"X-Forwarded-For", "$remote_addr"}, {"X-Forwarded-Proto", "$scheme"},
		{"X-Forwarded-Host", "$portico_host"}, {"X-Auth-Request-Redirect", "$request_uri"}, {"X-Request-ID", "$portico_request_id"}}
	// Without an access log no variable is logged: nothing to set for it.
	h.LogsRouteLabels = g.AccessLog && routeLabelVariable.MatchString(g.LogFormat)
	h.RequestIDByLua = g.GenerateRequestID && !(g.AccessLog && requestIDVariable.MatchString(g.LogFormat))
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

// forwardHeaders are the headers of ProxyHeaders but Host: a location
// that sets a header of its own repeats them (nginx inherits none then).
// gRPC has no hop-by-hop Upgrade and Connection.
// DataFile is the copy nginx.conf names for the data file the operator
// configured at path; "" when there is none (it was never readable, or
// nginx refused every version so far): the feature that reads it is left
// out.
func (h HTTP) DataFile(path string) string { return h.DataFiles[path] }

func (h *HTTP) forwardHeaders(grpc bool) []Header {
	f := h.Forwarded
	hs := []Header{{"Upgrade", "$http_upgrade"}, {"Connection", "$portico_connection"}}
	if grpc {
		hs = nil
	}
	return append(hs, Header{"X-Real-IP", "$remote_addr"}, Header{"X-Forwarded-For", f.For}, Header{"X-Forwarded-Host", f.Host},
		Header{"X-Forwarded-Port", f.Port}, Header{"X-Forwarded-Proto", f.Proto}, Header{"X-Forwarded-Scheme", f.Proto},
		Header{"X-Original-URI", "$request_uri"}, Header{"X-Request-ID", "$portico_request_id"})
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
	// auth-url and custom errors.
	GeneratedID, LimitScope, BasicAuth, Auth, Errors bool
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
)

// upstreams are the balancer's upstream blocks.
var upstreams = []string{upstreamHTTP, upstreamHTTPS, upstreamGRPC, upstreamGRPCS}
