package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// The router's wire form of a route: body limits in bytes, the location
// of its proxy settings and rate limits, source ranges and allowlists as
// hex/bits of the model's CIDRs.
func TestWireRoutes(t *testing.T) {
	cfg := &model.Config{Global: model.Global{HSTS: "max-age=60"}, Routes: []*model.HostRoutes{{Host: "a.example.com", HSTS: true, AppRoot: "/app", Routes: []model.Route{
		{Path: "/", Backend: "ns/a:80", Ingress: model.IngressRef{Namespace: "ns", Name: "a"}, IngressPath: "/",
			BodySize: "8m", SourceRange: &model.SourceRange{Allow: []string{"10.0.0.0/8", "127.0.0.1/32", "2001:db8::/32"}, Deny: []string{"10.1.0.0/16"}}},
		{Exact: true, Path: "/x", Backend: "ns/a:80", BodySize: "0", Settings: &annotations.Proxy{BufferSize: "16k"}, Location: "@portico_proxy_00112233aabbccdd"},
		{Path: "/lim", Backend: "ns/a:80", Location: "@portico_proxy_11112222aaaabbbb", Limits: &model.Limits{RPS: 5, BurstRPS: 25},
			RateLimit: &model.RouteRateLimit{Scope: "0a1b", Allowlist: []string{"192.168.0.0/16"}},
			Errors:    &model.RouteErrors{Backend: "ns/errs:80", Namespace: "ns", Ingress: "a", Service: "a", Port: "80"}, ErrorCodes: []int{503},
			BasicAuth: &model.BasicAuth{Realm: "Staff", File: "ns_users"}},
		{Path: "/open", CORS: &annotations.CORS{OriginRegex: "^(https://b)$", Origins: []annotations.CORSOrigin{{Scheme: "https", Host: "b"}},
			Methods: "GET", Headers: "X", MaxAge: 5, Credentials: true}},
		{Path: "/authed", Backend: "ns/a:80", Location: "@portico_proxy_22223333ccccdddd", Auth: &model.RouteAuth{URL: "https://a.example.com/oauth2/auth",
			Host: "a.example.com", Method: "GET", Signin: "https://a.example.com/oauth2/start", SigninRD: annotations.RDRequestURI}},
	}}}}
	zero, eight := int64(0), int64(8<<20)
	want := Routes{HSTS: "max-age=60", Hosts: map[string]HostRoutes{"a.example.com": {HSTS: true, AppRoot: "/app", Routes: []Route{
		{Path: "/", Backend: "ns/a:80", Ingress: "ns/a", IngressPath: "/", BodyLimit: &eight, SourceRange: &SourceRange{
			Allow: []string{"0a000000/8", "7f000001/32", "20010db8000000000000000000000000/32"}, Deny: []string{"0a010000/16"}}},
		{Exact: true, Path: "/x", Backend: "ns/a:80", BodyLimit: &zero, Location: "@portico_proxy_00112233aabbccdd"},
		{Path: "/lim", Backend: "ns/a:80", Location: "@portico_proxy_11112222aaaabbbb", RateLimit: &RateLimit{Scope: "0a1b", Allowlist: []string{"c0a80000/16"}},
			Errors: &RouteErrors{Backend: "ns/errs:80", Namespace: "ns", Ingress: "a", Service: "a", Port: "80"}, BasicAuth: &BasicAuth{Realm: "Staff", File: "ns_users"}},
		{Path: "/open", CORS: &CORS{OriginRegex: "^(https://b)$", Methods: "GET", Headers: "X", MaxAge: 5, Credentials: true}},
		{Path: "/authed", Backend: "ns/a:80", Location: "@portico_proxy_22223333ccccdddd", Auth: &Auth{URL: "https://a.example.com/oauth2/auth",
			Host: "a.example.com", Method: "GET", Signin: "https://a.example.com/oauth2/start", SigninRD: "request-uri"}},
	}}}}
	if diff := cmp.Diff(want, routesOf(cfg)); diff != "" {
		t.Errorf("wire routes (-want +got):\n%s", diff)
	}
}
