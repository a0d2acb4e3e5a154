package model

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// HostRoutes are the routes of one host the Lua router serves.
type HostRoutes struct {
	// Host is a lower-case host name, or "" for the rules without a host:
	// the router's fallback for hosts it does not know.
	Host string `json:"host"`
	// HSTS sends Global.HSTS on HTTPS answers (the host has TLS).
	HSTS bool `json:"hsts,omitempty"`
	// AppRoot redirects requests for "/" there (302) before any route
	// runs, as the server-level "if" of a server block would.
	AppRoot annotations.URIPath `json:"appRoot,omitempty"`
	// RedirectTo sends every request to this host (308, same scheme and
	// URI): the www. twin of from-to-www-redirect; no Routes then.
	RedirectTo string `json:"redirectTo,omitempty"`
	// Routes are the server's locations, in the same order.
	Routes []Route `json:"routes"`
}

// Route is a plain location: an exact, prefix or regex match that proxies
// to a backend, or answers 404 without one.
type Route struct {
	// Exact matches the URI equal to Path; Regex makes Path an anchored,
	// case-insensitive regular expression (nginx's "~*"). As nginx picks
	// locations: the exact route, else the first regex route (in order)
	// that matches, else the longest prefix route the URI starts with.
	Exact       bool       `json:"exact,omitempty"`
	Regex       bool       `json:"regex,omitempty"`
	Path        string     `json:"path"`
	Backend     string     `json:"backend,omitempty"`
	Ingress     IngressRef `json:"ingress"`
	IngressPath string     `json:"ingressPath,omitempty"`
	SSLRedirect bool       `json:"sslRedirect,omitempty"`
	// RewriteTarget replaces the URI before proxying (the query string
	// stays); $1..$9 are the groups of a Regex Path.
	RewriteTarget annotations.URIPath `json:"rewriteTarget,omitempty"`
	// ForwardedPrefix is sent as X-Forwarded-Prefix (x-forwarded-prefix).
	ForwardedPrefix string `json:"forwardedPrefix,omitempty"`
	// Timeouts of the proxy-*-timeout annotations, 0 for the global ones:
	// the balancer sets them per request.
	ConnectTimeout annotations.Seconds `json:"connectTimeout,omitempty"`
	SendTimeout    annotations.Seconds `json:"sendTimeout,omitempty"`
	ReadTimeout    annotations.Seconds `json:"readTimeout,omitempty"`
	// BodySize is the request body limit of proxy-body-size; "" keeps
	// the global one (RouterBody).
	BodySize annotations.Size `json:"bodySize,omitempty"`
	// Settings are its proxy settings that nginx applies per location
	// (locationSettings: buffering, buffer size, next upstream, HTTP
	// version, GRPC or GRPCS), nil for none (most routes: a pointer
	// keeps the Route small); the router hands a route with any to
	// Location, the named location of its body limit and settings.
	Settings *annotations.Proxy `json:"settings,omitempty"`
	Location string             `json:"location,omitempty"`
	// Redirect answers with a redirect instead of proxying (after the
	// one of SSLRedirect); Backend is not used then.
	Redirect *annotations.Redirect `json:"redirect,omitempty"`
	// SourceRange restricts client addresses (403), after the redirects,
	// as nginx's allow and deny come after them.
	SourceRange *SourceRange `json:"sourceRange,omitempty"`
	// UpstreamVhost replaces the Host header the backend gets.
	UpstreamVhost string `json:"upstreamVhost,omitempty"`
	// Pass is where the route proxies when not to the plain HTTP upstream:
	// "https://portico_balancer_https" for backend-protocol HTTPS.
	Pass string `json:"pass,omitempty"`
	// CORS answers preflights (after the redirects, before the source
	// range) and adds its headers to every answer of the route (the
	// router sets them before the answer, so errors carry them too, as
	// add_header ... always does).
	CORS *annotations.CORS `json:"cors,omitempty"`
	// RateLimit keys the limits nginx applies in Location (Limits) to
	// the route's Ingress; nil when it has none.
	RateLimit *RouteRateLimit `json:"rateLimit,omitempty"`
	// Limits are the Ingress's rate limits, for its Location; the router
	// does not need them.
	Limits *Limits `json:"-"`
	// Errors names the backend that serves the errors Location
	// intercepts (ErrorCodes, custom-http-errors) and the headers it gets;
	// nil when none.
	Errors     *RouteErrors `json:"errors,omitempty"`
	ErrorCodes []int        `json:"-"`
	// BasicAuth is the realm and htpasswd file (Config.AuthFiles) the
	// router sets for the auth_basic of Location; nil when none.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// Auth is the auth service (auth-url) the router names for the
	// auth_request of Location; nil when none. AuthHeaders are the
	// headers of its answer Location sends to the backend
	// (auth-response-headers).
	Auth        *RouteAuth               `json:"auth,omitempty"`
	AuthHeaders []annotations.AuthHeader `json:"-"`
}

