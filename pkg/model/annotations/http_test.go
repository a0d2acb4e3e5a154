package annotations

import (
	"reflect"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// httpCase is one table row: annotations in, the Set fields of the HTTP
// block out (compared whole), and the reasons of the diagnostics.
type httpCase struct {
	name    string
	in      map[string]string // names without Prefix
	want    Set
	reasons []string
}

func runHTTPCases(t *testing.T, cases []httpCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := Annotations{}
			for k, v := range tc.in {
				a[Prefix+k] = v
			}
			got, ds := Parse(a)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse() =\n%+v\nwant\n%+v", got, tc.want)
			}
			checkReasons(t, ds, tc.reasons)
		})
	}
}

var (
	bad     = []string{"InvalidAnnotation"}
	ignored = []string{"AnnotationValueIgnored"}
)

func ptr[T any](v T) *T { return &v }

func TestParsePathsAndRedirects(t *testing.T) {
	runHTTPCases(t, []httpCase{
		{"use-regex", map[string]string{"use-regex": "true"}, Set{UseRegex: true}, nil},
		{"use-regex: not a bool", map[string]string{"use-regex": "yes"}, Set{}, bad},
		{"capture without use-regex (rewrite-target makes the paths regexes)", map[string]string{"rewrite-target": "/$1"}, Set{RewriteTarget: "/$1"}, nil},
		{"capture with use-regex", map[string]string{"rewrite-target": "/v2/$1/$2", "use-regex": "true"}, Set{UseRegex: true, RewriteTarget: "/v2/$1/$2"}, nil},
		{"capture $0 refused", map[string]string{"rewrite-target": "/$0", "use-regex": "true"}, Set{UseRegex: true}, bad},
		{"variable refused with use-regex", map[string]string{"rewrite-target": "/$host", "use-regex": "true"}, Set{UseRegex: true}, bad},
		{"braced variable refused", map[string]string{"rewrite-target": "/${1}", "use-regex": "true"}, Set{UseRegex: true}, bad},
		{"app-root", map[string]string{"app-root": "/app1"}, Set{AppRoot: "/app1"}, nil},
		{"app-root: absolute URL refused", map[string]string{"app-root": "http://x/"}, Set{}, bad},
		{"x-forwarded-prefix", map[string]string{"x-forwarded-prefix": "/api"}, Set{XForwardedPrefix: "/api"}, nil},
		{"x-forwarded-prefix: quote", map[string]string{"x-forwarded-prefix": `/a"`}, Set{}, bad},
		// An empty value is no value, as in ingress-nginx: no header, and
		// no refusal; the same for any annotation.
		{"x-forwarded-prefix: empty", map[string]string{"x-forwarded-prefix": ""}, Set{}, nil},
		{"empty values are unset", map[string]string{"rewrite-target": "", "ssl-redirect": "", "use-regex": ""}, Set{}, nil},
		{"permanent redirect default 301", map[string]string{"permanent-redirect": "https://www.example.com/new?x=1"},
			Set{Redirect: &Redirect{Code: 301, URL: URL{Scheme: "https", Host: "www.example.com", Path: "/new", Query: "x=1"}}}, nil},
		{"permanent redirect 308", map[string]string{"permanent-redirect": "http://Example.com:8080", "permanent-redirect-code": "308"},
			Set{Redirect: &Redirect{Code: 308, URL: URL{Scheme: "http", Host: "example.com", Port: 8080, Path: "/"}}}, nil},
		// As ingress-nginx's redirect parser: a code that is no number
		// refuses the Ingress, a number outside 300-308 (300-307 for
		// temporal-redirect) gives the default code, with a Warning; the
		// numbers within that nginx's return does not redirect with are
		// refused.
		{"permanent redirect code 200 gives 301", map[string]string{"permanent-redirect": "http://a.example", "permanent-redirect-code": "200"},
			Set{Redirect: &Redirect{Code: 301, URL: URL{Scheme: "http", Host: "a.example", Path: "/"}}}, ignored},
		{"permanent redirect code not a number", map[string]string{"permanent-redirect": "http://a.example", "permanent-redirect-code": "moved"}, Set{}, bad},
		{"permanent redirect code 304 refused", map[string]string{"permanent-redirect": "http://a.example", "permanent-redirect-code": "304"}, Set{}, bad},
		{"temporal redirect 301", map[string]string{"temporal-redirect": "https://a.example/", "temporal-redirect-code": "301"},
			Set{Redirect: &Redirect{Code: 301, URL: URL{Scheme: "https", Host: "a.example", Path: "/"}}}, nil},
		{"temporal redirect 308 gives 302", map[string]string{"temporal-redirect": "https://a.example/", "temporal-redirect-code": "308"},
			Set{Redirect: &Redirect{Code: 302, URL: URL{Scheme: "https", Host: "a.example", Path: "/"}}}, ignored},
		{"temporal redirect code 99999 gives 302", map[string]string{"temporal-redirect": "https://a.example/", "temporal-redirect-code": "99999"},
			Set{Redirect: &Redirect{Code: 302, URL: URL{Scheme: "https", Host: "a.example", Path: "/"}}}, ignored},
		{"temporal redirect code 0 gives 302", map[string]string{"temporal-redirect": "https://a.example/", "temporal-redirect-code": "0"},
			Set{Redirect: &Redirect{Code: 302, URL: URL{Scheme: "https", Host: "a.example", Path: "/"}}}, ignored},
		{"temporal redirect code not a number", map[string]string{"temporal-redirect": "https://a.example/", "temporal-redirect-code": "307 "}, Set{}, bad},
		{"temporal redirect code 300 refused", map[string]string{"temporal-redirect": "https://a.example/", "temporal-redirect-code": "300"}, Set{}, bad},
		{"temporal redirect default 302", map[string]string{"temporal-redirect": "https://[2001:db8::1]/x"},
			Set{Redirect: &Redirect{Code: 302, URL: URL{Scheme: "https", Host: "[2001:db8::1]", Path: "/x"}}}, nil},
		{"temporal redirect 307", map[string]string{"temporal-redirect": "https://a.example/", "temporal-redirect-code": "307"},
			Set{Redirect: &Redirect{Code: 307, URL: URL{Scheme: "https", Host: "a.example", Path: "/"}}}, nil},
		{"temporal wins over permanent, as in ingress-nginx", map[string]string{"temporal-redirect": "https://t.example/", "permanent-redirect": "https://p.example/"},
			Set{Redirect: &Redirect{Code: 302, URL: URL{Scheme: "https", Host: "t.example", Path: "/"}}}, nil},
		{"redirect: variable", map[string]string{"permanent-redirect": "https://a.example/$request_uri"}, Set{}, bad},
		{"redirect: injection", map[string]string{"permanent-redirect": "https://a.example/\"; return 200; #"}, Set{}, bad},
		{"redirect: user info", map[string]string{"permanent-redirect": "https://u:p@a.example/"}, Set{}, bad},
		{"redirect: scheme", map[string]string{"permanent-redirect": "javascript:alert(1)"}, Set{}, bad},
		{"redirect: encoded path", map[string]string{"permanent-redirect": "https://a.example/%3B"}, Set{}, bad},
	})
}

