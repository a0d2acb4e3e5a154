package plan

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// Router is the Lua router of the catch-all server: its locations hand
// every request for a host without a server block, and for the rules
// without a host, to rootfs/etc/nginx/lua/portico/router.lua, which
// serves the routes of the Lua documents.
type Router struct {
	HTTP *HTTP `json:"-"`
	// Locations hand requests to the router: "/", where every request
	// arrives, then the named locations the router hands them on to.
	Locations []RouterLocation `json:"locations"`
	// Body are the body limits the router compares with its routes'.
	Body RouterBody `json:"body"`
	// Zones are the limit zones the locations share; nil when no route
	// has limits.
	Zones *RouterZones `json:"zones,omitempty"`
	// ErrorCodes are the codes its locations intercept, sorted: the
	// catch-all server has an error page for each (ErrorPages), serving
	// the error backend the router names (Route.Errors).
	ErrorCodes []int `json:"errorCodes,omitempty"`
	// BasicAuth is set when a location has basic auth (the router sets
	// $portico_basic_realm and $portico_basic_file).
	BasicAuth bool `json:"basicAuth,omitempty"`
	// AuthLocations are the internal locations the auth subrequests of
	// its locations go to (auth-url, the global auth), sorted by name;
	// Signin is set when one redirects a 401 to the sign-in page: the
	// catch-all server has @portico_signin.
	AuthLocations []*AuthLocation `json:"authLocations,omitempty"`
	Signin        bool            `json:"signin,omitempty"`
	// Mirror and MirrorNoBody are set when a location mirrors requests
	// with their body, or without: the catch-all server has
	// RouterMirrorLocation, or RouterMirrorNoBodyLocation (Route.Mirror).
	Mirror       bool `json:"mirror,omitempty"`
	MirrorNoBody bool `json:"mirrorNoBody,omitempty"`
	// AuthSkip is set when a location with auth-url has satisfy any: the
	// auth subrequest of a request whose address the route allows
	// answers 200 without asking ($portico_auth_skip, AuthLocation.Skip).
	AuthSkip bool `json:"authSkip,omitempty"`
	// RequestID is set when the router makes X-Request-ID for the
	// requests it proxies (HTTP.RequestIDByLua): no set_by_lua of a
	// server does.
	RequestID bool `json:"requestID,omitempty"`
}

// RouterMirrorLocation is the internal location of the catch-all server
// that sends the copies of routed mirror-target,
// RouterMirrorNoBodyLocation those without the body; ';' keeps Ingress
// paths from reaching them.
const (
	RouterMirrorLocation       = "/;portico-mirror"
	RouterMirrorNoBodyLocation = "/;portico-mirror-nobody"
)

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
	// (locationSettings of its routes); zero elsewhere.
	Settings annotations.Proxy `json:"settings,omitzero"`
	// UpstreamVhost is set when a route has upstream-vhost: the location
	// sends the Host the router chose ($portico_upstream_host).
	UpstreamVhost bool `json:"upstreamVhost,omitempty"`
	// Pass is set when a route has a Pass: the location proxies where
	// the router says ($portico_pass).
	Pass bool `json:"pass,omitempty"`
	// Limits are the rate limits of a location @portico_proxy_<hash>:
	// limit_req in the shared zone of its rate and limit_conn in the
	// shared connection zone (RouterZones); zero elsewhere.
	Limits model.Limits `json:"limits,omitzero"`
	// ErrorCodes are the statuses it intercepts for the Router's error
	// pages (Route.Errors names the backend); nil elsewhere.
	ErrorCodes []int `json:"errorCodes,omitempty"`
	// BasicAuth is set when its routes have basic auth: auth_basic with
	// the realm and file the router sets (Route.BasicAuth).
	BasicAuth bool `json:"basicAuth,omitempty"`
	// Auth, when its routes have auth-url or the global auth, names the
	// Router's AuthLocation of their auth_request, which asks the service
	// the router names (Route.Auth); auth_request_set and
	// proxy_set_header for each of AuthHeaders; the auth answer's
	// Set-Cookie to the client, with every answer when AuthCookieAlways;
	// and with Signin error_page 401 to @portico_signin.
	Auth             string                   `json:"auth,omitempty"`
	AuthHeaders      []annotations.AuthHeader `json:"authHeaders,omitempty"`
	AuthCookieAlways bool                     `json:"authCookieAlways,omitempty"`
	Signin           bool                     `json:"signin,omitempty"`
	// NoIntercept leaves the backend's answers with ErrorCodes as they
	// are (disable-proxy-intercept-errors).
	NoIntercept bool `json:"noIntercept,omitempty"`
	// Extras are what its routes add besides the proxy settings.
	Extras Extras `json:"extras,omitzero"`
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
	// Proxied are the names of the locations of routes with settings of
	// their own (@portico_proxy_<hash>), sorted.
	Proxied []string `json:"proxied,omitempty"`
}