// RouteAuth is what the router sets before handing a request to the
// location whose auth_request asks the auth service: the shared internal
// location RouterAuthLocation proxies it to URL with Host and Method, and
// a 401 redirects to Signin (when set, the location has error_page 401
// for it) with ?rd= what SigninRD says.
type RouteAuth struct {
	URL      string               `json:"url"`
	Host     string               `json:"host"`
	Method   string               `json:"method"`
	Signin   string               `json:"signin,omitempty"`
	SigninRD annotations.SigninRD `json:"signinRD,omitempty"`
}

// RouterAuthLocation is the internal location of the catch-all server that
// proxies the auth subrequests of routed auth-url; ';' keeps Ingress
// paths from reaching it.
const RouterAuthLocation = "/;portico-auth"

// RouteErrors is what the router sets before handing a request to the
// location whose error_page sends the route's intercepted errors to
// @portico_route_error, which proxies them to Backend with the headers a
// static error location sends (X-Namespace, X-Ingress-Name,
// X-Service-Name, X-Service-Port).
type RouteErrors struct {
	Backend   string `json:"backend"`
	Namespace string `json:"namespace"`
	Ingress   string `json:"ingress"`
	Service   string `json:"service"`
	Port      string `json:"port"`
}

// RouteRateLimit is what the router sets before handing a request to the
// location of its route's limits: $portico_limit_scope, Scope, or "" for
// a client in Allowlist (not counted, as nginx counts no empty key).
type RouteRateLimit struct {
	Scope     string   `json:"scope"`
	Allowlist []string `json:"allowlist,omitempty"`
}

// RouterZones are the limit zones the router's locations share, one per
// rate in use and one for connections, keyed by client address and the
// route's scope ($portico_limit_key): each Ingress counts apart, as in
// zones of its own, and a new Ingress with a rate in use needs no reload.
type RouterZones struct {
	RPS         []int `json:"rps,omitempty"`
	RPM         []int `json:"rpm,omitempty"`
	Connections bool  `json:"connections,omitempty"`
	// Size is each zone's size.
	Size string `json:"size"`
}

// routerZoneSize is the size of each shared zone: ~80,000 clients of one
// Ingress, or as many spread over the Ingresses of one rate.
const routerZoneSize = "10m"

// The names of the router's named locations start with these: a body
// limit's (and its bytes), a route's own (and a hash of what it holds).
const (
	bodyLocationPrefix  = "@portico_body_"
	proxyLocationPrefix = "@portico_proxy_"
)