func TestParseRegexPath(t *testing.T) {
	tests := []struct {
		in     string
		groups int
		ok     bool
	}{
		{`/api(/|$)(.*)`, 2, true},
		{`/v[0-9]{1,2}/items/\d+$`, 0, true},
		{`/(?i)x{2,}`, 0, true},
		{`/a\.b`, 0, true},
		{`/a$b`, 0, false},        // '$' starts a variable name
		{`/a\\b`, 0, false},       // nginx would unescape \\
		{`/a\"`, 0, false},        // quote
		{`/a\n`, 0, false},        // nginx would unescape \n
		{`/a{x}`, 0, false},       // not a quantifier
		{`{1}`, 0, false},         // not absolute
		{`/a}`, 0, false},         // stray brace
		{`/(`, 0, false},          // does not compile
		{`/a b`, 0, false},        // whitespace
		{`/a;b`, 0, false},        // ';'
		{"/a\x00", 0, false},      // NUL
		{`/(?P<n>x)`, 0, false},   // '<' not in the grammar
		{`/x{1,2}{3}`, 0, false},  // Go rejects the double quantifier
		{`/x{1,99999}`, 0, false}, // quantifier too long
		{`/x(a|b)?$`, 1, true},    // end anchor
		{`/x$)`, 0, false},        // unbalanced for Go
		{`/[^/]+/(\w+)`, 1, true}, // classes
		{`/a` + strings.Repeat("b", maxRegexPath), 0, false},
	}
	for _, tc := range tests {
		g, err := ParseRegexPath(tc.in)
		if (err == nil) != tc.ok || g != tc.groups {
			t.Errorf("ParseRegexPath(%q) = %d, %v; want %d, ok=%v", tc.in, g, err, tc.groups, tc.ok)
		}
	}
}

