package annotations

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

// ann builds annotations from name/value pairs, names without Prefix.
func ann(kv ...string) Annotations {
	a := Annotations{}
	for i := 0; i+1 < len(kv); i += 2 {
		a[Prefix+kv[i]] = kv[i+1]
	}
	return a
}

// trafficCase is one parser call and its whole expected result.
type trafficCase[T any] struct {
	name    string
	in      Annotations
	want    T
	reasons []string
}

func runTraffic[T any](t *testing.T, parse func(Annotations) (T, []diag.Diagnostic), tests []trafficCase[T]) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ds := parse(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			checkReasons(t, ds, tc.reasons)
		})
	}
}

var badTraffic = []string{"InvalidAnnotation"}

func TestParseCanary(t *testing.T) {
	runTraffic(t, parseCanary, []trafficCase[Canary]{
		{"unset", nil, Canary{}, nil},
		{"weight", ann("canary", "true", "canary-weight", "20"), Canary{Enabled: true, Weight: 20, WeightTotal: 100}, nil},
		{"weight total", ann("canary", "true", "canary-weight", "3", "canary-weight-total", "1000"), Canary{Enabled: true, Weight: 3, WeightTotal: 1000}, nil},
		{"not a canary: settings ignored", ann("canary-weight", "20"), Canary{}, nil},
		{"canary false", ann("canary", "false", "canary-weight", "20"), Canary{}, nil},
		{"header, value, cookie", ann("canary", "true", "canary-by-header", "X-Canary", "canary-by-header-value", "yes please", "canary-by-cookie", "beta_user"),
			Canary{Enabled: true, WeightTotal: 100, Header: "X-Canary", HeaderValue: "yes please", Cookie: "beta_user"}, nil},
		{"pattern", ann("canary", "true", "canary-by-header", "X-Region", "canary-by-header-pattern", `^(eu|us)-\d+$`),
			Canary{Enabled: true, WeightTotal: 100, Header: "X-Region", HeaderPattern: `^(eu|us)-\d+$`}, nil},
		{"value without header is ignored", ann("canary", "true", "canary-by-header-value", "x"),
			Canary{Enabled: true, WeightTotal: 100, HeaderValue: "x"}, []string{"IgnoredAnnotation"}},
		// As ingress-nginx's balancer counts them: a total below 100 is
		// 100, and a weight above the total sends every request.
		{"weight above total: all", ann("canary", "true", "canary-weight", "101"), Canary{Enabled: true, Weight: 100, WeightTotal: 100}, nil},
		{"total below 100 counts as 100", ann("canary", "true", "canary-weight", "10", "canary-weight-total", "10"),
			Canary{Enabled: true, Weight: 10, WeightTotal: 100}, []string{"CanaryWeightTotalRaised"}},
		{"weight above a total below 100", ann("canary", "true", "canary-weight", "11", "canary-weight-total", "10"),
			Canary{Enabled: true, Weight: 11, WeightTotal: 100}, []string{"CanaryWeightTotalRaised"}},
		{"zero total counts as 100", ann("canary", "true", "canary-weight", "1", "canary-weight-total", "0"),
			Canary{Enabled: true, Weight: 1, WeightTotal: 100}, []string{"CanaryWeightTotalRaised"}},
		{"total 100", ann("canary", "true", "canary-weight", "1", "canary-weight-total", "100"), Canary{Enabled: true, Weight: 1, WeightTotal: 100}, nil},
		{"negative weight", ann("canary", "true", "canary-weight", "-1"), Canary{}, badTraffic},
		{"weight injection", ann("canary", "true", "canary-weight", "1; }"), Canary{}, badTraffic},
		{"negative total", ann("canary", "true", "canary-weight-total", "-1"), Canary{}, badTraffic},
		{"canary not a bool", ann("canary", "yes"), Canary{}, badTraffic},
		{"header with space", ann("canary", "true", "canary-by-header", "X Canary"), Canary{}, badTraffic},
		{"header with colon", ann("canary", "true", "canary-by-header", "X-Canary:"), Canary{}, badTraffic},
		{"header value newline", ann("canary", "true", "canary-by-header", "X", "canary-by-header-value", "a\nb"), Canary{}, badTraffic},
		{"header value leading space", ann("canary", "true", "canary-by-header", "X", "canary-by-header-value", " a"), Canary{}, badTraffic},
		{"cookie with semicolon", ann("canary", "true", "canary-by-cookie", "a;b"), Canary{}, badTraffic},
		{"pattern lookahead", ann("canary", "true", "canary-by-header", "X", "canary-by-header-pattern", "(?=a)"), Canary{}, badTraffic},
		{"pattern flags", ann("canary", "true", "canary-by-header", "X", "canary-by-header-pattern", "(?i)a"), Canary{}, badTraffic},
		{"pattern backreference", ann("canary", "true", "canary-by-header", "X", "canary-by-header-pattern", `(a)\1`), Canary{}, badTraffic},
		{"pattern unicode class", ann("canary", "true", "canary-by-header", "X", "canary-by-header-pattern", `\pL`), Canary{}, badTraffic},
		{"pattern does not compile", ann("canary", "true", "canary-by-header", "X", "canary-by-header-pattern", `(a`), Canary{}, badTraffic},
		{"pattern trailing backslash", ann("canary", "true", "canary-by-header", "X", "canary-by-header-pattern", `a\`), Canary{}, badTraffic},
		{"pattern whitespace", ann("canary", "true", "canary-by-header", "X", "canary-by-header-pattern", "a b"), Canary{}, badTraffic},
	})
}

func TestParseRateLimit(t *testing.T) {
	runTraffic(t, parseRateLimit, []trafficCase[RateLimit]{
		{"unset", nil, RateLimit{}, nil},
		{"rps with default multiplier", ann("limit-rps", "5"), RateLimit{RPS: 5, BurstMultiplier: 5}, nil},
		{"all", ann("limit-rps", "5", "limit-rpm", "100", "limit-connections", "2", "limit-burst-multiplier", "2", "limit-allowlist", "10.0.0.0/8, 2001:db8::1"),
			RateLimit{RPS: 5, RPM: 100, Connections: 2, BurstMultiplier: 2,
				Allowlist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::1/128")}}, nil},
		{"old allowlist name", ann("limit-rps", "1", "limit-whitelist", "192.0.2.7"),
			RateLimit{RPS: 1, BurstMultiplier: 5, Allowlist: []netip.Prefix{netip.MustParsePrefix("192.0.2.7/32")}}, nil},
		{"allowlist without limit is off", ann("limit-allowlist", "10.0.0.0/8"), RateLimit{}, nil},
		{"rps injection", ann("limit-rps", "5; }"), RateLimit{}, badTraffic},
		{"rps newline", ann("limit-rps", "5\n"), RateLimit{}, badTraffic},
		{"rps negative", ann("limit-rps", "-5"), RateLimit{}, badTraffic},
		{"multiplier zero", ann("limit-rps", "5", "limit-burst-multiplier", "0"), RateLimit{}, badTraffic},
		{"badTraffic allowlist", ann("limit-rps", "5", "limit-allowlist", "10.0.0.0/8 deny all"), RateLimit{}, badTraffic},
	})
}

func TestParseSourceRange(t *testing.T) {
	p := netip.MustParsePrefix
	runTraffic(t, parseSourceRange, []trafficCase[SourceRange]{
		{"unset", nil, SourceRange{}, nil},
		{"allowlist masked and canonical", ann("allowlist-source-range", "10.1.2.3/8,127.0.0.1, 2001:DB8:0::/48"),
			SourceRange{Allow: []netip.Prefix{p("10.0.0.0/8"), p("127.0.0.1/32"), p("2001:db8::/48")}}, nil},
		{"old name", ann("whitelist-source-range", "192.0.2.0/24"), SourceRange{Allow: []netip.Prefix{p("192.0.2.0/24")}}, nil},
		{"new name wins", ann("whitelist-source-range", "192.0.2.0/24", "allowlist-source-range", "198.51.100.0/24"),
			SourceRange{Allow: []netip.Prefix{p("198.51.100.0/24")}}, nil},
		{"deny", ann("denylist-source-range", "::1"), SourceRange{Deny: []netip.Prefix{p("::1/128")}}, nil},
		{"injection", ann("allowlist-source-range", "10.0.0.0/8; allow all"), SourceRange{}, badTraffic},
		{"newline", ann("denylist-source-range", "10.0.0.0/8\nallow all"), SourceRange{}, badTraffic},
		{"zone", ann("denylist-source-range", "fe80::1%eth0"), SourceRange{}, badTraffic},
		{"mapped", ann("denylist-source-range", "::ffff:10.0.0.1"), SourceRange{}, badTraffic},
		{"badTraffic prefix length", ann("denylist-source-range", "10.0.0.0/33"), SourceRange{}, badTraffic},
		{"empty list", ann("denylist-source-range", " , "), SourceRange{}, badTraffic},
		{"hostname", ann("allowlist-source-range", "example.com"), SourceRange{}, badTraffic},
	})
}

func TestParseAffinity(t *testing.T) {
	runTraffic(t, parseAffinity, []trafficCase[Affinity]{
		{"unset", nil, Affinity{}, nil},
		{"defaults (the cookie path: the location's)", ann("affinity", "cookie"), Affinity{Cookie: "INGRESSCOOKIE", Mode: "balanced"}, nil},
		{"all", ann("affinity", "cookie", "affinity-mode", "persistent", "session-cookie-name", "route", "session-cookie-path", "/app",
			"session-cookie-max-age", "3600", "session-cookie-expires", "7200", "session-cookie-samesite", "Lax"),
			Affinity{Cookie: "route", Path: "/app", MaxAge: 3600, Expires: 7200, SameSite: "Lax", Mode: "persistent"}, nil},
		{"settings without affinity are off", ann("session-cookie-name", "route"), Affinity{}, nil},
		{"not cookie", ann("affinity", "ip"), Affinity{}, badTraffic},
		{"badTraffic mode", ann("affinity", "cookie", "affinity-mode", "sticky"), Affinity{}, badTraffic},
		{"cookie name injection", ann("affinity", "cookie", "session-cookie-name", "a=b; Domain=evil"), Affinity{}, badTraffic},
		{"path with semicolon", ann("affinity", "cookie", "session-cookie-path", "/; Secure"), Affinity{}, badTraffic},
		{"max-age not a number", ann("affinity", "cookie", "session-cookie-max-age", "1h"), Affinity{}, badTraffic},
		// ingress-nginx sends Max-Age=0 / an Expires of now: a cookie the
		// browser drops; Portico a session cookie, and says so.
		{"max-age and expires 0", ann("affinity", "cookie", "session-cookie-max-age", "0", "session-cookie-expires", "0"),
			Affinity{Cookie: "INGRESSCOOKIE", Mode: "balanced"}, []string{"CookieLifetimeZero", "CookieLifetimeZero"}},
		{"samesite lower case", ann("affinity", "cookie", "session-cookie-samesite", "none"),
			Affinity{Cookie: "INGRESSCOOKIE", Mode: "balanced", SameSite: "None"}, nil},
		{"samesite unknown", ann("affinity", "cookie", "session-cookie-samesite", "relaxed"), Affinity{}, badTraffic},
		{"change on failure, conditional none", ann("affinity", "cookie", "session-cookie-change-on-failure", "true",
			"session-cookie-conditional-samesite-none", "true"),
			Affinity{Cookie: "INGRESSCOOKIE", Mode: "balanced", AffinityOptions: AffinityOptions{ChangeOnFailure: true,
				ConditionalSameSiteNone: true}}, nil},
		{"change on failure not a bool", ann("affinity", "cookie", "session-cookie-change-on-failure", "yes"), Affinity{}, badTraffic},
	})
}

func TestParseHashBy(t *testing.T) {
	runTraffic(t, parseHashBy, []trafficCase[HashBy]{
		{"unset", nil, "", nil},
		{"one variable", ann("upstream-hash-by", "$request_uri"), "$request_uri", nil},
		{"variables and literals", ann("upstream-hash-by", "$host:$arg_user/x-1.2"), "$host:$arg_user/x-1.2", nil},
		{"literal only", ann("upstream-hash-by", "constant"), "", badTraffic},
		{"braces", ann("upstream-hash-by", "${host}"), "", badTraffic},
		{"upper-case variable", ann("upstream-hash-by", "$Host"), "", badTraffic},
		{"injection", ann("upstream-hash-by", "$host; }"), "", badTraffic},
		{"newline", ann("upstream-hash-by", "$host\n"), "", badTraffic},
		{"quote", ann("upstream-hash-by", `$host"`), "", badTraffic},
		{"bare dollar", ann("upstream-hash-by", "$"), "", badTraffic},
	})
}