// RouterLocation is a location of the catch-all server that hands its
// requests to the Lua router.
type RouterLocation struct {
	// Name is "/" (where every request arrives), bodyLocationPrefix and
	// the limit in bytes, or proxyLocationPrefix and a hash
	// (proxyLocation: a route's own location).
	Name string `json:"name"`
	// BodySize is its client_max_body_size; "" keeps the global one.
	BodySize annotations.Size `json:"bodySize,omitempty"`
	// BodyBytes is its body limit in bytes (0: none). The router compares
	// it with the limit of the route it picks (RouterBody).
	BodyBytes int64 `json:"bodyBytes"`
	// Settings are the proxy settings of a location @portico_proxy_<hash>
	// (Route.Settings); zero elsewhere.
	Settings annotations.Proxy `json:"settings,omitzero"`
	// UpstreamVhost is set when a route has upstream-vhost: the location
	// sends the Host the router chose ($portico_upstream_host).
	UpstreamVhost bool `json:"upstreamVhost,omitempty"`
	// Pass is set when a route has a Pass: the location proxies where
	// the router says ($portico_pass).
	Pass bool `json:"pass,omitempty"`
	// Limits are the rate limits of a location @portico_proxy_<hash>
	// (Route.Limits): limit_req in the shared zone of its rate and
	// limit_conn in the shared connection zone (RouterZones); zero
	// elsewhere.
	Limits Limits `json:"limits,omitzero"`
	// ErrorCodes are the statuses it intercepts for @portico_route_error
	// (Route.ErrorCodes); nil elsewhere.
	ErrorCodes []int `json:"errorCodes,omitempty"`
	// BasicAuth is set when its routes have basic auth: auth_basic with
	// the realm and file the router sets (Route.BasicAuth).
	BasicAuth bool `json:"basicAuth,omitempty"`
	// Auth is set when its routes have auth-url: auth_request to
	// RouterAuthLocation, which asks the service the router names
	// (Route.Auth), auth_request_set and proxy_set_header for each of
	// AuthHeaders, and with Signin error_page 401 to @portico_signin.
	Auth        bool                     `json:"auth,omitempty"`
	AuthHeaders []annotations.AuthHeader `json:"authHeaders,omitempty"`
	Signin      bool                     `json:"signin,omitempty"`
}

// RouterBody are the request body limits of the router's routes, in bytes
// (0: none). nginx checks a Content-Length against the limit of the
// location the request arrives in, before Lua runs, and counts a body
// without one (chunked, or HTTP/2) against the limit of the location that
// proxies it. So the Router's "/" takes the largest limit of all routes;
// the router answers 413 for a Content-Length above its route's limit and
// hands a body without one to the named location of its route's limit.
type RouterBody struct {
	// Global is the ConfigMap's proxy-body-size: the limit of the routes
	// without their own.
	Global int64 `json:"global"`
	// Named are the limits with a location @portico_body_<bytes>, sorted.
	Named []int64 `json:"named,omitempty"`
	// Proxied are the names of the locations of routes with Settings,
	// sorted.
	Proxied []string `json:"proxied,omitempty"`
}

// locationSettings splits p into the settings nginx applies per location
// and the router cannot set per request (it sets the timeouts, Host and
// an HTTP or HTTPS upstream; body limits have locations of their own;
// GRPC and GRPCS need a location with grpc_pass) and the rest.
func locationSettings(p annotations.Proxy) (settings, rest annotations.Proxy) {
	settings = annotations.Proxy{Buffering: p.Buffering, BufferSize: p.BufferSize, NextUpstream: p.NextUpstream,
		NextUpstreamTries: p.NextUpstreamTries, NextUpstreamTimeout: p.NextUpstreamTimeout, HTTPVersion: p.HTTPVersion,
		BuffersNumber: p.BuffersNumber, MaxTempFileSize: p.MaxTempFileSize, RequestBuffering: p.RequestBuffering,
		BodyBufferSize: p.BodyBufferSize, SSL: p.SSL, Redirect: p.Redirect, CookieDomain: p.CookieDomain, CookiePath: p.CookiePath,
		LimitRate: p.LimitRate, LimitRateAfter: p.LimitRateAfter, NoAccessLog: p.NoAccessLog, RewriteLog: p.RewriteLog}
	rest = p
	rest.Buffering, rest.BufferSize, rest.NextUpstream, rest.NextUpstreamTries, rest.NextUpstreamTimeout, rest.HTTPVersion = "", "", nil, nil, nil, ""
	rest.BuffersNumber, rest.MaxTempFileSize, rest.RequestBuffering, rest.BodyBufferSize, rest.SSL = 0, "", "", "", nil
	rest.Redirect, rest.CookieDomain, rest.CookiePath, rest.LimitRate, rest.LimitRateAfter = nil, nil, nil, nil, nil
	rest.NoAccessLog, rest.RewriteLog = false, false
	if p.IsGRPC() {
		settings.Protocol, rest.Protocol = p.Protocol, ""
	}
	return settings, rest
}

