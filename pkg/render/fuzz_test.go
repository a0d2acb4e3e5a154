package render

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/nginxconf"
	"github.com/portico-ingress/portico/pkg/plan"
)

// fuzzRefs are, per supported annotation, valid values that together
// produce every directive structure a valid value can produce. An
// annotation missing here fails TestFuzzRefsCoverSupported.
var fuzzRefs = map[string][]string{
	"use-regex": {"true", "false"}, "rewrite-target": {"/", "/x/$1"}, "app-root": {"/a"}, "x-forwarded-prefix": {"/p"},
	"permanent-redirect": {"https://a.example/", "/new?x=1"}, "permanent-redirect-code": {"308"},
	"temporal-redirect": {"http://a.example/"}, "temporal-redirect-code": {"307"},
	"backend-protocol": {"HTTP", "HTTPS", "GRPC", "GRPCS", "AUTO_HTTP", "FCGI"}, "proxy-body-size": {"1m", "0", "1k"}, "proxy-connect-timeout": {"5"},
	"proxy-send-timeout": {"5"}, "proxy-read-timeout": {"5"}, "proxy-buffering": {"on"}, "proxy-buffer-size": {"8k"},
	"proxy-next-upstream": {"error"}, "proxy-next-upstream-tries": {"3"}, "proxy-next-upstream-timeout": {"5"},
	"upstream-vhost": {"a.example"}, "proxy-http-version": {"1.0"}, "proxy-request-buffering": {"off", "on"},
	"client-body-buffer-size": {"16k", "1m"}, "proxy-buffers-number": {"8"}, "proxy-max-temp-file-size": {"0", "1024m"},
	"enable-cors": {"true", "false"}, "cors-allow-origin": {"*", "https://a.example"}, "cors-allow-methods": {"GET"},
	"cors-allow-headers": {"X-A"}, "cors-allow-credentials": {"true", "false"}, "cors-max-age": {"5"},
	"cors-expose-headers": {"X-A"},
	"auth-type":           {"basic"}, "auth-secret": {"users"}, "auth-secret-type": {"auth-file"}, "auth-realm": {"R"},
	"auth-url":              {"http://10.0.0.1/a", "http://auth.example/a", "https://$host/oauth2/auth"},
	"auth-signin":           {"https://s.example/", "https://$host/start?rd=$escaped_request_uri"},
	"auth-response-headers": {"X-A"}, "auth-method": {"GET"},
	"auth-cache-key": {"$http_authorization"}, "auth-cache-duration": {"200 1m", "200 1m, 401 5s", "5m"},
	"auth-keepalive": {"0", "4"}, "auth-keepalive-requests": {"10"}, "auth-keepalive-timeout": {"10"}, "auth-keepalive-share-vars": {"true"},
	"auth-proxy-set-headers": {"auth-headers"}, "auth-request-redirect": {"https://a.example/"},
	"auth-signin-redirect-param": {"next"}, "auth-always-set-cookie": {"true", "false"}, "enable-global-auth": {"false", "true"},
	// Dropped in the fuzz config (snippets not allowed), as the other
	// snippets: any value renders as none.
	"auth-snippet":    {"proxy_set_header X-A 1;"},
	"stream-snippet":  {"server { listen 9000; proxy_pass 10.0.0.1:9000; }"},
	"auth-tls-secret": {"client-ca", "web/client-ca"}, "auth-tls-verify-client": {"on", "optional", "optional_no_ca", "off"},
	"auth-tls-match-cn": {"CN=alice", "^CN=(a|b),O=Ex Inc$"}, "auth-tls-error-page": {"https://help.example/cert"},
	"auth-tls-verify-depth": {"1", "3"}, "auth-tls-pass-certificate-to-upstream": {"true", "false"},
	"proxy-ssl-secret": {"backend-tls", "web/backend-tls"}, "proxy-ssl-verify": {"on", "off"}, "proxy-ssl-verify-depth": {"2"},
	"proxy-ssl-name": {"app.internal"}, "proxy-ssl-server-name": {"on", "off"}, "proxy-ssl-protocols": {"TLSv1.2 TLSv1.3", "TLSv1.3"},
	"proxy-ssl-ciphers": {"HIGH:!aNULL:!MD5"}, "proxy-redirect-from": {"off", "http://a.internal/"}, "proxy-redirect-to": {"/", "https://b.example/x"},
	"proxy-cookie-domain": {"off", "a.internal a.example"}, "proxy-cookie-path": {"off", "/app /"},
	"custom-http-errors": {"404"}, "default-backend": {"errors"},
	// Refused in the fuzz config (allow-snippet-annotations is off).
	"configuration-snippet": {"add_header X-A 1;"}, "server-snippet": {"add_header X-A 1;"}, "modsecurity-snippet": {},
	"enable-modsecurity": {"true", "false"}, "enable-owasp-core-rules": {"true", "false"},
	"modsecurity-transaction-id": {"$request_id", "tx-${request_id}"},
	"enable-opentelemetry":       {"true", "false"}, "opentelemetry-trust-incoming-span": {"true", "false"},
	"opentelemetry-operation-name": {"checkout", "HTTP $request_method ${service_name} $uri"},
	"server-alias":                 {"alias.example", "a.example, b.example"}, "from-to-www-redirect": {"true", "false"},
	"load-balance": {"ewma"}, "ssl-redirect": {"true"}, "force-ssl-redirect": {"true", "false"}, "service-upstream": {"true", "false"}, "ssl-passthrough": {"true", "false"},
	// Traffic policy.
	"canary": {"true", "false"}, "canary-weight": {"20"}, "canary-weight-total": {"1000"},
	"canary-by-header": {"X-Canary"}, "canary-by-header-value": {"yes"}, "canary-by-header-pattern": {"^a.*"},
	"canary-by-cookie": {"canary"},
	"limit-rate":       {"100", "0"}, "limit-rate-after": {"1024"}, "enable-access-log": {"false", "true"}, "enable-rewrite-log": {"true", "false"},
	"limit-rps": {"5"}, "limit-rpm": {"60"}, "limit-connections": {"3"}, "limit-burst-multiplier": {"2"},
	"limit-allowlist": {"10.0.0.0/8", "10.0.0.0/8, 192.0.2.1"}, "limit-whitelist": {"10.0.0.0/8"},
	"allowlist-source-range": {"10.0.0.0/8", "10.0.0.0/8,2001:db8::/32"}, "whitelist-source-range": {"10.0.0.0/8"},
	"denylist-source-range": {"10.0.0.0/8", "10.0.0.0/8,192.0.2.1"},
	"affinity":              {"cookie"}, "affinity-mode": {"balanced", "persistent"}, "session-cookie-name": {"route"},
	"session-cookie-path": {"/"}, "session-cookie-max-age": {"60"}, "session-cookie-expires": {"60"},
	"session-cookie-samesite": {"Lax"}, "session-cookie-domain": {"example.com", ".example.com"}, "session-cookie-secure": {"true", "false"},
	"upstream-hash-by":        {"$request_uri", "$host$arg_user"},
	"upstream-hash-by-subset": {"true", "false"}, "upstream-hash-by-subset-size": {"5"},
	"affinity-canary-behavior": {"sticky", "legacy"}, "session-cookie-change-on-failure": {"true", "false"},
	"session-cookie-conditional-samesite-none": {"true", "false"},
	// Redirect form, satisfy, TLS of the host.
	"use-port-in-redirects": {"true", "false"}, "relative-redirects": {"true", "false"}, "preserve-trailing-slash": {"true", "false"},
	"satisfy": {"any", "all"}, "ssl-ciphers": {"HIGH:!aNULL:@STRENGTH"}, "ssl-prefer-server-ciphers": {"true", "false"},
	"http2-push-preload": {"true", "false"},
	// Proxy: the ConfigMaps custom-headers and fastcgi-params-configmap
	// name are FuzzConfigMapValues's.
	"connection-proxy-header": {"close", "keep-alive"}, "proxy-busy-buffers-size": {"8k"},
	"custom-headers": {"headers", "web/headers"}, "fastcgi-index": {"index.php"}, "fastcgi-params-configmap": {"fcgi", "web/fcgi"},
	"mirror-target": {"http://10.0.0.1/m", "https://m.example$request_uri", "http://m.example"}, "mirror-host": {"m.example"},
	"mirror-request-body": {"off", "on"}, "disable-proxy-intercept-errors": {"true", "false"},
}

