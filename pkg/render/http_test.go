package render

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/nginxconf"
	"github.com/portico-ingress/portico/pkg/plan"
)

// Test inputs for the HTTP annotations: Ingresses in namespace "web" on
// host h.example.com, Services app and errors, an htpasswd Secret.

const htpasswd = "alice:$apr1$Zn6bFqNZ$8lDdqh0ESU3bvVB7Tn4I/0\n"

func httpIngress(name, host string, ann map[string]string, pt networkingv1.PathType, paths ...string) *networkingv1.Ingress {
	cls := "nginx"
	a := map[string]string{}
	for k, v := range ann {
		a[annotations.Prefix+k] = v
	}
	var ps []networkingv1.HTTPIngressPath
	for _, p := range paths {
		ps = append(ps, networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "app", Port: networkingv1.ServiceBackendPort{Number: 80}}}})
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Annotations: a,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))},
		Spec: networkingv1.IngressSpec{IngressClassName: &cls, Rules: []networkingv1.IngressRule{{Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: ps}}}}},
	}
}

// clientCA is a CA certificate for auth-tls-secret (testdata/client-ca.pem).
var clientCA = func() []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "client-ca.pem"))
	if err != nil {
		panic(err)
	}
	return b
}()

// backendCert and backendKey are the client certificate nginx shows
// backends (testdata/backend-client.pem, -key.pem).
var backendCert, backendKey = testdata("backend-client.pem"), testdata("backend-client-key.pem")

func testdata(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return b
}

func httpInput(cm map[string]string, ings ...*networkingv1.Ingress) model.Input {
	svc := func(n string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: n},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	}
	in := model.Input{
		Ingresses: ings,
		Services:  []*corev1.Service{svc("app"), svc("errors")},
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "users"},
			Data: map[string][]byte{"auth": []byte(htpasswd)}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "client-ca"}, Data: map[string][]byte{"ca.crt": clientCA}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "backend-tls"}, Data: map[string][]byte{"ca.crt": clientCA,
				"tls.crt": backendCert, "tls.key": backendKey}}},
		ConfigMaps: []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "headers"},
			Data: map[string]string{"X-A": "a", "X-B": `"quoted" \ $literal; {braces} #hash`}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "fcgi"},
				Data: map[string]string{"SCRIPT_FILENAME": "$document_root$fastcgi_script_name", "APP_ENV": "prod"}},
			// Headers for an auth service (auth-proxy-set-headers).
			{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "auth-headers"},
				Data: map[string]string{"X-Tenant": "web", "X-Request-Start": "t=${msec}"}}},
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
			Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}},
		Options: model.Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"},
	}
	if cm != nil {
		cm = maps.Clone(cm)
		if _, ok := cm["global-allowed-response-headers"]; !ok {
			cm["global-allowed-response-headers"] = "X-A,X-B"
		}
		in.ConfigMap = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "portico", Name: "portico"}, Data: cm}
	}
	return in
}