// proxyLocation names a route's own location after what it holds (body
// limit, Settings, Limits, ErrorCodes, BasicAuth, Auth), so that a route keeps
// its location's name while they stay (a size counts in bytes, however
// it is spelled).
func proxyLocation(l RouterLocation) string {
	s := l.Settings
	for _, z := range []*annotations.Size{&s.BufferSize, &s.MaxTempFileSize, &s.BodyBufferSize} {
		if *z != "" {
			*z = annotations.Size(strconv.FormatInt(z.Bytes(), 10))
		}
	}
	j, _ := json.Marshal(s) // plain fields: cannot fail
	in := fmt.Appendf(nil, "%d %s", l.BodyBytes, j)
	if m := l.Limits; m != (Limits{}) {
		in = fmt.Appendf(in, " %d %d %d %d %d", m.RPS, m.BurstRPS, m.RPM, m.BurstRPM, m.Connections)
	}
	if len(l.ErrorCodes) > 0 {
		in = fmt.Appendf(in, " errors %v", l.ErrorCodes)
	}
	if l.BasicAuth {
		in = append(in, " basic"...)
	}
	if l.Auth {
		in = append(in, " auth"...)
		for _, h := range l.AuthHeaders {
			in = append(in, " "+h.Name...)
		}
		if l.Signin {
			in = append(in, " signin"...)
		}
	}
	sum := sha256.Sum256(in)
	return fmt.Sprintf("%s%x", proxyLocationPrefix, sum[:8])
}

// route classifies the finished servers and fills c.Routes. The catch-all
// server is a Router: one location hands every request to the Lua router,
// whose Host "" routes are its locations. Every other server is Dynamic,
// served by the router without a server block, unless it has a snippet
// or a static wildcard server would take its host first. A wildcard
// server ("*.example.com") can be Dynamic too; app-root goes with the
// host's routes. A snippet on the catch-all server could clash with the
// router: dynamic routing is off then, as when Global.DynamicRouting is
// off, and every server stays static. Each static server makes
// X-Request-ID (earlyRequestID says when); the router makes it for the
// rest. The Router also keeps the router locations of keep
// (Input.KeepRouterLocations; bodyLocations).
func (c *Config) route(keep []RouterLocation) {
	for _, s := range c.Servers {
		early := earlyRequestID(s)
		s.MakesRequestID = c.Global.RequestIDByLua && early
		s.AccessMakesRequestID = c.Global.RequestIDByLua && !early
	}
	if !c.Global.DynamicRouting {
		return
	}
	var catchAll *Server
	for _, s := range c.Servers {
		if s.Host == "" {
			catchAll = s
		}
	}
	if catchAll == nil || !plainServer(catchAll) {
		return
	}
	// nginx picks a static wildcard server before the catch-all server: the
	// hosts it covers stay static too.
	static := map[string]bool{} // parent domains of static wildcard servers
	for _, s := range c.Servers {
		if rest, ok := strings.CutPrefix(s.Host, "*."); ok && !plainServer(s) {
			static[rest] = true
		}
	}
	for _, s := range c.Servers {
		switch {
		case s == catchAll:
			s.Router = true
			// The router makes the id in the access phase it runs anyway
			// (a set_by_lua costs ~2,400 instructions a request).
			s.MakesRequestID, c.RouterRequestID = false, c.Global.RequestIDByLua
		case !plainServer(s):
			continue
		default:
			if _, rest, ok := strings.Cut(s.Host, "."); ok && static[rest] && !strings.HasPrefix(s.Host, "*.") {
				continue // nginx would pick the wildcard server
			}
			s.Dynamic = true
			s.MakesRequestID, s.AccessMakesRequestID = false, false // no server block
		}
		hr := &HostRoutes{Host: s.Host, HSTS: s.TLS != nil && c.Global.HSTS != "", AppRoot: s.AppRoot, RedirectTo: s.RedirectTo,
			Routes: make([]Route, 0, len(s.Locations))}
		for _, l := range s.Locations {
			hr.Routes = append(hr.Routes, routeOf(l))
		}
		c.Routes = append(c.Routes, hr)
		// server-alias: the same routes under each name.
		for _, a := range s.Aliases {
			alias := *hr
			alias.Host = a
			c.Routes = append(c.Routes, &alias)
		}
		// The router redirects: the Router's server block must not, or it
		// would redirect every Dynamic host's "/" as well.
		s.AppRoot = ""
	}
	c.routerLocations(catchAll, keep)
	c.routerShared(catchAll.RouterLocations)
}

