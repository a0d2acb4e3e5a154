package plan

import "encoding/json"

// Backend is one entry of the Lua balancer's configuration, as pushed to
// /configuration/backends.
type Backend struct {
	Name        string     `json:"name"`
	LoadBalance string     `json:"loadBalance"`
	Endpoints   []Endpoint `json:"endpoints"`
	// NoEndpoints is the reason an empty Endpoints gives in its 503.
	NoEndpoints string `json:"noEndpoints,omitempty"`
	// The traffic policy the balancer applies (balancer.lua, canary.lua,
	// sticky.lua, chash.lua).
	Canary   *Canary   `json:"canary,omitempty"`
	Affinity *Affinity `json:"affinity,omitempty"`
	// HashBy is a consistent-hashing key of nginx variables and literals;
	// HashSubset, when set, maps it to subsets of that many endpoints
	// (chash.lua).
	HashBy     string `json:"hashBy,omitempty"`
	HashSubset int    `json:"hashSubset,omitempty"`
}

// Canary is a backend's alternative backend and when to use it: header,
// then cookie, then Weight of WeightTotal requests.
type Canary struct {
	Backend       string `json:"backend"`
	Weight        int    `json:"weight"`
	WeightTotal   int    `json:"weightTotal"`
	Header        string `json:"header,omitempty"`
	HeaderValue   string `json:"headerValue,omitempty"`
	HeaderPattern string `json:"headerPattern,omitempty"`
	Cookie        string `json:"cookie,omitempty"`
}

// Affinity is cookie session affinity (sticky.lua). Backend is the
// Service port the cookie names besides the endpoint, so that a canary
// tells the clients the main backend pinned from its own.
type Affinity struct {
	Cookie string `json:"cookie"`
	// Path is session-cookie-path; "" for the Ingress path of the
	// request's location, as ingress-nginx sets it.
	Path                    string `json:"path,omitempty"`
	MaxAge                  int    `json:"maxAge,omitempty"`
	Expires                 int    `json:"expires,omitempty"`
	SameSite                string `json:"sameSite,omitempty"`
	Mode                    string `json:"mode,omitempty"`
	Domain                  string `json:"domain,omitempty"`
	Secure                  bool   `json:"secure,omitempty"`
	Backend                 string `json:"backend"`
	ChangeOnFailure         bool   `json:"changeOnFailure,omitempty"`
	ConditionalSameSiteNone bool   `json:"conditionalSameSiteNone,omitempty"`
}

// Endpoint is a peer of a Backend.
type Endpoint struct {
	Address string `json:"address"`
	Port    int32  `json:"port"`
}

// Backends is the body of a push to /configuration/backends.
type Backends struct {
	Backends []Backend `json:"backends"`
}

// Certificates is the body of a push to /configuration/certificates: the
// key material travels over loopback into nginx's memory only.
type Certificates struct {
	// Servers maps TLS host names ("*.example.com" for wildcards) to a
	// certificate name; "" means the default certificate.
	Servers map[string]string `json:"servers"`
	// Default names the certificate for unknown SNI names; "" means the
	// one in nginx.conf.
	Default string `json:"default"`
	// RejectUnknown fails handshakes without SNI or for names Servers
	// lacks (ssl-reject-handshake); Servers then names every host, those
	// without TLS mapped to "".
	RejectUnknown bool `json:"rejectUnknown,omitempty"`
	// OCSP staples the OCSP responses of the certificates
	// (portico/ocsp.lua), in the shared dict nginx.conf then declares.
	OCSP         bool          `json:"ocsp,omitempty"`
	Certificates []Certificate `json:"certificates"`
}

