package plan

import (
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// Server is one server block of nginx.conf: a host the Lua router does not
// serve, or the catch-all server when it runs the router. It holds what
// nginx.conf prints of the host.
type Server struct {
	HTTP *HTTP `json:"-"`
	// Host is the Ingress host, "*.example.com" for a wildcard, or "" for
	// the catch-all server.
	Host string `json:"host"`
	// ServerName is the server_name argument (serverName).
	ServerName string `json:"serverName"`
	// Default marks the catch-all server; Listen are the arguments of
	// its listen directives (HTTP.Listen, HTTP.DefaultListen on it).
	Default bool     `json:"default,omitempty"`
	Listen  []string `json:"listen,omitempty"`
	// Aliases are the server_name arguments of the host's server-alias
	// names (serverName).
	Aliases []string `json:"aliases,omitempty"`
	// HSTS sends Strict-Transport-Security: the host has TLS and the
	// ConfigMap turns HSTS on.
	HSTS      bool             `json:"hsts,omitempty"`
	ClientTLS *model.ClientTLS `json:"clientTLS,omitempty"`
	// TLSCiphers are the host's ssl_ciphers and ssl_prefer_server_ciphers.
	TLSCiphers annotations.TLSCiphers `json:"tlsCiphers,omitzero"`
	RedirectTo string                 `json:"redirectTo,omitempty"`
	AppRoot    annotations.URIPath    `json:"appRoot,omitempty"`
	Snippets   []annotations.Snippet  `json:"snippets,omitempty"`
	// Router is set on the catch-all server when it runs the Lua router
	// (Plan.Router); its routes, app-root included, are the Lua
	// router's, and it has no Locations.
	Router *Router `json:"router,omitempty"`
	// MakesRequestID runs a set_by_lua that makes X-Request-ID for every
	// request (HTTP.RequestIDByLua), for servers where something may
	// send it before the access phase's Lua: an auth subrequest, an error
	// page, a snippet (earlyRequestID); AccessMakesRequestID makes the
	// other servers' locations make it in the access phase they run
	// anyway (a set_by_lua costs ~2,400 instructions a request).
	MakesRequestID       bool `json:"makesRequestID,omitempty"`
	AccessMakesRequestID bool `json:"accessMakesRequestID,omitempty"`
	// Locations are the model's, in its order.
	Locations []*Location `json:"locations,omitempty"`
}

// serverName is the nginx server_name for a validated host. A wildcard
// matches exactly one label, as the Ingress API specifies, which nginx's
// own "*.example.com" (any number of labels) does not; a regular
// expression does.
func serverName(host string) string {
	if host == "" {
		return "_"
	}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		return `~^[^.]+\.` + strings.ReplaceAll(rest, ".", `\.`) + `$`
	}
	return host
}

// serverNames are the server_name arguments of aliases.
func serverNames(aliases []string) []string {
	if len(aliases) == 0 {
		return nil
	}
	out := make([]string, len(aliases))
	for i, a := range aliases {
		out[i] = serverName(a)
	}
	return out
}

// underStatic reports whether a name of s (its host or an alias) that is
// not a wildcard lies one label under a parent of static: nginx would pick
// that static server's wildcard (a regex server_name) before the catch-all
// server that runs the router, so s needs a server block of its own
// (exact names come first).
func underStatic(static map[string]bool, s *model.Server) bool {
	for _, n := range append([]string{s.Host}, s.Aliases...) {
		if _, parent, _ := strings.Cut(n, "."); !strings.HasPrefix(n, "*.") && static[parent] {
			return true
		}
	}
	return false
}