// routerShared keeps the RateLimits static locations use and sets what
// the router's locations locs share: RouterZones, RouterErrors,
// RouterBasicAuth, RouterAuth and RouterSignin.
func (c *Config) routerShared(locs []RouterLocation) {
	used := map[*RateLimit]bool{}
	for _, s := range c.Servers {
		if s.Dynamic || s.Router {
			continue
		}
		for _, l := range s.Locations {
			if l.RateLimit != nil {
				used[l.RateLimit] = true
			}
		}
	}
	c.RateLimits = slices.DeleteFunc(c.RateLimits, func(r *RateLimit) bool { return !used[r] })
	if len(c.RateLimits) == 0 {
		c.RateLimits = nil
	}
	z := &RouterZones{Size: routerZoneSize}
	for _, l := range locs {
		c.RouterErrors = c.RouterErrors || l.ErrorCodes != nil
		c.RouterBasicAuth = c.RouterBasicAuth || l.BasicAuth
		c.RouterAuth = c.RouterAuth || l.Auth
		c.RouterSignin = c.RouterSignin || l.Signin
		if l.Limits.RPS > 0 && !slices.Contains(z.RPS, l.Limits.RPS) {
			z.RPS = append(z.RPS, l.Limits.RPS)
		}
		if l.Limits.RPM > 0 && !slices.Contains(z.RPM, l.Limits.RPM) {
			z.RPM = append(z.RPM, l.Limits.RPM)
		}
		z.Connections = z.Connections || l.Limits.Connections > 0
	}
	if len(z.RPS)+len(z.RPM) > 0 || z.Connections {
		slices.Sort(z.RPS)
		slices.Sort(z.RPM)
		c.RouterZones = z
	}
}

// routerLocations fills c.RouterBody and the RouterLocations of the
// catch-all server s, once c.Routes are known, keeping those of keep
// (bodyLocations).
func (c *Config) routerLocations(s *Server, keep []RouterLocation) {
	global := annotations.Size(c.Global.ProxyBodySize).Bytes()
	c.RouterBody = &RouterBody{Global: global}
	s.RouterLocations = c.bodyLocations(global, keep)
	vhost, pass := false, false
	for _, k := range keep {
		vhost, pass = vhost || k.UpstreamVhost, pass || k.Pass
	}
	for _, h := range c.Routes {
		for _, r := range h.Routes {
			vhost = vhost || r.UpstreamVhost != ""
			pass = pass || r.Pass != ""
		}
	}
	for i := range s.RouterLocations {
		s.RouterLocations[i].UpstreamVhost, s.RouterLocations[i].Pass = vhost, pass
	}
}