// fuzzCompanions are annotations set beside the fuzzed one so it has an
// effect.
var fuzzCompanions = map[string]map[string]string{
	"enable-owasp-core-rules": {"enable-modsecurity": "true"}, "modsecurity-transaction-id": {"enable-modsecurity": "true"},
	"opentelemetry-trust-incoming-span": {"enable-opentelemetry": "true"},
	"permanent-redirect-code":           {"permanent-redirect": "https://a.example/"},
	"temporal-redirect-code":            {"temporal-redirect": "http://a.example/"},
	"cors-allow-origin":                 {"enable-cors": "true"}, "cors-allow-methods": {"enable-cors": "true"},
	"cors-allow-headers": {"enable-cors": "true"}, "cors-allow-credentials": {"enable-cors": "true"},
	"cors-max-age": {"enable-cors": "true"}, "cors-expose-headers": {"enable-cors": "true"},
	"auth-tls-verify-client": {"auth-tls-secret": "client-ca"}, "auth-tls-verify-depth": {"auth-tls-secret": "client-ca"},
	"auth-tls-pass-certificate-to-upstream": {"auth-tls-secret": "client-ca"}, "auth-tls-match-cn": {"auth-tls-secret": "client-ca"},
	"auth-tls-error-page": {"auth-tls-secret": "client-ca"},
	"proxy-ssl-verify":    {"proxy-ssl-secret": "backend-tls"}, "proxy-ssl-verify-depth": {"proxy-ssl-secret": "backend-tls"},
	"proxy-ssl-name": {"proxy-ssl-secret": "backend-tls"}, "proxy-ssl-server-name": {"proxy-ssl-secret": "backend-tls"},
	"proxy-ssl-protocols": {"proxy-ssl-secret": "backend-tls"}, "proxy-ssl-ciphers": {"proxy-ssl-secret": "backend-tls"},
	"proxy-redirect-to": {"proxy-redirect-from": "http://a.internal/"}, "proxy-redirect-from": {"proxy-redirect-to": "/"},
	"auth-type":        {"auth-secret": "users"},
	"auth-secret":      {"auth-type": "basic"},
	"auth-secret-type": {"auth-type": "basic", "auth-secret": "users"},
	"auth-realm":       {"auth-type": "basic", "auth-secret": "users"},
	"auth-signin":      {"auth-url": "http://10.0.0.1/a"}, "auth-response-headers": {"auth-url": "http://10.0.0.1/a"},
	"auth-method":    {"auth-url": "http://10.0.0.1/a"},
	"auth-cache-key": {"auth-url": "http://10.0.0.1/a"}, "auth-cache-duration": {"auth-url": "http://10.0.0.1/a", "auth-cache-key": "$host"},
	"auth-keepalive": {"auth-url": "http://10.0.0.1/a"}, "auth-keepalive-requests": {"auth-url": "http://10.0.0.1/a", "auth-keepalive": "2"},
	"auth-keepalive-timeout": {"auth-url": "http://10.0.0.1/a", "auth-keepalive": "2"}, "auth-keepalive-share-vars": {"auth-url": "http://10.0.0.1/a"},
	"auth-proxy-set-headers": {"auth-url": "http://10.0.0.1/a"}, "auth-request-redirect": {"auth-url": "http://10.0.0.1/a"},
	"auth-signin-redirect-param": {"auth-url": "http://10.0.0.1/a", "auth-signin": "https://s.example/"},
	"auth-always-set-cookie":     {"auth-url": "http://10.0.0.1/a"}, "auth-snippet": {"auth-url": "http://10.0.0.1/a"},
	"custom-http-errors": {"default-backend": "errors"}, "default-backend": {"custom-http-errors": "404"},
	"opentelemetry-operation-name": {"enable-opentelemetry": "true"},
	"canary-weight":                {"canary": "true"}, "canary-weight-total": {"canary": "true", "canary-weight": "5"},
	"canary-by-header": {"canary": "true"}, "canary-by-header-value": {"canary": "true", "canary-by-header": "X-C"},
	"canary-by-header-pattern": {"canary": "true", "canary-by-header": "X-C"}, "canary-by-cookie": {"canary": "true"},
	"limit-burst-multiplier": {"limit-rps": "5"}, "limit-allowlist": {"limit-rps": "5"}, "limit-whitelist": {"limit-rps": "5"},
	"affinity-mode": {"affinity": "cookie"}, "session-cookie-name": {"affinity": "cookie"},
	"session-cookie-path": {"affinity": "cookie"}, "session-cookie-max-age": {"affinity": "cookie"},
	"session-cookie-expires": {"affinity": "cookie"}, "session-cookie-samesite": {"affinity": "cookie"},
	"session-cookie-domain": {"affinity": "cookie"}, "session-cookie-secure": {"affinity": "cookie"},
	"session-cookie-change-on-failure": {"affinity": "cookie"}, "session-cookie-conditional-samesite-none": {"affinity": "cookie"},
	"upstream-hash-by-subset": {"upstream-hash-by": "$request_uri"}, "upstream-hash-by-subset-size": {"upstream-hash-by": "$request_uri", "upstream-hash-by-subset": "true"},
	"affinity-canary-behavior": {"canary": "true"},
	"use-port-in-redirects":    {"permanent-redirect": "/new"}, "relative-redirects": {"permanent-redirect": "/new"},
	"preserve-trailing-slash": {"force-ssl-redirect": "true"},
	"satisfy":                 {"auth-type": "basic", "auth-secret": "users", "whitelist-source-range": "10.0.0.0/8"},
	"fastcgi-index":           {"backend-protocol": "FCGI"}, "fastcgi-params-configmap": {"backend-protocol": "FCGI"},
	"mirror-host": {"mirror-target": "http://10.0.0.1/m"}, "mirror-request-body": {"mirror-target": "http://10.0.0.1/m"},
	"disable-proxy-intercept-errors": {"custom-http-errors": "404", "default-backend": "errors"},
}

