package model

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

const authPrefix = annotations.Prefix

// authLocations maps "host path" to the auth of each location of m.
func authLocations(m *Config) map[string]*Location {
	out := map[string]*Location{}
	for _, s := range m.Servers {
		for _, l := range s.Locations {
			out[s.Host+" "+string(l.Modifier)+l.Path] = l
		}
	}
	return out
}

// Global auth covers every Ingress path but those of Ingresses that opt
// out, those with their own auth-url, and no-auth-locations (which leave
// out basic auth and auth-url too, as in ingress-nginx).
func TestGlobalAuth(t *testing.T) {
	users := &corev1.Secret{ObjectMeta: metaNS("web", "users"), Data: map[string][]byte{"auth": []byte("alice:" + apr1 + "\n")}}
	in := Input{
		IngressClasses: []*networkingv1.IngressClass{ourClass()},
		Services:       []*corev1.Service{service("web", "app", svcPort("", 80, 8080))},
		Secrets:        []*corev1.Secret{users},
		Options:        defaultOptions,
		ConfigMap: configMap(map[string]string{"global-auth-url": "http://auth.example/check", "global-auth-method": "POST",
			"global-auth-signin": "https://login.example/start?client=portico", "global-auth-signin-redirect-param": "next",
			"global-auth-response-headers": "X-User", "global-auth-request-redirect": "$scheme://$host$request_uri",
			"global-auth-cache-key": "$http_authorization", "global-auth-cache-duration": "200 1m", "global-auth-always-set-cookie": "true",
			"no-auth-locations": "/.well-known/acme-challenge, /public"}),
		Ingresses: []*networkingv1.Ingress{
			ingress("web", "plain", rule("a.example", path("/", prefix, "app", 80), path("/public/x", prefix, "app", 80),
				path("/.well-known/acme-challenge/token", exact, "app", 80))),
			ingress("web", "out", annotate(authPrefix+"enable-global-auth", "false"), rule("b.example", path("/", prefix, "app", 80))),
			ingress("web", "own", annotate(authPrefix+"auth-url", "http://10.0.0.9/own"), rule("c.example", path("/", prefix, "app", 80))),
			ingress("web", "basic", annotate(authPrefix+"auth-type", "basic"), annotate(authPrefix+"auth-secret", "users"),
				annotate(authPrefix+"enable-global-auth", "false"),
				rule("d.example", path("/", prefix, "app", 80), path("/public", prefix, "app", 80))),
		},
	}
	m := Build(in)
	for _, d := range m.Diagnostics {
		t.Errorf("unexpected diagnostic %v", d)
	}
	global := &annotations.ExternalAuth{URL: annotations.URL{Scheme: "http", Host: "auth.example", Path: "/check"}, Method: "POST",
		Signin: &annotations.URL{Scheme: "https", Host: "login.example", Path: "/start", Query: "client=portico"}, SigninParam: "next",
		ResponseHeaders: []annotations.AuthHeader{{Name: "X-User", Var: "x_user"}}, RequestRedirect: "$scheme://$host$request_uri",
		Cache: &annotations.AuthCache{Key: "$http_authorization", Valid: []string{"200 1m"}}, AlwaysSetCookie: true}
	if !reflect.DeepEqual(m.Global.Auth, global) {
		t.Errorf("Global.Auth = %+v, want %+v", m.Global.Auth, global)
	}
	locs := authLocations(m)
	for key, want := range map[string]string{
		"a.example /":          "http://auth.example/check",
		"a.example =/public/x": "", "a.example /public/x/": "", "a.example =/.well-known/acme-challenge/token": "",
		"b.example /": "", "c.example /": "http://10.0.0.9/own",
	} {
		l := locs[key]
		if l == nil {
			t.Errorf("no location %s", key)
			continue
		}
		got := ""
		if l.ExternalAuth != nil {
			got = l.ExternalAuth.URL.String()
		}
		if got != want {
			t.Errorf("%s: auth %q, want %q", key, got, want)
		}
	}
	if l := locs["a.example /"]; len(l.Headers) != 1 || l.Headers[0] != (Header{Name: "X-User", Var: "portico_auth_x_user"}) {
		t.Errorf("global auth-response-headers: location headers %v", l.Headers)
	}
	if l := locs["d.example /"]; l.BasicAuth == nil || l.ExternalAuth != nil {
		t.Errorf("an opted-out Ingress keeps its basic auth: %+v %+v", l.BasicAuth, l.ExternalAuth)
	}
	if l := locs["d.example /public/"]; l.BasicAuth != nil {
		t.Errorf("no-auth-locations leave out basic auth too: %+v", l.BasicAuth)
	}

	// The default no-auth-locations: an ACME solver path.
	in.ConfigMap = configMap(map[string]string{"global-auth-url": "http://10.0.0.8/"})
	m = Build(in)
	if l := authLocations(m)["a.example =/.well-known/acme-challenge/token"]; l.ExternalAuth != nil {
		t.Errorf("the default no-auth-locations: the solver path asks %v", l.ExternalAuth.URL)
	}
	if l := authLocations(m)["a.example /public/x/"]; l.ExternalAuth == nil {
		t.Error("without /public in no-auth-locations its path asks the global auth service")
	}
}