func TestParseProxy(t *testing.T) {
	tls12 := []string{"TLSv1.2"} // ingress-nginx's default with proxy-ssl-secret
	runHTTPCases(t, []httpCase{
		{"all proxy settings", map[string]string{"backend-protocol": "grpcs", "proxy-body-size": "8m", "proxy-connect-timeout": "5",
			"proxy-send-timeout": "30s", "proxy-read-timeout": "3600", "proxy-buffering": "off", "proxy-buffer-size": "16k",
			"proxy-next-upstream": "error  timeout http_503", "proxy-next-upstream-tries": "0", "proxy-next-upstream-timeout": "0",
			"upstream-vhost": "Internal.Example:8080", "proxy-http-version": "1.0"},
			Set{Proxy: Proxy{Protocol: ProtoGRPCS, BodySize: "8m", ConnectTimeout: 5, SendTimeout: 30, ReadTimeout: 3600,
				Buffering: "off", BufferSize: "16k", NextUpstream: []string{"error", "timeout", "http_503"},
				NextUpstreamTries: ptr(0), NextUpstreamTimeout: ptr(Seconds(0)), UpstreamVhost: "internal.example:8080", HTTPVersion: "1.0"}}, nil},
		{"body size 0 is unlimited", map[string]string{"proxy-body-size": "0"}, Set{Proxy: Proxy{BodySize: "0"}}, nil},
		{"body size: unit", map[string]string{"proxy-body-size": "8mb"}, Set{}, bad},
		{"body size: overflow", map[string]string{"proxy-body-size": "999999999g"}, Set{}, bad},
		{"buffer size 0 refused", map[string]string{"proxy-buffer-size": "0"}, Set{}, bad},
		{"buffer size too big", map[string]string{"proxy-buffer-size": "2m"}, Set{}, bad},
		{"backend-protocol: AJP", map[string]string{"backend-protocol": "AJP"}, Set{}, bad},
		{"timeout 0 refused", map[string]string{"proxy-read-timeout": "0"}, Set{}, bad},
		{"timeout: minutes", map[string]string{"proxy-read-timeout": "1m"}, Set{}, bad},
		{"timeout: injection", map[string]string{"proxy-read-timeout": "5; include x"}, Set{}, bad},
		{"buffering: bool", map[string]string{"proxy-buffering": "true"}, Set{}, bad},
		{"next-upstream: unknown token", map[string]string{"proxy-next-upstream": "error rm"}, Set{}, bad},
		{"next-upstream: semicolon", map[string]string{"proxy-next-upstream": "error;"}, Set{}, bad},
		{"next-upstream: empty", map[string]string{"proxy-next-upstream": " "}, Set{}, bad},
		{"tries: too many", map[string]string{"proxy-next-upstream-tries": "1000"}, Set{}, bad},
		{"vhost: variable", map[string]string{"upstream-vhost": "$host"}, Set{}, bad},
		{"vhost: bad port", map[string]string{"upstream-vhost": "a.example:080"}, Set{}, bad},
		{"http version 2", map[string]string{"proxy-http-version": "2.0"}, Set{}, bad},
		{"buffers and bodies", map[string]string{"proxy-request-buffering": "off", "client-body-buffer-size": "1m",
			"proxy-buffers-number": "8", "proxy-buffer-size": "16k", "proxy-max-temp-file-size": "0"},
			Set{Proxy: Proxy{RequestBuffering: "off", BodyBufferSize: "1m", BuffersNumber: 8, BufferSize: "16k", MaxTempFileSize: "0"}}, nil},
		{"buffers number alone comes with 4k buffers", map[string]string{"proxy-buffers-number": "2"}, Set{Proxy: Proxy{BuffersNumber: 2, BufferSize: "4k"}}, nil},
		{"buffers number 1: busy buffers need two", map[string]string{"proxy-buffers-number": "1"}, Set{}, bad},
		{"buffers number: too many", map[string]string{"proxy-buffers-number": "65"}, Set{}, bad},
		{"buffers number: leading zero", map[string]string{"proxy-buffers-number": "08"}, Set{}, bad},
		{"request buffering: bool", map[string]string{"proxy-request-buffering": "false"}, Set{}, bad},
		{"body buffer: 0", map[string]string{"client-body-buffer-size": "0"}, Set{}, bad},
		{"body buffer: too big", map[string]string{"client-body-buffer-size": "65m"}, Set{}, bad},
		{"body buffer: injection", map[string]string{"client-body-buffer-size": "8k; include x"}, Set{}, bad},
		{"proxy-ssl all", map[string]string{"proxy-ssl-secret": "ns/ca", "proxy-ssl-verify": "on", "proxy-ssl-verify-depth": "3",
			"proxy-ssl-name": "App.Internal", "proxy-ssl-server-name": "on", "proxy-ssl-protocols": "TLSv1.2  TLSv1.3", "proxy-ssl-ciphers": "HIGH:!aNULL"},
			Set{Proxy: Proxy{SSL: &ProxySSL{Namespace: "ns", Secret: "ca", Verify: "on", Depth: 3, Name: "app.internal",
				ServerName: "on", Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: "HIGH:!aNULL"}}}, nil},
		{"proxy-ssl: depth 0 is 1", map[string]string{"proxy-ssl-secret": "ca", "proxy-ssl-verify-depth": "0"},
			Set{Proxy: Proxy{SSL: &ProxySSL{Secret: "ca", Depth: 1, Protocols: tls12}}}, nil},
		{"proxy-ssl: depth 11", map[string]string{"proxy-ssl-secret": "ca", "proxy-ssl-verify-depth": "11"},
			Set{Proxy: Proxy{SSL: &ProxySSL{Secret: "ca", Protocols: tls12}}}, bad},
		{"proxy-ssl for gRPC", map[string]string{"backend-protocol": "GRPCS", "proxy-ssl-secret": "ca"},
			Set{Proxy: Proxy{Protocol: ProtoGRPCS, SSL: &ProxySSL{Secret: "ca", Protocols: tls12}}}, nil},
		{"proxy-ssl: protocol TLSv1 is TLSv1.2", map[string]string{"proxy-ssl-secret": "ca", "proxy-ssl-protocols": "TLSv1"},
			Set{Proxy: Proxy{SSL: &ProxySSL{Secret: "ca", Protocols: tls12}}}, ignored},
		{"proxy-ssl: cipher injection is DEFAULT", map[string]string{"proxy-ssl-secret": "ca", "proxy-ssl-ciphers": `HIGH"; include x; #`},
			Set{Proxy: Proxy{SSL: &ProxySSL{Secret: "ca", Protocols: tls12}}}, ignored},
		{"proxy-ssl: name variable", map[string]string{"proxy-ssl-secret": "ca", "proxy-ssl-name": "$host"},
			Set{Proxy: Proxy{SSL: &ProxySSL{Secret: "ca", Protocols: tls12}}}, bad},
		{"rewrites", map[string]string{"proxy-redirect-from": "http://app.internal/", "proxy-redirect-to": "/app/",
			"proxy-cookie-domain": "app.internal  example.com", "proxy-cookie-path": "off"},
			Set{Proxy: Proxy{Redirect: &Rewrite{From: "http://app.internal/", To: "/app/"},
				CookieDomain: &Rewrite{From: "app.internal", To: "example.com"}, CookiePath: &Rewrite{Off: true}}}, nil},
		{"redirect off ignores to", map[string]string{"proxy-redirect-from": "off", "proxy-redirect-to": "/x"},
			Set{Proxy: Proxy{Redirect: &Rewrite{Off: true}}}, nil},
		{"redirect default is off", map[string]string{"proxy-redirect-from": "default", "proxy-redirect-to": "/x"},
			Set{Proxy: Proxy{Redirect: &Rewrite{Off: true}}}, nil},
		{"redirect to alone", map[string]string{"proxy-redirect-to": "/x"}, Set{}, bad},
		{"redirect: variable", map[string]string{"proxy-redirect-from": "/", "proxy-redirect-to": "$scheme://x/"}, Set{}, bad},
		{"redirect: regex", map[string]string{"proxy-redirect-from": "~^/(.*)", "proxy-redirect-to": "/x"}, Set{}, bad},
		{"cookie path: one token", map[string]string{"proxy-cookie-path": "/app"}, Set{}, bad},
		{"cookie domain: quote", map[string]string{"proxy-cookie-domain": `a "b`}, Set{}, bad},
		{"limit rate", map[string]string{"limit-rate": "100", "limit-rate-after": "0"}, Set{Proxy: Proxy{LimitRate: ptr(100), LimitRateAfter: ptr(0)}}, nil},
		{"limit rate: unit", map[string]string{"limit-rate": "100k"}, Set{}, bad},
		{"logs", map[string]string{"enable-access-log": "false", "enable-rewrite-log": "true"}, Set{Proxy: Proxy{NoAccessLog: true, RewriteLog: true}}, nil},
		{"access log on is the default", map[string]string{"enable-access-log": "true"}, Set{}, nil},
		{"access log: not a boolean", map[string]string{"enable-access-log": "no"}, Set{}, bad},
		{"limit rate: negative", map[string]string{"limit-rate-after": "-1"}, Set{}, bad},
		{"temp file: unit", map[string]string{"proxy-max-temp-file-size": "1gb"}, Set{}, bad},
		{"temp file: g is not an nginx size here", map[string]string{"proxy-max-temp-file-size": "1g"}, Set{}, bad},
		{"temp file: below a buffer", map[string]string{"proxy-max-temp-file-size": "4k"}, Set{}, bad},
		{"temp file: below proxy-buffer-size", map[string]string{"proxy-max-temp-file-size": "16k", "proxy-buffer-size": "32k"}, Set{Proxy: Proxy{BufferSize: "32k"}}, bad},
	})
}