// httpFeatures uses every HTTP annotation at least once.
func httpFeatures() model.Input {
	pfx := networkingv1.PathTypePrefix
	ings := []*networkingv1.Ingress{
		httpIngress("regex", "h.example.com", map[string]string{"use-regex": "true", "rewrite-target": "/v2/$2",
			"x-forwarded-prefix": "/api", "upstream-vhost": "internal.example", "proxy-body-size": "8m",
			"proxy-connect-timeout": "3", "proxy-send-timeout": "30s", "proxy-read-timeout": "120",
			"proxy-buffering": "off", "proxy-buffer-size": "16k", "proxy-next-upstream": "error timeout http_502",
			"proxy-next-upstream-tries": "2", "proxy-next-upstream-timeout": "10", "proxy-http-version": "1.0",
			"proxy-request-buffering": "off", "client-body-buffer-size": "1m", "proxy-buffers-number": "8", "proxy-max-temp-file-size": "0",
			"proxy-redirect-from": "http://internal.example/", "proxy-redirect-to": "/api/", "proxy-cookie-domain": "internal.example h.example.com",
			"proxy-cookie-path": "/ /api/", "limit-rate": "100", "limit-rate-after": "0", "enable-access-log": "false",
			"enable-rewrite-log": "true"},
			networkingv1.PathTypeImplementationSpecific, `/api(/|$)(.*)`, `/v([0-9]{1,2})/(items)/\d+$`),
		httpIngress("cors", "h.example.com", map[string]string{"enable-cors": "true",
			"cors-allow-origin": "https://app.example.com, http://*.example.org:8080", "cors-allow-methods": "GET, POST",
			"cors-allow-headers": "X-Token", "cors-expose-headers": "X-Id", "cors-allow-credentials": "false", "cors-max-age": "60",
			"app-root": "/home"}, pfx, "/cors"),
		httpIngress("cors-any", "h.example.com", map[string]string{"enable-cors": "true", "server-alias": "h-alias.example.com",
			"from-to-www-redirect": "true"}, pfx, "/open"),
		httpIngress("basic", "h.example.com", map[string]string{"auth-type": "basic", "auth-secret": "users", "auth-realm": "Team only"}, pfx, "/private"),
		httpIngress("external", "h.example.com", map[string]string{"auth-url": "http://10.1.2.3:9000/check",
			"auth-signin": "https://login.example.com/start", "auth-response-headers": "X-User, X-Email", "auth-method": "POST"}, pfx, "/ext"),
		httpIngress("external-dns", "h.example.com", map[string]string{"auth-url": "https://auth.example.com/verify"}, pfx, "/ext-dns"),
		// auth-url's companions in a server block: kept answers and
		// connections, headers of a ConfigMap, the X-Auth-Request-Redirect,
		// the sign-in parameter, cookies with every answer, a snippet.
		httpIngress("external-full", "h.example.com", map[string]string{"auth-url": "http://10.1.2.3:9000/check",
			"auth-cache-key": "$remote_user$http_authorization", "auth-cache-duration": "200 202 10m, 401 1m",
			"auth-keepalive": "8", "auth-keepalive-requests": "100", "auth-keepalive-timeout": "30",
			"auth-proxy-set-headers": "auth-headers", "auth-request-redirect": "$scheme://$host$request_uri",
			"auth-signin": "https://login.example.com/start?client=web", "auth-signin-redirect-param": "return_to",
			"auth-always-set-cookie": "true", "auth-snippet": "proxy_set_header X-Auth-Snippet 1;"}, pfx, "/ext-full"),
		// oauth2-proxy as ingress-nginx documents it: $host is the rule's.
		httpIngress("external-oauth", "h.example.com", map[string]string{"auth-url": "https://$host/oauth2/auth",
			"auth-signin": "https://$host/oauth2/start?rd=$escaped_request_uri"}, pfx, "/ext-oauth"),
		httpIngress("errors", "h.example.com", map[string]string{"custom-http-errors": "404,502", "default-backend": "errors"}, pfx, "/err"),
		httpIngress("redirect", "h.example.com", map[string]string{"permanent-redirect": "https://new.example.com/x?a=1", "permanent-redirect-code": "308"}, pfx, "/old"),
		httpIngress("temporal", "h.example.com", map[string]string{"temporal-redirect": "http://[2001:db8::1]:8080/"}, pfx, "/tmp"),
		// A snippet keeps h.example.com a server block, so that the static
		// form of each annotation is here.
		httpIngress("static", "h.example.com", map[string]string{"configuration-snippet": "add_header X-Static yes; more_set_headers \"X-More: yes\"; more_clear_headers Server;"}, pfx, "/static"),
		// The router hands g.example.com to a location with grpc_pass; a
		// snippet keeps gs.example.com a server block.
		httpIngress("grpc", "g.example.com", map[string]string{"backend-protocol": "GRPCS", "proxy-read-timeout": "300"}, pfx, "/"),
		httpIngress("grpc-static", "gs.example.com", map[string]string{"backend-protocol": "GRPC", "proxy-read-timeout": "300",
			"proxy-buffer-size": "8k", "upstream-vhost": "grpc.internal", "custom-http-errors": "502", "default-backend": "errors",
			"auth-url": "http://10.1.2.3:9000/check", "configuration-snippet": "add_header X-Static yes;"}, pfx, "/"),
		// Routed basic auth: a router location with the router's realm and file.
		httpIngress("routed-basic", "b.example.com", map[string]string{"auth-type": "basic", "auth-secret": "users", "auth-realm": "Team only"}, pfx, "/"),
		// Routed auth-url: a router location asks the service the router
		// names, and sends its answer's headers.
		httpIngress("routed-auth", "a.example.com", map[string]string{"auth-url": "http://10.1.2.3:9000/check",
			"auth-signin": "https://login.example.com/start", "auth-response-headers": "X-User"}, pfx, "/"),
		// Routed auth-url with its companions: a router auth location of the
		// cache key and headers; the upstream block of kept connections.
		httpIngress("routed-auth-full", "af.example.com", map[string]string{"auth-url": "http://10.1.2.3:9000/check",
			"auth-cache-key": "$cookie__oauth2_proxy", "auth-keepalive": "8", "auth-proxy-set-headers": "auth-headers",
			"auth-request-redirect": "https://af.example.com/", "auth-always-set-cookie": "true",
			"auth-signin": "https://login.example.com/start?rd=home"}, pfx, "/"),
		// auth-tls: a server block that asks for client certificates.
		httpIngress("mtls", "m.example.com", map[string]string{"auth-tls-secret": "web/client-ca", "auth-tls-verify-client": "optional",
			"auth-tls-verify-depth": "2", "auth-tls-pass-certificate-to-upstream": "true", "auth-tls-match-cn": "CN=(alice|bob),O=Example Inc",
			"auth-tls-error-page": "https://login.example.com/cert-help"}, pfx, "/"),
		// proxy-ssl: checked TLS to the backend, static and routed.
		httpIngress("proxy-ssl", "h.example.com", map[string]string{"backend-protocol": "HTTPS", "proxy-ssl-secret": "backend-tls",
			"proxy-ssl-verify": "on", "proxy-ssl-verify-depth": "2", "proxy-ssl-name": "app.internal", "proxy-ssl-server-name": "on",
			"proxy-ssl-protocols": "TLSv1.2 TLSv1.3", "proxy-ssl-ciphers": "HIGH:!aNULL:!MD5"}, pfx, "/verified"),
		httpIngress("routed-proxy-ssl", "v.example.com", map[string]string{"backend-protocol": "GRPCS", "proxy-ssl-secret": "web/backend-tls",
			"proxy-ssl-verify": "on", "proxy-ssl-name": "grpc.internal"}, pfx, "/"),
		// Routed buffers and request streaming: a router location of its own.
		httpIngress("routed-buffers", "u.example.com", map[string]string{"proxy-request-buffering": "off", "client-body-buffer-size": "16k",
			"proxy-buffers-number": "2", "proxy-max-temp-file-size": "1024m"}, pfx, "/"),
		// Routed custom errors: a router location intercepts them.
		httpIngress("routed-errors", "e.example.com", map[string]string{"custom-http-errors": "404,502", "default-backend": "errors"}, pfx, "/"),
		httpIngress("https", "s.example.com", map[string]string{"backend-protocol": "HTTPS", "server-snippet": "location = /snippet { return 204; }",
			"configuration-snippet": "add_header X-Snippet yes;"}, pfx, "/"),
	}
	// The extras of a location (extras.go), in a server block (h.example.com
	// has a snippet) and routed (x.example.com).
	for _, host := range []string{"h.example.com", "x.example.com"} {
		ings = append(ings,
			httpIngress("extras-"+host, host, map[string]string{"custom-headers": "headers", "connection-proxy-header": "close",
				"proxy-busy-buffers-size": "8k", "satisfy": "any", "auth-type": "basic", "auth-secret": "users",
				"whitelist-source-range": "10.0.0.0/8", "mirror-target": "https://mirror.example$request_uri", "mirror-request-body": "off",
				"custom-http-errors": "503", "default-backend": "errors", "disable-proxy-intercept-errors": "true",
				"force-ssl-redirect": "true", "preserve-trailing-slash": "true", "use-port-in-redirects": "true"}, pfx, "/extras"),
			httpIngress("relative-"+host, host, map[string]string{"permanent-redirect": "/new?a=1", "relative-redirects": "true",
				"use-port-in-redirects": "true"}, pfx, "/moved"),
			httpIngress("fcgi-"+host, host, map[string]string{"backend-protocol": "FCGI", "fastcgi-index": "index.php",
				"fastcgi-params-configmap": "fcgi", "proxy-next-upstream": "error http_502 http_503", "proxy-buffer-size": "8k",
				"mirror-target": "http://10.0.0.9/copy"}, pfx, "/php"),
			httpIngress("auto-"+host, host, map[string]string{"backend-protocol": "AUTO_HTTP"}, pfx, "/auto"))
	}
	// ssl-ciphers: a server block of its own.
	ings = append(ings, httpIngress("ciphers", "c.example.com", map[string]string{"ssl-ciphers": "ECDHE-RSA-AES256-GCM-SHA384:@STRENGTH",
		"ssl-prefer-server-ciphers": "false"}, pfx, "/"))
	return httpInput(map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical", "custom-http-errors": "503"},
		ings...)
}