// serve decides how each of m's servers is carried: as a server block
// (p.Servers) or by the Lua router (the routes it returns, with what the
// router's locations need). The catch-all server runs the router when
// dynamic routing is on and it has no snippet (one could clash with the
// router), and every other server that is plain (plainServer) is routed,
// unless a static wildcard server would take its host first (nginx picks
// a wildcard server before the catch-all). A wildcard server can be
// routed too; app-root goes with the host's routes. needs is nil when no
// server runs the router.
func (p *Plan) serve(m *model.Config) (routes Routes, needs *routerNeeds) {
	g := &m.Global
	zones := make(map[*model.RateLimit]*LimitZones, len(m.RateLimits))
	for _, rl := range m.RateLimits {
		zones[rl] = limitZones(rl, g.LimitConnZoneVariable)
		p.RateLimits = append(p.RateLimits, zones[rl])
	}
	routes = Routes{HSTS: g.HSTS, RedirectCode: g.TLS.RedirectCode, Hosts: map[string]HostRoutes{}}
	var router *model.Server
	for _, s := range m.Servers {
		if s.Host == "" && g.DynamicRouting && plainServer(s) {
			router = s
		}
	}
	// Parent domains of the wildcard names (hosts and aliases) of static
	// servers.
	static := map[string]bool{}
	for _, s := range m.Servers {
		if router == nil || plainServer(s) {
			continue
		}
		for _, n := range append([]string{s.Host}, s.Aliases...) {
			if rest, ok := strings.CutPrefix(n, "*."); ok {
				static[rest] = true
			}
		}
	}
	if router != nil {
		needs = newRouterNeeds(p.HTTP)
	}
	for _, s := range m.Servers {
		early := earlyRequestID(s)
		v := &Server{HTTP: p.HTTP, Host: s.Host, ServerName: serverName(s.Host), Default: s.Default, Listen: p.HTTP.Listen, Aliases: serverNames(s.Aliases),
			HSTS: s.TLS != nil && g.HSTS != "", ClientTLS: s.ClientTLS, TLSCiphers: s.TLSCiphers, RedirectTo: s.RedirectTo, AppRoot: s.AppRoot, Snippets: s.Snippets,
			MakesRequestID: p.HTTP.RequestIDByLua && early, AccessMakesRequestID: p.HTTP.RequestIDByLua && !early}
		if s.Default {
			v.Listen = p.HTTP.DefaultListen
		}
		switch {
		case router == nil, s != router && !plainServer(s), underStatic(static, s):
			v.Locations = p.HTTP.locationsOf(s, v, zones)
			p.Servers = append(p.Servers, v)
			continue
		case s == router:
			// The router makes the id in the access phase it runs anyway,
			// and redirects "/" of the hosts that ask: the server block
			// must not, or it would redirect every routed host's "/".
			// Make gives it its Router.
			v.MakesRequestID, v.AppRoot = false, ""
			p.Servers = append(p.Servers, v)
		}
		hr := HostRoutes{HSTS: v.HSTS, AppRoot: string(s.AppRoot), RedirectTo: s.RedirectTo, Routes: make([]Route, 0, len(s.Locations))}
		for _, l := range s.Locations {
			r := routeOf(s.Host, l)
			needs.add(l, g, &r)
			hr.Routes = append(hr.Routes, r)
		}
		routes.Hosts[s.Host] = hr
		p.recordRouted(s, hr)
		// server-alias: the same routes under each name.
		for _, a := range s.Aliases {
			routes.Hosts[a] = hr
		}
	}
	return routes, needs
}

// earlyRequestID reports whether server s needs X-Request-ID before the
// access phase's Lua runs: an auth subrequest (access phase, before Lua's)
// or an error page (after a limit or auth answer) may send it, and a
// snippet may use it anywhere. The catch-all server makes it early too;
// when it runs the router it does not (serve: its router makes it).
func earlyRequestID(s *model.Server) bool {
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
// snippet, at server level or in a location, asks no client for a
// certificate and has no ciphers of its own, which nginx picks by SNI
// (app-root goes with its routes; plainLocation says what else a
// location may do).
func plainServer(s *model.Server) bool {
	if len(s.Snippets) > 0 || s.ClientTLS != nil || !s.TLSCiphers.IsZero() {
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
// requests to can do all l does: everything but a snippet (the global
// auth's goes into a router auth location), the ModSecurity annotations
// (the engine runs in the first location that turns it on, and the
// router's "/" comes first) and the OpenTelemetry ones (the router's "/"
// propagates as the ConfigMap says). The router
// matches, redirects, answers CORS preflights, checks source ranges and
// body limits, rewrites the URI and sets X-Forwarded-Prefix, the Host and
// the upstream; the balancer applies the timeouts and the traffic policy
// of l's backend; the rest (proxy settings nginx applies per location,
// gRPC, rate limits, custom errors, basic auth, auth-url) takes a router
// location of its own (routerNeeds.add). A setting this does not know of
// keeps l static.
func plainLocation(l *model.Location) bool {
	p := l.Proxy
	p.ConnectTimeout, p.SendTimeout, p.ReadTimeout, p.UpstreamVhost, p.BodySize = 0, 0, 0, "", ""
	if p.Protocol == annotations.ProtoHTTP || p.Protocol == annotations.ProtoHTTPS || p.Protocol == annotations.ProtoAutoHTTP {
		p.Protocol = ""
	}
	_, p = locationSettings(p)
	_, headersOK := forwardedPrefix(l.Headers)
	authSnippet := l.ExternalAuth != nil && !l.GlobalAuth && l.ExternalAuth.Snippet != ""
	return p.IsZero() && headersOK && l.Snippet == "" && !authSnippet && l.ModSecurity == nil && l.Tracing == nil
}

// forwardedPrefix returns the X-Forwarded-Prefix among hs; ok is false
// when hs hold any other header but the auth service's (a Var: the
// route's location sends them) and the router sets only that one.
func forwardedPrefix(hs []model.Header) (prefix string, ok bool) {
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

// staticLimits are the limit zones of zones that the locations of server
// blocks use: a routed Ingress's limits live in the router's shared
// zones.
func staticLimits(zones []*LimitZones, servers []*Server) []*LimitZones {
	used := map[*LimitZones]bool{}
	for _, s := range servers {
		for _, l := range s.Locations {
			used[l.Limits] = l.Limits != nil
		}
	}
	var out []*LimitZones
	for _, z := range zones {
		if used[z] {
			out = append(out, z)
		}
	}
	return out
}
