package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

func TestMatch(t *testing.T) {
	cfg := &Config{Servers: []*Server{
		catchAll(loc(ModPrefix, "/", "", "", "")),
		{Host: "*.example.com", Locations: []*Location{loc(ModPrefix, "/", "lab/wild:80", "lab", "wild")}},
		{Host: "app.example.com", Locations: []*Location{
			loc(ModPrefix, "/", "lab/fe:80", "lab", "app"),
			loc(ModExact, "/api", "lab/api:80", "lab", "app"),
			loc(ModPrefix, "/api/", "lab/api:80", "lab", "app"),
			loc(ModPrefix, "/api/v2/", "lab/api2:80", "lab", "v2"),
			loc(ModExact, "/api/v2/health", "lab/health:80", "lab", "v2"),
		}},
	}}
	tests := []struct {
		host, path   string
		server, want string // server host, location "modifier path"
	}{
		{"app.example.com", "/", "app.example.com", " /"},
		{"APP.example.com:8080", "/api", "app.example.com", "= /api"},
		{"app.example.com", "/api?x=1", "app.example.com", "= /api"},
		{"app.example.com", "/api/", "app.example.com", " /api/"},
		{"app.example.com", "/apix", "app.example.com", " /"},
		{"app.example.com", "/api/v2/x", "app.example.com", " /api/v2/"},
		{"app.example.com", "/api/v2/health", "app.example.com", "= /api/v2/health"},
		{"app.example.com", "/api/v2/health/x", "app.example.com", " /api/v2/"},
		{"app.example.com.", "", "app.example.com", " /"},
		{"other.example.com", "/api", "*.example.com", " /"},
		{"a.b.example.com", "/", "", " /"},
		{"example.com", "/", "", " /"},
		{"", "/x", "", " /"},
	}
	for _, tt := range tests {
		srv, l := cfg.Match(tt.host, tt.path)
		if srv == nil || l == nil {
			t.Errorf("Match(%q, %q) = nil", tt.host, tt.path)
			continue
		}
		if got := string(l.Modifier) + " " + l.Path; srv.Host != tt.server || got != tt.want {
			t.Errorf("Match(%q, %q) = %q %q, want %q %q", tt.host, tt.path, srv.Host, got, tt.server, tt.want)
		}
	}
	if s, l := (&Config{}).Match("x", "/"); s != nil || l != nil {
		t.Errorf("empty config matched %v %v", s, l)
	}
}

// MatchCases is testdata/match.json: routes as the Lua router holds them
// and the requests that must reach each, shared by every matcher's test
// and router.lua's.
type MatchCases struct {
	Hosts map[string]struct {
		Routes []struct {
			Exact bool   `json:"exact"`
			Regex bool   `json:"regex"`
			Path  string `json:"path"`
		} `json:"routes"`
	} `json:"hosts"`
	Cases []struct {
		Host  string `json:"host"`
		Path  string `json:"path"`
		Key   string `json:"key"`
		Route int    `json:"route"`
	} `json:"cases"`
}

// The model's servers and locations, made of the table's hosts and
// routes, match as the table says.
func TestMatchTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "match.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mc MatchCases
	if err := json.Unmarshal(b, &mc); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{}
	for host, h := range mc.Hosts {
		s := &Server{Host: host}
		for _, r := range h.Routes {
			mod := ModPrefix
			switch {
			case r.Exact:
				mod = ModExact
			case r.Regex:
				mod = ModRegex
			}
			s.Locations = append(s.Locations, &Location{Modifier: mod, Path: r.Path})
		}
		cfg.Servers = append(cfg.Servers, s)
	}
	for _, c := range mc.Cases {
		srv, l := cfg.Match(c.Host, c.Path)
		got := -1
		for i, x := range srv.Locations {
			if x == l {
				got = i
			}
		}
		if srv.Host != c.Key || got != c.Route {
			t.Errorf("Match(%q, %q) = host %q, route %d; want %q, %d", c.Host, c.Path, srv.Host, got, c.Key, c.Route)
		}
	}
}

