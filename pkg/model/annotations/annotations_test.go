package annotations

import (
	"reflect"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// checkReasons checks that ds have the reasons want, in order, that an
// InvalidAnnotation is an Error and that no message repeats a raw control
// character.
func checkReasons(t *testing.T, ds []diag.Diagnostic, want []string) {
	t.Helper()
	var reasons []string
	for _, d := range ds {
		reasons = append(reasons, d.Reason)
		if d.Reason == "InvalidAnnotation" && d.Severity != diag.Error {
			t.Errorf("invalid value must be an Error, got %s", d.Severity)
		}
		if strings.ContainsAny(d.Message, "\n\r\x00") {
			t.Errorf("message repeats a raw control character: %q", d.Message)
		}
	}
	if strings.Join(reasons, ",") != strings.Join(want, ",") {
		t.Errorf("diagnostics %v, want reasons %v", ds, want)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      Annotations
		want    Set
		reasons []string // Reason of each diagnostic, in order
	}{
		{"none", nil, Set{}, nil},
		{"rewrite to root", Annotations{Prefix + "rewrite-target": "/"}, Set{RewriteTarget: "/"}, nil},
		{"rewrite to path", Annotations{Prefix + "rewrite-target": "/app/v1"}, Set{RewriteTarget: "/app/v1"}, nil},
		{"rewrite: directive injection", Annotations{Prefix + "rewrite-target": "/; } location /x { return 200"}, Set{}, []string{"InvalidAnnotation"}},
		{"rewrite: quote", Annotations{Prefix + "rewrite-target": `/"`}, Set{}, []string{"InvalidAnnotation"}},
		{"rewrite: newline", Annotations{Prefix + "rewrite-target": "/\nreturn 200;"}, Set{}, []string{"InvalidAnnotation"}},
		{"rewrite: variable", Annotations{Prefix + "rewrite-target": "/$host"}, Set{}, []string{"InvalidAnnotation"}},
		{"rewrite: relative", Annotations{Prefix + "rewrite-target": "app"}, Set{}, []string{"InvalidAnnotation"}},
		{"rewrite: too long", Annotations{Prefix + "rewrite-target": "/" + strings.Repeat("a", maxURIPath)}, Set{}, []string{"InvalidAnnotation"}},
		{"load-balance", Annotations{Prefix + "load-balance": "ewma"}, Set{LoadBalance: EWMA}, nil},
		{"load-balance: unknown", Annotations{Prefix + "load-balance": "random"}, Set{}, []string{"InvalidAnnotation"}},
		{"service-upstream", Annotations{Prefix + "service-upstream": "true"}, Set{ServiceUpstream: true}, nil},
		{"service-upstream: false", Annotations{Prefix + "service-upstream": "false"}, Set{}, nil},
		{"service-upstream: not a boolean", Annotations{Prefix + "service-upstream": "yes please"}, Set{}, []string{"InvalidAnnotation"}},
		{"service-upstream with affinity", Annotations{Prefix + "service-upstream": "true", Prefix + "affinity": "cookie"},
			Set{ServiceUpstream: true, Traffic: Traffic{Affinity: Affinity{Cookie: "INGRESSCOOKIE", Mode: "balanced"}}}, []string{"IneffectiveAnnotation"}},
		{"affinity with use-regex: set session-cookie-path", Annotations{Prefix + "use-regex": "true", Prefix + "affinity": "cookie"},
			Set{UseRegex: true, Traffic: Traffic{Affinity: Affinity{Cookie: "INGRESSCOOKIE", Mode: "balanced"}}}, []string{"IneffectiveAnnotation"}},
		{"affinity with use-regex and session-cookie-path", Annotations{Prefix + "use-regex": "true", Prefix + "affinity": "cookie", Prefix + "session-cookie-path": "/"},
			Set{UseRegex: true, Traffic: Traffic{Affinity: Affinity{Cookie: "INGRESSCOOKIE", Path: "/", Mode: "balanced"}}}, nil},
		{"server-alias", Annotations{Prefix + "server-alias": " WWW.Example.com,example.net ,www.example.com"},
			Set{ServerAliases: []string{"www.example.com", "example.net"}}, nil},
		{"server-alias: wildcard", Annotations{Prefix + "server-alias": "*.Example.com, www.example.com"},
			Set{ServerAliases: []string{"*.example.com", "www.example.com"}}, nil},
		{"server-alias: wildcard inside", Annotations{Prefix + "server-alias": "a.*.example.com"}, Set{}, []string{"InvalidAnnotation"}},
		{"server-alias: trailing wildcard", Annotations{Prefix + "server-alias": "www.example.*"}, Set{}, []string{"InvalidAnnotation"}},
		{"server-alias: wildcard of a TLD", Annotations{Prefix + "server-alias": "*.com"}, Set{}, []string{"InvalidAnnotation"}},
		{"server-alias: regex", Annotations{Prefix + "server-alias": "~^www\\d+\\.example\\.com$"}, Set{}, []string{"InvalidAnnotation"}},
		{"server-alias: port", Annotations{Prefix + "server-alias": "example.com:8080"}, Set{}, []string{"InvalidAnnotation"}},
		{"server-alias: address", Annotations{Prefix + "server-alias": "10.0.0.1"}, Set{}, []string{"InvalidAnnotation"}},
		{"server-alias: one label", Annotations{Prefix + "server-alias": "localhost"}, Set{}, []string{"InvalidAnnotation"}},
		{"server-alias: injection", Annotations{Prefix + "server-alias": `a.example"; return 200; #`}, Set{}, []string{"InvalidAnnotation"}},
		{"server-alias: empty", Annotations{Prefix + "server-alias": " , "}, Set{}, []string{"InvalidAnnotation"}},
		{"from-to-www-redirect", Annotations{Prefix + "from-to-www-redirect": "true"}, Set{FromToWWW: true}, nil},
		{"auth-tls defaults", Annotations{Prefix + "auth-tls-secret": "ns/ca"}, Set{ClientTLS: &ClientTLS{Namespace: "ns", Secret: "ca", Verify: "on", Depth: 1}}, nil},
		{"auth-tls all", Annotations{Prefix + "auth-tls-secret": "ca", Prefix + "auth-tls-verify-client": "optional_no_ca",
			Prefix + "auth-tls-verify-depth": "3", Prefix + "auth-tls-pass-certificate-to-upstream": "true"},
			Set{ClientTLS: &ClientTLS{Secret: "ca", Verify: "optional_no_ca", Depth: 3, PassCertificate: true}}, nil},
		{"auth-tls off", Annotations{Prefix + "auth-tls-secret": "ca", Prefix + "auth-tls-verify-client": "off"}, Set{}, nil},
		{"auth-tls: verify injection", Annotations{Prefix + "auth-tls-secret": "ca", Prefix + "auth-tls-verify-client": "on; ssl_verify_client off"},
			Set{ClientTLS: &ClientTLS{Secret: "ca", Verify: "on", Depth: 1}}, []string{"InvalidAnnotation"}},
		{"auth-tls: depth 0 is 1", Annotations{Prefix + "auth-tls-secret": "ca", Prefix + "auth-tls-verify-depth": "0"},
			Set{ClientTLS: &ClientTLS{Secret: "ca", Verify: "on", Depth: 1}}, nil},
		{"auth-tls: depth 11", Annotations{Prefix + "auth-tls-secret": "ca", Prefix + "auth-tls-verify-depth": "11"},
			Set{ClientTLS: &ClientTLS{Secret: "ca", Verify: "on", Depth: 1}}, []string{"InvalidAnnotation"}},
		{"auth-tls: secret path", Annotations{Prefix + "auth-tls-secret": "a/b/c"},
			Set{ClientTLS: &ClientTLS{Namespace: "a", Verify: "on", Depth: 1}}, []string{"InvalidAnnotation"}},
		{"auth-tls match and error page", Annotations{Prefix + "auth-tls-secret": "ca", Prefix + "auth-tls-match-cn": "CN=(a|b),O=Ex Inc",
			Prefix + "auth-tls-error-page": "https://help.example/c"},
			Set{ClientTLS: &ClientTLS{Secret: "ca", Verify: "on", Depth: 1, MatchCN: "CN=(a|b),O=Ex Inc",
				ErrorPage: &URL{Scheme: "https", Host: "help.example", Path: "/c"}}}, nil},
		{"auth-tls: match-cn quote", Annotations{Prefix + "auth-tls-secret": "ca", Prefix + "auth-tls-match-cn": `CN=a") { return 200; } #`},
			Set{ClientTLS: &ClientTLS{Secret: "ca", Verify: "on", Depth: 1}}, []string{"InvalidAnnotation"}},
		{"auth-tls: match-cn bad regex", Annotations{Prefix + "auth-tls-secret": "ca", Prefix + "auth-tls-match-cn": "CN=(a"},
			Set{ClientTLS: &ClientTLS{Secret: "ca", Verify: "on", Depth: 1}}, []string{"InvalidAnnotation"}},
		{"auth-tls: error page variable", Annotations{Prefix + "auth-tls-secret": "ca", Prefix + "auth-tls-error-page": "https://$host/x"},
			Set{ClientTLS: &ClientTLS{Secret: "ca", Verify: "on", Depth: 1}}, []string{"InvalidAnnotation"}},
		{"session cookie domain and secure", Annotations{Prefix + "affinity": "cookie", Prefix + "session-cookie-domain": ".Example.com",
			Prefix + "session-cookie-secure": "true"},
			Set{Traffic: Traffic{Affinity: Affinity{Cookie: "INGRESSCOOKIE", Mode: "balanced", Domain: "example.com", Secure: true}}}, nil},
		{"session cookie domain: injection", Annotations{Prefix + "affinity": "cookie", Prefix + "session-cookie-domain": "a.com; Path=/x"},
			Set{}, []string{"InvalidAnnotation"}},
		{"unsupported name is reported", Annotations{Prefix + "no-such": "x", "other.io/x": "y"}, Set{}, []string{"UnsupportedAnnotation"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ds := Parse(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse() = %+v, want %+v", got, tc.want)
			}
			checkReasons(t, ds, tc.reasons)
		})
	}
}
