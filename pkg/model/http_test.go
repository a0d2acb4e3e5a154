package model

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

const apr1 = "$apr1$Zn6bFqNZ$8lDdqh0ESU3bvVB7Tn4I/0"

func TestParseHtpasswd(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"alice:" + apr1 + "\r\n\n# comment\nbob:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n", "alice:" + apr1 + "\nbob:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n", true},
		{"carol:$2y$05$abcdefghijklmnopqrstuu5JDqCVw5rZmZzTMBVOTxCBR7G8e4sFi", "carol:$2y$05$abcdefghijklmnopqrstuu5JDqCVw5rZmZzTMBVOTxCBR7G8e4sFi\n", true},
		{"dave:{PLAIN}secret", "", false},
		{"eve:abDEScrypt12", "", false},
		{"no hash", "", false},
		{"a b:" + apr1, "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, err := parseHtpasswd(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("parseHtpasswd(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func pfx() networkingv1.PathType { return networkingv1.PathTypePrefix }

func reasonsOf(ds []diag.Diagnostic) string {
	var r []string
	for _, d := range ds {
		r = append(r, d.Object.Name+":"+d.Reason)
	}
	return strings.Join(r, ",")
}

func TestBuildHTTPAnnotations(t *testing.T) {
	users := &corev1.Secret{ObjectMeta: metaNS("web", "users"), Data: map[string][]byte{"auth": []byte("alice:" + apr1 + "\n")}}
	umap := &corev1.Secret{ObjectMeta: metaNS("web", "umap"), Data: map[string][]byte{"bob": []byte(apr1)}}
	in := Input{
		IngressClasses: []*networkingv1.IngressClass{ourClass()},
		Services:       []*corev1.Service{service("web", "app", svcPort("", 80, 8080)), service("web", "errors", svcPort("", 8080, 8080))},
		Secrets:        []*corev1.Secret{users, umap},
		Options:        Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"},
		Ingresses: []*networkingv1.Ingress{
			ingress("web", "regex", annotate(annotations.Prefix+"use-regex", "true"), annotate(annotations.Prefix+"rewrite-target", "/$2"),
				rule("h.example", path(`/a(/|$)(.*)`, pfx(), "app", 80), path(`/(abc)/(.*)`, networkingv1.PathTypeExact, "app", 80))),
			ingress("web", "too-many-captures", annotate(annotations.Prefix+"use-regex", "true"), annotate(annotations.Prefix+"rewrite-target", "/$3"),
				rule("h.example", path(`/z/(.*)`, pfx(), "app", 80))),
			ingress("web", "basic", created(1), annotate(annotations.Prefix+"auth-type", "basic"), annotate(annotations.Prefix+"auth-secret", "users"),
				annotate(annotations.Prefix+"app-root", "/home"), rule("h.example", path("/private", networkingv1.PathTypeExact, "app", 80))),
			ingress("web", "basic-map", created(2), annotate(annotations.Prefix+"auth-type", "basic"), annotate(annotations.Prefix+"auth-secret", "umap"),
				annotate(annotations.Prefix+"auth-secret-type", "auth-map"), rule("m.example", path("/", pfx(), "app", 80))),
			ingress("web", "missing-secret", annotate(annotations.Prefix+"auth-type", "basic"), annotate(annotations.Prefix+"auth-secret", "nope"),
				rule("x.example", path("/", pfx(), "app", 80))),
			ingress("web", "other-ns-secret", annotate(annotations.Prefix+"auth-type", "basic"), annotate(annotations.Prefix+"auth-secret", "kube-system/users"),
				rule("x.example", path("/", pfx(), "app", 80))),
			ingress("web", "errors", annotate(annotations.Prefix+"custom-http-errors", "404,503"), annotate(annotations.Prefix+"default-backend", "errors"),
				rule("e.example", path("/", pfx(), "app", 80))),
			ingress("web", "default-backend", annotate(annotations.Prefix+"default-backend", "errors"), rule("d.example", path("/", pfx(), "app", 80))),
			ingress("web", "snippet", annotate(annotations.Prefix+"configuration-snippet", "return 418;"), rule("s.example", path("/", pfx(), "app", 80))),
			// $host on a rule without a host or with a wildcard is what the
			// client sends: the client would pick the auth service.
			ingress("web", "host-var-hostless", annotate(annotations.Prefix+"auth-url", "https://$host/oauth2/auth"),
				rule("y.example", path("/", pfx(), "app", 80)), rule("", path("/y", pfx(), "app", 80))),
			ingress("web", "host-var-wildcard", annotate(annotations.Prefix+"auth-url", "https://10.0.0.9/auth"),
				annotate(annotations.Prefix+"auth-signin", "https://$host/oauth2/start"), rule("*.w.example", path("/", pfx(), "app", 80))),
		},
	}
	cfg := Build(in)
	got := reasonsOf(cfg.Diagnostics)
	want := "host-var-hostless:IngressRejected,host-var-hostless:InvalidAnnotation,host-var-wildcard:IngressRejected,host-var-wildcard:InvalidAnnotation," +
		"missing-secret:IngressRejected,missing-secret:InvalidAuthSecret,other-ns-secret:IngressRejected,other-ns-secret:InvalidAuthSecret,other-ns-secret:PathConflict," +
		"snippet:IngressRejected,snippet:AnnotationRiskTooHigh,too-many-captures:InvalidPath"
	if got != want {
		t.Errorf("diagnostics:\n%s\nwant\n%s\n%v", got, want, cfg.Diagnostics)
	}
	hosts := map[string]*Server{}
	for _, s := range cfg.Servers {
		hosts[s.Host] = s
	}
	// A refused Ingress's paths answer 503 (its refused backend): none
	// falls to another route.
	backends := map[string]*Backend{}
	for _, be := range cfg.Backends {
		backends[be.Name] = be
	}
	for _, h := range []string{"x.example", "s.example", "y.example", "*.w.example"} {
		for _, l := range hosts[h].Locations {
			if l.Path == "/" && (backends[l.Backend] == nil || !backends[l.Backend].Refused) {
				t.Errorf("refused Ingress's %s%s: %+v", h, l.Path, l)
			}
		}
	}
	if be := backends["web/missing-secret@refused"]; be == nil || be.NoEndpoints !=
		"Ingress web/missing-secret is refused: InvalidAuthSecret at metadata.annotations[nginx.ingress.kubernetes.io/auth-secret] (kubectl describe ingress -n web missing-secret)" {
		t.Errorf("refused backend %+v", be)
	}
	for _, d := range cfg.Diagnostics {
		if d.Object.Name == "host-var-wildcard" && d.Reason == "InvalidAnnotation" &&
			(d.Field != "metadata.annotations[nginx.ingress.kubernetes.io/auth-signin]" || !strings.Contains(d.Message, "spec.rules[0] has a wildcard host")) {
			t.Errorf("diagnostic of $host on a wildcard: %+v", d)
		}
		if d.Object.Name == "host-var-hostless" && d.Reason == "InvalidAnnotation" && !strings.Contains(d.Message, "spec.rules[1] has no host") {
			t.Errorf("diagnostic of $host on a rule without a host: %+v", d)
		}
	}
	h := hosts["h.example"]
	var paths []string
	for _, l := range h.Locations {
		paths = append(paths, string(l.Modifier)+" "+l.Path)
	}
	// A regex Ingress makes every path of the host a regex, the plain
	// Exact one of another Ingress too, longest first, as ingress-nginx
	// does; only the regex Ingress's locations rewrite.
	if want := []string{"~* ^/a(/|$)(.*)", "~* ^/(abc)/(.*)", "~* ^/private", "~* ^/"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("locations %q, want %q", paths, want)
	}
	if h.AppRoot != "/home" {
		t.Errorf("app-root %q, want /home", h.AppRoot)
	}
	if l := h.Locations[2]; !reflect.DeepEqual(l.BasicAuth, &BasicAuth{Realm: "Authentication Required", File: "web_users"}) {
		t.Errorf("basic auth %+v", l.BasicAuth)
	}
	for i, want := range []annotations.URIPath{"/$2", "/$2", "", ""} {
		if got := h.Locations[i].RewriteTarget; got != want {
			t.Errorf("location %d rewrites to %q, want %q", i, got, want)
		}
	}
	wantFiles := []*AuthFile{{Name: "web_umap", Content: "bob:" + apr1 + "\n"}, {Name: "web_users", Content: "alice:" + apr1 + "\n"}}
	if !reflect.DeepEqual(cfg.AuthFiles, wantFiles) {
		t.Errorf("auth files %+v", cfg.AuthFiles)
	}
	e := hosts["e.example"].Locations[0]
	wantErr := &ErrorPage{Codes: []int{404, 503}, ErrorBackend: ErrorBackend{Backend: "web/errors:8080", Service: "app", Port: "80",
		Ingress: IngressRef{"web", "errors"}}}
	if !reflect.DeepEqual(e.Errors, wantErr) {
		t.Errorf("error page %+v, want %+v", e.Errors, wantErr)
	}
	// default-backend alone: no error page, the location's stand-in while
	// its Service has no endpoint.
	d := hosts["d.example"].Locations[0]
	wantDefault := &ErrorBackend{Backend: "web/errors:8080", Service: "app", Port: "80", Ingress: IngressRef{"web", "default-backend"}}
	if d.Errors != nil || !reflect.DeepEqual(d.DefaultBackend, wantDefault) {
		t.Errorf("default-backend: error page %+v, default backend %+v, want none and %+v", d.Errors, d.DefaultBackend, wantDefault)
	}
}

func TestSnippetsAndRiskFromConfigMap(t *testing.T) {
	mk := func(data map[string]string) *Config {
		return Build(Input{
			IngressClasses: []*networkingv1.IngressClass{ourClass()},
			Services:       []*corev1.Service{service("web", "app", svcPort("", 80, 8080))},
			ConfigMap:      &corev1.ConfigMap{ObjectMeta: metaNS("portico", "portico"), Data: data},
			Options:        Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"},
			Ingresses: []*networkingv1.Ingress{ingress("web", "snippet", annotate(annotations.Prefix+"server-snippet", "return 418;"),
				annotate(annotations.Prefix+"auth-url", "http://10.0.0.1/"), rule("s.example", path("/", pfx(), "app", 80)))},
		})
	}
	// As in ingress-nginx: a snippet above annotations-risk-level refuses
	// the Ingress; within it but not allowed, the snippet is dropped (a
	// Warning, even when it is not valid) and the Ingress served.
	for _, tc := range []struct {
		data    map[string]string
		want    string
		served  bool
		snippet bool
	}{
		{nil, "snippet:IngressRejected,snippet:AnnotationRiskTooHigh", false, false},
		{map[string]string{"allow-snippet-annotations": "true"}, "snippet:IngressRejected,snippet:AnnotationRiskTooHigh", false, false},
		{map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical"}, "", true, true},
		{map[string]string{"annotations-risk-level": "Critical"}, "snippet:SnippetsDisabled", true, false},
		{map[string]string{"allow-snippet-annotations": "false", "annotations-risk-level": "Critical"}, "snippet:SnippetsDisabled", true, false},
		{map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Medium"}, "snippet:IngressRejected,snippet:AnnotationRiskTooHigh,snippet:AnnotationRiskTooHigh", false, false},
		{map[string]string{"annotations-risk-level": "Extreme"}, "portico:InvalidOption,snippet:IngressRejected,snippet:AnnotationRiskTooHigh", false, false},
	} {
		cfg := mk(tc.data)
		if got := reasonsOf(cfg.Diagnostics); got != tc.want {
			t.Errorf("%v: diagnostics %s, want %s", tc.data, got, tc.want)
		}
		served, snippet := false, false
		for _, s := range cfg.Servers {
			if s.Host == "s.example" {
				served = len(s.Locations) > 0 && s.Locations[0].Backend == "web/app:80" && s.Locations[0].ExternalAuth != nil
				snippet = reflect.DeepEqual(s.Snippets, []annotations.Snippet{"return 418;"})
			}
		}
		if served != tc.served || snippet != tc.snippet {
			t.Errorf("%v: served %v with snippet %v, want %v and %v", tc.data, served, snippet, tc.served, tc.snippet)
		}
	}
	// A snippet that is dropped is not read: not valid, it refuses nothing.
	cfg := Build(Input{
		IngressClasses: []*networkingv1.IngressClass{ourClass()},
		Services:       []*corev1.Service{service("web", "app", svcPort("", 80, 8080))},
		ConfigMap:      &corev1.ConfigMap{ObjectMeta: metaNS("portico", "portico"), Data: map[string]string{"annotations-risk-level": "Critical"}},
		Options:        Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"},
		Ingresses: []*networkingv1.Ingress{ingress("web", "snippet", annotate(annotations.Prefix+"configuration-snippet", "} location /x {"),
			rule("s.example", path("/", pfx(), "app", 80)))},
	})
	if got := reasonsOf(cfg.Diagnostics); got != "snippet:SnippetsDisabled" {
		t.Errorf("a dropped snippet that is not valid: diagnostics %s", got)
	}
}