func TestProxyBuffers(t *testing.T) {
	for _, tc := range []struct {
		p    Proxy
		want int
	}{{Proxy{}, 4}, {Proxy{BufferSize: "16k"}, 4}, {Proxy{BuffersNumber: 8, BufferSize: "4k"}, 8}} {
		if got := tc.p.Buffers(); got != tc.want {
			t.Errorf("%+v.Buffers() = %d, want %d", tc.p, got, tc.want)
		}
	}
}

func TestParseCORS(t *testing.T) {
	def := CORS{AnyOrigin: true, Methods: defaultCORSMethods, Headers: defaultCORSHeaders, Credentials: true, MaxAge: defaultCORSMaxAge}
	list := def
	list.AnyOrigin = false
	list.Origins = []CORSOrigin{{Scheme: "https", Host: "app.example.com"}, {Scheme: "http", Wildcard: true, Host: "example.org", Port: 8080}}
	list.OriginRegex = `^(https://app\.example\.com|http://[a-z0-9-]+\.example\.org:8080)$`
	list.Methods, list.Headers, list.ExposeHeaders, list.Credentials, list.MaxAge = "GET, POST", "X-Token, Content-Type", "*, X-Id", false, 600
	origins := func(regex string, os ...CORSOrigin) Set {
		c := def
		c.AnyOrigin, c.Origins, c.OriginRegex = false, os, regex
		return Set{CORS: &c}
	}
	a := CORSOrigin{Scheme: "https", Host: "a.example"}
	ignored := []string{"AnnotationValueIgnored"}
	runHTTPCases(t, []httpCase{
		{"defaults, ingress-nginx v1.15's", map[string]string{"enable-cors": "true"}, Set{CORS: &def}, nil},
		{"off ignores the rest", map[string]string{"enable-cors": "false", "cors-allow-origin": "https://a.example"}, Set{}, nil},
		{"everything", map[string]string{"enable-cors": "true", "cors-allow-origin": "https://app.example.com, http://*.Example.org:8080",
			"cors-allow-methods": "GET,POST", "cors-allow-headers": "X-Token , Content-Type", "cors-expose-headers": "*, X-Id",
			"cors-allow-credentials": "false", "cors-max-age": "600"}, Set{CORS: &list}, nil},
		// Origins as ingress-nginx reads them: empty entries and a trailing
		// comma skipped, any lower-case scheme, null; an entry that is no
		// origin skipped with a Warning.
		{"origin: empty entries, trailing comma", map[string]string{"enable-cors": "true", "cors-allow-origin": ",https://a.example,, "},
			origins(`^(https://a\.example)$`, a), nil},
		{"origin: app schemes and null", map[string]string{"enable-cors": "true", "cors-allow-origin": "tauri://localhost, capacitor://localhost:8080, null"},
			origins(`^(tauri://localhost|capacitor://localhost:8080|null)$`, CORSOrigin{Scheme: "tauri", Host: "localhost"},
				CORSOrigin{Scheme: "capacitor", Host: "localhost", Port: 8080}, CORSOrigin{Null: true}), nil},
		{"origin: no scheme skipped", map[string]string{"enable-cors": "true", "cors-allow-origin": "a.example, https://a.example"},
			origins(`^(https://a\.example)$`, a), ignored},
		{"origin: nothing left allows nothing", map[string]string{"enable-cors": "true", "cors-allow-origin": "a.example"},
			origins(`^$^`), ignored},
		{"origin: empty value is *", map[string]string{"enable-cors": "true", "cors-allow-origin": ""}, Set{CORS: &def}, nil},
		{"origin: * entry", map[string]string{"enable-cors": "true", "cors-allow-origin": "https://a.example, *"}, Set{CORS: &def}, nil},
		{"origin: path, regex, deep wildcard, quote, port range skipped", map[string]string{"enable-cors": "true",
			"cors-allow-origin": `https://a.example/x,https://.*,https://*.*.a.example,https://a.example",https://a.example:70000,https://a.example`},
			origins(`^(https://a\.example)$`, a), []string{"AnnotationValueIgnored", "AnnotationValueIgnored", "AnnotationValueIgnored",
				"AnnotationValueIgnored", "AnnotationValueIgnored"}},
		{"origin: upper-case scheme skipped", map[string]string{"enable-cors": "true", "cors-allow-origin": "HTTPS://a.example"}, origins(`^$^`), ignored},
		// Other values outside their grammar: ingress-nginx's defaults.
		{"methods: space inside", map[string]string{"enable-cors": "true", "cors-allow-methods": "GET PUT"}, Set{CORS: &def}, ignored},
		{"headers: star", map[string]string{"enable-cors": "true", "cors-allow-headers": "*"}, Set{CORS: &def}, ignored},
		{"headers: injection", map[string]string{"enable-cors": "true", "cors-allow-headers": "X\" always; add_header Y"}, Set{CORS: &def}, ignored},
		{"headers: empty items", map[string]string{"enable-cors": "true", "cors-allow-headers": "X-A,,X-B,"},
			func() Set { c := def; c.Headers = "X-A, X-B"; return Set{CORS: &c} }(), nil},
		{"max-age: negative", map[string]string{"enable-cors": "true", "cors-max-age": "-1"}, Set{CORS: &def}, ignored},
		{"credentials: not a bool", map[string]string{"enable-cors": "true", "cors-allow-credentials": "yes"}, Set{CORS: &def}, ignored},
		{"enable-cors: not a bool is off", map[string]string{"enable-cors": "yes"}, Set{}, ignored},
	})
}