// Certificate is a PEM chain and key.
type Certificate struct {
	Name string `json:"name"`
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// Routes is the body of a push to /configuration/routes: the hosts the
// Lua router serves.
type Routes struct {
	// HSTS is the Strict-Transport-Security value of hosts with HSTS.
	HSTS string `json:"hsts"`
	// RedirectCode is the status of the redirects to HTTPS (sslRedirect)
	// and to a host's twin (redirectTo); 0 means 308.
	RedirectCode int `json:"redirectCode,omitempty"`
	// Hosts maps a lower-case host name to its routes: "*.example.com"
	// serves a name one label under example.com that is not in the map
	// itself, and "" holds the rules without a host, used for the rest.
	Hosts map[string]HostRoutes `json:"hosts"`
}

// BackendsPatch is the body of a patch to /configuration/backends?base=N:
// Backends replace theirs, Deleted go, the other backends stay.
type BackendsPatch struct {
	Backends []json.RawMessage `json:"backends"`
	Deleted  []string          `json:"deleted"`
}

// RoutesPatch is the body of a patch to /configuration/routes?base=N:
// Hosts replace theirs, Deleted go, the other hosts stay.
type RoutesPatch struct {
	HSTS         string                     `json:"hsts"`
	RedirectCode int                        `json:"redirectCode,omitempty"`
	Hosts        map[string]json.RawMessage `json:"hosts"`
	Deleted      []string                   `json:"deleted"`
}

// HostRoutes are one host's routes, in the model's location order.
type HostRoutes struct {
	HSTS bool `json:"hsts,omitempty"`
	// AppRoot, a URI path, is where "/" redirects (302) before any route.
	AppRoot string `json:"appRoot,omitempty"`
	// RedirectTo, a host name, is where every request redirects
	// (Routes.RedirectCode).
	RedirectTo string  `json:"redirectTo,omitempty"`
	Routes     []Route `json:"routes"`
}

// Route is an exact or prefix path and what serves it: a backend, or 404
// when Backend is "".
type Route struct {
	Exact       bool   `json:"exact,omitempty"`
	Regex       bool   `json:"regex,omitempty"`
	Path        string `json:"path"`
	Backend     string `json:"backend,omitempty"`
	Ingress     string `json:"ingress,omitempty"`
	IngressPath string `json:"ingressPath,omitempty"`
	SSLRedirect bool   `json:"sslRedirect,omitempty"`
	// SSLRedirectPort names the HTTPS port in the redirect to HTTPS
	// (use-port-in-redirects); SSLRedirectSlash keeps a trailing '/' of
	// the request URI there (preserve-trailing-slash), which it drops
	// otherwise.
	SSLRedirectPort  bool `json:"sslRedirectPort,omitempty"`
	SSLRedirectSlash bool `json:"sslRedirectSlash,omitempty"`
	// RewriteTarget replaces the URI; $1..$9 are a Regex Path's groups.
	// RewriteLog (enable-rewrite-log) logs the rewrite at notice level,
	// as nginx's rewrite_log does.
	RewriteTarget string `json:"rewriteTarget,omitempty"`
	RewriteLog    bool   `json:"rewriteLog,omitempty"`
	// ForwardedPrefix is sent as X-Forwarded-Prefix.
	ForwardedPrefix string `json:"forwardedPrefix,omitempty"`
	// Timeouts in seconds; 0 keeps nginx.conf's.
	ConnectTimeout int `json:"connectTimeout,omitempty"`
	SendTimeout    int `json:"sendTimeout,omitempty"`
	ReadTimeout    int `json:"readTimeout,omitempty"`
	// BodyLimit is the request body limit in bytes (0: none); nil keeps
	// nginx.conf's.
	BodyLimit *int64 `json:"bodyLimit,omitempty"`
	// Location is the named location (@portico_proxy_<hash>) with the
	// route's proxy settings, rate limits, custom errors, basic auth or
	// auth-url that nginx applies per location; the router hands its
	// requests there.
	Location string `json:"location,omitempty"`
	// Redirect answers instead of proxying; nil proxies. A redirect to a
	// path is made absolute with the request's scheme and Host, as nginx
	// does, with the port the request came to when RedirectPort
	// (use-port-in-redirects); RedirectRelative leaves it relative
	// (relative-redirects).
	Redirect         *Redirect `json:"redirect,omitempty"`
	RedirectPort     bool      `json:"redirectPort,omitempty"`
	RedirectRelative bool      `json:"redirectRelative,omitempty"`
	// SourceRange restricts client addresses; nil allows all.
	SourceRange *SourceRange `json:"sourceRange,omitempty"`
	// UpstreamVhost replaces the Host header the backend gets.
	UpstreamVhost string `json:"upstreamVhost,omitempty"`
	// Pass is the proxy_pass URL when not plain HTTP (an upstream of
	// nginx.conf, such as https://portico_balancer_https); with
	// PassHTTPSOnly (backend-protocol AUTO_HTTP) only for requests that
	// came over HTTPS.
	Pass          string `json:"pass,omitempty"`
	PassHTTPSOnly bool   `json:"passHTTPSOnly,omitempty"`
	// CORS answers preflights and adds its headers; nil: none.
	CORS *CORS `json:"cors,omitempty"`
	// RateLimit keys the rate limits of Location; nil: none.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// Errors names the backend of the errors Location intercepts; nil:
	// none.
	Errors *RouteErrors `json:"errors,omitempty"`
	// DefaultBackend serves the route, with X-Code 503 and these names,
	// while Backend has no endpoint; nil: none (503).
	DefaultBackend *RouteErrors `json:"defaultBackend,omitempty"`
	// BasicAuth is the realm and htpasswd file (a name in AuthFiles.Dir)
	// of the auth_basic of Location; nil: none.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// Auth is the auth service (auth-url) of the auth_request of
	// Location; nil: none.
	Auth *Auth `json:"auth,omitempty"`
	// SatisfyAny lets a client whose address SourceRange allows past the
	// auth of Location ($portico_basic_realm "off", $portico_auth_skip),
	// and one it refuses on to the auth rather than 403.
	SatisfyAny bool `json:"satisfyAny,omitempty"`
	// Mirror is what the router sets in $portico_mirror_target and
	// $portico_mirror_host for the mirror of Location; nil: none.
	Mirror *Mirror `json:"mirror,omitempty"`
}

// Mirror is where the copies of a route's requests go: Target, an http(s)
// URL whose $request_uri, $is_args, $args and $query_string the router
// replaces with the request's, with Host.
type Mirror struct {
	Target string `json:"target"`
	Host   string `json:"host"`
}

// Auth is what the router sets in $portico_auth_url, $portico_auth_host,
// $portico_auth_method, $portico_auth_cache_scope and $portico_signin
// before it hands a request to its route's Location, whose auth
// subrequest goes to URL (through an upstream block of nginx.conf when
// it keeps connections) with Host (also the TLS name) and Method, and
// keeps its answers under CacheScope and the key nginx.conf fixes, when
// set. A 401 redirects to Signin (the sign-in URL up to the value of its
// redirect parameter) followed by the request's URL, escaped; with
// SigninRD "request-uri" its URI, with "none" nothing (Signin is whole);
// in $portico_signin_mode.
type Auth struct {
	URL        string `json:"url"`
	Host       string `json:"host"`
	Method     string `json:"method"`
	CacheScope string `json:"cacheScope,omitempty"`
	Signin     string `json:"signin,omitempty"`
	SigninRD   string `json:"signinRD,omitempty"`
}

// BasicAuth is what the router sets in $portico_basic_realm and
// $portico_basic_file before it hands a request to its route's Location.
type BasicAuth struct {
	Realm string `json:"realm"`
	File  string `json:"file"`
}

// RouteErrors is what the router sets in $portico_err_* before it hands a
// request to its route's Location, whose intercepted errors go to the
// error backend Backend with X-Namespace, X-Ingress-Name, X-Service-Name
// and X-Service-Port; as a route's DefaultBackend, the balancer sends
// the same headers itself.
type RouteErrors struct {
	Backend   string `json:"backend"`
	Namespace string `json:"namespace"`
	Ingress   string `json:"ingress"`
	Service   string `json:"service"`
	Port      string `json:"port"`
}

// RateLimit is what the router sets in $portico_limit_scope before it
// hands a request to its route's Location, whose limits are keyed by
// client address and scope: Scope (hex), or "" (not counted) for a
// client in Allowlist (networks as in SourceRange).
type RateLimit struct {
	Scope     string   `json:"scope"`
	Allowlist []string `json:"allowlist,omitempty"`
}

// CORS is a route's CORS policy. OriginRegex (PCRE, matched
// case-insensitively) accepts the allowed origins; "" with AnyOrigin
// answers "*".
type CORS struct {
	AnyOrigin     bool   `json:"anyOrigin,omitempty"`
	OriginRegex   string `json:"originRegex,omitempty"`
	Methods       string `json:"methods"`
	Headers       string `json:"headers"`
	ExposeHeaders string `json:"exposeHeaders,omitempty"`
	Credentials   bool   `json:"credentials,omitempty"`
	MaxAge        int    `json:"maxAge"`
}

// Redirect is a redirect with Code (301, 302, 303, 307 or 308) to an
// absolute http(s) URL, or to a path (Route.RedirectPort,
// RedirectRelative).
type Redirect struct {
	Code int    `json:"code"`
	URL  string `json:"url"`
}

// SourceRange lists networks as "<hex of the address bytes>/<bits>",
// host bits zero: the router compares them with $binary_remote_addr.
// Deny wins; when Allow is set, every other address is denied (403).
type SourceRange struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// Paths of the Lua configuration endpoints on nginx's status port: a POST
// replaces (or, with ?base=<generation>, patches) what the endpoint
// holds; a GET returns it.
const (
	BackendsPath     = "/configuration/backends"
	CertificatesPath = "/configuration/certificates"
	RoutesPath       = "/configuration/routes"
	// ChecksumPath answers the checksum of the nginx.conf the answering
	// worker runs.
	ChecksumPath = "/configuration/checksum"
	// RequestsPath answers the per-request counters (metrics.lua).
	RequestsPath = "/metrics/requests"
	// ConnectionsPath answers nginx's connection and request counters
	// (stub_status).
	ConnectionsPath = "/nginx_status"
)

// Find returns the backend called name, or nil.
func (b *Backends) Find(name string) *Backend {
	for i := range b.Backends {
		if b.Backends[i].Name == name {
			return &b.Backends[i]
		}
	}
	return nil
}

// The answer of a Lua endpoint to a push it took (201) is
// {"refused":{name:reason}}: it took the other items, and keeps the
// version it held of each refused one, if any. A Refusal is one of them.
type Refusal struct {
	// Kind is the Document's: "certificate", "backend" or "host".
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// RefusedItem stands, among the items nginx holds, for one it refused: it
// equals no item, so the next patch carries the item again, or deletes it.
var RefusedItem = json.RawMessage("null")
