package model

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// The locations of regex hosts and the backends requests get, as
// ingress-nginx v1.15 makes them (internal/ingress/controller:
// getBackendServers sorts a host's locations by path, then length;
// updateServerLocations adds the exact twin of a Prefix path; the
// template's enforceRegexModifier and buildLocation make every location
// "~* ^<path>" once one needs a regex), on the examples of its docs
// (docs/user-guide/ingress-path-matching.md, docs/examples/rewrite).
func TestRegexHosts(t *testing.T) {
	useRegex := annotate(annotations.Prefix+"use-regex", "true")
	rewrite := func(v string) ingOpt { return annotate(annotations.Prefix+"rewrite-target", v) }
	var svcs []*corev1.Service
	for _, n := range []string{"s1", "s2", "s3", "s4", "canary"} {
		svcs = append(svcs, service("ns", n, svcPort("", 80, 80)))
	}
	type req struct{ path, backend, rewrite string }
	tests := []struct {
		name      string
		ings      []*networkingv1.Ingress
		host      string
		locations []string
		reqs      []req
		diags     string
	}{{
		name: "path priority: a rewrite Ingress makes another Ingress's Prefix paths regexes",
		ings: []*networkingv1.Ingress{
			ingress("ns", "test-ingress-1", rule("test.com", path("/foo/bar", prefix, "s1", 80), path("/foo/bar/", prefix, "s2", 80))),
			ingress("ns", "test-ingress-2", created(1), rewrite("/$1"), rule("test.com", path("/foo/bar/(.+)", impl, "s3", 80))),
		},
		host: "test.com",
		locations: []string{"^/foo/bar/(.+) ns/s3:80 /$1", "^/foo/bar/ ns/s2:80", "^/foo/bar/ ns/s2:80",
			"^/foo/bar/ ns/s1:80", "^/foo/bar ns/s1:80", "^/ "},
		reqs: []req{{"/foo/bar/1", "ns/s3:80", "/$1"}, {"/foo/bar/", "ns/s2:80", ""}, {"/foo/bar", "ns/s1:80", ""},
			{"/FOO/Bar", "ns/s1:80", ""}, {"/foo/barx", "ns/s1:80", ""}, {"/foo", "", ""}},
	}, {
		name: "the documented warning: a longer regex wins over the longest exact match",
		ings: []*networkingv1.Ingress{
			ingress("ns", "test-ingress-3", useRegex, rule("test.com", path("/foo/bar/bar", prefix, "s1", 80),
				path("/foo/bar/[A-Z0-9]{3}", impl, "s2", 80))),
		},
		host:      "test.com",
		locations: []string{"^/foo/bar/[A-Z0-9]{3} ns/s2:80", "^/foo/bar/bar ns/s1:80", "^/ "},
		reqs:      []req{{"/foo/bar/bar", "ns/s2:80", ""}, {"/foo/bar/ba", "", ""}},
	}, {
		name: "the rewrite example: rewrite-target with captures, with or without use-regex, Prefix or not",
		ings: []*networkingv1.Ingress{
			ingress("ns", "rewrite", useRegex, rewrite("/$2"), rule("rewrite.bar.com", path("/something(/|$)(.*)", impl, "s1", 80))),
			ingress("ns", "no-use-regex", rewrite("/$2"), rule("rewrite.bar.com", path("/other(/|$)(.*)", prefix, "s2", 80))),
		},
		host:      "rewrite.bar.com",
		locations: []string{"^/something(/|$)(.*) ns/s1:80 /$2", "^/other(/|$)(.*) ns/s2:80 /$2", "^/ "},
		reqs: []req{{"/something", "ns/s1:80", "/$2"}, {"/something/new", "ns/s1:80", "/$2"},
			{"/other/x", "ns/s2:80", "/$2"}, {"/somethingelse", "", ""}},
	}, {
		name: "a plain Ingress's paths on a regex host: Prefix matches more, Exact matches what starts with it, an Exact twin leaves no second location",
		ings: []*networkingv1.Ingress{
			ingress("ns", "plain", rule("h.com", path("/app", prefix, "s1", 80), path("/x", exact, "s2", 80),
				path("/", prefix, "s4", 80))),
			ingress("ns", "twin", created(1), rule("h.com", path("/app", exact, "s3", 80))),
			ingress("ns", "regex", created(2), useRegex, rule("h.com", path("/r.*", impl, "s2", 80))),
		},
		host: "h.com",
		// Sorted by length, then path, descending ("/r.*" before "/app"),
		// then in claim order: "/app" of plain, then of twin, whose Exact
		// path keeps plain's "/app" to "^/app/".
		locations: []string{"^/r.* ns/s2:80", "^/app/ ns/s1:80", "^/app ns/s3:80", "^/x ns/s2:80", "^/ ns/s4:80"},
		reqs: []req{{"/application", "ns/s3:80", ""}, {"/app/", "ns/s1:80", ""}, {"/app", "ns/s3:80", ""},
			{"/x/y", "ns/s2:80", ""}, {"/zzz", "ns/s4:80", ""}},
	}, {
		name: "a rewrite-target equal to the path: no regex",
		ings: []*networkingv1.Ingress{
			ingress("ns", "same", rewrite("/"), rule("h.com", path("/", prefix, "s1", 80))),
			ingress("ns", "plain", rule("h.com", path("/api", prefix, "s2", 80))),
		},
		host:      "h.com",
		locations: []string{"/ ns/s1:80", "= /api ns/s2:80", "/api/ ns/s2:80"},
		reqs:      []req{{"/api", "ns/s2:80", ""}, {"/apix", "ns/s1:80", ""}},
	}, {
		name: "a rewrite-target equal to a Prefix path without its slash rewrites its slashed location",
		ings: []*networkingv1.Ingress{
			ingress("ns", "same", rewrite("/foo"), rule("h.com", path("/foo", prefix, "s1", 80))),
		},
		host:      "h.com",
		locations: []string{"^/foo/ ns/s1:80 /foo", "^/foo ns/s1:80", "^/ "},
		reqs:      []req{{"/foo/x", "ns/s1:80", "/foo"}, {"/foo", "ns/s1:80", ""}},
	}, {
		name: "ImplementationSpecific and Prefix are one path type: the newer is not served; a plain path that is no regex is refused",
		ings: []*networkingv1.Ingress{
			ingress("ns", "old", rule("h.com", path("/a", impl, "s1", 80))),
			ingress("ns", "new", created(1), useRegex, rule("h.com", path("/a", prefix, "s2", 80), path("/b", prefix, "s2", 80))),
			ingress("ns", "bad", created(2), rule("h.com", path("/c(", prefix, "s3", 80))),
		},
		host:      "h.com",
		locations: []string{"^/b ns/s2:80", "^/a/ ns/s1:80", "^/a ns/s1:80", "^/ "},
		reqs:      []req{{"/a", "ns/s1:80", ""}, {"/c(", "", ""}},
		diags:     "bad:InvalidPath,new:PathConflict",
	}, {
		name: "a canary attaches to the routes of its path and pathType",
		ings: []*networkingv1.Ingress{
			ingress("ns", "main", useRegex, rule("h.com", path("/v[0-9]", prefix, "s1", 80), path("/plain", prefix, "s2", 80))),
			ingress("ns", "canary", annotate(annotations.Prefix+"canary", "true"), annotate(annotations.Prefix+"canary-weight", "100"),
				rule("h.com", path("/v[0-9]", impl, "canary", 80))),
		},
		host:      "h.com",
		locations: []string{"^/v[0-9] ns/s1:80+ns/canary:80@ns/canary", "^/plain ns/s2:80", "^/ "},
		reqs:      []req{{"/v1", "ns/s1:80+ns/canary:80@ns/canary", ""}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Build(Input{Ingresses: tc.ings, IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, Options: defaultOptions})
			var got []string
			var srv *Server
			for _, s := range cfg.Servers {
				if s.Host == tc.host {
					srv = s
				}
			}
			if srv == nil {
				t.Fatalf("no server %s", tc.host)
			}
			for _, l := range srv.Locations {
				s := l.Path + " " + l.Backend
				if l.Modifier == ModExact {
					s = "= " + s
				}
				if l.RewriteTarget != "" {
					s += " " + string(l.RewriteTarget)
				}
				got = append(got, s)
			}
			if !reflect.DeepEqual(got, tc.locations) {
				t.Errorf("locations\n%q\nwant\n%q", got, tc.locations)
			}
			for _, r := range tc.reqs {
				_, l := cfg.Match(tc.host, r.path)
				if l == nil || l.Backend != r.backend || string(l.RewriteTarget) != r.rewrite {
					t.Errorf("%s: got %+v, want backend %q rewrite %q", r.path, l, r.backend, r.rewrite)
				}
			}
			var ds []string
			for _, d := range cfg.Diagnostics {
				if d.Reason != "BackendNotFound" {
					ds = append(ds, d.Object.Name+":"+d.Reason)
				}
			}
			if got := strings.Join(ds, ","); got != tc.diags {
				t.Errorf("diagnostics %s, want %s: %v", got, tc.diags, cfg.Diagnostics)
			}
		})
	}
}
