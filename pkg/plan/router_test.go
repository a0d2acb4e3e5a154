package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// Which hosts the Lua router serves and which are server blocks, the
// routes it gets, the router's locations and zones, and where
// X-Request-ID is made.
func TestServe(t *testing.T) {
	svcs, slices := labObjects()
	const api, fe = "lab/api-service:80", "lab/frontend-service:80"
	ref := func(name string) string { return "lab/" + name }
	snippets := configMap(map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical"})
	// Locations of proxy settings: one per body limit and settings.
	five := 5
	buf16k := annotations.Proxy{BufferSize: "16k"}
	next := annotations.Proxy{Buffering: "off", NextUpstreamTries: &five, HTTPVersion: "1.0"}
	grpc, grpcsBuf := annotations.Proxy{Protocol: annotations.ProtoGRPC}, annotations.Proxy{Protocol: annotations.ProtoGRPCS, BufferSize: "16k"}
	buf16kLoc, buf16k8mLoc, nextLoc := proxyLocation(RouterLocation{BodyBytes: 1 << 20, Settings: buf16k}), proxyLocation(RouterLocation{BodyBytes: 8 << 20, Settings: buf16k}), proxyLocation(RouterLocation{BodyBytes: 1 << 20, Settings: next})
	grpcLoc, grpcsBufLoc := proxyLocation(RouterLocation{BodyBytes: 1 << 20, Settings: grpc}), proxyLocation(RouterLocation{BodyBytes: 1 << 20, Settings: grpcsBuf})
	proxied := []RouterLocation{
		{Name: buf16kLoc, BodySize: "1m", BodyBytes: 1 << 20, Settings: buf16k},
		{Name: buf16k8mLoc, BodySize: "8m", BodyBytes: 8 << 20, Settings: buf16k},
		{Name: nextLoc, BodySize: "1m", BodyBytes: 1 << 20, Settings: next},
		{Name: grpcLoc, BodySize: "1m", BodyBytes: 1 << 20, Settings: grpc},
		{Name: grpcsBufLoc, BodySize: "1m", BodyBytes: 1 << 20, Settings: grpcsBuf},
	}
	sort.Slice(proxied, func(i, j int) bool { return proxied[i].Name < proxied[j].Name })
	var proxiedNames []string
	for _, l := range proxied {
		if !regexp.MustCompile(`^@portico_proxy_[0-9a-f]{16}$`).MatchString(l.Name) {
			t.Fatalf("location name %q", l.Name)
		}
		proxiedNames = append(proxiedNames, l.Name)
	}
	for i := 1; i < len(proxiedNames); i++ {
		if proxiedNames[i] == proxiedNames[i-1] {
			t.Fatal("two body limits or settings share a location name")
		}
	}
	// Locations of rate limits.
	scope := func(name string) string {
		sum := sha256.Sum256([]byte("lab/" + name))
		return hex.EncodeToString(sum[:6])
	}
	rps10, rps20 := model.Limits{RPS: 10, BurstRPS: 50}, model.Limits{RPS: 20, BurstRPS: 100}
	conn := model.Limits{RPM: 600, BurstRPM: 1200, Connections: 3}
	basicLoc := proxyLocation(RouterLocation{BodyBytes: 1 << 20, BasicAuth: true})
	errLoc := proxyLocation(RouterLocation{BodyBytes: 1 << 20, ErrorCodes: []int{503, 404}})
	rps10Loc, rps20BufLoc, connLoc := proxyLocation(RouterLocation{BodyBytes: 1 << 20, Limits: rps10}), proxyLocation(RouterLocation{BodyBytes: 1 << 20, Settings: buf16k, Limits: rps20}), proxyLocation(RouterLocation{BodyBytes: 1 << 20, Limits: conn})
	limitLocations := []RouterLocation{
		{Name: rps10Loc, BodySize: "1m", BodyBytes: 1 << 20, Limits: rps10},
		{Name: rps20BufLoc, BodySize: "1m", BodyBytes: 1 << 20, Settings: buf16k, Limits: rps20},
		{Name: connLoc, BodySize: "1m", BodyBytes: 1 << 20, Limits: conn},
		{Name: errLoc, BodySize: "1m", BodyBytes: 1 << 20, ErrorCodes: []int{503, 404}},
	}
	sort.Slice(limitLocations, func(i, j int) bool { return limitLocations[i].Name < limitLocations[j].Name })
	var limitNames []string
	for _, l := range limitLocations {
		limitNames = append(limitNames, l.Name)
	}
	// Locations of auth-url: by response headers and sign-in.
	authHeaders := []annotations.AuthHeader{{Name: "X-User", Var: "x_user"}, {Name: "X-Email", Var: "x_email"}}
	authLoc := proxyLocation(RouterLocation{BodyBytes: 1 << 20, Auth: RouterAuthLocation})
	authHeadersLoc := proxyLocation(RouterLocation{BodyBytes: 1 << 20, Auth: RouterAuthLocation, AuthHeaders: authHeaders, Signin: true})
	authSigninLoc := proxyLocation(RouterLocation{BodyBytes: 1 << 20, Auth: RouterAuthLocation, Signin: true})
	authLocations := []RouterLocation{{Name: "/", BodyBytes: 1 << 20},
		{Name: authLoc, BodySize: "1m", BodyBytes: 1 << 20, Auth: RouterAuthLocation},
		{Name: authHeadersLoc, BodySize: "1m", BodyBytes: 1 << 20, Auth: RouterAuthLocation, AuthHeaders: authHeaders, Signin: true}}
	if authLoc > authHeadersLoc {
		authLocations[1], authLocations[2] = authLocations[2], authLocations[1]
	}
	if authLoc == authHeadersLoc || authLoc == basicLoc {
		t.Fatal("auth-url does not change the location's name")
	}
	keptLocations := []RouterLocation{
		{Name: "/", BodySize: "8m", BodyBytes: 8 << 20, UpstreamVhost: true, Pass: true},
		{Name: "@portico_body_1048576", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true},
		{Name: rps10Loc, BodySize: "1m", BodyBytes: 1 << 20, Limits: rps10, UpstreamVhost: true, Pass: true},
		{Name: basicLoc, BodySize: "1m", BodyBytes: 1 << 20, BasicAuth: true, UpstreamVhost: true, Pass: true},
	}
	if keptLocations[2].Name > keptLocations[3].Name {
		keptLocations[2], keptLocations[3] = keptLocations[3], keptLocations[2]
	}
	if rps20BufLoc == buf16kLoc {
		t.Fatal("limits do not change the location's name")
	}
	tests := []struct {
		name   string
		ings   []*networkingv1.Ingress
		cm     *corev1.ConfigMap
		kinds  map[string]string // host → "router", "dynamic" (routed) or "static"
		routes map[string]HostRoutes
		// The Router's Locations and Body.
		locations []RouterLocation
		body      *RouterBody
		// noIDs: generate-request-id is off, so nothing makes X-Request-ID.
		noIDs bool
		// earlyIDs are the hosts besides "" whose server makes X-Request-ID
		// in set_by_lua (before auth subrequests or error pages).
		earlyIDs []string
		// zones is Router.Zones; staticZones the Ingresses whose own
		// zones stay (Plan.RateLimits).
		zones       *RouterZones
		staticZones []model.IngressRef
		secrets     []*corev1.Secret
		// keep are router locations nginx runs, kept while no route needs
		// them.
		keep []RouterLocation
	}{{
		name: "plain hosts and the rules without a host go to the router; TLS hosts redirect and send HSTS",
		ings: []*networkingv1.Ingress{
			ingress("lab", "plain", rule("a.example.com", path("/api", prefix, "api-service", 80), path("/", prefix, "frontend-service", 80),
				path("/x", exact, "api-service", 80), path("/impl", impl, "api-service", 80))),
			ingress("lab", "hostless", rule("", path("/lobby", prefix, "api-service", 80))),
			ingress("lab", "tls", withTLS("", "t.example.com"), rule("t.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "a.example.com": "dynamic", "t.example.com": "dynamic"},
		routes: map[string]HostRoutes{
			"": {Routes: []Route{
				{Path: "/"},
				{Exact: true, Path: "/lobby", Backend: api, Ingress: ref("hostless"), IngressPath: "/lobby"},
				{Path: "/lobby/", Backend: api, Ingress: ref("hostless"), IngressPath: "/lobby"},
			}},
			"a.example.com": {Routes: []Route{
				{Path: "/", Backend: fe, Ingress: ref("plain"), IngressPath: "/"},
				{Exact: true, Path: "/api", Backend: api, Ingress: ref("plain"), IngressPath: "/api"},
				{Path: "/api/", Backend: api, Ingress: ref("plain"), IngressPath: "/api"},
				{Path: "/impl", Backend: api, Ingress: ref("plain"), IngressPath: "/impl"},
				{Exact: true, Path: "/x", Backend: api, Ingress: ref("plain"), IngressPath: "/x"},
			}},
			"t.example.com": {HSTS: true, Routes: []Route{
				{Path: "/", Backend: api, Ingress: ref("tls"), IngressPath: "/", SSLRedirect: true},
			}},
		},
		locations: []RouterLocation{{Name: "/", BodyBytes: 1 << 20}},
		body:      &RouterBody{Global: 1 << 20},
	}, {
		name: "static wildcards and the hosts they shadow stay static; plain wildcards, app-root, timeouts, regex paths, rewrites and x-forwarded-prefix go with the route",
		ings: []*networkingv1.Ingress{
			ingress("lab", "rewrite", annotate(annotations.Prefix+"rewrite-target", "/"), rule("r.example.com", path("/v1", prefix, "api-service", 80))),
			ingress("lab", "approot", annotate(annotations.Prefix+"app-root", "/app"), rule("root.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "regex", annotate(annotations.Prefix+"use-regex", "true"), rule("re.example.com", path("/a+", impl, "api-service", 80))),
			ingress("lab", "timeout", annotate(annotations.Prefix+"proxy-read-timeout", "5"), rule("slow.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "bodysize", annotate(annotations.Prefix+"proxy-body-size", "8m"), rule("big.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "fwdprefix", annotate(annotations.Prefix+"x-forwarded-prefix", "/shop"), rule("p.example.com", path("/", prefix, "api-service", 80))),
			// A snippet needs a server block: nginx picks it for a.foo.com,
			// but not for a.b.foo.com (one label only).
			ingress("lab", "wild", annotate(annotations.Prefix+"configuration-snippet", "return 418;"), rule("*.foo.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "shadowed", rule("a.foo.com", path("/", prefix, "frontend-service", 80)), rule("a.b.foo.com", path("/", prefix, "frontend-service", 80))),
			// The router takes the exact host first, then the wildcard.
			ingress("lab", "routedwild", rule("*.bar.com", path("/", prefix, "api-service", 80)), rule("a.bar.com", path("/", prefix, "frontend-service", 80))),
			ingress("lab", "sticky", annotate(annotations.Prefix+"affinity", "cookie"), rule("s.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "moved", annotate(annotations.Prefix+"permanent-redirect", "https://new.example.com/x?y=1"),
				annotate(annotations.Prefix+"permanent-redirect-code", "308"), rule("moved.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "vhost", annotate(annotations.Prefix+"upstream-vhost", "internal.example"), rule("vhost.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "tlsbackend", annotate(annotations.Prefix+"backend-protocol", "HTTPS"), rule("tlsbe.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "httpbackend", annotate(annotations.Prefix+"backend-protocol", "HTTP"), rule("httpbe.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "cors", annotate(annotations.Prefix+"enable-cors", "true"), annotate(annotations.Prefix+"cors-allow-origin", "https://app.example.com"),
				rule("cors.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "src", annotate(annotations.Prefix+"whitelist-source-range", "10.0.0.0/8, 192.168.1.7, 2001:db8::/32"),
				annotate(annotations.Prefix+"denylist-source-range", "10.1.2.3/16"), rule("src.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "*.foo.com": "static", "a.b.foo.com": "dynamic", "a.foo.com": "static",
			"*.bar.com": "dynamic", "a.bar.com": "dynamic",
			"r.example.com": "dynamic", "re.example.com": "dynamic", "root.example.com": "dynamic", "s.example.com": "dynamic", "slow.example.com": "dynamic",
			"big.example.com": "dynamic", "p.example.com": "dynamic", "src.example.com": "dynamic", "moved.example.com": "dynamic",
			"vhost.example.com": "dynamic", "cors.example.com": "dynamic", "tlsbe.example.com": "dynamic", "httpbe.example.com": "dynamic"},
		routes: map[string]HostRoutes{
			"":            {Routes: []Route{{Path: "/"}}},
			"*.bar.com":   {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("routedwild"), IngressPath: "/"}}},
			"a.b.foo.com": {Routes: []Route{{Path: "/", Backend: fe, Ingress: ref("shadowed"), IngressPath: "/"}}},
			"a.bar.com":   {Routes: []Route{{Path: "/", Backend: fe, Ingress: ref("routedwild"), IngressPath: "/"}}},
			// The router applies the body limit (RouterBody).
			"big.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("bodysize"), IngressPath: "/", BodyLimit: ptr(int64(8 << 20))}}},
			"cors.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("cors"), IngressPath: "/", CORS: &CORS{
				OriginRegex: `^(https://app\.example\.com)$`,
				Methods:     "GET, PUT, POST, DELETE, PATCH, OPTIONS", Credentials: true, MaxAge: 1728000,
				Headers: "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"}}}},
			"httpbe.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("httpbackend"), IngressPath: "/"}}},
			// Redirects go before the backend, as nginx's return does.
			"moved.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("moved"), IngressPath: "/",
				Redirect: &Redirect{Code: 308, URL: "https://new.example.com/x?y=1"}}}},
			"p.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("fwdprefix"), IngressPath: "/", ForwardedPrefix: "/shop"}}},
			// rewrite-target and use-regex make every path of the host a
			// regex, longest first; a host without a "/" rule answers 404
			// there.
			"r.example.com": {Routes: []Route{{Regex: true, Path: "^/v1", Backend: api, Ingress: ref("rewrite"), IngressPath: "/v1", RewriteTarget: "/"},
				{Regex: true, Path: "^/"}}},
			"re.example.com": {Routes: []Route{{Regex: true, Path: "^/a+", Backend: api, Ingress: ref("regex"), IngressPath: "/a+"}, {Regex: true, Path: "^/"}}},
			// The router redirects "/" before any route.
			"root.example.com": {AppRoot: "/app", Routes: []Route{{Path: "/", Backend: api, Ingress: ref("approot"), IngressPath: "/"}}},
			// Affinity only changes the backend the balancer uses.
			"s.example.com": {Routes: []Route{{Path: "/", Backend: api + "@lab/sticky", Ingress: ref("sticky"), IngressPath: "/"}}},
			// The balancer sets the route's timeouts.
			"slow.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("timeout"), IngressPath: "/", ReadTimeout: 5}}},
			"src.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("src"), IngressPath: "/",
				SourceRange: &SourceRange{Allow: []string{"0a000000/8", "c0a80107/32", "20010db8000000000000000000000000/32"}, Deny: []string{"0a010000/16"}}}}},
			// HTTPS to the backend: the router names the upstream.
			"tlsbe.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("tlsbackend"), IngressPath: "/", Pass: "https://portico_balancer_https"}}},
			"vhost.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("vhost"), IngressPath: "/", UpstreamVhost: "internal.example"}}},
		},
		// "/" takes the largest limit; the global one gets a named location.
		// A route with upstream-vhost, one over HTTPS: the router locations
		// send the Host and use the upstream the router says.
		locations: []RouterLocation{{Name: "/", BodySize: "8m", BodyBytes: 8 << 20, UpstreamVhost: true, Pass: true},
			{Name: "@portico_body_1048576", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true}},
		body:     &RouterBody{Global: 1 << 20, Named: []int64{1 << 20}},
		cm:       snippets,
		earlyIDs: []string{"*.foo.com"},
	}, {
		name: "body limits: 0 (none) is the largest; the rules without a host have theirs too; the ConfigMap sets the global one",
		ings: []*networkingv1.Ingress{
			ingress("lab", "none", annotate(annotations.Prefix+"proxy-body-size", "0"), rule("none.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "small", annotate(annotations.Prefix+"proxy-body-size", "512k"), rule("small.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "same", annotate(annotations.Prefix+"proxy-body-size", "524288"), rule("same.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "global", rule("global.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "hostless", annotate(annotations.Prefix+"proxy-body-size", "4k"), rule("", path("/up", exact, "api-service", 80))),
		},
		cm: configMap(map[string]string{"proxy-body-size": "2m"}),
		kinds: map[string]string{"": "router", "none.example.com": "dynamic", "small.example.com": "dynamic",
			"same.example.com": "dynamic", "global.example.com": "dynamic"},
		routes: map[string]HostRoutes{
			"":                   {Routes: []Route{{Path: "/"}, {Exact: true, Path: "/up", Backend: api, Ingress: ref("hostless"), IngressPath: "/up", BodyLimit: ptr(int64(4 << 10))}}},
			"global.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("global"), IngressPath: "/"}}},
			"none.example.com":   {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("none"), IngressPath: "/", BodyLimit: ptr(int64(0))}}},
			"same.example.com":   {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("same"), IngressPath: "/", BodyLimit: ptr(int64(512 << 10))}}},
			"small.example.com":  {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("small"), IngressPath: "/", BodyLimit: ptr(int64(512 << 10))}}},
		},
		// One location a limit, however it is spelled (the first route's spelling).
		locations: []RouterLocation{
			{Name: "/", BodySize: "0", BodyBytes: 0},
			{Name: "@portico_body_4096", BodySize: "4k", BodyBytes: 4 << 10},
			{Name: "@portico_body_524288", BodySize: "524288", BodyBytes: 512 << 10},
			{Name: "@portico_body_2097152", BodySize: "2m", BodyBytes: 2 << 20},
		},
		body: &RouterBody{Global: 2 << 20, Named: []int64{4 << 10, 512 << 10, 2 << 20}},
	}, {
		name: "proxy settings nginx applies per location: a named location for each body limit and settings in use; \"/\" still takes the largest limit",
		ings: []*networkingv1.Ingress{
			ingress("lab", "buf", annotate(annotations.Prefix+"proxy-buffer-size", "16k"), rule("buf.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "buf2", annotate(annotations.Prefix+"proxy-buffer-size", "16384"), rule("buf2.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "bufbody", annotate(annotations.Prefix+"proxy-buffer-size", "16k"), annotate(annotations.Prefix+"proxy-body-size", "8m"),
				rule("bufbody.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "next", annotate(annotations.Prefix+"proxy-buffering", "off"), annotate(annotations.Prefix+"proxy-next-upstream-tries", "5"),
				annotate(annotations.Prefix+"proxy-http-version", "1.0"), rule("next.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "plain", rule("plain.example.com", path("/", prefix, "api-service", 80))),
			// gRPC needs grpc_pass: a location of its own, with its settings.
			ingress("lab", "grpc", annotate(annotations.Prefix+"backend-protocol", "GRPC"), rule("grpc.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "grpcs", annotate(annotations.Prefix+"backend-protocol", "GRPCS"), annotate(annotations.Prefix+"proxy-buffer-size", "16k"),
				annotate(annotations.Prefix+"proxy-read-timeout", "300"), rule("grpcs.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "buf.example.com": "dynamic", "buf2.example.com": "dynamic",
			"bufbody.example.com": "dynamic", "next.example.com": "dynamic", "plain.example.com": "dynamic",
			"grpc.example.com": "dynamic", "grpcs.example.com": "dynamic"},
		routes: map[string]HostRoutes{
			"":                {Routes: []Route{{Path: "/"}}},
			"buf.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("buf"), IngressPath: "/", Location: buf16kLoc}}},
			// The same size spelled otherwise: the same location.
			"buf2.example.com":    {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("buf2"), IngressPath: "/", Location: buf16kLoc}}},
			"bufbody.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("bufbody"), IngressPath: "/", BodyLimit: ptr(int64(8 << 20)), Location: buf16k8mLoc}}},
			"grpc.example.com":    {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("grpc"), IngressPath: "/", Location: grpcLoc}}},
			// The balancer sets the timeouts, as for HTTP.
			"grpcs.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("grpcs"), IngressPath: "/", ReadTimeout: 300, Location: grpcsBufLoc}}},
			"next.example.com":  {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("next"), IngressPath: "/", Location: nextLoc}}},
			"plain.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("plain"), IngressPath: "/"}}},
		},
		locations: append([]RouterLocation{
			{Name: "/", BodySize: "8m", BodyBytes: 8 << 20},
			{Name: "@portico_body_1048576", BodySize: "1m", BodyBytes: 1 << 20},
		}, proxied...),
		body: &RouterBody{Global: 1 << 20, Named: []int64{1 << 20}, Proxied: proxiedNames},
	}, {
		name: "rate limits: the router sets the Ingress's scope and hands the request to the location of its limits, in zones shared per rate",
		ings: []*networkingv1.Ingress{
			ingress("lab", "rps", annotate(annotations.Prefix+"limit-rps", "10"), rule("rps.example.com", path("/", prefix, "api-service", 80))),
			// The same rate: the same zone and location, its own scope.
			ingress("lab", "rps2", annotate(annotations.Prefix+"limit-rps", "10"), rule("rps2.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "conn", annotate(annotations.Prefix+"limit-connections", "3"), annotate(annotations.Prefix+"limit-allowlist", "10.0.0.0/8"),
				annotate(annotations.Prefix+"limit-rpm", "600"), annotate(annotations.Prefix+"limit-burst-multiplier", "2"),
				rule("conn.example.com", path("/", prefix, "api-service", 80))),
			// Custom errors: the location intercepts them for
			// @portico_route_error_<code>; the route names the error backend.
			ingress("lab", "errors", annotate(annotations.Prefix+"custom-http-errors", "503,404"), annotate(annotations.Prefix+"default-backend", "frontend-service"),
				rule("errors.example.com", path("/", prefix, "api-service", 80))),
			// Limits and proxy settings: one location with both.
			ingress("lab", "buf", annotate(annotations.Prefix+"limit-rps", "20"), annotate(annotations.Prefix+"proxy-buffer-size", "16k"),
				rule("buf.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "rps.example.com": "dynamic", "rps2.example.com": "dynamic", "conn.example.com": "dynamic", "buf.example.com": "dynamic",
			"errors.example.com": "dynamic"},
		routes: map[string]HostRoutes{
			"": {Routes: []Route{{Path: "/"}}},
			"buf.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("buf"), IngressPath: "/",
				RateLimit: &RateLimit{Scope: scope("buf")}, Location: rps20BufLoc}}},
			"conn.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("conn"), IngressPath: "/",
				RateLimit: &RateLimit{Scope: scope("conn"), Allowlist: []string{"0a000000/8"}}, Location: connLoc}}},
			"errors.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("errors"), IngressPath: "/",
				Errors:         &RouteErrors{Backend: fe, Namespace: "lab", Ingress: "errors", Service: "api-service", Port: "80"},
				DefaultBackend: &RouteErrors{Backend: fe, Namespace: "lab", Ingress: "errors", Service: "api-service", Port: "80"}, Location: errLoc}}},
			"rps.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("rps"), IngressPath: "/",
				RateLimit: &RateLimit{Scope: scope("rps")}, Location: rps10Loc}}},
			"rps2.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("rps2"), IngressPath: "/",
				RateLimit: &RateLimit{Scope: scope("rps2")}, Location: rps10Loc}}},
		},
		locations: append([]RouterLocation{{Name: "/", BodyBytes: 1 << 20}}, limitLocations...),
		body:      &RouterBody{Global: 1 << 20, Proxied: limitNames},
		zones:     &RouterZones{RPS: []int{10, 20}, RPM: []int{600}, Connections: true, Size: routerZoneSize},
	}, {
		name: "basic auth: the router sets the realm and htpasswd file of the route for the auth_basic of its location",
		ings: []*networkingv1.Ingress{
			ingress("lab", "basic", annotate(annotations.Prefix+"auth-type", "basic"), annotate(annotations.Prefix+"auth-secret", "users"),
				annotate(annotations.Prefix+"auth-realm", "Staff only"), rule("basic.example.com", path("/", prefix, "api-service", 80))),
			// Another secret and realm: the same location.
			ingress("lab", "basic2", annotate(annotations.Prefix+"auth-type", "basic"), annotate(annotations.Prefix+"auth-secret", "users2"),
				rule("basic2.example.com", path("/", prefix, "api-service", 80))),
		},
		secrets: []*corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "users"}, Data: map[string][]byte{"auth": []byte("alice:{SHA}KqYKj/f81HPTIeAUav2eJt85UUc=\n")}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "users2"}, Data: map[string][]byte{"auth": []byte("bob:{SHA}KqYKj/f81HPTIeAUav2eJt85UUc=\n")}},
		},
		kinds: map[string]string{"": "router", "basic.example.com": "dynamic", "basic2.example.com": "dynamic"},
		routes: map[string]HostRoutes{
			"": {Routes: []Route{{Path: "/"}}},
			"basic.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("basic"), IngressPath: "/",
				BasicAuth: &BasicAuth{Realm: "Staff only", File: "lab_users"}, Location: basicLoc}}},
			"basic2.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("basic2"), IngressPath: "/",
				BasicAuth: &BasicAuth{Realm: "Authentication Required", File: "lab_users2"}, Location: basicLoc}}},
		},
		locations: []RouterLocation{{Name: "/", BodyBytes: 1 << 20}, {Name: basicLoc, BodySize: "1m", BodyBytes: 1 << 20, BasicAuth: true}},
		body:      &RouterBody{Global: 1 << 20, Proxied: []string{basicLoc}},
	}, {
		name: "auth-url: the router names the auth service for the auth_request of the route's location, the rules without a host's too",
		ings: []*networkingv1.Ingress{
			ingress("lab", "hostless", annotate(annotations.Prefix+"auth-url", "http://10.0.0.1/auth"), rule("", path("/private", prefix, "api-service", 80))),
			ingress("lab", "full", annotate(annotations.Prefix+"auth-url", "https://auth.lab.svc:8443/check?x=1"), annotate(annotations.Prefix+"auth-method", "POST"),
				annotate(annotations.Prefix+"auth-signin", "https://login.example.com/start"), annotate(annotations.Prefix+"auth-response-headers", "X-User, X-Email"),
				rule("a.example.com", path("/", prefix, "api-service", 80))),
			// The same headers and sign-in: the same location.
			ingress("lab", "same", annotate(annotations.Prefix+"auth-url", "http://10.0.0.2/"), annotate(annotations.Prefix+"auth-signin", "http://login.example.com/"),
				annotate(annotations.Prefix+"auth-response-headers", "X-User, X-Email"), rule("b.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "a.example.com": "dynamic", "b.example.com": "dynamic"},
		routes: map[string]HostRoutes{
			"": {Routes: []Route{
				{Path: "/"},
				{Exact: true, Path: "/private", Backend: api, Ingress: ref("hostless"), IngressPath: "/private", Location: authLoc,
					Auth: &Auth{URL: "http://10.0.0.1/auth", Host: "10.0.0.1", Method: "GET"}},
				{Path: "/private/", Backend: api, Ingress: ref("hostless"), IngressPath: "/private", Location: authLoc,
					Auth: &Auth{URL: "http://10.0.0.1/auth", Host: "10.0.0.1", Method: "GET"}},
			}},
			"a.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("full"), IngressPath: "/", Location: authHeadersLoc,
				Auth: &Auth{URL: "https://auth.lab.svc:8443/check?x=1", Host: "auth.lab.svc:8443", Method: "POST", Signin: "https://login.example.com/start?rd="}}}},
			"b.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("same"), IngressPath: "/", Location: authHeadersLoc,
				Auth: &Auth{URL: "http://10.0.0.2/", Host: "10.0.0.2", Method: "GET", Signin: "http://login.example.com/?rd="}}}},
		},
		locations: authLocations,
		body:      &RouterBody{Global: 1 << 20, Proxied: []string{authLocations[1].Name, authLocations[2].Name}},
	}, {
		name: "auth-url and auth-signin with $host, as oauth2-proxy's docs have them: each rule's host in their place",
		ings: []*networkingv1.Ingress{
			ingress("lab", "oauth", annotate(annotations.Prefix+"auth-url", "https://$host/oauth2/auth"),
				annotate(annotations.Prefix+"auth-signin", "https://$host/oauth2/start?rd=$escaped_request_uri"),
				rule("c.example.com", path("/", prefix, "api-service", 80)), rule("d.example.com", path("/", prefix, "api-service", 80))),
			// $host in auth-url only; ?rd= the request's URL, spelled as
			// ingress-nginx would append it.
			ingress("lab", "signin", annotate(annotations.Prefix+"auth-url", "http://$host:4180/oauth2/auth"),
				annotate(annotations.Prefix+"auth-signin", "https://login.example.com/start?rd=$pass_access_scheme://$http_host$escaped_request_uri"),
				rule("e.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "c.example.com": "dynamic", "d.example.com": "dynamic", "e.example.com": "dynamic"},
		routes: map[string]HostRoutes{
			"": {Routes: []Route{{Path: "/"}}},
			"c.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("oauth"), IngressPath: "/", Location: authSigninLoc,
				Auth: &Auth{URL: "https://c.example.com/oauth2/auth", Host: "c.example.com", Method: "GET",
					Signin: "https://c.example.com/oauth2/start?rd=", SigninRD: "request-uri"}}}},
			"d.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("oauth"), IngressPath: "/", Location: authSigninLoc,
				Auth: &Auth{URL: "https://d.example.com/oauth2/auth", Host: "d.example.com", Method: "GET",
					Signin: "https://d.example.com/oauth2/start?rd=", SigninRD: "request-uri"}}}},
			"e.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("signin"), IngressPath: "/", Location: authSigninLoc,
				Auth: &Auth{URL: "http://e.example.com:4180/oauth2/auth", Host: "e.example.com:4180", Method: "GET",
					Signin: "https://login.example.com/start?rd="}}}},
		},
		locations: []RouterLocation{{Name: "/", BodyBytes: 1 << 20}, {Name: authSigninLoc, BodySize: "1m", BodyBytes: 1 << 20, Auth: RouterAuthLocation, Signin: true}},
		body:      &RouterBody{Global: 1 << 20, Proxied: []string{authSigninLoc}},
	}, {
		name: "app-root on a catch-all server that is a Router goes with the rules without a host",
		ings: []*networkingv1.Ingress{
			ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "hostless", annotate(annotations.Prefix+"app-root", "/app"), rule("", path("/lobby", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "a.example.com": "dynamic"},
		// a.example.com's "/" is its own: no redirect.
		routes: map[string]HostRoutes{
			"": {AppRoot: "/app", Routes: []Route{
				{Path: "/"},
				{Exact: true, Path: "/lobby", Backend: api, Ingress: ref("hostless"), IngressPath: "/lobby"},
				{Path: "/lobby/", Backend: api, Ingress: ref("hostless"), IngressPath: "/lobby"},
			}},
			"a.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("plain"), IngressPath: "/"}}},
		},
		locations: []RouterLocation{{Name: "/", BodyBytes: 1 << 20}},
		body:      &RouterBody{Global: 1 << 20},
	}, {
		name: "kept router locations stay though no route needs them, as does the larger limit of \"/\" and the Host and upstream the router sets",
		ings: []*networkingv1.Ingress{ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80)))},
		keep: []RouterLocation{
			{Name: "/", BodySize: "8m", BodyBytes: 8 << 20, UpstreamVhost: true, Pass: true},
			{Name: "@portico_body_1048576", BodySize: "1m", BodyBytes: 1 << 20, UpstreamVhost: true, Pass: true},
			{Name: rps10Loc, BodySize: "1m", BodyBytes: 1 << 20, Limits: rps10, UpstreamVhost: true},
			{Name: basicLoc, BodySize: "1m", BodyBytes: 1 << 20, BasicAuth: true},
		},
		kinds: map[string]string{"": "router", "a.example.com": "dynamic"},
		routes: map[string]HostRoutes{
			"":              {Routes: []Route{{Path: "/"}}},
			"a.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("plain"), IngressPath: "/"}}},
		},
		locations: keptLocations,
		body:      &RouterBody{Global: 1 << 20, Named: []int64{1 << 20}, Proxied: []string{keptLocations[2].Name, keptLocations[3].Name}},
		zones:     &RouterZones{RPS: []int{10}, Size: "10m"},
	}, {
		name: "a server-snippet on the catch-all server turns dynamic routing off",
		ings: []*networkingv1.Ingress{
			ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "hostless", annotate(annotations.Prefix+"server-snippet", "return 418;"), rule("", path("/lobby", prefix, "api-service", 80))),
		},
		cm:    snippets,
		kinds: map[string]string{"": "static", "a.example.com": "static"},
	}, {
		name: "a configuration-snippet on a rule without a host turns dynamic routing off",
		ings: []*networkingv1.Ingress{
			ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "hostless", annotate(annotations.Prefix+"configuration-snippet", "return 418;"), rule("", path("/lobby", prefix, "api-service", 80))),
		},
		cm:    snippets,
		kinds: map[string]string{"": "static", "a.example.com": "static"},
	}, {
		name:  "dynamic-routing false: every host is a server block",
		ings:  []*networkingv1.Ingress{ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80)))},
		cm:    configMap(map[string]string{"dynamic-routing": "false"}),
		kinds: map[string]string{"": "static", "a.example.com": "static"},
	}, {
		name: "X-Request-ID: made before auth subrequests, error pages and snippets can send it, else in the access phase",
		ings: []*networkingv1.Ingress{
			ingress("lab", "auth", annotate(annotations.Prefix+"auth-url", "http://10.0.0.1/auth"), annotate(annotations.Prefix+"configuration-snippet", "return 418;"),
				rule("auth.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "wild", annotate(annotations.Prefix+"server-snippet", "return 418;"), rule("*.w.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "shadowed", rule("a.w.example.com", path("/", prefix, "api-service", 80))),
			ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80))),
		},
		kinds: map[string]string{"": "router", "a.example.com": "dynamic", "auth.example.com": "static", "*.w.example.com": "static",
			"a.w.example.com": "static"},
		routes:    map[string]HostRoutes{"": {Routes: []Route{{Path: "/"}}}, "a.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("plain"), IngressPath: "/"}}}},
		locations: []RouterLocation{{Name: "/", BodyBytes: 1 << 20}},
		body:      &RouterBody{Global: 1 << 20},
		cm:        snippets,
		earlyIDs:  []string{"auth.example.com", "*.w.example.com"},
	}, {
		name:      "generate-request-id false: neither the router nor a server makes X-Request-ID",
		ings:      []*networkingv1.Ingress{ingress("lab", "plain", rule("a.example.com", path("/", prefix, "api-service", 80)))},
		cm:        configMap(map[string]string{"generate-request-id": "false"}),
		kinds:     map[string]string{"": "router", "a.example.com": "dynamic"},
		routes:    map[string]HostRoutes{"": {Routes: []Route{{Path: "/"}}}, "a.example.com": {Routes: []Route{{Path: "/", Backend: api, Ingress: ref("plain"), IngressPath: "/"}}}},
		locations: []RouterLocation{{Name: "/", BodyBytes: 1 << 20}},
		body:      &RouterBody{Global: 1 << 20},
		noIDs:     true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := model.Build(model.Input{Ingresses: tc.ings, IngressClasses: []*networkingv1.IngressClass{ourClass()},
				Services: svcs, EndpointSlices: slices, ConfigMap: tc.cm, Secrets: tc.secrets, Options: defaultOptions})
			got := planOf(t, m)
			if tc.keep != nil {
				_, needs := (&Plan{HTTP: got.HTTP}).serve(m)
				got.Router = needs.router(&Router{Locations: tc.keep})
			}
			kinds := map[string]string{}
			for _, s := range m.Servers {
				kinds[s.Host] = "dynamic"
			}
			for _, s := range got.Servers {
				kinds[s.Host] = "static"
				if s.Router != nil {
					kinds[s.Host] = "router"
				}
			}
			if diff := cmp.Diff(tc.kinds, kinds); diff != "" {
				t.Errorf("servers (-want +got):\n%s", diff)
			}
			routes := routesOf(t, got)
			if tc.routes == nil {
				tc.routes = map[string]HostRoutes{}
			}
			if diff := cmp.Diff(tc.routes, routes.Hosts); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
			r := got.Router
			if r == nil {
				r = &Router{}
			}
			if diff := cmp.Diff(tc.locations, r.Locations); diff != "" {
				t.Errorf("router locations (-want +got):\n%s", diff)
			}
			if tc.body == nil {
				tc.body = &RouterBody{}
			}
			if diff := cmp.Diff(tc.body, &r.Body); diff != "" {
				t.Errorf("router body (-want +got):\n%s", diff)
			}
			codes := map[int]bool{}
			basic, auth, signin := false, false, false
			for _, l := range r.Locations {
				for _, c := range l.ErrorCodes {
					codes[c] = true
				}
				basic, auth, signin = basic || l.BasicAuth, auth || l.Auth != "", signin || l.Signin
			}
			var intercepts []int
			for c := 599; c >= 400; c-- {
				if codes[c] {
					intercepts = append([]int{c}, intercepts...)
				}
			}
			if !cmp.Equal(r.ErrorCodes, intercepts) || r.BasicAuth != basic || (len(r.AuthLocations) > 0) != auth || r.Signin != signin {
				t.Errorf("Router ErrorCodes, BasicAuth, AuthLocations, Signin = %v, %v, %v, %v; want %v, %v, %v, %v",
					r.ErrorCodes, r.BasicAuth, r.AuthLocations, r.Signin, intercepts, basic, auth, signin)
			}
			if diff := cmp.Diff(tc.zones, r.Zones); diff != "" {
				t.Errorf("router zones (-want +got):\n%s", diff)
			}
			var staticZones []model.IngressRef
			for _, rl := range got.RateLimits {
				staticZones = append(staticZones, rl.Ingress)
			}
			if diff := cmp.Diff(tc.staticZones, staticZones); diff != "" {
				t.Errorf("Ingresses with zones of their own (-want +got):\n%s", diff)
			}
			// X-Request-ID: a set_by_lua makes it where something may send
			// it before the access phase's Lua (and on a catch-all server
			// that runs no router), the access phase elsewhere; the router
			// makes it for the hosts it serves.
			for _, s := range got.Servers {
				static := !tc.noIDs && s.Router == nil
				early := static && s.Host == ""
				for _, h := range tc.earlyIDs {
					early = early || static && h == s.Host
				}
				if s.MakesRequestID != early || s.AccessMakesRequestID != (static && !early) {
					t.Errorf("server %q: MakesRequestID %v, AccessMakesRequestID %v; want %v, %v",
						s.Host, s.MakesRequestID, s.AccessMakesRequestID, early, static && !early)
				}
			}
			if want := !tc.noIDs && kinds[""] == "router"; r.RequestID != want {
				t.Errorf("Router.RequestID = %v, want %v", r.RequestID, want)
			}
		})
	}
}

