package render

import (
	"bytes"
	"testing"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// routesConfig has a dynamic host (no server block) with a body limit
// above the global one, upstream-vhost and an HTTPS backend, a static one
// next to it, and the catch-all server running the Lua router: "/" with
// the larger limit, a named location for the global one, both sending
// the router's Host to the router's upstream, and locations of routes
// with proxy settings and with auth-url (HTTP and gRPC).
func routesConfig() *model.Config {
	ref := model.IngressRef{Namespace: "lab", Name: "plain"}
	authHeaders := []annotations.AuthHeader{{Name: "X-User", Var: "x_user"}, {Name: "X-Auth-Request-Email", Var: "x_auth_request_email"}}
	return &model.Config{
		Global: model.Build(model.Input{}).Global,
		Servers: []*model.Server{
			{ServerName: "_", Default: true, Router: true, Locations: []*model.Location{{Path: "/"}}, RouterLocations: []model.RouterLocation{
				{Name: "/", BodySize: "8m", BodyBytes: 8 << 20, UpstreamVhost: true, Pass: true},
				{Name: "@portico_body_1048576", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true},
				{Name: "@portico_proxy_00112233aabbccdd", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true,
					Settings: annotations.Proxy{BufferSize: "16k", Buffering: "off", NextUpstream: []string{"error", "http_502"}, HTTPVersion: "1.0"}},
				{Name: "@portico_proxy_44445555aaaabbbb", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true,
					Auth: true, AuthHeaders: authHeaders, Signin: true},
				{Name: "@portico_proxy_66667777ccccdddd", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true,
					Settings: annotations.Proxy{Protocol: annotations.ProtoGRPC}, Auth: true, AuthHeaders: authHeaders},
			}},
			{Host: "dynamic.example.com", ServerName: "dynamic.example.com", Dynamic: true, TLS: &model.ServerTLS{}, Locations: []*model.Location{
				{Path: "/", Backend: "lab/api:80", Ingress: ref, IngressPath: "/", SSLRedirect: true, Proxy: annotations.Proxy{Protocol: annotations.ProtoHTTPS, BodySize: "8m", UpstreamVhost: "internal.example"}},
			}},
			{Host: "static.example.com", ServerName: "static.example.com", MakesRequestID: true, Locations: []*model.Location{
				{Path: "/", Backend: "lab/api:80", Ingress: ref, IngressPath: "/", RewriteTarget: "/x"},
			}},
		},
		Routes: []*model.HostRoutes{
			{Routes: []model.Route{{Path: "/"}}},
			{Host: "dynamic.example.com", HSTS: true, Routes: []model.Route{{Path: "/", Backend: "lab/api:80", Ingress: ref, IngressPath: "/", SSLRedirect: true, BodySize: "8m", UpstreamVhost: "internal.example", Pass: "https://portico_balancer_https"}}},
		},
		RouterBody: &model.RouterBody{Global: 1 << 20, Named: []int64{1 << 20},
			Proxied: []string{"@portico_proxy_00112233aabbccdd", "@portico_proxy_44445555aaaabbbb", "@portico_proxy_66667777ccccdddd"}},
		RouterRequestID: true,
		RouterAuth:      true,
		RouterSignin:    true,
	}
}

func TestRenderRoutesGolden(t *testing.T) {
	opts := testOptions
	opts.HTTPSPort = 8443
	conf, _, err := Render(routesConfig(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(conf, []byte("dynamic.example.com")) {
		t.Error("a dynamic host is in nginx.conf")
	}
	checkGolden(t, "routes.nginx.conf", conf)
	nginxTestConfig(t, "routes", routesConfig())
}
