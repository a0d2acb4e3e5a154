package render

import (
	"bytes"
	"testing"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/plan"
)

// routesPlan has a static host next to the catch-all server running the
// Lua router for a routed host with a body limit above the global one,
// upstream-vhost and an HTTPS backend: "/" with the larger limit, a named
// location for the global one, both sending the router's Host to the
// router's upstream, and locations of routes with proxy settings and with
// auth-url (HTTP and gRPC).
func routesPlan(t testing.TB, opts plan.Options) *plan.Plan {
	ref := model.IngressRef{Namespace: "lab", Name: "plain"}
	authHeaders := []annotations.AuthHeader{{Name: "X-User", Var: "x_user"}, {Name: "X-Auth-Request-Email", Var: "x_auth_request_email"}}
	const cachedAuth = plan.RouterAuthLocation + "-0011223344556677"
	p := staticPlan(t, &model.Config{Global: model.Build(model.Input{}).Global, Servers: []*model.Server{
		{Default: true, Locations: []*model.Location{{Path: "/"}}},
		{Host: "static.example.com", Locations: []*model.Location{
			{Modifier: model.ModRegex, Path: "^/", Backend: "lab/api:80", Ingress: ref, IngressPath: "/", RewriteTarget: "/x"},
		}},
	}}, opts)
	p.Router = &plan.Router{
		HTTP: p.HTTP,
		Locations: []plan.RouterLocation{
			{Name: "/", BodySize: "8m", BodyBytes: 8 << 20, UpstreamVhost: true, Pass: true},
			{Name: "@portico_body_1048576", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true},
			{Name: "@portico_proxy_00112233aabbccdd", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true,
				Settings: annotations.Proxy{BufferSize: "16k", Buffering: "off", NextUpstream: []string{"error", "http_502"}, HTTPVersion: "1.0"}},
			{Name: "@portico_proxy_44445555aaaabbbb", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true,
				Auth: plan.RouterAuthLocation, AuthHeaders: authHeaders, Signin: true},
			{Name: "@portico_proxy_66667777ccccdddd", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true,
				Settings: annotations.Proxy{Protocol: annotations.ProtoGRPC}, Auth: cachedAuth, AuthHeaders: authHeaders, AuthCookieAlways: true},
		},
		Body: plan.RouterBody{Global: 1 << 20, Named: []int64{1 << 20},
			Proxied: []string{"@portico_proxy_00112233aabbccdd", "@portico_proxy_44445555aaaabbbb", "@portico_proxy_66667777ccccdddd"}},
		RequestID: true,
		AuthLocations: []*plan.AuthLocation{
			{Name: plan.RouterAuthLocation, Host: "$portico_auth_host", Method: "$portico_auth_method", SSLName: "$portico_auth_host",
				Pass: "$portico_auth_url", Headers: p.HTTP.AuthRequestHeaders},
			// Kept answers, headers of a ConfigMap and the global auth's
			// snippet.
			{Name: cachedAuth, Host: "$portico_auth_host", Method: "$portico_auth_method", SSLName: "$portico_auth_host",
				Pass: "$portico_auth_url", Headers: append(p.HTTP.AuthRequestHeaders[:len(p.HTTP.AuthRequestHeaders):len(p.HTTP.AuthRequestHeaders)],
					plan.Header{Name: `"X-Tenant"`, Value: `"lab ${msec}"`}),
				CacheKey: "$portico_auth_cache_scope$http_authorization", CacheValid: []string{"200 202 10m", "401 1m"},
				Snippet: "proxy_set_header X-Global-Snippet 1;"},
		},
		Signin: true,
	}
	// The cached auth location's zone, and connections kept to a service.
	p.AuthCache = opts.RunDir + "/auth_cache"
	p.AuthUpstreams = []plan.AuthUpstream{{Name: "portico_auth_0a0b0c0d0e0f",
		AuthKeepalive: annotations.AuthKeepalive{Connections: 4, Requests: 1000, Timeout: 60, Address: "10.1.2.3:9000"}}}
	// The catch-all server runs the router; the routed host has no server
	// block.
	p.Servers[0].Router, p.Servers[0].Locations, p.Servers[0].MakesRequestID = p.Router, nil, false
	return p
}

func TestRenderRoutesGolden(t *testing.T) {
	opts := testOptions
	opts.HTTPSPort = 8443
	conf, _, err := Render(routesPlan(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(conf, []byte("dynamic.example.com")) {
		t.Error("a dynamic host is in nginx.conf")
	}
	checkGolden(t, "routes.nginx.conf", conf)
	nginxTestConfig(t, "routes", func(o plan.Options) *plan.Plan { return routesPlan(t, o) })
}