// renderInput renders the plan of in's model, which it returns.
func renderInput(t *testing.T, in model.Input, opts plan.Options) (*plan.Plan, []byte) {
	t.Helper()
	p := planOf(t, model.Build(in), opts)
	conf, _, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, conf
}

func TestHTTPAnnotationsGoldenAndNginxTest(t *testing.T) {
	opts := testOptions
	opts.Resolvers = []string{"10.96.0.10", "[fd00::a]"}
	p, conf := renderInput(t, httpFeatures(), opts)
	for _, d := range p.Model.Diagnostics {
		t.Errorf("unexpected diagnostic: %v", d)
	}
	checkGolden(t, "http.nginx.conf", conf)
	nginxTest(t, httpFeatures())
}

// nginxTest builds in and runs nginx -t on its config.
func nginxTest(t *testing.T, in model.Input) {
	t.Helper()
	nginxTestConfig(t, "http", func(o plan.Options) *plan.Plan { return planOf(t, model.Build(in), o) })
}

// A location that sets its own proxy headers repeats the http-level set.
func TestLocationHeadersMatchHTTPLevel(t *testing.T) {
	_, conf := renderInput(t, httpFeatures(), testOptions)
	// The router's locations send upstream-vhost's Host (routesConfig).
	routes, _, err := Render(routesPlan(t, testOptions))
	if err != nil {
		t.Fatal(err)
	}
	checkLocationHeaders(t, conf, 2)
	checkLocationHeaders(t, routes, 2)
}

