package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// A location as the router gets it: body limits in bytes, source ranges
// and allowlists as hex/bits of the model's CIDRs, the auth service and
// error backend the router names, HTTPS backends as the upstream to pass
// to.
func TestRouteOf(t *testing.T) {
	ing := model.IngressRef{Namespace: "ns", Name: "a"}
	signin := &annotations.URL{Scheme: "https", Host: "a.example.com", Path: "/oauth2/start"}
	authURL := &annotations.URL{Scheme: "https", Host: "a.example.com", Path: "/oauth2/auth"}
	kScope := authCacheScope("h.example", &model.Location{Path: "/kept", ExternalAuth: &annotations.ExternalAuth{
		URL: annotations.URL{Scheme: "http", Host: "10.0.0.9", Port: 9000, Path: "/auth", Query: "a=1"}, Method: "POST"}})
	for _, tc := range []struct {
		l    model.Location
		want Route
	}{{
		l: model.Location{Path: "/", Backend: "ns/a:80", Ingress: ing, IngressPath: "/", Proxy: annotations.Proxy{BodySize: "8m", ReadTimeout: 5},
			SourceRange: &model.SourceRange{Allow: []string{"10.0.0.0/8", "127.0.0.1/32", "2001:db8::/32"}, Deny: []string{"10.1.0.0/16"}},
			Headers:     []model.Header{{Name: "X-Forwarded-Prefix", Value: "/shop"}}},
		want: Route{Path: "/", Backend: "ns/a:80", Ingress: "ns/a", IngressPath: "/", BodyLimit: ptr(int64(8 << 20)), ReadTimeout: 5, ForwardedPrefix: "/shop",
			SourceRange: &SourceRange{Allow: []string{"0a000000/8", "7f000001/32", "20010db8000000000000000000000000/32"}, Deny: []string{"0a010000/16"}}},
	}, {
		l:    model.Location{Modifier: model.ModExact, Path: "/x", Backend: "ns/a:80", Proxy: annotations.Proxy{BodySize: "0", Protocol: annotations.ProtoHTTPS, UpstreamVhost: "in.example"}},
		want: Route{Exact: true, Path: "/x", Backend: "ns/a:80", BodyLimit: ptr(int64(0)), Pass: "https://portico_balancer_https", UpstreamVhost: "in.example"},
	}, {
		l: model.Location{Modifier: model.ModRegex, Path: "^/r(.*)", Backend: "ns/a:80", RewriteTarget: "/$1",
			RateLimit: &model.RateLimit{Scope: "0a1b", Allowlist: []string{"192.168.0.0/16"}},
			Errors:    &model.ErrorPage{Codes: []int{503}, ErrorBackend: model.ErrorBackend{Backend: "ns/errs:80", Service: "a", Port: "80", Ingress: ing}},
			BasicAuth: &model.BasicAuth{Realm: "Staff", File: "ns_users"}},
		want: Route{Regex: true, Path: "^/r(.*)", Backend: "ns/a:80", RewriteTarget: "/$1", RateLimit: &RateLimit{Scope: "0a1b", Allowlist: []string{"c0a80000/16"}},
			Errors: &RouteErrors{Backend: "ns/errs:80", Namespace: "ns", Ingress: "a", Service: "a", Port: "80"}, BasicAuth: &BasicAuth{Realm: "Staff", File: "ns_users"}},
	}, {
		// enable-rewrite-log: the router logs the rewrite itself; no
		// location of its own (rewrite_log there would log nothing).
		l:    model.Location{Path: "/rw", Backend: "ns/a:80", RewriteTarget: "/", Proxy: annotations.Proxy{RewriteLog: true}},
		want: Route{Path: "/rw", Backend: "ns/a:80", RewriteTarget: "/", RewriteLog: true},
	}, {
		l:    model.Location{Path: "/plain", Backend: "ns/a:80", Proxy: annotations.Proxy{RewriteLog: true}},
		want: Route{Path: "/plain", Backend: "ns/a:80"},
	}, {
		l: model.Location{Path: "/open", CORS: &annotations.CORS{OriginRegex: "^(https://b)$", Origins: []annotations.CORSOrigin{{Scheme: "https", Host: "b"}},
			Methods: "GET", Headers: "X", MaxAge: 5, Credentials: true}},
		want: Route{Path: "/open", CORS: &CORS{OriginRegex: "^(https://b)$", Methods: "GET", Headers: "X", MaxAge: 5, Credentials: true}},
	}, {
		l: model.Location{Path: "/authed", Backend: "ns/a:80", ExternalAuth: &annotations.ExternalAuth{
			URL: *authURL, Signin: signin, SigninParam: "rd", SigninRD: annotations.RDRequestURI}},
		want: Route{Path: "/authed", Backend: "ns/a:80", Auth: &Auth{URL: "https://a.example.com/oauth2/auth",
			Host: "a.example.com", Method: "GET", Signin: "https://a.example.com/oauth2/start?rd=", SigninRD: "request-uri"}},
	}, {
		// Kept connections: through the upstream block; kept answers: under
		// the location's scope; a fixed redirect parameter: nothing added.
		l: model.Location{Path: "/kept", Backend: "ns/a:80", ExternalAuth: &annotations.ExternalAuth{
			URL: annotations.URL{Scheme: "http", Host: "10.0.0.9", Port: 9000, Path: "/auth", Query: "a=1"}, Method: "POST",
			Keepalive: &annotations.AuthKeepalive{Connections: 4, Requests: 100, Timeout: 30, Address: "10.0.0.9:9000"},
			Cache:     &annotations.AuthCache{Key: "$http_authorization", Valid: []string{"200 1m"}},
			Signin:    &annotations.URL{Scheme: "https", Host: "l.example", Path: "/", Query: "rd=home"}, SigninRD: annotations.RDNone}},
		want: Route{Path: "/kept", Backend: "ns/a:80", Auth: &Auth{URL: "http://" + authUpstreamName(&annotations.AuthKeepalive{
			Connections: 4, Requests: 100, Timeout: 30, Address: "10.0.0.9:9000"}) + "/auth?a=1", Host: "10.0.0.9:9000", Method: "POST",
			CacheScope: kScope, Signin: "https://l.example/?rd=home", SigninRD: "none"}},
	}} {
		if diff := cmp.Diff(tc.want, routeOf("h.example", &tc.l)); diff != "" {
			t.Errorf("route of %s (-want +got):\n%s", tc.l.Path, diff)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// enable-rewrite-log alone keeps a location plain: the router, which
// rewrites, logs; it takes no router location.
func TestRewriteLogNeedsNoRouterLocation(t *testing.T) {
	l := &model.Location{Path: "/rw", Backend: "ns/a:80", RewriteTarget: "/", Proxy: annotations.Proxy{RewriteLog: true}}
	if !plainLocation(l) {
		t.Error("a location with enable-rewrite-log is not plain")
	}
	if settings, _ := locationSettings(l.Proxy); !settings.IsZero() {
		t.Errorf("router location settings %+v, want none", settings)
	}
}
