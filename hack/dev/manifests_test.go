package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/portico-ingress/portico/pkg/model"
)

// The manifests as the controller's model sees them: seed 002's host-less
// game Ingress needs nginx (rewrite-target) and claims requests for the
// plain api.example.com, which the Lua router serves.
func TestManifestsKeepDynamicRouting(t *testing.T) {
	in := model.Input{Options: model.Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"}}
	files, err := fs.Glob(manifests, "manifests/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := manifests.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var obj unstructured.Unstructured
			if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var into any
			switch obj.GetKind() {
			case "Ingress":
				ing := &networkingv1.Ingress{}
				in.Ingresses, into = append(in.Ingresses, ing), ing
			case "IngressClass":
				c := &networkingv1.IngressClass{}
				in.IngressClasses, into = append(in.IngressClasses, c), c
			case "Service":
				s := &corev1.Service{}
				in.Services, into = append(in.Services, s), s
			default:
				continue
			}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, into); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
	}
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
