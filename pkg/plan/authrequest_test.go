package plan

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// How the auth subrequests are carried: the router's auth locations by
// what nginx.conf fixes of them (cache key, headers, snippet), shared by
// the routes that fix the same; an upstream block per kept service;
// one cache zone when a location keeps answers; the global auth on routed
// hosts and server blocks alike.
func TestAuthLocations(t *testing.T) {
	svcs, eps := labObjects()
	a := func(k string) string { return annotations.Prefix + k }
	hdrs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "auth-headers"}, Data: map[string]string{"X-Tenant": "lab"}}
	build := func(ings ...*networkingv1.Ingress) *model.Config {
		return model.Build(model.Input{Ingresses: ings, IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services: svcs, EndpointSlices: eps, ConfigMaps: []*corev1.ConfigMap{hdrs}, Options: defaultOptions,
			ConfigMap: configMap(map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical",
				"global-auth-url": "http://10.0.0.5/global", "global-auth-cache-key": "$cookie_session"})})
	}
	cached := ingress("lab", "cached", annotate(a("auth-url"), "http://10.0.0.1/auth"), annotate(a("auth-cache-key"), "$http_authorization"),
		annotate(a("auth-keepalive"), "4"), rule("a.example.com", path("/", prefix, "api-service", 80)))
	cached2 := ingress("lab", "cached2", annotate(a("auth-url"), "http://10.0.0.2/auth"), annotate(a("auth-cache-key"), "$http_authorization"),
		annotate(a("auth-keepalive"), "4"), rule("b.example.com", path("/", prefix, "api-service", 80)))
	headers := ingress("lab", "headers", annotate(a("auth-url"), "http://10.0.0.1/auth"), annotate(a("auth-proxy-set-headers"), "auth-headers"),
		annotate(a("auth-request-redirect"), "https://c.example.com/"), rule("c.example.com", path("/", prefix, "api-service", 80)))
	global := ingress("lab", "global", rule("d.example.com", path("/", prefix, "api-service", 80)))
	static := ingress("lab", "static", annotate(a("auth-url"), "https://auth.example.com/check"), annotate(a("auth-snippet"), "proxy_set_header X-Static 1;"),
		annotate(a("auth-cache-key"), "$remote_user"), rule("e.example.com", path("/", prefix, "api-service", 80)))
	m := build(cached, cached2, headers, global, static)
	for _, d := range m.Diagnostics {
		t.Errorf("unexpected diagnostic %v", d)
	}
	p := planOf(t, m)

	var names []string
	for _, u := range p.AuthUpstreams {
		names = append(names, u.Address)
	}
	if !slices.Equal(names, []string{"10.0.0.1:80", "10.0.0.2:80"}) && !slices.Equal(names, []string{"10.0.0.2:80", "10.0.0.1:80"}) {
		t.Errorf("auth upstreams %+v, want one per kept service", p.AuthUpstreams)
	}
	if p.AuthCache != "/auth_cache" {
		t.Errorf("AuthCache = %q, want the run directory's auth_cache", p.AuthCache)
	}
	byName := map[string]*AuthLocation{}
	for _, l := range p.Router.AuthLocations {
		byName[l.Name] = l
	}
	routes := routesOf(t, p).Hosts
	auth := func(host string) (*Auth, *RouterLocation) {
		r := routes[host].Routes[0]
		for i := range p.Router.Locations {
			if p.Router.Locations[i].Name == r.Location {
				return r.Auth, &p.Router.Locations[i]
			}
		}
		t.Fatalf("%s: route location %q is not the router's", host, r.Location)
		return nil, nil
	}
	ra, la := auth("a.example.com")
	rb, lb := auth("b.example.com")
	rc, lc := auth("c.example.com")
	rd, ld := auth("d.example.com")
	if la.Auth != lb.Auth || la.Auth == lc.Auth || la.Auth == ld.Auth || lc.Auth == ld.Auth || la.Auth == RouterAuthLocation {
		t.Errorf("router auth locations %q %q %q %q: want a and b to share the cache key's, c its headers', d the global's", la.Auth, lb.Auth, lc.Auth, ld.Auth)
	}
	if len(byName) != 3 || byName[la.Auth] == nil || byName[lc.Auth] == nil || byName[ld.Auth] == nil {
		t.Fatalf("router auth locations %v", p.Router.AuthLocations)
	}
	if k := byName[la.Auth].CacheKey; k != "$portico_auth_cache_scope$http_authorization" {
		t.Errorf("cache key %q", k)
	}
	if ra.CacheScope == "" || ra.CacheScope == rb.CacheScope || rc.CacheScope != "" {
		t.Errorf("cache scopes %q %q %q: want one per location that keeps answers", ra.CacheScope, rb.CacheScope, rc.CacheScope)
	}
	if !strings.HasPrefix(ra.URL, "http://portico_auth_") || ra.URL == rb.URL || rc.URL != "http://10.0.0.1/auth" || ra.Host != "10.0.0.1" {
		t.Errorf("auth URLs %q %q %q (Host %q): kept connections go through their upstream, with the service's Host", ra.URL, rb.URL, rc.URL, ra.Host)
	}
	if rd.URL != "http://10.0.0.5/global" || byName[ld.Auth].CacheKey != "$portico_auth_cache_scope$cookie_session" {
		t.Errorf("global auth on a routed host: %+v, %+v", rd, byName[ld.Auth])
	}
	hs := byName[lc.Auth].Headers
	if !slices.Contains(hs, Header{`"X-Tenant"`, `"lab"`}) || !slices.Contains(hs, Header{"X-Auth-Request-Redirect", `"https://c.example.com/"`}) {
		t.Errorf("auth-proxy-set-headers and auth-request-redirect: headers %v", hs)
	}

	// A snippet: the host keeps a server block, whose auth location holds
	// it, and its answers are kept under a scope of its own.
	var e *Location
	for _, s := range p.Servers {
		if s.Host == "e.example.com" {
			e = s.Locations[0]
		}
	}
	if e == nil || e.Auth == nil {
		t.Fatal("e.example.com has no server block with an auth location")
	}
	if e.Auth.Snippet != "proxy_set_header X-Static 1;" || e.Auth.SSLName != `"auth.example.com"` || !e.Auth.Resolve ||
		!strings.HasSuffix(e.Auth.CacheKey, "$remote_user") || len(e.Auth.CacheKey) != 16+len("$remote_user") {
		t.Errorf("static auth location %+v", e.Auth)
	}

	// The last route with headers goes: its router location stays, unused,
	// and so does its auth location, when that is the only change.
	kept, err := Make(build(cached, cached2, global, static), p.Carried(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(kept.Router.Locations, func(l RouterLocation) bool { return l.Auth == lc.Auth }) ||
		!slices.ContainsFunc(kept.Router.AuthLocations, func(l *AuthLocation) bool { return l.Name == lc.Auth }) {
		t.Errorf("the unused router location and its auth location are not kept: %v", kept.Router.AuthLocations)
	}
	// Kept connections end with their last location: an upstream block
	// less is a change of nginx.conf.
	gone, err := Make(build(cached, headers, global, static), p.Carried(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(gone.AuthUpstreams) != 1 {
		t.Errorf("auth upstreams %+v, want one", gone.AuthUpstreams)
	}
}
