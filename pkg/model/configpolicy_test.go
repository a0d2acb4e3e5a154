package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// locationsOf builds ings with the ConfigMap data and returns the
// location "/" of each host, by host.
func locationsOf(t *testing.T, data map[string]string, ings ...*networkingv1.Ingress) (map[string]*Location, *Config) {
	t.Helper()
	svcs, slices := labObjects()
	cfg := Build(Input{Ingresses: ings, IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: slices,
		ConfigMap: configMap(data), Options: defaultOptions, Now: t0})
	out := map[string]*Location{}
	for _, s := range cfg.Servers {
		for _, l := range s.Locations {
			if l.Path == "/" {
				out[s.Host] = l
			}
		}
	}
	return out, cfg
}

// The ConfigMap's source ranges, force-ssl-redirect and proxy_buffers
// halves are the defaults of their annotations: an Ingress that sets one
// overrides that one only.
func TestConfigDefaultsAnnotationsOverride(t *testing.T) {
	a := annotations.Prefix
	data := map[string]string{"whitelist-source-range": "10.0.0.0/8", "denylist-source-range": "10.9.0.0/16",
		"force-ssl-redirect": "true", "proxy-buffer-size": "16k", "proxy-buffers-number": "6"}
	locs, cfg := locationsOf(t, data,
		ingress("lab", "plain", rule("plain.example.com", path("/", prefix, "api-service", 80))),
		ingress("lab", "allow", annotate(a+"whitelist-source-range", "192.168.0.0/16"), annotate(a+"force-ssl-redirect", "false"),
			rule("allow.example.com", path("/", prefix, "api-service", 80))),
		ingress("lab", "deny", annotate(a+"denylist-source-range", "172.16.0.0/12"), annotate(a+"proxy-buffer-size", "8k"),
			rule("deny.example.com", path("/", prefix, "api-service", 80))),
		ingress("lab", "number", annotate(a+"proxy-buffers-number", "3"), rule("number.example.com", path("/", prefix, "api-service", 80))))
	if len(cfg.Diagnostics) != 0 {
		t.Fatalf("diagnostics: %v", cfg.Diagnostics)
	}
	type got struct {
		Range    *SourceRange
		Redirect bool
		Size     annotations.Size
		Number   int
	}
	want := map[string]got{
		"plain.example.com":  {&SourceRange{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.9.0.0/16"}}, true, "", 0},
		"allow.example.com":  {&SourceRange{Allow: []string{"192.168.0.0/16"}, Deny: []string{"10.9.0.0/16"}}, false, "", 0},
		"deny.example.com":   {&SourceRange{Allow: []string{"10.0.0.0/8"}, Deny: []string{"172.16.0.0/12"}}, true, "8k", 6},
		"number.example.com": {&SourceRange{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.9.0.0/16"}}, true, "16k", 3},
	}
	for host, w := range want {
		l := locs[host]
		if l == nil {
			t.Errorf("%s: no location /", host)
			continue
		}
		g := got{l.SourceRange, l.SSLRedirect, l.Proxy.BufferSize, l.Proxy.BuffersNumber}
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s (-want +got):\n%s", host, diff)
		}
	}
	p := cfg.Global.Defaults.Proxy
	if p.BufferSize != "16k" || p.BuffersNumber != 6 {
		t.Errorf("http level: proxy_buffers %d %s", p.BuffersNumber, p.BufferSize)
	}
}

// Each key refuses what its annotation refuses, and the values that would
// reach nginx.conf unchecked.
func TestConfigPolicyRefusals(t *testing.T) {
	for key, bad := range map[string][]string{
		"whitelist-source-range": {"10.0.0.0/33", "10.0.0.1; deny all"},
		"proxy-buffer-size":      {"8x", "2g"},
		"proxy-next-upstream":    {"error sometimes"},
		"proxy-redirect-from":    {"http://a b", "$host"},
		"proxy-cookie-domain":    {"a.example \"b\""},
		"limit-rate":             {"-1", "1k"},
		"block-cidrs":            {"10.0.0.0/8, nope"},
		"block-user-agents":      {`bad"bot`, "~*(unclosed", `~trailing\`, "~(?=lookahead)"},
		"http-snippet":           {"server { listen 1;", "}", "proxy_buffering on"},
		"force-ssl-redirect":     {"yes please"},
	} {
		for _, v := range bad {
			g, ds := parseConfigMap(configMap(map[string]string{key: v}))
			if len(ds) != 1 || ds[0].Reason != "InvalidOption" {
				t.Errorf("%s: %q: diagnostics %v, want one InvalidOption", key, v, ds)
			}
			if diff := cmp.Diff(defaultGlobal, g); diff != "" {
				t.Errorf("%s: %q changed the config:\n%s", key, v, diff)
			}
		}
	}
}

// annotation-value-word-blocklist refuses an Ingress whose annotation
// value holds a word; allow-cross-namespace-resources lets an annotation
// name another namespace's Secret.
func TestConfigSecurityPolicy(t *testing.T) {
	a := annotations.Prefix
	_, cfg := locationsOf(t, map[string]string{"annotation-value-word-blocklist": "lua_, load_module"},
		ingress("lab", "worded", annotate(a+"rewrite-target", "/x/lua_y"), rule("w.example.com", path("/", prefix, "api-service", 80))),
		ingress("lab", "clean", annotate(a+"rewrite-target", "/lua"), rule("c.example.com", path("/", prefix, "api-service", 80))))
	var reasons []string
	for _, d := range cfg.Diagnostics {
		reasons = append(reasons, d.Object.Name+" "+d.Reason)
	}
	if strings.Join(reasons, ",") != "worded IngressRejected,worded BlockedAnnotationWord" {
		t.Errorf("diagnostics %v", cfg.Diagnostics)
	}

	secret := &corev1.Secret{ObjectMeta: metaNS("vault", "users"), Data: map[string][]byte{"auth": []byte("alice:{SHA}x0h7Zq8hxYgn84I8ZJqBPxc9eP4=\n")}}
	ing := ingress("lab", "cross", annotate(a+"auth-type", "basic"), annotate(a+"auth-secret", "vault/users"),
		rule("x.example.com", path("/", prefix, "api-service", 80)))
	for _, allow := range []string{"false", "true"} {
		svcs, slices := labObjects()
		cfg := Build(Input{Ingresses: []*networkingv1.Ingress{ing}, IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs,
			EndpointSlices: slices, Secrets: []*corev1.Secret{secret}, Options: defaultOptions, Now: t0,
			ConfigMap: configMap(map[string]string{"allow-cross-namespace-resources": allow})})
		// A refused Ingress's paths answer 503 through a refused backend.
		refused := map[string]bool{}
		for _, b := range cfg.Backends {
			refused[b.Name] = b.Refused
		}
		served := false
		for _, s := range cfg.Servers {
			for _, l := range s.Locations {
				served = served || s.Host == "x.example.com" && !refused[l.Backend]
			}
		}
		if served != (allow == "true") {
			t.Errorf("allow-cross-namespace-resources %s: served %v, diagnostics %v", allow, served, cfg.Diagnostics)
		}
	}
}

// service-upstream's default: every Ingress proxies to the cluster IP
// unless its annotation says false.
func TestConfigDefaultServiceUpstream(t *testing.T) {
	a := annotations.Prefix
	svcs, slices := labObjects()
	for i, s := range svcs {
		svcs[i] = withClusterIP(s, "10.96.0.10")
	}
	cfg := Build(Input{Ingresses: []*networkingv1.Ingress{
		ingress("lab", "plain", rule("plain.example.com", path("/", prefix, "api-service", 80))),
		ingress("lab", "pods", annotate(a+"service-upstream", "false"), rule("pods.example.com", path("/", prefix, "api-service", 80))),
	}, IngressClasses: []*networkingv1.IngressClass{ourClass()}, Services: svcs, EndpointSlices: slices,
		ConfigMap: configMap(map[string]string{"service-upstream": "true"}), Options: defaultOptions, Now: t0})
	via := map[string]bool{}
	for _, s := range cfg.Servers {
		for _, l := range s.Locations {
			for _, b := range cfg.Backends {
				if b.Name == l.Backend && l.Path == "/" {
					via[s.Host] = b.ViaService
				}
			}
		}
	}
	if !via["plain.example.com"] || via["pods.example.com"] {
		t.Errorf("via the cluster IP: %v, want plain only (diagnostics %v)", via, cfg.Diagnostics)
	}
}
