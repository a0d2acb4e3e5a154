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

// The manifests as the controller's model sees them: seed 002's host-less
// game Ingress needs nginx (rewrite-target) and claims requests for the
// plain api.example.com, which the Lua router serves.
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
		case s.Claims:
			kinds[s.Host] = "claims"
		case s.Router:
			kinds[s.Host] = "router"
		case s.Dynamic:
			kinds[s.Host] = "dynamic"
		}
	}
	want := map[string]string{"": "claims", "api.example.com": "dynamic", "app.example.com": "static"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	var hosts []string
	for _, hr := range cfg.Routes {
		hosts = append(hosts, hr.Host)
	}
	if !slices.Equal(hosts, []string{"api.example.com"}) {
		t.Errorf("routes for %v, want api.example.com only", hosts)
	}
}