// fuzzPayloads try to leave the value's place in nginx.conf.
var fuzzPayloads = []string{
	`x"; include /etc/passwd; #`, "/a;} server { listen 1; } #", "1\n}\nlocation /x { return 200; }",
	"$host", "/${host}", "{", "}", `\"`, "on\x00", "'", "http://a.example/${x}", "https://a.example/a b",
	"https://a.example/\";return 200;#", "GET;", "X-A, X-B;add_header", "8k; include x", "5s;", "/x/$1;",
	"https://*.a.example, http://b.example:80", "/f/(.*)\"", "basic\nauth_basic off", "404,502 ; return 200",
}

func fuzzInput(name, value string) model.Input {
	ann := map[string]string{name: value}
	for k, v := range fuzzCompanions[name] {
		ann[k] = v
	}
	pfx := networkingv1.PathTypePrefix
	return httpInput(map[string]string{"annotations-risk-level": "Critical"},
		httpIngress("fuzz", "f.example.com", ann, pfx, "/f/(.*)"),
		httpIngress("other", "o.example.com", nil, pfx, "/"))
}

func skeletonOf(in model.Input) (string, *model.Config, error) {
	cfg := model.Build(in)
	p, err := plan.Make(cfg, nil, testOptions)
	if err != nil {
		return "", cfg, err
	}
	conf, _, err := Render(p)
	if err != nil {
		return "", cfg, err
	}
	ds, err := nginxconf.Parse(conf)
	if err != nil {
		return "", cfg, fmt.Errorf("%v\n%s", err, conf)
	}
	return skeleton(ds), cfg, nil
}

