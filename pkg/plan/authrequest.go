package plan

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// How nginx asks an auth service (auth-url, the global auth): the
// location that needs auth has auth_request to an internal AuthLocation,
// which proxies the subrequest; kept connections (auth-keepalive) are
// AuthUpstreams; kept answers (auth-cache-key) live in one cache zone
// (Plan.AuthCache), under a key scoped per location.

// AuthLocation is an internal location that sends auth subrequests: a
// server block's, for one of its locations, or the router's, shared by
// the routes whose subrequests nginx.conf fixes alike (what differs per
// route, the router sets).
type AuthLocation struct {
	// Name is its location's; Ingress paths hold no ';', so none can
	// reach it.
	Name string `json:"name"`
	// Backend is set again in $portico_backend for the request, whose
	// variables the subrequest shares; "" in the router's, where the
	// router sets it after the subrequest.
	Backend string `json:"backend,omitempty"`
	// Host, Method, SSLName and Pass are as nginx.conf prints them: a
	// literal, or a variable the router sets. Method "" is GET; SSLName is
	// the name sent as SNI to an https service ("" for none).
	Host    string `json:"host"`
	Method  string `json:"method,omitempty"`
	SSLName string `json:"sslName,omitempty"`
	Pass    string `json:"pass"`
	// Resolve: Pass names a host nginx resolves per request, which it
	// does only when proxy_pass takes a variable.
	Resolve bool `json:"resolve,omitempty"`
	// Headers are every header the service gets but Host and Connection.
	Headers []Header `json:"headers"`
	// CacheKey, when set, keeps the answers in the cache zone under this
	// key (printed quoted: a scope and an annotations.Template), for as
	// long as CacheValid says (proxy_cache_valid's arguments).
	CacheKey   string   `json:"cacheKey,omitempty"`
	CacheValid []string `json:"cacheValid,omitempty"`
	// Snippet is auth-snippet's, or global-auth-snippet's.
	Snippet annotations.Snippet `json:"snippet,omitempty"`
	// WAFOff turns ModSecurity off: the ConfigMap's is on, and the request
	// was inspected where it arrived (ingress-nginx's auth locations turn
	// it off too).
	WAFOff bool `json:"wafOff,omitempty"`
	// Skip answers 200 without asking when the router set
	// $portico_auth_skip: a route with satisfy any whose source range let
	// the client in (router auth locations only).
	Skip bool `json:"skip,omitempty"`
}

// AuthUpstream is an upstream block that keeps connections to an auth
// service (auth-keepalive).
type AuthUpstream struct {
	Name string `json:"name"`
	annotations.AuthKeepalive
}

// authUpstreamName names the upstream of keepalive k: locations with the
// same service and settings share it.
func authUpstreamName(k *annotations.AuthKeepalive) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s %d %d %d", k.Address, k.Connections, k.Requests, k.Timeout))
	return fmt.Sprintf("portico_auth_%x", sum[:6])
}