// An alias gets its host's routes; a www. twin only the redirect.
func TestRoutesOfAliases(t *testing.T) {
	svcs, eps := labObjects()
	m := model.Build(model.Input{
		Ingresses: []*networkingv1.Ingress{ingress("lab", "site", annotate(annotations.Prefix+"server-alias", "alias.example.com"),
			annotate(annotations.Prefix+"from-to-www-redirect", "true"),
			rule("example.com", path("/api", prefix, "api-service", 80)))},
		IngressClasses: []*networkingv1.IngressClass{ourClass()},
		Services:       svcs, EndpointSlices: eps, Options: defaultOptions,
	})
	p := planOf(t, m)
	hosts := routesOf(t, p).Hosts
	site, alias, www := hosts["example.com"], hosts["alias.example.com"], hosts["www.example.com"]
	if site.Routes == nil || alias.Routes == nil || www.Routes == nil {
		t.Fatalf("routes for %v, want example.com, alias.example.com and www.example.com", slices.Sorted(maps.Keys(hosts)))
	}
	if diff := cmp.Diff(site.Routes, alias.Routes); diff != "" {
		t.Errorf("alias routes differ from the host's (-host +alias):\n%s", diff)
	}
	if www.RedirectTo != "example.com" || len(www.Routes) != 0 || site.RedirectTo != "" {
		t.Errorf("www.example.com: redirect %q, %d routes; example.com redirect %q", www.RedirectTo, len(www.Routes), site.RedirectTo)
	}
	for _, s := range p.Servers {
		if s.Host != "" {
			t.Errorf("server %s is not routed in Lua", s.Host)
		}
	}
}