func TestParseAuth(t *testing.T) {
	signin := URL{Scheme: "https", Host: "login.example.com", Path: "/start"}
	runHTTPCases(t, []httpCase{
		{"basic", map[string]string{"auth-type": "basic", "auth-secret": "users", "auth-realm": "Team (only)"},
			Set{BasicAuth: &BasicAuth{Secret: "users", Realm: "Team (only)"}}, nil},
		{"basic, auth-map, ns/name", map[string]string{"auth-type": "basic", "auth-secret": "web/users", "auth-secret-type": "auth-map"},
			Set{BasicAuth: &BasicAuth{Namespace: "web", Secret: "users", Map: true, Realm: "Authentication Required"}}, nil},
		{"digest refused", map[string]string{"auth-type": "digest", "auth-secret": "users"}, Set{}, bad},
		{"basic without secret", map[string]string{"auth-type": "basic"}, Set{}, bad},
		{"secret: bad name", map[string]string{"auth-type": "basic", "auth-secret": "Users!"}, Set{}, bad},
		{"realm: quote", map[string]string{"auth-type": "basic", "auth-secret": "u", "auth-realm": `a"b`}, Set{}, bad},
		{"realm: variable", map[string]string{"auth-type": "basic", "auth-secret": "u", "auth-realm": "$host"}, Set{}, bad},
		{"secret type unknown", map[string]string{"auth-type": "basic", "auth-secret": "u", "auth-secret-type": "ldap"}, Set{}, bad},
		{"external", map[string]string{"auth-url": "http://10.0.0.5:9000/auth", "auth-method": "POST", "auth-signin": "https://login.example.com/start",
			"auth-response-headers": "X-User, X-Auth-Email"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Host: "10.0.0.5", Port: 9000, Path: "/auth"}, Method: "POST", Signin: &signin,
				SigninParam: "rd", ResponseHeaders: []AuthHeader{{Name: "X-User", Var: "x_user"}, {Name: "X-Auth-Email", Var: "x_auth_email"}}}}, nil},
		{"external: variable in URL", map[string]string{"auth-url": "http://a.example/$request_uri"}, Set{}, bad},
		{"external: ftp", map[string]string{"auth-url": "ftp://a.example/"}, Set{}, bad},
		{"external: method", map[string]string{"auth-url": "http://a.example/", "auth-method": "get"}, Set{}, bad},
		{"external: method TRACE, as ingress-nginx takes it", map[string]string{"auth-url": "http://a.example/", "auth-method": "TRACE"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Host: "a.example", Path: "/"}, Method: "TRACE"}}, nil},
		{"external: header name", map[string]string{"auth-url": "http://a.example/", "auth-response-headers": "X_User"}, Set{}, bad},
		// A fixed value of the redirect parameter: nothing is added.
		{"signin: fixed rd", map[string]string{"auth-url": "http://10.0.0.5/", "auth-signin": "https://login.example.com/start?rd=x"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Host: "10.0.0.5", Path: "/"},
				Signin: &URL{Scheme: "https", Host: "login.example.com", Path: "/start", Query: "rd=x"}, SigninRD: RDNone}}, nil},
		{"signin: fixed parameters and the redirect one", map[string]string{"auth-url": "http://10.0.0.5/",
			"auth-signin": "https://login.example.com/start?client=a&next=$escaped_request_uri&b"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Host: "10.0.0.5", Path: "/"},
				Signin: &URL{Scheme: "https", Host: "login.example.com", Path: "/start", Query: "client=a&b"}, SigninParam: "next", SigninRD: RDRequestURI}}, nil},
		{"signin: redirect param", map[string]string{"auth-url": "http://10.0.0.5/", "auth-signin": "https://login.example.com/start?client=a",
			"auth-signin-redirect-param": "return_to"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Host: "10.0.0.5", Path: "/"},
				Signin: &URL{Scheme: "https", Host: "login.example.com", Path: "/start", Query: "client=a"}, SigninParam: "return_to"}}, nil},
		{"signin: redirect param given a fixed value", map[string]string{"auth-url": "http://10.0.0.5/", "auth-signin": "https://login.example.com/start?return_to=home",
			"auth-signin-redirect-param": "return_to"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Host: "10.0.0.5", Path: "/"},
				Signin: &URL{Scheme: "https", Host: "login.example.com", Path: "/start", Query: "return_to=home"}, SigninRD: RDNone}}, nil},
		{"signin: redirect param with a quote", map[string]string{"auth-url": "http://10.0.0.5/", "auth-signin-redirect-param": `rd"`}, Set{}, bad},
		{"signin: fixed value with a quote", map[string]string{"auth-url": "http://a.example/", "auth-signin": `https://l.example/?x="`}, Set{}, bad},
		{"signin: two redirect parameters", map[string]string{"auth-url": "http://a.example/", "auth-signin": "https://l.example/?rd=$request_uri&next=$request_uri"}, Set{}, bad},
		{"signin alone does nothing", map[string]string{"auth-signin": "https://l.example/"}, Set{}, nil},
		// oauth2-proxy as ingress-nginx documents it.
		{"external: $host", map[string]string{"auth-url": "https://$host/oauth2/auth", "auth-signin": "https://$host/oauth2/start?rd=$escaped_request_uri"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "https", Path: "/oauth2/auth"}, URLHostFromRule: true,
				Signin: &URL{Scheme: "https", Path: "/oauth2/start"}, SigninHostFromRule: true, SigninParam: "rd", SigninRD: RDRequestURI}}, nil},
		{"external: $host with a port", map[string]string{"auth-url": "http://$host:4180"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Port: 4180, Path: "/"}, URLHostFromRule: true}}, nil},
		{"signin: rd=$request_uri", map[string]string{"auth-url": "http://10.0.0.5/", "auth-signin": "https://login.example.com/start?rd=$request_uri"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Host: "10.0.0.5", Path: "/"}, Signin: &signin, SigninParam: "rd", SigninRD: RDRequestURI}}, nil},
		{"signin: rd the request's URL", map[string]string{"auth-url": "http://10.0.0.5/", "auth-signin": "https://login.example.com/start?rd=$scheme://$host$request_uri"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Host: "10.0.0.5", Path: "/"}, Signin: &signin, SigninParam: "rd"}}, nil},
		{"signin: rd as ingress-nginx appends it", map[string]string{"auth-url": "http://10.0.0.5/", "auth-signin": "https://login.example.com/start?rd=$pass_access_scheme://$http_host$escaped_request_uri"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Host: "10.0.0.5", Path: "/"}, Signin: &signin, SigninParam: "rd"}}, nil},
		{"external: $host inside a name", map[string]string{"auth-url": "https://$host.evil.example/"}, Set{}, bad},
		{"external: $host after a label", map[string]string{"auth-url": "https://a.$host/"}, Set{}, bad},
		{"external: $hostname", map[string]string{"auth-url": "https://$hostname/"}, Set{}, bad},
		{"external: $http_host", map[string]string{"auth-url": "https://$http_host/"}, Set{}, bad},
		{"external: $host in the path", map[string]string{"auth-url": "https://a.example/$host"}, Set{}, bad},
		{"external: $host and a quote", map[string]string{"auth-url": `https://$host/"; return 200; #`}, Set{}, bad},
		{"signin: rd of another variable", map[string]string{"auth-url": "http://a.example/", "auth-signin": "https://$host/start?rd=$args"}, Set{}, bad},
		{"signin: two queries", map[string]string{"auth-url": "http://a.example/", "auth-signin": "https://l.example/?rd=$request_uri?x"}, Set{}, bad},
	})
}

