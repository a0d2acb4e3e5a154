package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// A change to EndpointSlices alone gives, through WithEndpoints, the
// backends a whole Build gives: the endpoints, the 503 reasons of those
// without, service-upstream's cluster IP, the variants of canaries and
// affinity, the default backend; the diagnostics stay those of the
// Services. Backends that did not change stay the same.
func TestWithEndpoints(t *testing.T) {
	svcs := []*corev1.Service{
		service("lab", "api", svcPort("", 80, 5678)),
		service("lab", "web", svcPort("http", 80, 8080)),
		withClusterIP(service("lab", "mesh", svcPort("", 80, 9090)), "10.96.0.7"),
		service("lab", "canary", svcPort("", 80, 5678)),
		service("lab", "errors", svcPort("", 80, 5678)),
	}
	ings := []*networkingv1.Ingress{
		ingress("lab", "main", annotate(annotations.Prefix+"affinity", "cookie"), rule("a.example.com",
			path("/", prefix, "api", 80), namedPortPath("/web", prefix, "web", "http"), path("/gone", prefix, "missing", 80))),
		ingress("lab", "canary", created(1), annotate(annotations.Prefix+"canary", "true"), annotate(annotations.Prefix+"canary-weight", "10"),
			rule("a.example.com", path("/", prefix, "canary", 80))),
		ingress("lab", "mesh", annotate(annotations.Prefix+"service-upstream", "true"), rule("m.example.com", path("/", prefix, "mesh", 80))),
	}
	in := func(eps ...*discoveryv1.EndpointSlice) Input {
		return Input{Ingresses: ings, Services: svcs, EndpointSlices: eps, IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Options: Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx", DefaultBackend: &ServiceRef{"lab", "errors"}}}
	}
	before := []*discoveryv1.EndpointSlice{
		slice("lab", "api", "api-1", "", 5678, ep("198.18.0.1"), ep("198.18.0.2")),
		slice("lab", "web", "web-1", "http", 8080, ep("198.18.0.3")),
		slice("lab", "mesh", "mesh-1", "", 9090, ep("198.18.0.4")),
		slice("lab", "canary", "canary-1", "", 5678, ep("198.18.0.5")),
	}
	after := []*discoveryv1.EndpointSlice{
		slice("lab", "api", "api-1", "", 5678, ep("198.18.0.2"), ep("198.18.0.9")),
		slice("lab", "web", "web-1", "http", 8080, ep("198.18.0.3", notReady())),
		slice("lab", "canary", "canary-1", "", 5678, ep("198.18.0.5")),
		slice("lab", "errors", "errors-1", "", 5678, ep("198.18.0.6")),
	}
	old := Build(in(before...))
	oldBackends := cmp.Diff(nil, old.Backends)
	got := old.WithEndpoints(svcs, after)
	want := Build(in(after...))
	if diff := cmp.Diff(want.Backends, got.Backends); diff != "" {
		t.Errorf("backends (-Build +WithEndpoints):\n%s", diff)
	}
	if diff := cmp.Diff(want.Diagnostics, got.Diagnostics); diff != "" {
		t.Errorf("diagnostics (-Build +WithEndpoints):\n%s", diff)
	}
	if cmp.Diff(nil, old.Backends) != oldBackends {
		t.Error("WithEndpoints changed the model it was given")
	}
	unchanged := map[string]bool{"lab/canary:80": true, "lab/canary:80@lab/canary@lab/main": true, "lab/mesh:80@service": true, "lab/missing:80": true, "lab/missing:80@lab/main": true}
	kinds := map[string]bool{}
	for i, be := range got.Backends {
		if same := be == old.Backends[i]; same != unchanged[be.Name] {
			t.Errorf("backend %s: the same as before %v", be.Name, same)
		}
		kinds[be.NoEndpoints] = true
	}
	for _, why := range []string{"service lab/web has no ready endpoints (1 not ready)", "service lab/missing does not exist", ""} {
		if !kinds[why] {
			t.Errorf("no backend says %q: %v", why, kinds)
		}
	}
}
