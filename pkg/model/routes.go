package model

import (
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
}

// route classifies the finished servers and fills c.Routes. A server is
// Dynamic when the Lua router can do all it does: it is not the catch-all
// or a wildcard, has no server-level annotation, every location is plain,
// and no static wildcard server would take its host first. The router
// runs in the catch-all server: when all of it is plain it is a Router
// and its locations are the routes of Host ""; otherwise it keeps its
// locations, each with Claim set, and they hand requests for Dynamic
// hosts to the router before doing anything. A catch-all server-level
// setting (app-root, server-snippet) or a snippet on one of its locations
// would run before or clash with the claim: dynamic routing is off then,
// as when Global.DynamicRouting is off, and every server stays static.
func (c *Config) route() {
	if !c.Global.DynamicRouting {
		return
	}
	var catchAll *Server
	wild := map[string]bool{} // parent domains of wildcard servers
	for _, s := range c.Servers {
		if s.Host == "" {
			catchAll = s
		}
		if rest, ok := strings.CutPrefix(s.Host, "*."); ok {
			wild[rest] = true
		}
	}
	if catchAll == nil || !claimable(catchAll) {
		return
	}
	claims := !plainServer(catchAll)
	for _, s := range c.Servers {
		switch {
		case s == catchAll && claims:
			s.Claims = true
			for _, l := range s.Locations {
				l.Claim = true
			}
			continue // nginx serves the rules without a host
		case s == catchAll:
			s.Router = true
		case strings.HasPrefix(s.Host, "*."), !plainServer(s):
			continue
		default:
			if _, rest, ok := strings.Cut(s.Host, "."); ok && wild[rest] {
				continue // nginx would pick the wildcard server
			}
			s.Dynamic = true
		}
		hr := &HostRoutes{Host: s.Host, HSTS: s.TLS != nil && c.Global.HSTS != ""}
		for _, l := range s.Locations {
			hr.Routes = append(hr.Routes, routeOf(l))
		}
		c.Routes = append(c.Routes, hr)
	}
}

// routeOf is the route of the plain location l.
func routeOf(l *Location) Route {
	prefix, _ := forwardedPrefix(l.Headers)
	return Route{
		Exact: l.Modifier == ModExact, Regex: l.Modifier == ModRegex, Path: l.Path,
		Backend: l.Backend, Ingress: l.Ingress, IngressPath: l.IngressPath,
		SSLRedirect: l.SSLRedirect, RewriteTarget: l.RewriteTarget, ForwardedPrefix: prefix,
		ConnectTimeout: l.Proxy.ConnectTimeout, SendTimeout: l.Proxy.SendTimeout, ReadTimeout: l.Proxy.ReadTimeout,
	}
}

// claimable reports whether the locations of the catch-all server s can
// claim requests for the router: nothing of s runs before them and no
// snippet could hold a rewrite_by_lua of its own.
func claimable(s *Server) bool {
	if s.AppRoot != "" || len(s.Snippets) > 0 {
		return false
	}
	for _, l := range s.Locations {
		if l.Snippet != "" {
			return false
		}
	}
	return true
}

// plainServer reports whether the Lua router can serve every location of s.
func plainServer(s *Server) bool {
	if s.AppRoot != "" || len(s.Snippets) > 0 {
		return false
	}
	for _, l := range s.Locations {
		if !plainLocation(l) {
			return false
		}
	}
	return true
}

// plainLocation reports whether l only matches a path, maybe rewrites
// the URI, and proxies with the global settings but its timeouts (or
// answers 404): the traffic policy it may carry lives in its backend,
// which the balancer applies, as it applies the timeouts.
func plainLocation(l *Location) bool {
	p := l.Proxy
	p.ConnectTimeout, p.SendTimeout, p.ReadTimeout = 0, 0, 0
	_, headersOK := forwardedPrefix(l.Headers)
	return l.RateLimit == nil && l.SourceRange == nil &&
		l.Redirect == nil && p.IsZero() && headersOK && l.CORS == nil &&
		l.BasicAuth == nil && l.ExternalAuth == nil && l.Errors == nil && l.Snippet == ""
}

// forwardedPrefix returns the X-Forwarded-Prefix among hs; ok is false
// when hs hold any other header (the router sets only that one).
func forwardedPrefix(hs []Header) (prefix string, ok bool) {
	for _, h := range hs {
		if h.Name != "X-Forwarded-Prefix" || h.Var != "" {
			return "", false
		}
		prefix = h.Value
	}
	return prefix, true
}