var (
	allowedOnce sync.Once
	allowed     map[string]map[string]bool // annotation -> skeletons
	allowedErr  error
)

// allowedSkeletons renders the references once: for each annotation the
// skeletons of its reference values and of the Ingress not served.
func allowedSkeletons() (map[string]map[string]bool, error) {
	allowedOnce.Do(func() {
		allowed = map[string]map[string]bool{}
		pfx := networkingv1.PathTypePrefix
		rejected, _, err := skeletonOf(httpInput(map[string]string{"annotations-risk-level": "Critical"},
			httpIngress("other", "o.example.com", nil, pfx, "/")))
		if err != nil {
			allowedErr = err
			return
		}
		for name, refs := range fuzzRefs {
			// An empty value is no value: the companions alone.
			unset, _, err := skeletonOf(fuzzInput(name, ""))
			if err != nil {
				allowedErr = err
				return
			}
			allowed[name] = map[string]bool{rejected: true, unset: true}
			for _, v := range refs {
				sk, cfg, err := skeletonOf(fuzzInput(name, v))
				if err != nil {
					allowedErr = err
					return
				}
				if diag.HasError(cfg.Diagnostics) {
					allowedErr = fmt.Errorf("reference %s=%q is refused: %v", name, v, cfg.Diagnostics)
					return
				}
				allowed[name][sk] = true
			}
		}
	})
	return allowed, allowedErr
}

