package render

import (
	"bytes"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/modeltest"
	"github.com/portico-ingress/portico/pkg/nginxconf"
	"github.com/portico-ingress/portico/pkg/plan"
)

// routedHostsPlan is the plan of Ingresses whose hosts the Lua router
// serves, with what a route can do: exact, prefix and regex paths,
// rewrite-target, redirects, source ranges, CORS, upstream-vhost, an
// HTTPS backend, timeouts, body limits, a location of its own (proxy
// settings, basic auth), app-root and server-alias; a TLS host with
// ssl-redirect and HSTS; the rules without a host.
func routedHostsPlan(t testing.TB) *plan.Plan {
	return routedHostsPlanOf(t, routedHostsInput())
}

func routedHostsPlanOf(t testing.TB, in model.Input) *plan.Plan {
	opts := testOptions
	opts.HTTPSPort, opts.RoutedHostsFile = 8443, "/etc/nginx/routed-hosts.conf"
	p, err := plan.Make(model.Build(in), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const ann = "nginx.ingress.kubernetes.io/"

func routedHostsInput() model.Input {
	const a = ann
	ing, ann, rule, path := modeltest.Ingress, modeltest.Annotate, modeltest.Rule, modeltest.Path
	svcs, slices := modeltest.LabObjects()
	return model.Input{IngressClasses: []*networkingv1.IngressClass{modeltest.OurClass()}, Services: svcs, EndpointSlices: slices,
		Options: model.Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"},
		Ingresses: []*networkingv1.Ingress{
			ing("lab", "shop", ann(a+"app-root", "/home"), ann(a+"server-alias", "www.shop.example.com"),
				ann(a+"whitelist-source-range", "10.0.0.0/8,2001:db8::/32"), ann(a+"proxy-read-timeout", "30"),
				rule("shop.example.com", path("/", modeltest.Prefix, "frontend-service", 80), path("/cart", modeltest.Exact, "api-service", 80))),
			ing("lab", "api", ann(a+"use-regex", "true"), ann(a+"rewrite-target", "/v2/$1"), ann(a+"upstream-vhost", "api.internal"),
				ann(a+"backend-protocol", "HTTPS"), ann(a+"proxy-body-size", "8m"), ann(a+"enable-cors", "true"),
				rule("shop.example.com", path("/api/(.*)", modeltest.Impl, "api-service", 80))),
			ing("lab", "buffered", ann(a+"proxy-buffering", "on"), ann(a+"proxy-buffer-size", "16k"),
				rule("shop.example.com", path("/upload", modeltest.Prefix, "api-service", 80))),
			ing("lab", "moved", ann(a+"permanent-redirect", "https://new.example.com/"),
				rule("old.example.com", path("/", modeltest.Prefix, "api-service", 80))),
			ing("lab", "secure", modeltest.WithTLS("", "secure.example.com"),
				rule("secure.example.com", path("/", modeltest.Prefix, "api-service", 80))),
			ing("lab", "lobby", rule("", path("/lobby", modeltest.Prefix, "frontend-service", 80))),
			ing("lab", "wild", rule("*.apps.example.com", path("/", modeltest.Prefix, "frontend-service", 80))),
		}}
}

// The routed-hosts file shows each routed host as the server block it
// stands for, in nginx's syntax; nginx.conf points to it.
func TestRenderRoutedHostsGolden(t *testing.T) {
	p := routedHostsPlan(t)
	if p.Router == nil {
		t.Fatal("no host is routed")
	}
	out, err := RoutedHosts(p)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "routed-hosts.conf", out)
	if _, err := nginxconf.Parse(out); err != nil {
		t.Errorf("the routed-hosts file is not in nginx's syntax: %v", err)
	}
	for _, want := range []string{
		"server_name shop.example.com www.shop.example.com;",
		`location ~* "^/cart" {`, // a host with a regex path: every path is one, as in ingress-nginx
		`location ~* "^/api/(.*)" {`,
		"# Ingress lab/api, path /api/(.*)",
		`rewrite "(?i)^/api/(.*)" "/v2/$1" break;`,
		"proxy_pass https://portico_balancer_https;",
		"allow 10.0.0.0/8;", "allow 2001:db8::/32;", "deny all;",
		`return 301 "https://new.example.com/";`,
		"return 308 https://$host$portico_uri_no_slash; }",
		"server_name _;",
		"# Backend lab/api-service:80: the Lua balancer picks its endpoint",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the routed-hosts file lacks %q", want)
		}
	}
	conf, _, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(conf, []byte("# Their routes, as the server blocks they stand for: /etc/nginx/routed-hosts.conf")) {
		t.Error("nginx.conf does not point to the routed-hosts file")
	}
}

// Rendered again after a change, the file is the one a whole render
// gives: a changed host gets its new text, the others keep theirs, and a
// change to the router's locations renders every host again.
func TestRoutedHostsFileAgain(t *testing.T) {
	var f RoutedHostsFile
	in := routedHostsInput()
	for _, change := range []struct {
		name string
		ing  *networkingv1.Ingress
		want string
	}{
		{"unchanged", nil, `location ~* "^/upload" {`},
		{"a new path on a host", modeltest.Ingress("lab", "moved", modeltest.Annotate(ann+"permanent-redirect", "https://new.example.com/"),
			modeltest.Rule("old.example.com", modeltest.Path("/", modeltest.Prefix, "api-service", 80), modeltest.Path("/kept", modeltest.Exact, "api-service", 80))),
			`location = "/kept" {`},
		{"new proxy settings: the router's locations change", modeltest.Ingress("lab", "buffered", modeltest.Annotate(ann+"proxy-buffering", "on"),
			modeltest.Annotate(ann+"proxy-buffer-size", "32k"), modeltest.Rule("shop.example.com", modeltest.Path("/upload", modeltest.Prefix, "api-service", 80))),
			"proxy_buffer_size 32k;"},
	} {
		if change.ing != nil {
			for i, ing := range in.Ingresses {
				if ing.Name == change.ing.Name {
					in.Ingresses[i] = change.ing
				}
			}
		}
		p := routedHostsPlanOf(t, in)
		got, err := f.Render(p)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := RoutedHosts(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, whole) {
			t.Errorf("%s: rendered again, the file differs from a whole render:\n%s\nwant\n%s", change.name, got, whole)
		}
		if !bytes.Contains(got, []byte(change.want)) {
			t.Errorf("%s: the file lacks %q", change.name, change.want)
		}
	}
}
