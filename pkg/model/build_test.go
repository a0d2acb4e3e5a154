package model

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

func backend(name, ns, svc, port string, eps ...Endpoint) *Backend {
	return &Backend{Name: name, Service: ServiceRef{ns, svc}, Port: port, LoadBalance: annotations.RoundRobin, Endpoints: eps}
}

func viaSvc(b *Backend) *Backend {
	b.ViaService = true
	return b
}

func warn(kind, ns, name, field, reason, msg string) diag.Diagnostic {
	return diag.Diagnostic{Object: diag.Object{Kind: kind, Namespace: ns, Name: name}, Field: field, Severity: diag.Warning, Reason: reason, Message: msg}
}

func errd(kind, ns, name, field, reason, msg string) diag.Diagnostic {
	d := warn(kind, ns, name, field, reason, msg)
	d.Severity = diag.Error
	return d
}

func TestBuild(t *testing.T) {
	svcs, slices := labObjects()
	api := backend("lab/api-service:80", "lab", "api-service", "80", Endpoint{"198.18.0.2", 5678}, Endpoint{"198.18.0.3", 5678})
	fe := backend("lab/frontend-service:80", "lab", "frontend-service", "80", Endpoint{"198.18.0.4", 5678})

	tests := []struct {
		name string
		in   Input
		want Config
	}{{
		name: "seed path routing with rewrite-target",
		in: Input{
			Ingresses: []*networkingv1.Ingress{ingress("lab", "path-ingress",
				annotate(annotations.Prefix+"rewrite-target", "/"),
				rule("app.example.com", path("/api", prefix, "api-service", 80), path("/", prefix, "frontend-service", 80)))},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       svcs, EndpointSlices: slices, Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{catchAll(), {Host: "app.example.com", Locations: []*Location{
				// rewrite-target makes the host's paths regexes, as in
				// ingress-nginx; "/" is its own target: no rewrite.
				{Modifier: ModRegex, Path: "^/api", Backend: api.Name, Ingress: IngressRef{"lab", "path-ingress"}, IngressPath: "/api", RewriteTarget: "/"},
				{Modifier: ModRegex, Path: "^/", Backend: fe.Name, Ingress: IngressRef{"lab", "path-ingress"}, IngressPath: "/"},
			}}},
			Backends:  []*Backend{api, fe},
			Ingresses: []IngressRef{{"lab", "path-ingress"}},
		},
	}, {
		name: "rules without host join the catch-all server; wildcard hosts match one label",
		in: Input{
			Ingresses: []*networkingv1.Ingress{ingress("lab", "game",
				rule("", path("/lobby", prefix, "api-service", 80)),
				rule("*.example.com", path("/", prefix, "frontend-service", 80)))},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       svcs, EndpointSlices: slices, Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{
				catchAll(loc(ModPrefix, "/", "", "", ""), loc(ModExact, "/lobby", api.Name, "lab", "game"), loc(ModPrefix, "/lobby/", api.Name, "lab", "game")),
				{Host: "*.example.com", Locations: []*Location{loc(ModPrefix, "/", fe.Name, "lab", "game")}},
			},
			Backends:  []*Backend{api, fe},
			Ingresses: []IngressRef{{"lab", "game"}},
		},
	}, {
		name: "class selection: spec class, legacy annotation, default class; others ignored completely",
		in: Input{
			Ingresses: []*networkingv1.Ingress{
				ingress("lab", "by-class", rule("a.example.com", path("/", prefix, "api-service", 80))),
				ingress("lab", "by-annotation", noClass(), annotate(legacyClassAnnotation, "nginx"), rule("b.example.com", path("/", prefix, "api-service", 80))),
				ingress("lab", "by-default", noClass(), rule("c.example.com", path("/", prefix, "api-service", 80))),
				ingress("lab", "traefik", noClass(), annotate(legacyClassAnnotation, "traefik"), rule("d.example.com", path("/", prefix, "frontend-service", 80))),
				ingress("lab", "other-class", className("other"), rule("e.example.com", path("/", prefix, "frontend-service", 80))),
				ingress("lab", "missing-class", className("nope"), rule("f.example.com", path("/", prefix, "frontend-service", 80))),
			},
			IngressClasses: []*networkingv1.IngressClass{class("nginx", "k8s.io/ingress-nginx", true), class("other", "example.com/other", false)},
			Services:       svcs, EndpointSlices: slices, Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{catchAll(),
				{Host: "a.example.com", Locations: []*Location{loc(ModPrefix, "/", api.Name, "lab", "by-class")}},
				{Host: "b.example.com", Locations: []*Location{loc(ModPrefix, "/", api.Name, "lab", "by-annotation")}},
				{Host: "c.example.com", Locations: []*Location{loc(ModPrefix, "/", api.Name, "lab", "by-default")}},
			},
			Backends:  []*Backend{api},
			Ingresses: []IngressRef{{"lab", "by-annotation"}, {"lab", "by-class"}, {"lab", "by-default"}},
		},
	}, {
		name: "exact beats prefix silently; the older Ingress wins a real conflict and the loser is told",
		in: Input{
			Ingresses: []*networkingv1.Ingress{
				ingress("lab", "newer", created(5), rule("app.example.com", path("/api", prefix, "frontend-service", 80))),
				ingress("lab", "older", created(1), rule("app.example.com", path("/api", prefix, "api-service", 80))),
				ingress("lab", "exact", created(9), rule("app.example.com", path("/api", exact, "frontend-service", 80))),
			},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       svcs, EndpointSlices: slices, Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{catchAll(), {Host: "app.example.com", Locations: []*Location{
				loc(ModPrefix, "/", "", "", ""),
				loc(ModExact, "/api", fe.Name, "lab", "exact"),
				loc(ModPrefix, "/api/", api.Name, "lab", "older"),
			}}},
			Backends:  []*Backend{api, fe},
			Ingresses: []IngressRef{{"lab", "exact"}, {"lab", "newer"}, {"lab", "older"}},
			Diagnostics: []diag.Diagnostic{warn("Ingress", "lab", "newer", "spec.rules[0].http.paths[0]", "PathConflict",
				`Prefix path /api on host "app.example.com" is already served by Ingress lab/older (spec.rules[0].http.paths[0]), which is older; this path is not served`)},
		},
	}, {
		name: "missing service and missing port answer 503 for that route only; named ports resolve",
		in: Input{
			Ingresses: []*networkingv1.Ingress{ingress("lab", "refs", rule("app.example.com",
				path("/gone", prefix, "gone", 80),
				path("/badport", prefix, "api-service", 81),
				namedPortPath("/named", prefix, "named", "http"),
			))},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       []*corev1.Service{service("lab", "api-service", svcPort("", 80, 5678)), service("lab", "named", svcPort("metrics", 9090, 9090), svcPort("http", 80, 8080))},
			EndpointSlices: []*discoveryv1.EndpointSlice{
				slice("lab", "named", "named-a", "http", 8080, ep("198.18.0.9")),
				slice("lab", "named", "named-b", "metrics", 9090, ep("198.18.0.9")),
			},
			Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{catchAll(), {Host: "app.example.com", Locations: []*Location{
				loc(ModPrefix, "/", "", "", ""),
				loc(ModExact, "/badport", "lab/api-service:81", "lab", "refs"),
				loc(ModPrefix, "/badport/", "lab/api-service:81", "lab", "refs"),
				loc(ModExact, "/gone", "lab/gone:80", "lab", "refs"),
				loc(ModPrefix, "/gone/", "lab/gone:80", "lab", "refs"),
				loc(ModExact, "/named", "lab/named:http", "lab", "refs"),
				loc(ModPrefix, "/named/", "lab/named:http", "lab", "refs"),
			}}},
			Backends: []*Backend{
				{Name: "lab/api-service:81", Service: ServiceRef{"lab", "api-service"}, Port: "81", LoadBalance: annotations.RoundRobin, NoEndpoints: "service lab/api-service has no port 81", ServiceBroken: true},
				{Name: "lab/gone:80", Service: ServiceRef{"lab", "gone"}, Port: "80", LoadBalance: annotations.RoundRobin, NoEndpoints: "service lab/gone does not exist", ServiceBroken: true},
				backend("lab/named:http", "lab", "named", "http", Endpoint{"198.18.0.9", 8080}),
			},
			Ingresses: []IngressRef{{"lab", "refs"}},
			Diagnostics: []diag.Diagnostic{
				warn("Ingress", "lab", "refs", "spec.rules[0].http.paths[0].backend.service", "BackendNotFound", "service lab/gone does not exist; requests get 503"),
				warn("Ingress", "lab", "refs", "spec.rules[0].http.paths[1].backend.service", "BackendNotFound", "service lab/api-service has no port 81; requests get 503"),
			},
		},
	}, {
		name: "service-upstream proxies to the cluster IP; a headless Service keeps its endpoints; other Ingresses keep the Pods",
		in: Input{
			Ingresses: []*networkingv1.Ingress{
				ingress("lab", "mesh", annotate(annotations.Prefix+"service-upstream", "true"), rule("app.example.com",
					path("/a", exact, "a", 80), path("/h", exact, "h", 80), path("/named", exact, "named", 8080))),
				ingress("lab", "pods", rule("pods.example.com", path("/a", exact, "a", 80))),
			},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services: []*corev1.Service{
				withClusterIP(service("lab", "a", svcPort("", 80, 8080)), "10.96.0.10"),
				withClusterIP(service("lab", "h", svcPort("", 80, 8080)), corev1.ClusterIPNone),
				withClusterIP(service("lab", "named", svcPort("http", 8080, 9090)), "fd00::a"),
			},
			EndpointSlices: []*discoveryv1.EndpointSlice{
				slice("lab", "a", "a-1", "", 8080, ep("198.18.0.1"), ep("198.18.0.2", notReady())),
				slice("lab", "h", "h-1", "", 8080, ep("198.18.0.3")),
			},
			Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{catchAll(),
				{Host: "app.example.com", Locations: []*Location{
					loc(ModPrefix, "/", "", "", ""),
					loc(ModExact, "/a", "lab/a:80@service", "lab", "mesh"),
					loc(ModExact, "/h", "lab/h:80", "lab", "mesh"),
					loc(ModExact, "/named", "lab/named:8080@service", "lab", "mesh"),
				}},
				{Host: "pods.example.com", Locations: []*Location{
					loc(ModPrefix, "/", "", "", ""),
					loc(ModExact, "/a", "lab/a:80", "lab", "pods"),
				}},
			},
			Backends: []*Backend{
				backend("lab/a:80", "lab", "a", "80", Endpoint{"198.18.0.1", 8080}),
				viaSvc(backend("lab/a:80@service", "lab", "a", "80", Endpoint{"10.96.0.10", 80})),
				backend("lab/h:80", "lab", "h", "80", Endpoint{"198.18.0.3", 8080}),
				viaSvc(backend("lab/named:8080@service", "lab", "named", "8080", Endpoint{"fd00::a", 8080})),
			},
			Ingresses: []IngressRef{{"lab", "mesh"}, {"lab", "pods"}},
			Diagnostics: []diag.Diagnostic{
				warn("Ingress", "lab", "mesh", "spec.rules[0].http.paths[1].backend.service", "ServiceUpstreamHeadless",
					"service lab/h is headless (no cluster IP); service-upstream does not apply, its endpoints are used"),
			},
		},
	}, {
		name: "server-alias and from-to-www-redirect: names no Ingress has as a host, the oldest claim first",
		in: Input{
			Ingresses: []*networkingv1.Ingress{
				ingress("lab", "site", created(1), annotate(annotations.Prefix+"server-alias", "alias.example.com,taken.example.com,shared.example.com"),
					annotate(annotations.Prefix+"from-to-www-redirect", "true"), rule("example.com", path("/", prefix, "api-service", 80))),
				ingress("lab", "www-blog", created(2), annotate(annotations.Prefix+"from-to-www-redirect", "true"),
					annotate(annotations.Prefix+"server-alias", "shared.example.com"),
					rule("www.blog.example.com", path("/", prefix, "frontend-service", 80))),
				ingress("lab", "blog", created(3), rule("blog.example.com", path("/", prefix, "frontend-service", 80))),
				ingress("lab", "taken", created(4), rule("taken.example.com", path("/", prefix, "frontend-service", 80))),
			},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       svcs, EndpointSlices: slices, Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{catchAll(),
				{Host: "blog.example.com", Locations: []*Location{loc(ModPrefix, "/", fe.Name, "lab", "blog")}},
				{Host: "example.com", Aliases: []string{"alias.example.com", "shared.example.com"},
					Locations: []*Location{loc(ModPrefix, "/", api.Name, "lab", "site")}},
				{Host: "taken.example.com", Locations: []*Location{loc(ModPrefix, "/", fe.Name, "lab", "taken")}},
				{Host: "www.blog.example.com", Locations: []*Location{loc(ModPrefix, "/", fe.Name, "lab", "www-blog")}},
				{Host: "www.example.com", RedirectTo: "example.com"},
			},
			Backends:  []*Backend{api, fe},
			Ingresses: []IngressRef{{"lab", "blog"}, {"lab", "site"}, {"lab", "taken"}, {"lab", "www-blog"}},
			Diagnostics: []diag.Diagnostic{
				warn("Ingress", "lab", "site", "metadata.annotations[nginx.ingress.kubernetes.io/server-alias]", "AliasConflict",
					"taken.example.com is the host of an Ingress of its own; it is not an alias of example.com"),
				warn("Ingress", "lab", "www-blog", "metadata.annotations[nginx.ingress.kubernetes.io/server-alias]", "AliasConflict",
					"shared.example.com already answers for example.com, claimed by an older Ingress; it is not an alias of www.blog.example.com"),
			},
		},
	}, {
		name: "only ready endpoints serve; terminating-but-serving ones only when none is ready",
		in: Input{
			Ingresses: []*networkingv1.Ingress{ingress("lab", "eps", rule("app.example.com",
				path("/a", exact, "a", 80), path("/b", exact, "b", 80), path("/c", exact, "c", 80)))},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       []*corev1.Service{service("lab", "a", svcPort("", 80, 80)), service("lab", "b", svcPort("", 80, 80)), service("lab", "c", svcPort("", 80, 80))},
			EndpointSlices: []*discoveryv1.EndpointSlice{
				slice("lab", "a", "a-1", "", 80, ep("198.18.0.1"), ep("198.18.0.2", notReady()), ep("198.18.0.3", terminatingServing())),
				slice("lab", "b", "b-1", "", 80, ep("198.18.0.4", notReady()), ep("198.18.0.5", terminatingServing())),
				slice("lab", "c", "c-1", "", 80, ep("198.18.0.6", notReady())),
			},
			Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{catchAll(), {Host: "app.example.com", Locations: []*Location{
				loc(ModPrefix, "/", "", "", ""),
				loc(ModExact, "/a", "lab/a:80", "lab", "eps"),
				loc(ModExact, "/b", "lab/b:80", "lab", "eps"),
				loc(ModExact, "/c", "lab/c:80", "lab", "eps"),
			}}},
			Backends: []*Backend{
				backend("lab/a:80", "lab", "a", "80", Endpoint{"198.18.0.1", 80}),
				backend("lab/b:80", "lab", "b", "80", Endpoint{"198.18.0.5", 80}),
				{Name: "lab/c:80", Service: ServiceRef{"lab", "c"}, Port: "80", LoadBalance: annotations.RoundRobin, NoEndpoints: "service lab/c has no ready endpoints (1 not ready)"},
			},
			Ingresses: []IngressRef{{"lab", "eps"}},
		},
	}, {
		name: "a bad annotation refuses only its Ingress, whose paths answer 503; a bad path only that path",
		in: Input{
			Ingresses: []*networkingv1.Ingress{
				ingress("lab", "bad-annotation", annotate(annotations.Prefix+"rewrite-target", "/x; return 200"),
					rule("evil.example.com", path("/", prefix, "api-service", 80))),
				ingress("lab", "bad-path", rule("app.example.com",
					path("/ok", exact, "api-service", 80), path("/x{y}", exact, "api-service", 80))),
				ingress("lab", "bad-host", rule("Not_A_Host", path("/", prefix, "api-service", 80))),
			},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       svcs, EndpointSlices: slices, Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{catchAll(), {Host: "app.example.com", Locations: []*Location{
				loc(ModPrefix, "/", "", "", ""),
				loc(ModExact, "/ok", api.Name, "lab", "bad-path"),
			}}, {Host: "evil.example.com", Locations: []*Location{
				loc(ModPrefix, "/", "lab/bad-annotation@refused", "lab", "bad-annotation"),
			}}},
			Backends: []*Backend{api, {Name: "lab/bad-annotation@refused", LoadBalance: annotations.RoundRobin, Refused: true,
				NoEndpoints: "Ingress lab/bad-annotation is refused: InvalidAnnotation at metadata.annotations[nginx.ingress.kubernetes.io/rewrite-target] (kubectl describe ingress -n lab bad-annotation)"}},
			Ingresses: []IngressRef{{"lab", "bad-annotation"}, {"lab", "bad-host"}, {"lab", "bad-path"}},
			Diagnostics: []diag.Diagnostic{
				errd("Ingress", "lab", "bad-annotation", "", "IngressRejected",
					"the Ingress is refused because of the errors above: its paths answer 503 until they are fixed, so that none of its requests goes to another route"),
				errd("Ingress", "lab", "bad-annotation", "metadata.annotations[nginx.ingress.kubernetes.io/rewrite-target]", "InvalidAnnotation",
					`invalid value "/x; return 200": want an absolute path such as / or /app/ made of letters, digits and -._~/!&()*+,=:@`),
				errd("Ingress", "lab", "bad-host", "spec.rules[0].host", "InvalidHost", `host "Not_A_Host" is not a lower-case DNS name (optionally prefixed with "*."); the rule is not served`),
				errd("Ingress", "lab", "bad-path", "spec.rules[0].http.paths[1]", "InvalidPath", `path "/x{y}" must start with / and contain only letters, digits and -._~/!&()*+,=:@; the path is not served`),
			},
		},
	}, {
		name: "defaultBackend serves what matches no rule, on its hosts and on the catch-all",
		in: Input{
			Ingresses: []*networkingv1.Ingress{ingress("lab", "fallback", defaultBackend("frontend-service", 80),
				rule("app.example.com", path("/api", prefix, "api-service", 80)))},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       svcs, EndpointSlices: slices, Options: defaultOptions,
		},
		want: Config{
			Servers: []*Server{
				catchAll(loc(ModPrefix, "/", fe.Name, "", "")),
				{Host: "app.example.com", Locations: []*Location{
					loc(ModPrefix, "/", fe.Name, "", ""),
					loc(ModExact, "/api", api.Name, "lab", "fallback"),
					loc(ModPrefix, "/api/", api.Name, "lab", "fallback"),
				}}},
			Backends:  []*Backend{api, fe},
			Ingresses: []IngressRef{{"lab", "fallback"}},
		},
	}, {
		name: "ImplementationSpecific is nginx's prefix; unknown annotations are reported; ConfigMap sets defaults",
		in: Input{
			Ingresses: []*networkingv1.Ingress{ingress("lab", "impl", annotate(annotations.Prefix+"made-up", "1"),
				rule("app.example.com", path("/static", impl, "api-service", 80)))},
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       svcs, EndpointSlices: slices, Options: defaultOptions,
			ConfigMap: &corev1.ConfigMap{ObjectMeta: metaNS("ingress-nginx", "portico"), Data: map[string]string{"load-balance": "ewma", "no-such-option": "x"}},
		},
		want: Config{
			Global:          func() Global { g := defaultGlobal; g.LoadBalance = annotations.EWMA; return g }(),
			ConfigMapValues: map[string]string{"load-balance": "ewma"},
			Servers: []*Server{catchAll(), {Host: "app.example.com", Locations: []*Location{
				loc(ModPrefix, "/", "", "", ""),
				loc(ModPrefix, "/static", api.Name, "lab", "impl"),
			}}},
			Backends:  []*Backend{{Name: api.Name, Service: api.Service, Port: "80", LoadBalance: annotations.EWMA, Endpoints: api.Endpoints}},
			Ingresses: []IngressRef{{"lab", "impl"}},
			Diagnostics: []diag.Diagnostic{
				warn("ConfigMap", "ingress-nginx", "portico", "data[no-such-option]", "UnsupportedOption", "option is not supported by Portico and is ignored"),
				warn("Ingress", "lab", "impl", "metadata.annotations[nginx.ingress.kubernetes.io/made-up]", "UnsupportedAnnotation",
					"annotation nginx.ingress.kubernetes.io/made-up is not supported by Portico and is ignored"),
			},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want.Global.LoadBalance == "" {
				tc.want.Global = defaultGlobal
			}
			got := Build(tc.in)
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("Build() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Build must not depend on the order of its input.
func TestBuildIsDeterministic(t *testing.T) {
	svcs, slices := labObjects()
	in := Input{
		Ingresses: []*networkingv1.Ingress{
			ingress("lab", "a", rule("app.example.com", path("/api", prefix, "api-service", 80))),
			ingress("lab", "b", rule("app.example.com", path("/api", prefix, "frontend-service", 80))),
			ingress("lab", "c", rule("", path("/", prefix, "frontend-service", 80))),
			ingress("other", "a", rule("x.example.com", path("/", exact, "api-service", 80))),
		},
		IngressClasses: []*networkingv1.IngressClass{ourClass()},
		Services:       svcs, EndpointSlices: slices, Options: defaultOptions,
	}
	first, _ := json.Marshal(Build(in))
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(in.Ingresses), func(i, j int) { in.Ingresses[i], in.Ingresses[j] = in.Ingresses[j], in.Ingresses[i] })
		r.Shuffle(len(in.Services), func(i, j int) { in.Services[i], in.Services[j] = in.Services[j], in.Services[i] })
		got, _ := json.Marshal(Build(in))
		if string(got) != string(first) {
			t.Fatalf("Build depends on input order:\n%s\n%s", first, got)
		}
	}
}