// locationSettings splits p into the settings nginx applies per location
// and the router cannot set per request (it sets the timeouts, Host and
// an HTTP or HTTPS upstream; body limits have locations of their own;
// GRPC, GRPCS and FCGI need a location with grpc_pass or fastcgi_pass)
// and the rest.
func locationSettings(p annotations.Proxy) (settings, rest annotations.Proxy) {
	settings = annotations.Proxy{Buffering: p.Buffering, BufferSize: p.BufferSize, NextUpstream: p.NextUpstream,
		NextUpstreamTries: p.NextUpstreamTries, NextUpstreamTimeout: p.NextUpstreamTimeout, HTTPVersion: p.HTTPVersion,
		BuffersNumber: p.BuffersNumber, MaxTempFileSize: p.MaxTempFileSize, RequestBuffering: p.RequestBuffering,
		BodyBufferSize: p.BodyBufferSize, SSL: p.SSL, Redirect: p.Redirect, CookieDomain: p.CookieDomain, CookiePath: p.CookiePath,
		LimitRate: p.LimitRate, LimitRateAfter: p.LimitRateAfter, NoAccessLog: p.NoAccessLog,
		BusyBuffersSize: p.BusyBuffersSize, ConnectionHeader: p.ConnectionHeader}
	rest = p
	rest.Buffering, rest.BufferSize, rest.NextUpstream, rest.NextUpstreamTries, rest.NextUpstreamTimeout, rest.HTTPVersion = "", "", nil, nil, nil, ""
	rest.BuffersNumber, rest.MaxTempFileSize, rest.RequestBuffering, rest.BodyBufferSize, rest.SSL = 0, "", "", "", nil
	rest.Redirect, rest.CookieDomain, rest.CookiePath, rest.LimitRate, rest.LimitRateAfter = nil, nil, nil, nil, nil
	rest.NoAccessLog, rest.RewriteLog, rest.BusyBuffersSize, rest.ConnectionHeader = false, false, "", ""
	if p.IsGRPC() || p.Protocol == annotations.ProtoFCGI {
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
	for _, z := range []*annotations.Size{&s.BufferSize, &s.MaxTempFileSize, &s.BodyBufferSize, &s.BusyBuffersSize} {
		if *z != "" {
			*z = annotations.Size(strconv.FormatInt(z.Bytes(), 10))
		}
	}
	j, _ := json.Marshal(s) // plain fields: cannot fail
	in := fmt.Appendf(nil, "%d %s", l.BodyBytes, j)
	if !l.Extras.IsZero() {
		x, _ := json.Marshal(l.Extras)
		in = fmt.Appendf(in, " extras %s", x)
	}
	if m := l.Limits; m != (model.Limits{}) {
		in = fmt.Appendf(in, " %d %d %d %d %d", m.RPS, m.BurstRPS, m.RPM, m.BurstRPM, m.Connections)
	}
	if len(l.ErrorCodes) > 0 {
		in = fmt.Appendf(in, " errors %v", l.ErrorCodes)
		if l.NoIntercept {
			in = append(in, " passed"...)
		}
	}
	if l.BasicAuth {
		in = append(in, " basic"...)
	}
	if l.Auth != "" {
		in = append(in, " auth "+l.Auth...)
		for _, h := range l.AuthHeaders {
			in = append(in, " "+h.Name...)
		}
		if l.Signin {
			in = append(in, " signin"...)
		}
		if l.AuthCookieAlways {
			in = append(in, " cookie"...)
		}
	}
	sum := sha256.Sum256(in)
	return fmt.Sprintf("%s%x", proxyLocationPrefix, sum[:8])
}

// routerNeeds are the router locations the routes need, collected route
// by route (add) before they become a Router (router).
type routerNeeds struct {
	http *HTTP
	// global and globalSize are the ConfigMap's proxy-body-size.
	global     int64
	globalSize annotations.Size
	// top is the largest limit of all routes, "/"'s; topSize "" while it
	// is the global one.
	top     int64
	topSize annotations.Size
	// limits are the limits of routes without a location of their own,
	// by bytes, in the first route's spelling.
	limits map[int64]annotations.Size
	// proxied are the routes' own locations by name.
	proxied map[string]RouterLocation
	// vhost and pass: a route sends its own Host, or proxies to an
	// upstream of its own.
	vhost, pass bool
	// auth are the AuthLocations of the routes' auth, by name.
	auth map[string]*AuthLocation
}

func newRouterNeeds(h *HTTP) *routerNeeds {
	size := annotations.Size(h.ProxyBodySize)
	global := size.Bytes()
	return &routerNeeds{http: h, global: global, globalSize: size, top: global, limits: map[int64]annotations.Size{},
		proxied: map[string]RouterLocation{}, auth: map[string]*AuthLocation{}}
}

// larger reports whether body limit a is larger than b (0 is none, so the
// largest).
func larger(a, b int64) bool { return a == 0 && b != 0 || b != 0 && a > b }

// add records what the route r of location l needs and, when l needs a
// location of its own (settings nginx applies per location, rate limits,
// custom errors, basic auth, auth-url), names it in r.Location. Requests
// arrive in "/": nginx checks a Content-Length against its limit before
// the router hands them on, so "/" takes the largest.
func (n *routerNeeds) add(l *model.Location, g *model.Global, r *Route) {
	limit, size := n.global, n.globalSize
	if l.Proxy.BodySize != "" {
		limit, size = l.Proxy.BodySize.Bytes(), l.Proxy.BodySize
	}
	if larger(limit, n.top) {
		n.top, n.topSize = limit, size
	}
	n.vhost = n.vhost || r.UpstreamVhost != ""
	n.pass = n.pass || r.Pass != ""
	settings, _ := locationSettings(l.Proxy)
	extras := extrasOf(l, g, true)
	if settings.IsZero() && l.RateLimit == nil && l.Errors == nil && l.BasicAuth == nil && l.ExternalAuth == nil && extras.IsZero() &&
		!n.http.WAF.InspectsOnce() {
		if _, ok := n.limits[limit]; !ok {
			n.limits[limit] = size
		}
		return
	}
	own := RouterLocation{BodySize: size, BodyBytes: limit, Settings: settings, BasicAuth: l.BasicAuth != nil, Extras: extras}
	if rl := l.RateLimit; rl != nil {
		own.Limits = rl.Limits
	}
	if e := l.Errors; e != nil {
		own.ErrorCodes, own.NoIntercept = e.Codes, e.NoIntercept
	}
	if ea := l.ExternalAuth; ea != nil {
		a := n.http.routerAuth(ea)
		if _, ok := n.auth[a.Name]; !ok {
			n.auth[a.Name] = a
		}
		own.Auth, own.AuthHeaders, own.Signin, own.AuthCookieAlways = a.Name, ea.ResponseHeaders, ea.Signin != nil, ea.AlwaysSetCookie
	}
	own.Name = proxyLocation(own)
	r.Location = own.Name
	if _, ok := n.proxied[own.Name]; !ok {
		n.proxied[own.Name] = own
	}
}

// router is the Router of the needs, keeping the router locations of keep
// (the Router nginx runs, or nil) that no route needs, with their auth
// locations, and the limit of keep's "/" when larger: a location the
// router does not hand requests to changes nothing, and a larger limit in
// "/" lets in what the router then checks against the route's own.
func (n *routerNeeds) router(keep *Router) *Router {
	h := n.http
	top, topSize := n.top, n.topSize
	limits, proxied, auth := n.limits, n.proxied, n.auth
	vhost, pass := n.vhost, n.pass
	var kept []RouterLocation
	if keep != nil {
		limits, proxied, auth, kept = clone(limits), clone(proxied), clone(auth), keep.Locations
		for _, a := range keep.AuthLocations {
			if _, ok := auth[a.Name]; !ok && slices.ContainsFunc(kept, func(k RouterLocation) bool { return k.Auth == a.Name }) {
				auth[a.Name] = a
			}
		}
	}
	for _, k := range kept {
		vhost, pass = vhost || k.UpstreamVhost, pass || k.Pass
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
				proxied[k.Name] = k
			}
		}
	}
	r := &Router{HTTP: h, Body: RouterBody{Global: n.global}, RequestID: h.RequestIDByLua}
	r.Locations = []RouterLocation{{Name: "/", BodySize: topSize, BodyBytes: top}}
	for limit := range limits {
		if limit != top {
			r.Body.Named = append(r.Body.Named, limit)
		}
	}
	slices.Sort(r.Body.Named)
	for _, limit := range r.Body.Named {
		r.Locations = append(r.Locations, RouterLocation{Name: fmt.Sprintf("%s%d", bodyLocationPrefix, limit), BodySize: limits[limit], BodyBytes: limit})
	}
	for name := range proxied {
		r.Body.Proxied = append(r.Body.Proxied, name)
	}
	slices.Sort(r.Body.Proxied)
	for _, name := range r.Body.Proxied {
		r.Locations = append(r.Locations, proxied[name])
	}
	z := &RouterZones{Size: routerZoneSize}
	skip := map[string]bool{} // auth locations of a route with satisfy any
	for i := range r.Locations {
		l := &r.Locations[i]
		l.UpstreamVhost, l.Pass = vhost, pass
		r.ErrorCodes = addErrorCodes(r.ErrorCodes, l.ErrorCodes)
		r.BasicAuth = r.BasicAuth || l.BasicAuth
		r.Signin = r.Signin || l.Signin
		r.Mirror = r.Mirror || l.Extras.Mirror == "on"
		r.MirrorNoBody = r.MirrorNoBody || l.Extras.Mirror == "off"
		if l.Auth != "" && l.Extras.SatisfyAny {
			skip[l.Auth] = true
		}
		if l.Limits.RPS > 0 && !slices.Contains(z.RPS, l.Limits.RPS) {
			z.RPS = append(z.RPS, l.Limits.RPS)
		}
		if l.Limits.RPM > 0 && !slices.Contains(z.RPM, l.Limits.RPM) {
			z.RPM = append(z.RPM, l.Limits.RPM)
		}
		z.Connections = z.Connections || l.Limits.Connections > 0
	}
	r.AuthSkip = len(skip) > 0
	for _, a := range auth {
		if a.Skip != skip[a.Name] {
			c := *a
			c.Skip = skip[a.Name]
			a = &c
		}
		r.AuthLocations = append(r.AuthLocations, a)
	}
	slices.SortFunc(r.AuthLocations, func(a, b *AuthLocation) int { return strings.Compare(a.Name, b.Name) })
	if len(z.RPS)+len(z.RPM) > 0 || z.Connections {
		slices.Sort(z.RPS)
		slices.Sort(z.RPM)
		r.Zones = z
	}
	return r
}