// Values of the global-auth keys that are refused, each alone, with the
// default kept.
func TestGlobalAuthKeysRefused(t *testing.T) {
	for k, v := range map[string]string{
		"global-auth-url":                   "http://$host/auth",
		"global-auth-method":                "get",
		"global-auth-signin":                "https://$host/start",
		"global-auth-signin-redirect-param": "r d",
		"global-auth-response-headers":      "X_User",
		"global-auth-request-redirect":      `"x`,
		"global-auth-cache-key":             "constant",
		"global-auth-cache-duration":        "5 minutes",
		"global-auth-always-set-cookie":     "sometimes",
		"global-auth-snippet":               "proxy_set_header A b;", // snippets not allowed
		"no-auth-locations":                 "well-known",
	} {
		g, ds := parseConfigMap(configMap(map[string]string{k: v}))
		if len(ds) != 1 || ds[0].Reason != "InvalidOption" || !strings.Contains(ds[0].Field, k) {
			t.Errorf("%s: %q: diagnostics %v, want one InvalidOption", k, v, ds)
		}
		if g.Auth != nil || !reflect.DeepEqual(g.NoAuthLocations, defaultNoAuthLocations) {
			t.Errorf("%s: %q: global auth %+v, no-auth %v", k, v, g.Auth, g.NoAuthLocations)
		}
	}
	g, ds := parseConfigMap(configMap(map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical",
		"global-auth-url": "http://10.0.0.1/", "global-auth-snippet": "proxy_set_header A b;"}))
	if len(ds) != 0 || g.Auth == nil || g.Auth.Snippet != "proxy_set_header A b;" {
		t.Errorf("allowed global-auth-snippet: %v %+v", ds, g.Auth)
	}
}

