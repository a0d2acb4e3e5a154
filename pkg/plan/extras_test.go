package plan

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/modeltest"
)

// What a location adds besides its proxy settings is carried the same way
// in a server block and in the router: a routed route with any of it has
// a router location of its own with the same directives, and the route
// tells the router the rest (mirror target, satisfy any, AUTO_HTTP, the
// redirect to HTTPS). A host with ciphers of its own keeps a server block.
func TestExtrasInServerBlocksAndRouter(t *testing.T) {
	svcs, eps := labObjects()
	a := annotations.Prefix
	extras := func(name, host string) *networkingv1.Ingress {
		return ingress("lab", name, annotate(a+"custom-headers", "headers"), annotate(a+"satisfy", "any"), annotate(a+"auth-type", "basic"),
			annotate(a+"auth-secret", "users"), annotate(a+"whitelist-source-range", "10.0.0.0/8"),
			annotate(a+"mirror-target", "http://10.0.0.9/copy"), annotate(a+"mirror-request-body", "off"),
			annotate(a+"connection-proxy-header", "keep-alive"), annotate(a+"force-ssl-redirect", "true"),
			annotate(a+"use-port-in-redirects", "true"), annotate(a+"backend-protocol", "AUTO_HTTP"),
			rule(host, path("/", prefix, "api-service", 80)))
	}
	static := extras("static", "s.example.com")
	static.Annotations[a+"configuration-snippet"] = "set $x 1;"
	m := model.Build(model.Input{IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: eps,
		Options: defaultOptions, ConfigMap: configMap(map[string]string{"allow-snippet-annotations": "true",
			"annotations-risk-level": "Critical", "global-allowed-response-headers": "X-A"}),
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "users"},
			Data: map[string][]byte{"auth": []byte("alice:{SHA}tiY7sUhYKUwI5L3866kDY+ENcrQ=\n")}}},
		ConfigMaps: []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "headers"}, Data: map[string]string{"X-A": "1"}}},
		Ingresses: []*networkingv1.Ingress{extras("routed", "r.example.com"), static,
			ingress("lab", "ciphers", annotate(a+"ssl-ciphers", "HIGH"), rule("c.example.com", path("/", prefix, "api-service", 80)))},
	})
	if len(m.Diagnostics) > 0 {
		t.Fatalf("diagnostics: %v", m.Diagnostics)
	}
	p := planOf(t, m)
	var hosts []string
	var sloc *Location
	for _, s := range p.Servers {
		hosts = append(hosts, s.Host)
		if s.Host == "s.example.com" {
			sloc = s.Locations[0]
		}
	}
	if !slices.Equal(hosts, []string{"", "c.example.com", "s.example.com"}) {
		t.Fatalf("server blocks %q, want the router's, c.example.com's (ciphers) and s.example.com's (snippet)", hosts)
	}
	wantExtras := Extras{PortInRedirect: true, ResponseHeaders: []model.KeyValue{{Name: "X-A", Value: "1"}}, SatisfyAny: true, Mirror: "off"}
	if !reflect.DeepEqual(sloc.Extras, wantExtras) || sloc.Extras.Phase() != "rewrite" || sloc.Pass != "$portico_auto_pass" ||
		sloc.SSLRedirectURL != "https://$host:0$portico_uri_no_slash" || sloc.MirrorTarget != "http://10.0.0.9/copy$is_args$args" {
		t.Errorf("server block location: %+v", sloc)
	}
	// The router has no redirect to a path here: the form is the router's.
	wantExtras.PortInRedirect = false
	var own *RouterLocation
	for i, l := range p.Router.Locations {
		if l.Name != "/" {
			own = &p.Router.Locations[i]
		}
	}
	if own == nil || !reflect.DeepEqual(own.Extras, wantExtras) || own.Settings.ConnectionHeader != "keep-alive" || !p.Router.MirrorNoBody {
		t.Fatalf("router locations %+v", p.Router.Locations)
	}
	if got := p.Router.Directives(*own); !slices.Contains(got, `more_set_headers "X-A: 1"`) || !slices.Contains(got, "satisfy any") ||
		!slices.Contains(got, `mirror "/;portico-mirror-nobody"`) {
		t.Errorf("router location directives %q", got)
	}
	if h := p.Router.SetHeaders(*own); !slices.Contains(h, Header{"Connection", `"keep-alive"`}) {
		t.Errorf("router location headers %v", h)
	}
	r := routesOf(t, p).Hosts["r.example.com"].Routes[0]
	if r.Location != own.Name || !r.SatisfyAny || !r.PassHTTPSOnly || r.Pass != "https://portico_balancer_https" || !r.SSLRedirectPort ||
		r.SSLRedirectSlash || r.Mirror == nil || r.Mirror.Target != "http://10.0.0.9/copy$is_args$args" || r.Mirror.Host != "10.0.0.9" {
		t.Errorf("route %+v", r)
	}
	if st := p.Status(); !st.Mirror || st.AuthSkip {
		t.Errorf("status declares mirror %v, auth skip %v", st.Mirror, st.AuthSkip)
	}
}

// mirror-target: a target with variables as it is; with a path the query
// string, as nginx's proxy_pass with a path appends it; else the request
// URI.
func TestMirrorTarget(t *testing.T) {
	for target, want := range map[string]string{
		"https://m.example$request_uri":     "https://m.example$request_uri",
		"http://m.example/copy":             "http://m.example/copy$is_args$args",
		"http://m.example":                  "http://m.example$request_uri",
		"http://10.0.0.1:81/a$is_args$args": "http://10.0.0.1:81/a$is_args$args",
	} {
		if got := mirrorTarget(&annotations.Mirror{Target: target}); got != want {
			t.Errorf("mirrorTarget(%s) = %s, want %s", target, got, want)
		}
	}
}

// satisfy any with auth-url on a routed host: the router auth location
// answers 200 without asking when the router says the source range let
// the client in, and the status server declares the variable; without
// satisfy any it always asks.
func TestRouterAuthSkip(t *testing.T) {
	svcs, eps := labObjects()
	a := annotations.Prefix
	authed := func(name, host string, kv ...modeltest.Option) *networkingv1.Ingress {
		return ingress("lab", name, append(kv, annotate(a+"auth-url", "http://10.0.0.8/auth"), annotate(a+"whitelist-source-range", "10.0.0.0/8"),
			rule(host, path("/", prefix, "api-service", 80)))...)
	}
	for _, skip := range []bool{true, false} {
		var kv []modeltest.Option
		if skip {
			kv = append(kv, annotate(a+"satisfy", "any"))
		}
		m := model.Build(model.Input{IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: eps,
			Options: defaultOptions, Ingresses: []*networkingv1.Ingress{authed("a", "a.example.com", kv...)}})
		if len(m.Diagnostics) > 0 {
			t.Fatalf("diagnostics: %v", m.Diagnostics)
		}
		p := planOf(t, m)
		if len(p.Router.AuthLocations) != 1 || p.Router.AuthLocations[0].Skip != skip || p.Router.AuthSkip != skip || p.Status().AuthSkip != skip {
			t.Errorf("satisfy any %v: auth locations %+v, router skip %v, status %+v", skip, p.Router.AuthLocations, p.Router.AuthSkip, p.Status())
		}
	}
}
