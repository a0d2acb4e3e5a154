package plan

import (
	"reflect"
	"slices"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/modeltest"
)

// A host that asks clients for a certificate (auth-tls) keeps its server
// block: the router cannot ask.
func TestClientTLSKeepsAServerBlock(t *testing.T) {
	root := []*model.Location{{Path: "/", Backend: "lab/a:80"}}
	m := &model.Config{Global: model.Build(model.Input{}).Global, Servers: []*model.Server{
		{Default: true, Locations: []*model.Location{{Path: "/"}}},
		{Host: "m.example.com", ClientTLS: &model.ClientTLS{File: "ca-0011.pem", Verify: "on", Depth: 1}, Locations: root},
		{Host: "plain.example.com", Locations: root},
	}}
	p := planOf(t, m)
	var hosts []string
	for _, s := range p.Servers {
		hosts = append(hosts, s.Host)
	}
	if !slices.Equal(hosts, []string{"", "m.example.com"}) || p.Servers[0].Router == nil {
		t.Errorf("server blocks %q (router %v), want the router's and m.example.com's", hosts, p.Servers[0].Router != nil)
	}
	if _, ok := routesOf(t, p).Hosts["plain.example.com"]; !ok {
		t.Error("plain.example.com is not routed")
	}
}

// When the last route of a kind goes, its router location stays, unused,
// if dropping it would be the only change to nginx.conf: no reload. A
// change that reloads anyway drops it.
func TestMakeKeepsUnusedRouterLocations(t *testing.T) {
	svcs, eps := labObjects()
	build := func(ings ...*networkingv1.Ingress) *model.Config {
		return model.Build(model.Input{Ingresses: ings, IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services: svcs, EndpointSlices: eps, Options: defaultOptions,
			ConfigMap: configMap(map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical"})})
	}
	plain := ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80)))
	buffered := ingress("lab", "buf", annotate(annotations.Prefix+"proxy-buffer-size", "16k"), annotate(annotations.Prefix+"proxy-body-size", "8m"),
		rule("b.example.com", path("/", prefix, "api-service", 80)))
	snippet := ingress("lab", "snippet", annotate(annotations.Prefix+"configuration-snippet", "return 418;"),
		rule("s.example.com", path("/", prefix, "api-service", 80)))
	prev := planOf(t, build(plain, buffered))
	if len(prev.Router.Locations) != 3 { // "/" of 8m, the global limit's, the buffers'
		t.Fatalf("router locations %+v, want three", prev.Router.Locations)
	}
	// What the controller keeps of the previous plan while it makes the
	// next is enough.
	kept, err := Make(build(plain), prev.Carried(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !kept.sameNginx(prev.Carried(), kept.Router) || !reflect.DeepEqual(kept.Router, prev.Router) {
		t.Errorf("router locations %+v, want the previous plan's %+v", kept.Router.Locations, prev.Router.Locations)
	}
	if routes := routesOf(t, kept).Hosts; len(routes) != 2 {
		t.Errorf("routes %v, want those of the rules without a host and a.example.com", routes)
	}
	fresh := planOf(t, build(plain))
	if len(fresh.Router.Locations) != 1 {
		t.Errorf("without a previous plan: router locations %+v, want \"/\" alone", fresh.Router.Locations)
	}
	// A new server block reloads anyway: the unused locations go.
	dropped, err := Make(build(plain, snippet), prev.Carried(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped.Router.Locations) != 1 || len(dropped.Servers) != 2 {
		t.Errorf("with a new server block: router locations %+v, servers %d; want \"/\" alone, 2", dropped.Router.Locations, len(dropped.Servers))
	}
}

// After a change to EndpointSlices alone, the plan of the model with the
// new endpoints has the documents a whole Make gives it; nginx.conf's
// part is the previous plan's.
func TestWithEndpoints(t *testing.T) {
	svcs, eps := labObjects()
	in := model.Input{Ingresses: []*networkingv1.Ingress{
		ingress("lab", "a", annotate(annotations.Prefix+"affinity", "cookie"), rule("a.example.com", path("/", prefix, "api-service", 80))),
		ingress("lab", "b", rule("b.example.com", path("/", prefix, "frontend-service", 80)))},
		IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: eps, Options: defaultOptions}
	prev := planOf(t, model.Build(in))
	in.EndpointSlices = []*discoveryv1.EndpointSlice{eps[1], modeltest.Slice("lab", "api-service", "api-1", "", 5678, modeltest.Endpoint("198.18.0.9"))}
	m := prev.Model.WithEndpoints(svcs, in.EndpointSlices)
	got, err := prev.WithEndpoints(m)
	if err != nil {
		t.Fatal(err)
	}
	want := planOf(t, model.Build(in))
	for _, d := range []struct{ got, want *Document }{
		{got.Documents.Backends, want.Documents.Backends}, {got.Documents.Routes, want.Documents.Routes},
		{got.Documents.Certificates, want.Documents.Certificates}} {
		if string(d.got.Body) != string(d.want.Body) {
			t.Errorf("%s:\n got %s\nwant %s", d.want.Path, d.got.Body, d.want.Body)
		}
		if !reflect.DeepEqual(d.got.Items, d.want.Items) {
			t.Errorf("%s: items differ", d.want.Path)
		}
	}
	if got.Model != m || !got.sameNginx(prev, prev.Router) {
		t.Error("the plan is not prev with the new model")
	}
	if string(prev.Documents.Backends.Items["lab/frontend-service:80"]) == "" || string(got.Documents.Backends.Body) == string(prev.Documents.Backends.Body) {
		t.Error("the backends document did not change")
	}
}
