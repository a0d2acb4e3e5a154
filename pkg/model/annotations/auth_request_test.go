package annotations

import (
	"reflect"
	"testing"
)

func TestParseAuthRequest(t *testing.T) {
	url := URL{Scheme: "http", Host: "10.0.0.5", Path: "/auth"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"auth-url": "http://10.0.0.5/auth"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	ext := func(e ExternalAuth) Set {
		e.URL = url
		return Set{ExternalAuth: &e}
	}
	runHTTPCases(t, []httpCase{
		{"cache", with("auth-cache-key", "$remote_user${http_authorization}-x", "auth-cache-duration", " 200  202 10m, 401 1m,"),
			ext(ExternalAuth{Cache: &AuthCache{Key: "$remote_user${http_authorization}-x", Valid: []string{"200 202 10m", "401 1m"}}}), nil},
		{"cache: default duration", with("auth-cache-key", "$cookie__oauth2_proxy"),
			ext(ExternalAuth{Cache: &AuthCache{Key: "$cookie__oauth2_proxy", Valid: []string{"200 202 401 5m"}}}), nil},
		{"cache: any and a time alone", with("auth-cache-key", "$http_x_user", "auth-cache-duration", "any 30s, 1h"),
			ext(ExternalAuth{Cache: &AuthCache{Key: "$http_x_user", Valid: []string{"any 30s", "1h"}}}), nil},
		{"cache duration without a key does nothing", with("auth-cache-duration", "200 1m"), ext(ExternalAuth{}), nil},
		{"cache key: literals only", with("auth-cache-key", "everyone"), Set{}, bad},
		{"cache key: unknown variable", with("auth-cache-key", "$request_body"), Set{}, bad},
		{"cache key: a family alone", with("auth-cache-key", "$http_"), Set{}, bad},
		{"cache key: quote", with("auth-cache-key", `$host"`), Set{}, bad},
		{"cache key: open brace", with("auth-cache-key", "${host"), Set{}, bad},
		{"cache key: space", with("auth-cache-key", "$host $uri"), Set{}, bad},
		{"cache duration: two times", with("auth-cache-key", "$host", "auth-cache-duration", "200 1h 30m"), Set{}, bad},
		{"cache duration: no time", with("auth-cache-key", "$host", "auth-cache-duration", "200 202"), Set{}, bad},
		{"cache duration: junk", with("auth-cache-key", "$host", "auth-cache-duration", "200 5m; return 200"), Set{}, bad},
		{"keepalive", with("auth-keepalive", "10", "auth-keepalive-requests", "50", "auth-keepalive-timeout", "30", "auth-keepalive-share-vars", "true"),
			ext(ExternalAuth{Keepalive: &AuthKeepalive{Connections: 10, Requests: 50, Timeout: 30}}), nil},
		{"keepalive: defaults", with("auth-keepalive", "2"), ext(ExternalAuth{Keepalive: &AuthKeepalive{Connections: 2, Requests: 1000, Timeout: 60}}), nil},
		{"keepalive: 0 is none", with("auth-keepalive", "0", "auth-keepalive-timeout", "5"), ext(ExternalAuth{}), nil},
		{"keepalive: $host is reported", map[string]string{"auth-url": "http://$host/auth", "auth-keepalive": "4"},
			Set{ExternalAuth: &ExternalAuth{URL: URL{Scheme: "http", Path: "/auth"}, URLHostFromRule: true}}, []string{"IneffectiveAnnotation"}},
		{"keepalive: negative", with("auth-keepalive", "-1"), Set{}, bad},
		{"keepalive: plus sign", with("auth-keepalive", "+1"), Set{}, bad},
		{"keepalive requests: 0", with("auth-keepalive", "1", "auth-keepalive-requests", "0"), Set{}, bad},
		{"keepalive timeout: unit", with("auth-keepalive", "1", "auth-keepalive-timeout", "60s"), Set{}, bad},
		{"share vars: not a bool", with("auth-keepalive-share-vars", "yes"), Set{}, bad},
		{"proxy headers", with("auth-proxy-set-headers", "auth-headers"), ext(ExternalAuth{ProxyHeaders: &ObjectRef{Name: "auth-headers"}}), nil},
		{"proxy headers: ns/name", with("auth-proxy-set-headers", "web/auth-headers"),
			ext(ExternalAuth{ProxyHeaders: &ObjectRef{Namespace: "web", Name: "auth-headers"}}), nil},
		{"proxy headers: three parts", with("auth-proxy-set-headers", "a/b/c"), Set{}, bad},
		{"request redirect", with("auth-request-redirect", "$scheme://$host$request_uri?from=portico"),
			ext(ExternalAuth{RequestRedirect: "$scheme://$host$request_uri?from=portico"}), nil},
		{"request redirect: quote", with("auth-request-redirect", `https://a.example/"`), Set{}, bad},
		{"request redirect: unknown variable", with("auth-request-redirect", "$document_root"), Set{}, bad},
		{"request redirect: space", with("auth-request-redirect", "https://a.example/ x"), Set{}, bad},
		{"always set cookie", with("auth-always-set-cookie", "true"), ext(ExternalAuth{AlwaysSetCookie: true}), nil},
		{"always set cookie: not a bool", with("auth-always-set-cookie", "always"), Set{}, bad},
		{"snippet", with("auth-snippet", "proxy_set_header Foo-Header 42;"), ext(ExternalAuth{Snippet: "proxy_set_header Foo-Header 42;"}), nil},
		{"snippet: closes the location", with("auth-snippet", "} location /x { return 200;"), Set{}, bad},
		{"companions without auth-url do nothing", map[string]string{"auth-cache-key": "$host", "auth-keepalive": "3"}, Set{}, nil},
		{"enable-global-auth false", map[string]string{"enable-global-auth": "false"}, Set{NoGlobalAuth: true}, nil},
		{"enable-global-auth true", map[string]string{"enable-global-auth": "true"}, Set{}, nil},
		{"enable-global-auth: not a bool", map[string]string{"enable-global-auth": "off"}, Set{}, bad},
	})
}

func TestParseAuthSetHeaders(t *testing.T) {
	got, err := ParseAuthSetHeaders(map[string]string{"X-Request-Start": "t=${msec}", "X_Tenant": "a b; {c} #d", "X-Empty": ""})
	want := []AuthSetHeader{{"X-Empty", ""}, {"X-Request-Start", "t=${msec}"}, {"X_Tenant", "a b; {c} #d"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseAuthSetHeaders = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []map[string]string{
		{"X Bad": "v"}, {"X-A": `a"b`}, {"X-A": `a\b`}, {"X-A": "a\nb"}, {"X-A": "$request_body"}, {"X-A": "${host"},
	} {
		if hs, err := ParseAuthSetHeaders(bad); err == nil {
			t.Errorf("ParseAuthSetHeaders(%q) = %v, want an error", bad, hs)
		}
	}
}

func TestSigninPrefix(t *testing.T) {
	for _, tc := range []struct {
		e    ExternalAuth
		want string
	}{
		{ExternalAuth{Signin: &URL{Scheme: "https", Host: "l.example", Path: "/s"}, SigninParam: "rd"}, "https://l.example/s?rd="},
		{ExternalAuth{Signin: &URL{Scheme: "https", Host: "l.example", Path: "/s", Query: "a=1"}, SigninParam: "next"}, "https://l.example/s?a=1&next="},
		{ExternalAuth{Signin: &URL{Scheme: "https", Host: "l.example", Path: "/s", Query: "rd=x"}, SigninRD: RDNone}, "https://l.example/s?rd=x"},
	} {
		if got := tc.e.SigninPrefix(); got != tc.want {
			t.Errorf("SigninPrefix = %q, want %q", got, tc.want)
		}
	}
}
