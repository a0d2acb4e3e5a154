package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

func canaryOpts(kv ...string) ingOpt {
	return func(i *networkingv1.Ingress) {
		annotate(annotations.Prefix+"canary", "true")(i)
		for j := 0; j+1 < len(kv); j += 2 {
			annotate(annotations.Prefix+kv[j], kv[j+1])(i)
		}
	}
}

func TestBuildTraffic(t *testing.T) {
	svcs, slices := labObjects()
	api := backend("lab/api-service:80", "lab", "api-service", "80", Endpoint{"198.18.0.2", 5678}, Endpoint{"198.18.0.3", 5678})
	fe := backend("lab/frontend-service:80", "lab", "frontend-service", "80", Endpoint{"198.18.0.4", 5678})
	with := func(b *Backend, name string, f func(*Backend)) *Backend {
		v := *b
		v.Name = name
		f(&v)
		return &v
	}
	mainLoc := func(mod Modifier, p, be string) *Location { return loc(mod, p, be, "lab", "main") }
	const host = "app.example.com"
	tests := []struct {
		name string
		ings []*networkingv1.Ingress
		want Config
	}{{
		name: "canary (older than its main) attaches to the matching host and path only; others are reported",
		ings: []*networkingv1.Ingress{
			ingress("lab", "main", created(5), rule(host, path("/api", prefix, "api-service", 80), path("/", prefix, "api-service", 80))),
			ingress("lab", "canary", created(1), canaryOpts("canary-weight", "20", "canary-by-header", "X-Canary",
				"canary-by-header-pattern", "^v[0-9]+$", "canary-by-cookie", "beta"),
				rule(host, path("/api", prefix, "frontend-service", 80), path("/nothing", exact, "frontend-service", 80)),
				rule("other.example.com", path("/api", prefix, "frontend-service", 80))),
		},
		want: Config{
			Servers: []*Server{catchAll(), {Host: host, Locations: []*Location{
				mainLoc(ModPrefix, "/", api.Name),
				mainLoc(ModExact, "/api", "lab/api-service:80+lab/frontend-service:80@lab/canary"),
				mainLoc(ModPrefix, "/api/", "lab/api-service:80+lab/frontend-service:80@lab/canary"),
			}}},
			Backends: []*Backend{api, with(api, "lab/api-service:80+lab/frontend-service:80@lab/canary", func(b *Backend) {
				b.Canary = &Canary{Backend: fe.Name, Ingress: IngressRef{"lab", "canary"}, Weight: 20, WeightTotal: 100,
					Header: "X-Canary", HeaderPattern: "^v[0-9]+$", Cookie: "beta"}
			}), fe},
			Ingresses: []IngressRef{{"lab", "canary"}, {"lab", "main"}},
			Diagnostics: []diag.Diagnostic{
				warn("Ingress", "lab", "canary", "spec.rules[0].http.paths[1]", "CanaryWithoutMain",
					`no non-canary Ingress serves Exact path /nothing on host "app.example.com"; this canary path is ignored`),
				warn("Ingress", "lab", "canary", "spec.rules[1].http.paths[0]", "CanaryWithoutMain",
					`no non-canary Ingress serves Prefix path /api on host "other.example.com"; this canary path is ignored`),
			},
		},
	}, {
		name: "a second canary on the same route is refused; a canary alone creates no route",
		ings: []*networkingv1.Ingress{
			ingress("lab", "main", created(1), rule(host, path("/", prefix, "api-service", 80))),
			ingress("lab", "c1", created(2), canaryOpts("canary-weight", "100"), rule(host, path("/", prefix, "frontend-service", 80))),
			ingress("lab", "c2", created(3), canaryOpts("canary-by-header", "X-Beta", "canary-by-header-value", "yes"), rule(host, path("/", prefix, "api-service", 80))),
			ingress("lab", "lonely", created(4), canaryOpts(), rule("lonely.example.com", path("/", prefix, "api-service", 80))),
		},
		want: Config{
			Servers: []*Server{catchAll(), {Host: host, Locations: []*Location{
				mainLoc(ModPrefix, "/", "lab/api-service:80+lab/frontend-service:80@lab/c1"),
			}}},
			Backends: []*Backend{api, with(api, "lab/api-service:80+lab/frontend-service:80@lab/c1", func(b *Backend) {
				b.Canary = &Canary{Backend: fe.Name, Ingress: IngressRef{"lab", "c1"}, Weight: 100, WeightTotal: 100}
			}), fe},
			Ingresses: []IngressRef{{"lab", "c1"}, {"lab", "c2"}, {"lab", "lonely"}, {"lab", "main"}},
			Diagnostics: []diag.Diagnostic{
				warn("Ingress", "lab", "c2", "spec.rules[0].http.paths[0]", "CanaryConflict",
					`Prefix path / on host "app.example.com" already has canary Ingress lab/c1, which is older; this canary path is ignored`),
				warn("Ingress", "lab", "lonely", "spec.rules[0].http.paths[0]", "CanaryWithoutMain",
					`no non-canary Ingress serves Prefix path / on host "lonely.example.com"; this canary path is ignored`),
			},
		},
	}, {
		name: "limits and source ranges on the locations; affinity and hashing on a backend of the Ingress's own",
		ings: []*networkingv1.Ingress{
			ingress("lab", "limited", created(1),
				annotate(annotations.Prefix+"limit-rps", "2"), annotate(annotations.Prefix+"limit-connections", "3"),
				annotate(annotations.Prefix+"limit-allowlist", "10.0.0.1/8"),
				annotate(annotations.Prefix+"denylist-source-range", "192.0.2.1"), annotate(annotations.Prefix+"whitelist-source-range", "2001:db8::/32,10.0.0.0/8"),
				annotate(annotations.Prefix+"affinity", "cookie"), annotate(annotations.Prefix+"session-cookie-name", "route"),
				rule(host, path("/", prefix, "api-service", 80))),
			ingress("lab", "hashed", created(2), annotate(annotations.Prefix+"upstream-hash-by", "$arg_user"),
				rule(host, path("/h", exact, "api-service", 80))),
		},
		want: func() Config {
			rl := &RateLimit{Scope: "3dc15e88643c", Ingress: IngressRef{"lab", "limited"},
				Allowlist: []string{"10.0.0.0/8"}, Limits: Limits{RPS: 2, BurstRPS: 10, Connections: 3}}
			sticky := "lab/api-service:80@lab/limited"
			hashed := "lab/api-service:80@lab/hashed"
			return Config{
				Servers: []*Server{catchAll(), {Host: host, Locations: []*Location{
					{Modifier: ModPrefix, Path: "/", IngressPath: "/", Backend: sticky, Ingress: IngressRef{"lab", "limited"}, RateLimit: rl,
						SourceRange: &SourceRange{Allow: []string{"2001:db8::/32", "10.0.0.0/8"}, Deny: []string{"192.0.2.1/32"}}},
					loc(ModExact, "/h", hashed, "lab", "hashed"),
				}}},
				Backends: []*Backend{api, with(api, hashed, func(b *Backend) { b.HashBy = "$arg_user" }),
					with(api, sticky, func(b *Backend) {
						b.Affinity = &annotations.Affinity{Cookie: "route", Mode: "balanced"}
					})},
				Ingresses:  []IngressRef{{"lab", "hashed"}, {"lab", "limited"}},
				RateLimits: []*RateLimit{rl},
			}
		}(),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.Global = defaultGlobal
			got := Build(Input{Ingresses: tc.ings, IngressClasses: []*networkingv1.IngressClass{ourClass()},
				Services: svcs, EndpointSlices: slices, Options: defaultOptions})
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("Build() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigMapLimitStatus(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metaNS("ingress-nginx", "portico"), Data: map[string]string{"limit-req-status-code": "429", "limit-conn-status-code": "5xx"}}
	g, ds := parseConfigMap(cm)
	if g.LimitReqStatus != 429 || g.LimitConnStatus != 503 {
		t.Errorf("statuses %d/%d, want 429/503", g.LimitReqStatus, g.LimitConnStatus)
	}
	if len(ds) != 1 || ds[0].Reason != "InvalidOption" || ds[0].Field != "data[limit-conn-status-code]" {
		t.Errorf("diagnostics %v, want one InvalidOption for limit-conn-status-code", ds)
	}
}