// What nginx.conf prints of the router's locations.

// MirrorLocation and MirrorNoBodyLocation are RouterMirrorLocation and
// RouterMirrorNoBodyLocation.
func (r *Router) MirrorLocation() string       { return RouterMirrorLocation }
func (r *Router) MirrorNoBodyLocation() string { return RouterMirrorNoBodyLocation }

// Directive is the prefix of the directives that pass l's requests: proxy,
// or grpc.
func (l RouterLocation) Directive() string {
	d, _ := pass(l.Settings.Protocol)
	return d
}

// RouterPass reports whether l proxies to the upstream the router sets
// ($portico_pass): some routes are not plain HTTP.
func (l RouterLocation) RouterPass() bool { return l.Pass && l.Directive() == "proxy" }

// PassTarget is where l passes requests.
func (l RouterLocation) PassTarget() string {
	if l.RouterPass() {
		return "$portico_pass"
	}
	_, target := pass(l.Settings.Protocol)
	return target
}

// Directives are those of l's Settings, then of its Extras; "/" turns
// the ConfigMap's ModSecurity off: every route then has a location of its
// own, which inspects the request once (ModSecurity would make the
// request a new transaction there, after "/" hands it on), and what no
// route serves goes to NotFound.
func (r *Router) Directives(l RouterLocation) []string {
	mirror := RouterMirrorLocation
	if l.Extras.Mirror == "off" {
		mirror = RouterMirrorNoBodyLocation
	}
	var out []string
	if l.Name == "/" && r.HTTP.WAF.InspectsOnce() {
		out = append(out, "modsecurity off")
	}
	out = append(out, r.HTTP.settingsDirectives(l.Settings)...)
	return append(out, l.Extras.directives(mirror)...)
}