// auth-proxy-set-headers reads a ConfigMap of the Ingress's namespace; a
// missing, foreign or bad one refuses the Ingress. auth-keepalive keeps
// connections to an IP address or a Service's cluster IP, and reports
// any other host.
func TestExternalAuthResolved(t *testing.T) {
	hdrs := &corev1.ConfigMap{ObjectMeta: metaNS("web", "auth-headers"), Data: map[string]string{"X-Tenant": "web", "X-Start": "t=${msec}"}}
	badHdrs := &corev1.ConfigMap{ObjectMeta: metaNS("web", "bad-headers"), Data: map[string]string{"X-Tenant": `a"b`}}
	auth := func(name, url string, kv ...string) *networkingv1.Ingress {
		opts := []ingOpt{annotate(authPrefix+"auth-url", url)}
		for i := 0; i < len(kv); i += 2 {
			opts = append(opts, annotate(authPrefix+kv[i], kv[i+1]))
		}
		return ingress("web", name, append(opts, rule(name+".example", path("/", prefix, "app", 80)))...)
	}
	in := Input{
		IngressClasses: []*networkingv1.IngressClass{ourClass()},
		Services: []*corev1.Service{service("web", "app", svcPort("", 80, 8080)),
			withClusterIP(service("auth", "oauth2-proxy", svcPort("", 80, 4180)), "10.96.0.20"),
			withClusterIP(service("auth", "headless", svcPort("", 80, 4180)), "None")},
		ConfigMaps: []*corev1.ConfigMap{hdrs, badHdrs},
		Options:    defaultOptions,
		Ingresses: []*networkingv1.Ingress{
			auth("hdrs", "http://10.0.0.9/", "auth-proxy-set-headers", "auth-headers"),
			auth("missing", "http://10.0.0.9/", "auth-proxy-set-headers", "web/none"),
			auth("foreign", "http://10.0.0.9/", "auth-proxy-set-headers", "other/auth-headers"),
			auth("bad", "http://10.0.0.9/", "auth-proxy-set-headers", "bad-headers"),
			auth("ka-ip", "https://10.0.0.9/", "auth-keepalive", "8"),
			auth("ka-svc", "http://oauth2-proxy.auth.svc.cluster.local:8080/oauth2/auth", "auth-keepalive", "8"),
			auth("ka-svc-short", "http://oauth2-proxy.auth.svc/oauth2/auth", "auth-keepalive", "8"),
			auth("ka-name", "http://auth.example.com/", "auth-keepalive", "8"),
			auth("ka-headless", "http://headless.auth.svc/", "auth-keepalive", "8"),
			auth("ka-gone", "http://gone.auth.svc/", "auth-keepalive", "8"),
		},
	}
	m := Build(in)
	if got, want := reasonsOf(m.Diagnostics), strings.Join([]string{
		"bad:IngressRejected", "bad:InvalidAuthProxySetHeaders", "foreign:IngressRejected", "foreign:InvalidAuthProxySetHeaders",
		"ka-gone:IneffectiveAnnotation", "ka-headless:IneffectiveAnnotation", "ka-name:IneffectiveAnnotation",
		"missing:IngressRejected", "missing:InvalidAuthProxySetHeaders"}, ","); got != want {
		t.Errorf("diagnostics\n%s\nwant\n%s", got, want)
	}
	if want := []string{"web/auth-headers", "web/bad-headers", "web/none"}; !reflect.DeepEqual(m.ConfigMapRefs, want) {
		t.Errorf("ConfigMapRefs = %v, want %v", m.ConfigMapRefs, want)
	}
	locs := authLocations(m)
	if got := locs["hdrs.example /"].ExternalAuth.SetHeaders; !reflect.DeepEqual(got,
		[]annotations.AuthSetHeader{{Name: "X-Start", Value: "t=${msec}"}, {Name: "X-Tenant", Value: "web"}}) {
		t.Errorf("SetHeaders = %v", got)
	}
	for host, want := range map[string]string{"ka-ip": "10.0.0.9:443", "ka-svc": "10.96.0.20:8080", "ka-svc-short": "10.96.0.20:80",
		"ka-name": "", "ka-headless": "", "ka-gone": ""} {
		ea := locs[host+".example /"].ExternalAuth
		got := ""
		if ea.Keepalive != nil {
			got = ea.Keepalive.Address
		}
		if got != want {
			t.Errorf("%s: keepalive address %q, want %q", host, got, want)
		}
	}
	// Refused: their paths answer 503 naming the cause (refusal.go).
	for _, name := range []string{"missing", "foreign", "bad"} {
		if l := locs[name+".example /"]; l != nil && (l.ExternalAuth != nil || !strings.HasSuffix(l.Backend, "@refused")) {
			t.Errorf("refused Ingress %s is served: %+v", name, l)
		}
	}
}
