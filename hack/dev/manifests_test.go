package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/lint"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

// The manifests as the controller's model sees them: the Lua router
// serves every seed host, seed 002's host-less game Ingress with its
// rewrite-target too, so no seed Ingress needs a reload.
func TestManifestsKeepDynamicRouting(t *testing.T) {
	var objs lint.Objects
	files, err := fs.Glob(manifests, "manifests/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := manifests.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := objs.Decode(bytes.NewReader(data), f, "default"); err != nil {
			t.Fatal(err)
		}
	}
	in := model.Input{Options: model.Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"},
		Ingresses: objs.Ingresses, IngressClasses: objs.IngressClasses, Services: objs.Services}
	p, err := plan.Make(model.Build(in), nil, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, s := range p.Servers {
		kinds[s.Host] = "static"
		if s.Router != nil {
			kinds[s.Host] = "router"
		}
	}
	var routes plan.Routes
	if err := json.Unmarshal(p.Documents.Routes.Body, &routes); err != nil {
		t.Fatal(err)
	}
	for h := range routes.Hosts {
		if _, ok := kinds[h]; !ok {
			kinds[h] = "routed"
		}
	}
	want := map[string]string{"": "router", "api.example.com": "routed", "app.example.com": "routed"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	if hosts := slices.Sorted(maps.Keys(routes.Hosts)); !slices.Equal(hosts, []string{"", "api.example.com", "app.example.com"}) {
		t.Errorf("routes for %q, want the rules without a host, api.example.com and app.example.com", hosts)
	}
	rewrites := 0
	for _, r := range routes.Hosts[""].Routes {
		if r.RewriteTarget != "" {
			rewrites++
		}
	}
	if rewrites == 0 {
		t.Errorf("no route with rewrite-target among the rules without a host: %+v", routes.Hosts[""].Routes)
	}
}
