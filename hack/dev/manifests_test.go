package main

import (
	"bytes"
	"io/fs"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/lint"
	"github.com/portico-ingress/portico/pkg/model"
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
	cfg := model.Build(in)
	kinds := map[string]string{}
	for _, s := range cfg.Servers {
		kinds[s.Host] = "static"
		switch {
		case s.Router:
			kinds[s.Host] = "router"
		case s.Dynamic:
			kinds[s.Host] = "dynamic"
		}
	}
	want := map[string]string{"": "router", "api.example.com": "dynamic", "app.example.com": "dynamic"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	var hosts []string
	for _, hr := range cfg.Routes {
		hosts = append(hosts, hr.Host)
	}
	if !slices.Equal(hosts, []string{"", "api.example.com", "app.example.com"}) {
		t.Errorf("routes for %q, want the rules without a host, api.example.com and app.example.com", hosts)
	}
	rewrites := 0
	for _, r := range cfg.Routes[0].Routes {
		if r.RewriteTarget != "" {
			rewrites++
		}
	}
	if rewrites == 0 {
		t.Errorf("no route with rewrite-target among the rules without a host: %+v", cfg.Routes[0].Routes)
	}
}