// checkLocationHeaders checks that every location of conf with its own
// proxy_set_header (at least atLeast of them) sends the http block's too,
// and that every grpc_pass location sends them as grpc_set_header but the
// hop-by-hop Upgrade and Connection.
func checkLocationHeaders(t *testing.T, conf []byte, atLeast int) {
	t.Helper()
	root, err := nginxconf.Parse(conf)
	if err != nil {
		t.Fatal(err)
	}
	headers := func(ds []*nginxconf.Directive, name string) []string {
		var out []string
		for _, d := range ds {
			// Host may be upstream-vhost's, Connection
			// connection-proxy-header's; every other value must match.
			if d.Name == name && (d.Args[0] == "Host" || d.Args[0] == "Connection") {
				out = append(out, d.Args[0])
			} else if d.Name == name {
				out = append(out, strings.Join(d.Args, " "))
			}
		}
		return out
	}
	httpBlock := root[find(root, "http")].Block
	want := headers(httpBlock, "proxy_set_header")
	checked := 0
	for _, srv := range httpBlock {
		for _, loc := range srv.Block {
			if loc.Name != "location" || find(loc.Block, "internal") >= 0 {
				continue
			}
			got, grpc := headers(loc.Block, "proxy_set_header"), find(loc.Block, "grpc_pass") >= 0
			if grpc {
				got = headers(loc.Block, "grpc_set_header")
			}
			if len(got) == 0 && !grpc {
				continue
			}
			for _, h := range want {
				if grpc && (strings.HasPrefix(h, "Upgrade ") || h == "Connection") {
					if slices.Contains(got, h) {
						t.Errorf("gRPC location %v sends %s", loc.Args, h)
					}
				} else if !slices.Contains(got, h) {
					t.Errorf("location %v lacks %s of the http block", loc.Args, h)
				}
			}
			checked++
		}
	}
	if checked < atLeast {
		t.Fatalf("only %d locations with own headers checked", checked)
	}
}

func find(ds []*nginxconf.Directive, name string) int {
	for i, d := range ds {
		if d.Name == name {
			return i
		}
	}
	return -1
}

// Without dynamic routing, a www. twin is a server block that redirects
// and an alias is one more server_name, and nginx takes both.
func TestStaticAliasesAndWWWRedirect(t *testing.T) {
	in := httpInput(map[string]string{"dynamic-routing": "false"},
		httpIngress("site", "example.com", map[string]string{"server-alias": "alias.example.com", "from-to-www-redirect": "true"},
			networkingv1.PathTypePrefix, "/"))
	cfg, conf := renderInput(t, in, testOptions)
	for _, d := range cfg.Model.Diagnostics {
		t.Errorf("unexpected diagnostic: %v", d)
	}
	wantIn(t, "nginx.conf", string(conf),
		`server_name "example.com" "alias.example.com";`,
		"server_name \"www.example.com\";\n        # The access log's",
		"uninitialized_variable_warn off;\n        set $portico_backend \"\";\n        set $portico_server \"www.example.com\";",
		`return 308 "$scheme://example.com$request_uri";`,
	)
	nginxTestConfig(t, "aliases", func(o plan.Options) *plan.Plan { return planOf(t, model.Build(in), o) })
}