// RouterNotFoundLocation answers 404 for what no route serves when
// ModSecurity must inspect it (NotFound).
const RouterNotFoundLocation = "@portico_not_found"

// NotFoundLocation is RouterNotFoundLocation while the ConfigMap's
// ModSecurity is on, else "" (none).
func (r *Router) NotFoundLocation() string {
	if r.HTTP.WAF.InspectsOnce() {
		return RouterNotFoundLocation
	}
	return ""
}

// NotFound is the location the router in l hands what no route serves
// to: NotFoundLocation from "/", which does not inspect; "" (l answers
// 404 itself) elsewhere.
func (r *Router) NotFound(l RouterLocation) string {
	if l.Name != "/" {
		return ""
	}
	return r.NotFoundLocation()
}

// SetHeaders are every header l sends, when it sends some of its own (the
// Host the router chose, auth-url's answer's, gRPC's): nginx inherits none
// of the http level's then. nil otherwise.
func (r *Router) SetHeaders(l RouterLocation) []Header {
	grpc := l.Settings.IsGRPC()
	if !l.UpstreamVhost && len(l.AuthHeaders) == 0 && !grpc && l.Settings.ConnectionHeader == "" || l.Directive() == "fastcgi" {
		return nil
	}
	host := "$portico_host"
	if l.UpstreamVhost {
		host = "$portico_upstream_host"
	}
	hs := append([]Header{{"Host", host}}, r.HTTP.forwardHeaders(grpc)...)
	connectionHeader(hs, l.Settings.ConnectionHeader)
	for _, a := range l.AuthHeaders {
		hs = append(hs, Header{a.Name, "$portico_auth_" + a.Var})
	}
	return hs
}

func clone[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