// authUpstreams are the upstream blocks of the auth services of m's
// locations with auth-keepalive, sorted by name.
func authUpstreams(m *model.Config) []AuthUpstream {
	seen := map[string]bool{}
	var out []AuthUpstream
	for _, s := range m.Servers {
		for _, l := range s.Locations {
			if ea := l.ExternalAuth; ea != nil && ea.Keepalive != nil {
				name := authUpstreamName(ea.Keepalive)
				if !seen[name] {
					seen[name] = true
					out = append(out, AuthUpstream{Name: name, AuthKeepalive: *ea.Keepalive})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b AuthUpstream) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// authTarget is the URL auth subrequests of ea go to: its own, or, with
// kept connections, the same through its AuthUpstream.
func authTarget(ea *annotations.ExternalAuth) string {
	u := ea.URL
	if ea.Keepalive != nil {
		u.Host, u.Port = authUpstreamName(ea.Keepalive), 0
	}
	return u.String()
}

// authCacheScope is the first part of the cache key of the auth answers
// of location l on host: each location keeps its own answers, as in
// ingress-nginx, and a location whose auth service changes starts anew.
func authCacheScope(host string, l *model.Location) string {
	ea := l.ExternalAuth
	sum := sha256.Sum256([]byte(host + " " + string(l.Modifier) + " " + l.Path + " " + ea.URL.String() + " " + ea.Method))
	return fmt.Sprintf("%x", sum[:8])
}

// authHeaders are the headers the auth service of ea gets but Host:
// Portico's, with auth-request-redirect's X-Auth-Request-Redirect, and
// then auth-proxy-set-headers', which replace Portico's of their name.
func (h *HTTP) authHeaders(ea *annotations.ExternalAuth, extra []Header) []Header {
	set := map[string]bool{}
	for _, s := range ea.SetHeaders {
		set[strings.ToLower(s.Name)] = true
	}
	var out []Header
	for _, hd := range append(slices.Clone(h.AuthRequestHeaders), extra...) {
		if hd.Name == "X-Auth-Request-Redirect" && ea.RequestRedirect != "" {
			hd.Value = `"` + string(ea.RequestRedirect) + `"`
		}
		if !set[strings.ToLower(hd.Name)] {
			out = append(out, hd)
		}
	}
	for _, s := range ea.SetHeaders {
		out = append(out, Header{Name: `"` + s.Name + `"`, Value: `"` + string(s.Value) + `"`})
	}
	return out
}

// staticAuth is the AuthLocation named name of a server block's location
// l on host, whose client certificate headers (auth-tls) the service gets
// too, as in ingress-nginx.
func (h *HTTP) staticAuth(name, host string, l *model.Location, clientTLS *model.ClientTLS) *AuthLocation {
	ea := l.ExternalAuth
	a := &AuthLocation{Name: name, Backend: l.Backend, Host: `"` + ea.URL.HostPort() + `"`, Method: ea.Method,
		Pass: authTarget(ea), Resolve: ea.Keepalive == nil && !ea.URL.IsIP(), Snippet: ea.Snippet, WAFOff: h.WAF.InspectsOnce()}
	if ea.URL.Scheme == "https" {
		a.SSLName = `"` + ea.URL.Host + `"`
	}
	var extra []Header
	if clientTLS != nil {
		for _, hd := range model.ClientTLSHeaders(clientTLS) {
			extra = append(extra, Header{hd.Name, "$" + hd.Var})
		}
	}
	a.Headers = h.authHeaders(ea, extra)
	if c := ea.Cache; c != nil {
		a.CacheKey, a.CacheValid = authCacheScope(host, l)+string(c.Key), c.Valid
	}
	return a
}

// RouterAuthLocation is the router's AuthLocation for routes whose
// subrequests nginx.conf fixes nothing of; routerAuth names the others
// after what it fixes.
const RouterAuthLocation = "/;portico-auth"

// routerAuth is the router's AuthLocation for the auth of a route's
// location l: the router sets the service's URL, Host, method and cache
// scope; nginx.conf fixes the cache key and times, the headers and the
// snippet.
func (h *HTTP) routerAuth(ea *annotations.ExternalAuth) *AuthLocation {
	a := &AuthLocation{Name: RouterAuthLocation, Host: "$portico_auth_host", Method: "$portico_auth_method",
		SSLName: "$portico_auth_host", Pass: "$portico_auth_url", Headers: h.authHeaders(ea, nil), Snippet: ea.Snippet, WAFOff: h.WAF.InspectsOnce()}
	fixed := struct {
		Cache    *annotations.AuthCache
		Redirect annotations.Template
		Headers  []annotations.AuthSetHeader
		Snippet  annotations.Snippet
	}{ea.Cache, ea.RequestRedirect, ea.SetHeaders, ea.Snippet}
	if c := ea.Cache; c != nil {
		a.CacheKey, a.CacheValid = "$portico_auth_cache_scope"+string(c.Key), c.Valid
	}
	if fixed.Cache != nil || fixed.Redirect != "" || fixed.Headers != nil || fixed.Snippet != "" {
		j, _ := json.Marshal(fixed) // plain fields: cannot fail
		sum := sha256.Sum256(j)
		a.Name = fmt.Sprintf("%s-%x", RouterAuthLocation, sum[:8])
	}
	return a
}