func TestParseErrorsAndSnippets(t *testing.T) {
	runHTTPCases(t, []httpCase{
		{"custom errors", map[string]string{"custom-http-errors": "404, 503,404", "default-backend": "errors"},
			Set{CustomHTTPErrors: []int{404, 503}, DefaultBackend: "errors"}, nil},
		{"custom errors: 302", map[string]string{"custom-http-errors": "302"}, Set{}, bad},
		{"custom errors: junk", map[string]string{"custom-http-errors": "404;"}, Set{}, bad},
		{"default-backend: ns/name", map[string]string{"default-backend": "other/errors"}, Set{}, bad},
		{"snippet", map[string]string{"configuration-snippet": "add_header X-A b;\nif ($x) { return 403; }"},
			Set{ConfigurationSnippet: "add_header X-A b;\nif ($x) { return 403; }"}, nil},
		{"snippet: quoted brace", map[string]string{"server-snippet": `return 200 "}";`}, Set{ServerSnippet: `return 200 "}";`}, nil},
		{"snippet: unbalanced", map[string]string{"configuration-snippet": "} location /x { return 200;"}, Set{}, bad},
		{"snippet: NUL", map[string]string{"configuration-snippet": "return 200;\x00"}, Set{}, bad},
		{"snippet: unterminated", map[string]string{"server-snippet": "return 200"}, Set{}, bad},
		{"snippet: open quote", map[string]string{"server-snippet": `return 200 "x;`}, Set{}, bad},
		// nginx reads "a${;" as one word and "b}" as another: the lone
		// '}' would close the location.
		{"snippet: ${ and } in words", map[string]string{"configuration-snippet": `default_type a${; } location /x { return 200 "x"; } location /y { default_type b};`}, Set{}, bad},
		{"snippet: } in a word", map[string]string{"configuration-snippet": `default_type b};`}, Set{ConfigurationSnippet: `default_type b};`}, nil},
		{"snippet: comment", map[string]string{"server-snippet": "return 204; # }"}, Set{ServerSnippet: "return 204; # }"}, nil},
		{"snippet: Lua string", map[string]string{"configuration-snippet": `content_by_lua_block { ngx.say("}") }`},
			Set{ConfigurationSnippet: `content_by_lua_block { ngx.say("}") }`}, nil},
	})
}

func TestPolicy(t *testing.T) {
	a := Annotations{Prefix + "server-snippet": "x;", Prefix + "auth-url": "http://a/", Prefix + "proxy-body-size": "1m", Prefix + "rewrite-target": "/"}
	reasons := func(ds []diag.Diagnostic) string {
		var r []string
		for _, d := range ds {
			r = append(r, d.Reason)
		}
		return strings.Join(r, ",")
	}
	for _, tc := range []struct {
		max   Risk
		allow bool
		want  string
	}{
		{RiskCritical, true, ""},
		{RiskCritical, false, "SnippetsDisabled"},
		{RiskHigh, true, "AnnotationRiskTooHigh"},
		{RiskMedium, false, "AnnotationRiskTooHigh,AnnotationRiskTooHigh"},
		{RiskLow, true, "AnnotationRiskTooHigh,AnnotationRiskTooHigh,AnnotationRiskTooHigh"},
	} {
		if got := reasons(Policy(a, tc.max, tc.allow)); got != tc.want {
			t.Errorf("Policy(%s, allow=%v) = %s, want %s", tc.max, tc.allow, got, tc.want)
		}
	}
}
