package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

func TestBuildRoutes(t *testing.T) {
	svcs, slices := labObjects()
	const api, fe = "lab/api-service:80", "lab/frontend-service:80"
	ref := func(name string) IngressRef { return IngressRef{"lab", name} }
	// kind is how a server is routed: "router", "claims", "dynamic" or
	// "static".
	kind := func(s *Server) string {
		switch {
		case s.Router:
			return "router"
		case s.Claims:
			return "claims"
		case s.Dynamic:
			return "dynamic"
		}
		return "static"
	}
	snippets := configMap(map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical"})
	tests := []struct {
		name   string
		ings   []*networkingv1.Ingress
		cm     *corev1.ConfigMap
		kinds  map[string]string // host → kind
		routes []*HostRoutes
		claims []string // the catch-all locations with Claim, as "modifier path"
	}{{
		name: "plain hosts and the rules without a host go to the router; TLS hosts redirect and send HSTS",
		ings: []*networkingv1.Ingress{
			ingress("lab", "plain", rule("a.example.com", path("/api", prefix, "api-service", 80), path("/", prefix, "frontend-service", 80),
				path("/x", exact, "api-service", 80), path("/impl", impl, "api-service", 80))),
			ingress("lab", "hostless", rule("", path("/lobby", prefix, "api-service", 80))),
			ingress("lab", "tls", withTLS("", "t.example.com"), rule("t.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "a.example.com": "dynamic", "t.example.com": "dynamic"},
		routes: []*HostRoutes{
			{Host: "", Routes: []Route{
				{Path: "/"},
				{Exact: true, Path: "/lobby", Backend: api, Ingress: ref("hostless"), IngressPath: "/lobby"},
				{Path: "/lobby/", Backend: api, Ingress: ref("hostless"), IngressPath: "/lobby"},
			}},
			{Host: "a.example.com", Routes: []Route{
				{Path: "/", Backend: fe, Ingress: ref("plain"), IngressPath: "/"},
				{Exact: true, Path: "/api", Backend: api, Ingress: ref("plain"), IngressPath: "/api"},
				{Path: "/api/", Backend: api, Ingress: ref("plain"), IngressPath: "/api"},
				{Path: "/impl", Backend: api, Ingress: ref("plain"), IngressPath: "/impl"},
				{Exact: true, Path: "/x", Backend: api, Ingress: ref("plain"), IngressPath: "/x"},
			}},
			{Host: "t.example.com", HSTS: true, Routes: []Route{
				{Path: "/", Backend: api, Ingress: ref("tls"), IngressPath: "/", SSLRedirect: true},
			}},
		},
	}, {
		name: "annotations nginx.conf must do, wildcards and the hosts a wildcard shadows stay static; timeouts, regex paths, rewrites and x-forwarded-prefix go with the route",
		ings: []*networkingv1.Ingress{
			ingress("lab", "rewrite", annotate(annotations.Prefix+"rewrite-target", "/"), rule("r.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "approot", annotate(annotations.Prefix+"app-root", "/app"), rule("root.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "regex", annotate(annotations.Prefix+"use-regex", "true"), rule("re.example.com", path("/a+", impl, "api-service", 80))),
			ingress("lab", "timeout", annotate(annotations.Prefix+"proxy-read-timeout", "5"), rule("slow.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "bodysize", annotate(annotations.Prefix+"proxy-body-size", "8m"), rule("big.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "fwdprefix", annotate(annotations.Prefix+"x-forwarded-prefix", "/shop"), rule("p.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "wild", rule("*.foo.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "shadowed", rule("a.foo.com", path("/", prefix, "frontend-service", 80)), rule("a.b.foo.com", path("/", prefix, "frontend-service", 80))),
			ingress("lab", "sticky", annotate(annotations.Prefix+"affinity", "cookie"), rule("s.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "*.foo.com": "static", "a.b.foo.com": "dynamic", "a.foo.com": "static",
			"r.example.com": "dynamic", "re.example.com": "dynamic", "root.example.com": "static", "s.example.com": "dynamic", "slow.example.com": "dynamic",
			"big.example.com": "static", "p.example.com": "dynamic"},
		routes: []*HostRoutes{
			{Host: "", Routes: []Route{{Path: "/"}}},
			{Host: "a.b.foo.com", Routes: []Route{{Path: "/", Backend: fe, Ingress: ref("shadowed"), IngressPath: "/"}}},
			{Host: "p.example.com", Routes: []Route{{Path: "/", Backend: api, Ingress: ref("fwdprefix"), IngressPath: "/", ForwardedPrefix: "/shop"}}},
			{Host: "r.example.com", Routes: []Route{{Path: "/", Backend: api, Ingress: ref("rewrite"), IngressPath: "/", RewriteTarget: "/"}}},
			// A host without a "/" rule answers 404 there.
			{Host: "re.example.com", Routes: []Route{{Path: "/"}, {Regex: true, Path: "^/a+", Backend: api, Ingress: ref("regex"), IngressPath: "/a+"}}},
			// Affinity only changes the backend the balancer uses.
			{Host: "s.example.com", Routes: []Route{{Path: "/", Backend: api + "@lab/sticky", Ingress: ref("sticky"), IngressPath: "/"}}},
			// The balancer sets the route's timeouts.
			{Host: "slow.example.com", Routes: []Route{{Path: "/", Backend: api, Ingress: ref("timeout"), IngressPath: "/", ReadTimeout: 5}}},
		},
	}, {
		name: "rules without a host that need nginx stay locations of the catch-all server, which claim requests for dynamic hosts",
		ings: []*networkingv1.Ingress{
			ingress("lab", "plain", rule("a.example.com", path("/lobby", prefix, "frontend-service", 80))),
			ingress("lab", "hostless", annotate(annotations.Prefix+"rewrite-target", "/"), rule("",
				path("/lobby", prefix, "api-service", 80), path("/x", exact, "api-service", 80))),
			ingress("lab", "regex", annotate(annotations.Prefix+"use-regex", "true"), rule("", path("/r[0-9]+", impl, "api-service", 80))),
			ingress("lab", "auth", annotate(annotations.Prefix+"auth-url", "http://10.0.0.1/auth"), rule("", path("/private", prefix, "api-service", 80))),
			ingress("lab", "static", annotate(annotations.Prefix+"proxy-body-size", "8m"), rule("s.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "claims", "a.example.com": "dynamic", "s.example.com": "static"},
		routes: []*HostRoutes{
			// Its own rules only: "/" is its fallback (404 here), never
			// the rules without a host.
			{Host: "a.example.com", Routes: []Route{
				{Path: "/"},
				{Exact: true, Path: "/lobby", Backend: fe, Ingress: ref("plain"), IngressPath: "/lobby"},
				{Path: "/lobby/", Backend: fe, Ingress: ref("plain"), IngressPath: "/lobby"},
			}},
		},
		// Every user location, the plain "/" too; not the internal auth one.
		claims: []string{" /", "= /lobby", " /lobby/", "= /private", " /private/", "= /x", "~* ^/r[0-9]+"},
	}, {
		name: "app-root on the catch-all server turns dynamic routing off",
		ings: []*networkingv1.Ingress{
			ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "hostless", annotate(annotations.Prefix+"app-root", "/app"), rule("", path("/lobby", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "static", "a.example.com": "static"},
	}, {
		name: "a server-snippet on the catch-all server turns dynamic routing off",
		ings: []*networkingv1.Ingress{
			ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "hostless", annotate(annotations.Prefix+"server-snippet", "return 418;"), rule("", path("/lobby", prefix, "api-service", 80))),
		},
		cm:    snippets,
		kinds: map[string]string{"": "static", "a.example.com": "static"},
	}, {
		name: "a configuration-snippet on a rule without a host turns dynamic routing off",
		ings: []*networkingv1.Ingress{
			ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "hostless", annotate(annotations.Prefix+"configuration-snippet", "return 418;"), rule("", path("/lobby", prefix, "api-service", 80))),
		},
		cm:    snippets,
		kinds: map[string]string{"": "static", "a.example.com": "static"},
	}, {
		name:  "dynamic-routing false: every host is a server block",
		ings:  []*networkingv1.Ingress{ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80)))},
		cm:    configMap(map[string]string{"dynamic-routing": "false"}),
		kinds: map[string]string{"": "static", "a.example.com": "static"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Build(Input{Ingresses: tc.ings, IngressClasses: []*networkingv1.IngressClass{ourClass()},
				Services: svcs, EndpointSlices: slices, ConfigMap: tc.cm, Options: defaultOptions})
			kinds := map[string]string{}
			for _, s := range got.Servers {
				kinds[s.Host] = kind(s)
			}
			if diff := cmp.Diff(tc.kinds, kinds); diff != "" {
				t.Errorf("servers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.routes, got.Routes); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
			var claims []string
			for _, s := range got.Servers {
				for _, l := range s.Locations {
					if l.Claim {
						if s.Host != "" {
							t.Errorf("location %s of %q has Claim", l.Path, s.Host)
						}
						claims = append(claims, string(l.Modifier)+" "+l.Path)
					}
				}
			}
			if diff := cmp.Diff(tc.claims, claims); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}