// bodyLocations are a Router's locations: "/" with the largest body limit
// of all routes (0 is none, so the largest), a named location for every
// other limit a route without a location of its own has, and one for each
// body limit with the Settings, Limits, ErrorCodes, BasicAuth and Auth of
// the routes that need one (whose Location it sets); it adds them to
// c.RouterBody. It keeps the named locations of keep that no route needs
// and the limit of keep's "/" when larger: a location the router does not
// hand requests to changes nothing, and a larger limit in "/" lets in
// what the router then checks against the route's own.
func (c *Config) bodyLocations(global int64, keep []RouterLocation) []RouterLocation {
	larger := func(a, b int64) bool { return a == 0 && b != 0 || b != 0 && a > b }
	top, topSize := global, annotations.Size("") // "" keeps the global
	limits := map[int64]annotations.Size{}       // the first spelling of each
	proxied := map[string]RouterLocation{}
	for _, h := range c.Routes {
		for i := range h.Routes {
			r := &h.Routes[i]
			limit, size := global, annotations.Size(c.Global.ProxyBodySize)
			if r.BodySize != "" {
				limit, size = r.BodySize.Bytes(), r.BodySize
			}
			// Requests arrive in "/": nginx checks a Content-Length
			// against its limit before the router hands them on.
			if larger(limit, top) {
				top, topSize = limit, size
			}
			if r.Settings != nil || r.Limits != nil || r.ErrorCodes != nil || r.BasicAuth != nil || r.Auth != nil {
				own := RouterLocation{BodySize: size, BodyBytes: limit, ErrorCodes: r.ErrorCodes, BasicAuth: r.BasicAuth != nil,
					Auth: r.Auth != nil, AuthHeaders: r.AuthHeaders, Signin: r.Auth != nil && r.Auth.Signin != ""}
				if r.Settings != nil {
					own.Settings = *r.Settings
				}
				if r.Limits != nil {
					own.Limits = *r.Limits
				}
				own.Name = proxyLocation(own)
				r.Location = own.Name
				if _, ok := proxied[own.Name]; !ok {
					proxied[own.Name] = own
				}
				continue
			}
			if _, ok := limits[limit]; !ok {
				limits[limit] = size
			}
		}
	}
	for _, k := range keep {
		switch {
		case k.Name == "/":
			if larger(k.BodyBytes, top) {
				top, topSize = k.BodyBytes, k.BodySize
			}
		case strings.HasPrefix(k.Name, bodyLocationPrefix):
			if _, ok := limits[k.BodyBytes]; !ok {
				limits[k.BodyBytes] = k.BodySize
			}
		case strings.HasPrefix(k.Name, proxyLocationPrefix):
			if _, ok := proxied[k.Name]; !ok {
				k.UpstreamVhost, k.Pass = false, false // routerLocations sets them
				proxied[k.Name] = k
			}
		}
	}
	locs := []RouterLocation{{Name: "/", BodySize: topSize, BodyBytes: top}}
	for limit := range limits {
		if limit != top {
			c.RouterBody.Named = append(c.RouterBody.Named, limit)
		}
	}
	slices.Sort(c.RouterBody.Named)
	for _, limit := range c.RouterBody.Named {
		locs = append(locs, RouterLocation{Name: fmt.Sprintf("%s%d", bodyLocationPrefix, limit), BodySize: limits[limit], BodyBytes: limit})
	}
	for name := range proxied {
		c.RouterBody.Proxied = append(c.RouterBody.Proxied, name)
	}
	slices.Sort(c.RouterBody.Proxied)
	for _, name := range c.RouterBody.Proxied {
		locs = append(locs, proxied[name])
	}
	return locs
}