func TestFuzzRefsCoverSupported(t *testing.T) {
	for _, n := range annotations.SupportedNames() {
		if _, ok := fuzzRefs[n]; !ok {
			t.Errorf("annotation %s has no reference values in fuzzRefs", n)
		}
	}
	if _, err := allowedSkeletons(); err != nil {
		t.Fatal(err)
	}
}

// FuzzAnnotationValues gives one supported annotation an arbitrary value
// and checks that the rendered nginx.conf parses and has exactly the
// directive structure of a reference value or of the Ingress refused: no
// value adds a directive, a block or an include. Snippets are not allowed
// here (annotations-risk-level Critical, allow-snippet-annotations off),
// so they must always be dropped.
//
// The corpus names the annotation, so that a seed keeps its target when
// names are added; a name the fuzzer makes up stands for a supported one
// (by its length).
func FuzzAnnotationValues(f *testing.F) {
	names := annotations.SupportedNames()
	for _, n := range names {
		for _, v := range fuzzPayloads {
			f.Add(n, v)
		}
		for _, v := range fuzzRefs[n] {
			f.Add(n, v)
		}
	}
	f.Fuzz(func(t *testing.T, name string, value string) {
		want, err := allowedSkeletons()
		if err != nil {
			t.Fatal(err)
		}
		if !annotations.Supported(name) {
			name = names[len(name)%len(names)]
		}
		sk, cfg, err := skeletonOf(fuzzInput(name, value))
		if err != nil {
			t.Fatalf("%s=%q: %v", name, value, err)
		}
		if !want[name][sk] {
			t.Fatalf("%s=%q renders a directive structure no reference value has:\n%s\ndiagnostics: %v", name, value, sk, cfg.Diagnostics)
		}
		served := false
		for _, s := range cfg.Servers {
			served = served || s.Host == "o.example.com"
		}
		if !served {
			t.Fatalf("%s=%q: the other Ingress is not served", name, value)
		}
		if strings.Contains(name, "snippet") {
			for _, s := range cfg.Servers {
				snippet := len(s.Snippets) > 0
				for _, l := range s.Locations {
					snippet = snippet || l.Snippet != ""
				}
				if snippet {
					t.Fatalf("%s=%q reached server %q while allow-snippet-annotations is off", name, value, s.Host)
				}
			}
			if len(cfg.StreamSnippets) > 0 {
				t.Fatalf("%s=%q reached the stream block while allow-snippet-annotations is off", name, value)
			}
		}
	})
}
