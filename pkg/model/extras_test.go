package model

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// custom-headers reads a ConfigMap of the Ingress's namespace whose names
// global-allowed-response-headers allows; fastcgi-params-configmap one
// whose values name only variables nginx has; either refuses the Ingress
// otherwise.
func TestBuildConfigMapAnnotations(t *testing.T) {
	a := annotations.Prefix
	cm := func(ns, name string, data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metaNS(ns, name), Data: data}
	}
	in := Input{
		IngressClasses: []*networkingv1.IngressClass{ourClass()},
		Services:       []*corev1.Service{service("web", "app", svcPort("", 80, 8080))},
		ConfigMap:      configMap(map[string]string{"global-allowed-response-headers": "X-Frame-Options, Content-Security-Policy"}),
		ConfigMaps: []*corev1.ConfigMap{
			cm("web", "headers", map[string]string{"X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'; img-src $x"}),
			cm("web", "not-allowed", map[string]string{"X-Powered-By": "me"}),
			cm("web", "bad-value", map[string]string{"X-Frame-Options": "DENY\r\nSet-Cookie: a=b"}),
			cm("other", "headers", map[string]string{"X-Frame-Options": "DENY"}),
			cm("web", "fcgi", map[string]string{"SCRIPT_FILENAME": "${document_root}/index.php", "APP": "prod"}),
			cm("web", "fcgi-unknown-var", map[string]string{"SCRIPT_FILENAME": "$secret/index.php"}),
			cm("web", "fcgi-quote", map[string]string{"X": `a"b`}),
		},
		Options: defaultOptions,
	}
	ing := func(name string, kv ...string) *networkingv1.Ingress {
		opts := []ingOpt{rule(name+".example", path("/", pfx(), "app", 80))}
		for i := 0; i+1 < len(kv); i += 2 {
			opts = append(opts, annotate(a+kv[i], kv[i+1]))
		}
		return ingress("web", name, opts...)
	}
	in.Ingresses = []*networkingv1.Ingress{
		ing("headers", "custom-headers", "headers"),
		ing("own-ns", "custom-headers", "web/headers"),
		ing("missing", "custom-headers", "nope"),
		ing("not-allowed", "custom-headers", "not-allowed"),
		ing("bad-value", "custom-headers", "bad-value"),
		ing("other-ns", "custom-headers", "other/headers"),
		ing("fcgi", "backend-protocol", "FCGI", "fastcgi-index", "index.php", "fastcgi-params-configmap", "fcgi"),
		ing("fcgi-unknown-var", "backend-protocol", "FCGI", "fastcgi-params-configmap", "fcgi-unknown-var"),
		ing("fcgi-quote", "backend-protocol", "FCGI", "fastcgi-params-configmap", "fcgi-quote"),
		ing("fcgi-not-fcgi", "fastcgi-index", "index.php"),
	}
	cfg := Build(in)
	want := "bad-value:IngressRejected,bad-value:InvalidCustomHeaders,fcgi-not-fcgi:IneffectiveAnnotation," +
		"fcgi-quote:IngressRejected,fcgi-quote:InvalidFastCGIParams,fcgi-unknown-var:IngressRejected,fcgi-unknown-var:InvalidFastCGIParams," +
		"missing:IngressRejected,missing:InvalidCustomHeaders,not-allowed:IngressRejected,not-allowed:InvalidCustomHeaders," +
		"other-ns:IngressRejected,other-ns:InvalidCustomHeaders"
	if got := reasonsOf(cfg.Diagnostics); got != want {
		t.Errorf("diagnostics %s\nwant %s\n%v", got, want, cfg.Diagnostics)
	}
	// Served: a location whose backend is not the refused one (a refused
	// Ingress's paths answer 503 through it).
	refused := map[string]bool{}
	for _, b := range cfg.Backends {
		refused[b.Name] = b.Refused
	}
	byHost := map[string]*Location{}
	for _, s := range cfg.Servers {
		for _, l := range s.Locations {
			if l.Path == "/" && !refused[l.Backend] {
				byHost[s.Host] = l
			}
		}
	}
	headers := []KeyValue{{"Content-Security-Policy", "default-src 'self'; img-src $x"}, {"X-Frame-Options", "DENY"}}
	for _, h := range []string{"headers.example", "own-ns.example"} {
		if l := byHost[h]; l == nil || !reflect.DeepEqual(l.ResponseHeaders, headers) {
			t.Errorf("%s: response headers %+v, want %v", h, l, headers)
		}
	}
	for _, h := range []string{"missing.example", "not-allowed.example", "bad-value.example", "other-ns.example", "fcgi-quote.example"} {
		if byHost[h] != nil {
			t.Errorf("%s is served", h)
		}
	}
	wantFCGI := &FastCGI{Index: "index.php", Params: []KeyValue{{"APP", "prod"}, {"SCRIPT_FILENAME", "${document_root}/index.php"}}}
	if l := byHost["fcgi.example"]; l == nil || !reflect.DeepEqual(l.FastCGI, wantFCGI) || l.Proxy.Protocol != annotations.ProtoFCGI {
		t.Errorf("fcgi: %+v, want %+v", l, wantFCGI)
	}
	if l := byHost["fcgi-not-fcgi.example"]; l == nil || l.FastCGI != nil {
		t.Errorf("fastcgi-index without FCGI: %+v", l)
	}
}