// routeOf is the route of the plain location l.
func routeOf(l *Location) Route {
	prefix, _ := forwardedPrefix(l.Headers)
	r := Route{
		Exact: l.Modifier == ModExact, Regex: l.Modifier == ModRegex, Path: l.Path,
		Backend: l.Backend, Ingress: l.Ingress, IngressPath: l.IngressPath,
		SSLRedirect: l.SSLRedirect, RewriteTarget: l.RewriteTarget, ForwardedPrefix: prefix,
		ConnectTimeout: l.Proxy.ConnectTimeout, SendTimeout: l.Proxy.SendTimeout, ReadTimeout: l.Proxy.ReadTimeout,
		BodySize: l.Proxy.BodySize, Redirect: l.Redirect, SourceRange: l.SourceRange, UpstreamVhost: l.Proxy.UpstreamVhost,
		CORS: l.CORS,
	}
	if l.Proxy.Protocol == annotations.ProtoHTTPS {
		r.Pass = l.Proxy.PassScheme() + "://" + l.Proxy.Upstream()
	}
	if s, _ := locationSettings(l.Proxy); !s.IsZero() {
		kept := s // allocated only here
		r.Settings = &kept
	}
	r.BasicAuth = l.BasicAuth
	if e := l.Errors; e != nil {
		r.Errors = &RouteErrors{Backend: e.Backend, Namespace: e.Ingress.Namespace, Ingress: e.Ingress.Name, Service: e.Service, Port: e.Port}
		r.ErrorCodes = e.Codes
	}
	if rl := l.RateLimit; rl != nil {
		r.RateLimit = &RouteRateLimit{Scope: rl.Scope, Allowlist: rl.Allowlist}
		r.Limits = &rl.Limits
	}
	if ea := l.ExternalAuth; ea != nil {
		r.Auth = &RouteAuth{URL: ea.URL.String(), Host: ea.URL.HostPort(), Method: cmp.Or(ea.Method, "GET")}
		if ea.Signin != nil {
			r.Auth.Signin, r.Auth.SigninRD = ea.Signin.String(), ea.SigninRD
		}
		r.AuthHeaders = ea.ResponseHeaders
	}
	return r
}

// earlyRequestID reports whether server s needs X-Request-ID before the
// access phase's Lua runs: an auth subrequest (access phase, before Lua's)
// or an error page (after a limit or auth answer) may send it, and a
// snippet may use it anywhere. The catch-all server makes it early too;
// as a Router it does not (route: its router makes it).
func earlyRequestID(s *Server) bool {
	if s.Host == "" || len(s.Snippets) > 0 {
		return true
	}
	for _, l := range s.Locations {
		if l.ExternalAuth != nil || l.Errors != nil || l.Snippet != "" {
			return true
		}
	}
	return false
}

// plainServer reports whether the Lua router can serve s: it has no
// snippet, at server level or in a location (app-root goes with its
// routes; plainLocation says what else a location may do).
func plainServer(s *Server) bool {
	if len(s.Snippets) > 0 || s.ClientTLS != nil {
		return false
	}
	for _, l := range s.Locations {
		if !plainLocation(l) {
			return false
		}
	}
	return true
}

// plainLocation reports whether the router and the locations it hands
// requests to can do all l does: everything but a snippet. The router
// matches, redirects, answers CORS preflights, checks source ranges and
// body limits, rewrites the URI and sets X-Forwarded-Prefix, the Host and
// the upstream; the balancer applies the timeouts and the traffic policy
// of l's backend; the rest (proxy settings nginx applies per location,
// gRPC, rate limits, custom errors, basic auth, auth-url) takes a router
// location of its own (bodyLocations). A setting this does not know of
// keeps l static.
func plainLocation(l *Location) bool {
	p := l.Proxy
	p.ConnectTimeout, p.SendTimeout, p.ReadTimeout, p.UpstreamVhost, p.BodySize = 0, 0, 0, "", ""
	if p.Protocol == annotations.ProtoHTTP || p.Protocol == annotations.ProtoHTTPS {
		p.Protocol = ""
	}
	_, p = locationSettings(p)
	_, headersOK := forwardedPrefix(l.Headers)
	return p.IsZero() && headersOK && l.Snippet == ""
}

// forwardedPrefix returns the X-Forwarded-Prefix among hs; ok is false
// when hs hold any other header but the auth service's (a Var: the
// route's location sends them) and the router sets only that one.
func forwardedPrefix(hs []Header) (prefix string, ok bool) {
	for _, h := range hs {
		switch {
		case h.Var != "":
		case h.Name != "X-Forwarded-Prefix":
			return "", false
		default:
			prefix = h.Value
		}
	}
	return prefix, true
}