// Ownership gives the same answer as Build and says why.
func TestOwnership(t *testing.T) {
	classes := []*networkingv1.IngressClass{ourClass(), class("other", "example.com/other", false)}
	tests := []struct {
		ing  *networkingv1.Ingress
		opts Options
		own  bool
		why  string
	}{
		{ingress("lab", "a", className("nginx")), defaultOptions, true, `ingressClassName "nginx": IngressClass controller k8s.io/ingress-nginx is ours`},
		{ingress("lab", "a", className("other")), defaultOptions, false, `ingressClassName "other": IngressClass controller example.com/other is not ours (k8s.io/ingress-nginx)`},
		{ingress("lab", "a", className("gone")), defaultOptions, false, `ingressClassName "gone": no IngressClass of that name exists`},
		{ingress("lab", "a", noClass(), annotate(legacyClassAnnotation, "nginx")), defaultOptions, true, `annotation kubernetes.io/ingress.class="nginx" matches --ingress-class`},
		{ingress("lab", "a", noClass()), defaultOptions, false, "no class, no default IngressClass of ours, and --watch-ingress-without-class is off"},
		// --ingress-class-by-name: the class named --ingress-class is ours
		// whatever its controller.
		{ingress("lab", "a", className("other")), Options{IngressClass: "other", ControllerClass: defaultOptions.ControllerClass, IngressClassByName: true}, true,
			`ingressClassName "other": the IngressClass of that name is ours by --ingress-class-by-name`},
		{ingress("lab", "a", className("other")), Options{IngressClass: "other", ControllerClass: defaultOptions.ControllerClass}, false,
			`ingressClassName "other": IngressClass controller example.com/other is not ours (k8s.io/ingress-nginx)`},
		// --disable-catch-all: an Ingress with a default backend is not served.
		{ingress("lab", "a", className("nginx"), defaultBackend("web", 80)), Options{IngressClass: "nginx", ControllerClass: defaultOptions.ControllerClass, DisableCatchAll: true}, false,
			"spec.defaultBackend makes it a catch-all Ingress, and --disable-catch-all is on"},
	}
	for _, tt := range tests {
		own, why := Ownership(tt.opts, classes, tt.ing)
		if own != tt.own || why != tt.why {
			t.Errorf("Ownership(%s) = %v %q, want %v %q", tt.ing.Name, own, why, tt.own, tt.why)
		}
		cfg := Build(Input{Ingresses: []*networkingv1.Ingress{tt.ing}, IngressClasses: classes, Options: tt.opts})
		if got := len(cfg.Ingresses) == 1; got != own {
			t.Errorf("Build owns %s: %v, Ownership says %v", tt.ing.Name, got, own)
		}
	}
}

// With ReportUnknownClass, an Ingress naming a class that does not exist
// gets a diagnostic; one of another controller's class does not.
func TestUnknownClassDiagnostic(t *testing.T) {
	opts := defaultOptions
	opts.ReportUnknownClass = true
	in := Input{
		Ingresses:      []*networkingv1.Ingress{ingress("lab", "gone", className("gone")), ingress("lab", "other", className("other"))},
		IngressClasses: []*networkingv1.IngressClass{ourClass(), class("other", "example.com/other", false)},
		Options:        opts,
	}
	want := []diag.Diagnostic{warn("Ingress", "lab", "gone", "spec.ingressClassName", "UnknownIngressClass",
		`IngressClass "gone" does not exist; no controller serves this Ingress`)}
	if diff := cmp.Diff(want, Build(in).Diagnostics); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	in.Options = defaultOptions
	if ds := Build(in).Diagnostics; len(ds) != 0 {
		t.Errorf("controller options report foreign Ingresses: %v", ds)
	}
}