// ssl-ciphers and ssl-prefer-server-ciphers are the host's, each from the
// oldest Ingress of the host that sets it; relative-redirects in the
// ConfigMap makes every location's redirects relative.
func TestBuildHostCiphersAndRedirectForm(t *testing.T) {
	a := annotations.Prefix
	in := Input{
		IngressClasses: []*networkingv1.IngressClass{ourClass()},
		Services:       []*corev1.Service{service("web", "app", svcPort("", 80, 8080))},
		ConfigMap:      configMap(map[string]string{"relative-redirects": "true"}),
		Options:        defaultOptions,
		Ingresses: []*networkingv1.Ingress{
			ingress("web", "old", annotate(a+"ssl-ciphers", "HIGH:!aNULL"), rule("c.example", path("/a", pfx(), "app", 80))),
			ingress("web", "new", created(1), annotate(a+"ssl-ciphers", "MEDIUM"), annotate(a+"ssl-prefer-server-ciphers", "false"),
				annotate(a+"use-port-in-redirects", "true"), rule("c.example", path("/b", pfx(), "app", 80))),
		},
	}
	cfg := Build(in)
	for _, s := range cfg.Servers {
		if s.Host != "c.example" {
			continue
		}
		if want := (annotations.TLSCiphers{Ciphers: "HIGH:!aNULL", PreferServerCiphers: "off"}); s.TLSCiphers != want {
			t.Errorf("ciphers %+v, want %+v", s.TLSCiphers, want)
		}
		for _, l := range s.Locations {
			if l.Ingress.Name == "new" && (!l.Redirects.Relative || !l.Redirects.Port) || l.Ingress.Name == "old" && !l.Redirects.Relative {
				t.Errorf("%s: redirect form %+v", l.Path, l.Redirects)
			}
		}
	}
}

// A canary backend gets the main Ingress's affinity (affinity-canary-
// behavior sticky, the default), or its own Ingress's affinity and
// hashing (legacy), as ingress-nginx merges them.
func TestBuildCanaryAffinity(t *testing.T) {
	a := annotations.Prefix
	build := func(canaryAnns ...string) *Backend {
		opts := []ingOpt{created(1), annotate(a+"canary", "true"), annotate(a+"canary-weight", "10"),
			rule("c.example", path("/", pfx(), "canary", 80))}
		for i := 0; i+1 < len(canaryAnns); i += 2 {
			opts = append(opts, annotate(a+canaryAnns[i], canaryAnns[i+1]))
		}
		cfg := Build(Input{
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       []*corev1.Service{service("web", "app", svcPort("", 80, 8080)), service("web", "canary", svcPort("", 80, 8080))},
			Options:        defaultOptions,
			Ingresses: []*networkingv1.Ingress{
				ingress("web", "main", annotate(a+"affinity", "cookie"), annotate(a+"session-cookie-name", "main"),
					rule("c.example", path("/", pfx(), "app", 80))),
				ingress("web", "canary", opts...),
			},
		})
		var main *Backend
		for _, b := range cfg.Backends {
			if b.Canary != nil {
				main = b
			}
		}
		if main == nil {
			t.Fatal("no backend with a canary")
		}
		for _, b := range cfg.Backends {
			if b.Name == main.Canary.Backend {
				return b
			}
		}
		t.Fatalf("canary backend %s missing", main.Canary.Backend)
		return nil
	}
	if c := build(); c.Name != "web/canary:80@web/canary@web/main" || c.Affinity == nil || c.Affinity.Cookie != "main" {
		t.Errorf("sticky: canary backend %s with affinity %+v, want the main Ingress's", c.Name, c.Affinity)
	}
	if c := build("affinity-canary-behavior", "legacy"); c.Name != "web/canary:80" || c.Affinity != nil {
		t.Errorf("legacy: canary backend %s with affinity %+v, want none", c.Name, c.Affinity)
	}
	if c := build("affinity-canary-behavior", "legacy", "upstream-hash-by", "$request_uri", "upstream-hash-by-subset", "true"); c.Name != "web/canary:80@web/canary" ||
		c.Affinity != nil || c.HashBy != "$request_uri" || c.HashSubset != 3 {
		t.Errorf("legacy with hashing: canary backend %+v", c)
	}
}
