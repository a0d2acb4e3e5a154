package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// The auth tests: echo pods play the auth service (/__auth/<code>, see
// package echo), which counts the auth requests it answered and the
// connections they came on (/__auth-stats), and tells what it last saw.
// Each case runs on a host the Lua router serves and on one with a server
// block (needsServerBlock), which nginx.conf carries apart.

// authURL is the auth-url of a's first pod answering code; query is ""
// or a query string.
func authURL(a *app, code int, query string) string {
	u := fmt.Sprintf("http://%s:%d/__auth/%d", a.pods[0].host.Addr(), a.target, code)
	if query != "" {
		u += "?" + query
	}
	return u
}

// authStats reads what a's first pod answered as an auth service.
func authStats(t *testing.T, a *app) echo.AuthStats {
	t.Helper()
	c := framework.NewHTTPClient()
	c.Timeout = 5 * time.Second
	resp, err := c.Get(fmt.Sprintf("http://%s:%d/__auth-stats", a.pods[0].host.Addr(), a.target))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st echo.AuthStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// authCount is the X-Echo-Auth-Count the backend got from the auth
// answer (auth-response-headers).
func authCount(t *testing.T, r reply) int {
	t.Helper()
	if r.echo == nil {
		t.Fatalf("no backend answered: %d %s", r.code, short(r.body))
	}
	v := r.echo.Headers[echo.AuthCountHeader]
	if len(v) != 1 {
		t.Fatalf("the backend got %s %v, want one", echo.AuthCountHeader, v)
	}
	n, err := strconv.Atoi(v[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// withStatic returns the annotations m for a routed host and, for a host
// with a server block, m with needsServerBlock's snippet.
func withStatic(m map[string]string) (routed, static map[string]string) {
	static = needsServerBlock()
	maps.Copy(static, m)
	return m, static
}

// auth-cache-key and auth-cache-duration: the auth service is asked once
// per key within the duration, asked again after it; 401s are kept by the
// default duration. The Lua router and a server block alike, each
// location keeping its own answers.
func TestAuthCache(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "authcache")
	a := newApp(t, ns, "a", 1, "")
	svc := newApp(t, ns, "authsvc", 1, "")
	deny := newApp(t, ns, "deny", 1, "")
	routed, static := withStatic(map[string]string{ann + "auth-url": authURL(svc, 200, ""), ann + "auth-cache-key": "$http_authorization",
		ann + "auth-cache-duration": "200 2s", ann + "auth-response-headers": echo.AuthCountHeader})
	createIngress(t, newIngress(ns, "routed", routed, hostRule("cache.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "static", static, hostRule("static.cache.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "deny", map[string]string{ann + "auth-url": authURL(deny, 401, ""), ann + "auth-cache-key": "$http_authorization"},
		hostRule("deny.cache.example.com", prefixPath("/", "a"))))
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

	for _, host := range []string{"cache.example.com", "static.cache.example.com"} {
		first := authCount(t, expect(t, host+": asked", "GET", host, "/x", bearer("alice-"+host), "", fromApp(a, 200)))
		askedAt := time.Now()
		asked := authStats(t, svc).Requests
		for i := range 3 {
			r := expect(t, host+": kept", "GET", host, fmt.Sprintf("/y%d", i), bearer("alice-"+host), "", fromApp(a, 200))
			if n := authCount(t, r); n != first {
				t.Errorf("%s: the backend got the auth answer %d, want the kept answer %d", host, n, first)
			}
		}
		if got := authStats(t, svc).Requests; got != asked {
			t.Errorf("%s: the auth service was asked %d times more within the cache duration, want 0", host, got-asked)
		}
		other := authCount(t, expect(t, host+": another key", "GET", host, "/z", bearer("bob-"+host), "", fromApp(a, 200)))
		if other == first || authStats(t, svc).Requests != asked+1 {
			t.Errorf("%s: another Authorization was not asked anew (answer %d, first %d)", host, other, first)
		}
		// After the duration the answer is asked again: nginx counts whole
		// seconds, so a 2 s answer is kept 2 to 3 s.
		time.Sleep(time.Until(askedAt.Add(3500 * time.Millisecond)))
		if n := authCount(t, expect(t, host+": expired", "GET", host, "/x", bearer("alice-"+host), "", fromApp(a, 200))); n == first {
			t.Errorf("%s: the answer was kept past auth-cache-duration", host)
		}
	}
	routedInLua(t, "cache.example.com")
	if conf := runningConf(t); !strings.Contains(conf, `server_name "static.cache.example.com"`) || !strings.Contains(conf, "proxy_cache portico_auth;") {
		t.Error("nginx.conf has no server block for static.cache.example.com with a kept auth answer")
	}

	// 401s are kept by the default duration (200 202 401 5m).
	expect(t, "401", "GET", "deny.cache.example.com", "/", bearer("eve"), "", status(401))
	asked := authStats(t, deny).Requests
	for range 3 {
		if r := get(t, "deny.cache.example.com", "/"); r.code != 401 {
			t.Errorf("a kept 401: got %d", r.code)
		}
	}
	if r, err := send("GET", "deny.cache.example.com", "/", bearer("eve"), ""); err != nil || r.code != 401 {
		t.Errorf("a kept 401 with the key: %d %v", r.code, err)
	}
	// Three requests without Authorization share one key ("") and ask
	// once; the one with the first key asks none.
	if got := authStats(t, deny).Requests; got != asked+1 {
		t.Errorf("the auth service was asked %d times for 4 requests of 2 keys (one kept), want 1", got-asked)
	}
}

// auth-keepalive and its -requests and -timeout: the auth requests reuse
// connections (at most one per nginx worker), each for at most
// -requests, closed after -timeout idle; without it each auth request
// has its own. auth-keepalive-share-vars: the auth service and the
// backend see the same X-Request-ID either way.
func TestAuthKeepalive(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "authka")
	a := newApp(t, ns, "a", 1, "")
	kept, keptStatic, plain, idle, few := newApp(t, ns, "kept", 1, ""), newApp(t, ns, "kept-static", 1, ""),
		newApp(t, ns, "plain", 1, ""), newApp(t, ns, "idle", 1, ""), newApp(t, ns, "few", 1, "")
	routed, _ := withStatic(map[string]string{ann + "auth-url": authURL(kept, 200, ""), ann + "auth-keepalive": "8",
		ann + "auth-keepalive-share-vars": "false", ann + "auth-response-headers": echo.RequestIDHeader})
	_, static := withStatic(map[string]string{ann + "auth-url": authURL(keptStatic, 200, ""), ann + "auth-keepalive": "8"})
	createIngress(t, newIngress(ns, "kept", routed, hostRule("kept.ka.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "kept-static", static, hostRule("static.ka.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "plain", map[string]string{ann + "auth-url": authURL(plain, 200, "")}, hostRule("plain.ka.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "idle", map[string]string{ann + "auth-url": authURL(idle, 200, ""), ann + "auth-keepalive": "8",
		ann + "auth-keepalive-timeout": "1"}, hostRule("idle.ka.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "few", map[string]string{ann + "auth-url": authURL(few, 200, ""), ann + "auth-keepalive": "8",
		ann + "auth-keepalive-requests": "2"}, hostRule("few.ka.example.com", prefixPath("/", "a"))))
	for _, h := range []string{"kept", "static", "plain", "idle", "few"} {
		expect(t, h+" served", "GET", h+".ka.example.com", "/", nil, "", fromApp(a, 200))
	}
	routedInLua(t, "kept.ka.example.com")
	workers := int64(runtime.NumCPU()) // worker_processes auto
	const n = 12
	run := func(host string, svc *app, pause time.Duration) (requests int64, conns int) {
		before := authStats(t, svc)
		for i := range n {
			if r := get(t, host, fmt.Sprintf("/%d", i)); r.code != 200 {
				t.Fatalf("%s: %d %s", host, r.code, short(r.body))
			}
			time.Sleep(pause)
		}
		after := authStats(t, svc)
		return after.Requests - before.Requests, after.Connections - before.Connections
	}
	for _, tc := range []struct {
		host    string
		svc     *app
		pause   time.Duration
		min     int
		max     int64
		meaning string
	}{
		{"kept.ka.example.com", kept, 0, 0, workers, "kept connections (routed)"},
		{"static.ka.example.com", keptStatic, 0, 0, workers, "kept connections (server block)"},
		{"plain.ka.example.com", plain, 0, n, n, "a connection per auth request without auth-keepalive"},
		{"few.ka.example.com", few, 0, n / 2, n, "auth-keepalive-requests 2: at most 2 requests a connection"},
	} {
		requests, conns := run(tc.host, tc.svc, tc.pause)
		if requests != n || conns < tc.min || int64(conns) > tc.max {
			t.Errorf("%s: %d auth requests on %d new connections; want %d on %d to %d: %s", tc.host, requests, conns, n, tc.min, tc.max, tc.meaning)
		}
	}
	// auth-keepalive-timeout 1: idle connections close after a second; the
	// same pauses with the default 60 s keep them.
	before := authStats(t, idle)
	for i := range 3 {
		time.Sleep(1500 * time.Millisecond)
		get(t, "idle.ka.example.com", fmt.Sprintf("/%d", i))
	}
	if got := authStats(t, idle).Connections - before.Connections; got != 3 {
		t.Errorf("auth-keepalive-timeout 1: 3 requests 1.5 s apart came on %d new connections, want 3", got)
	}
	before = authStats(t, kept)
	for i := range 3 {
		time.Sleep(1500 * time.Millisecond)
		get(t, "kept.ka.example.com", fmt.Sprintf("/%d", i))
	}
	if got := authStats(t, kept).Connections - before.Connections; int64(got) > workers-1 {
		t.Errorf("the default auth-keepalive-timeout: 3 requests 1.5 s apart came on %d new connections, want at most %d", got, workers-1)
	}
	// The auth service and the backend see one X-Request-ID.
	r := expect(t, "request id", "GET", "kept.ka.example.com", "/id", nil, "", fromApp(a, 200))
	if id, auth := r.echo.Headers["X-Request-Id"], r.echo.Headers[echo.RequestIDHeader]; len(id) != 1 || len(auth) != 1 || id[0] != auth[0] {
		t.Errorf("the backend saw X-Request-ID %v, the auth service %v: want one and the same", id, auth)
	}
}

// auth-proxy-set-headers (a ConfigMap of headers, whose changes apply at
// once), auth-request-redirect and auth-snippet reach the auth service.
// A missing ConfigMap refuses the Ingress until it exists: the path is
// never served without its auth.
func TestAuthRequestHeaders(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "authhdr")
	a := newApp(t, ns, "a", 1, "")
	svc := newApp(t, ns, "authsvc", 1, "")
	cms := env.client.CoreV1().ConfigMaps(ns)
	ctx := context.Background()
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "auth-headers"},
		Data: map[string]string{"X-Tenant": "team-a", "X-Request-Start": "t=${msec}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	routed, static := withStatic(map[string]string{ann + "auth-url": authURL(svc, 200, ""), ann + "auth-proxy-set-headers": "auth-headers",
		ann + "auth-request-redirect": "https://$host/after?from=portico"})
	static[ann+"auth-snippet"] = "proxy_set_header X-From-Snippet yes;"
	createIngress(t, newIngress(ns, "routed", routed, hostRule("hdr.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "static", static, hostRule("static.hdr.example.com", prefixPath("/", "a"))))
	start := regexp.MustCompile(`^t=[0-9]+\.[0-9]{3}$`)
	for _, host := range []string{"hdr.example.com", "static.hdr.example.com"} {
		expect(t, host, "GET", host, "/p?q=1", nil, "", fromApp(a, 200))
		last := authStats(t, svc).Last
		h := http.Header(last.Headers)
		if h.Get("X-Tenant") != "team-a" || !start.MatchString(h.Get("X-Request-Start")) ||
			h.Get("X-Auth-Request-Redirect") != "https://"+host+"/after?from=portico" || h.Get("X-Original-Uri") != "/p?q=1" {
			t.Errorf("%s: the auth service saw %v", host, last.Headers)
		}
		if want := host == "static.hdr.example.com"; (h.Get("X-From-Snippet") == "yes") != want {
			t.Errorf("%s: auth-snippet's header %q", host, h.Get("X-From-Snippet"))
		}
	}
	routedInLua(t, "hdr.example.com")
	// A change to the ConfigMap applies.
	cm, err := cms.Get(ctx, "auth-headers", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["X-Tenant"] = "team-b"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the changed header reaches the auth service", func() error {
		if r, err := send("GET", "hdr.example.com", "/", nil, ""); err != nil || r.code != 200 {
			return fmt.Errorf("%d %v", r.code, err)
		}
		if got := http.Header(authStats(t, svc).Last.Headers).Get("X-Tenant"); got != "team-b" {
			return fmt.Errorf("X-Tenant %q", got)
		}
		return nil
	})
	// A missing ConfigMap refuses the Ingress (its paths answer 503 naming
	// the cause, never the backend) until it is created.
	createIngress(t, newIngress(ns, "later", map[string]string{ann + "auth-url": authURL(svc, 200, ""), ann + "auth-proxy-set-headers": "later-headers"},
		hostRule("later.hdr.example.com", prefixPath("/", "a"))))
	eventWith(t, ns, "later", "InvalidAuthProxySetHeaders", "ConfigMap "+ns+"/later-headers does not exist", "IngressRejected")
	if r := get(t, "later.hdr.example.com", "/"); r.code != 503 || r.echo != nil || !strings.Contains(r.body, "InvalidAuthProxySetHeaders") {
		t.Errorf("the Ingress without its headers is served: %d %s", r.code, short(r.body))
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "later-headers"},
		Data: map[string]string{"X-Tenant": "later"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect(t, "served once its ConfigMap exists", "GET", "later.hdr.example.com", "/", nil, "", fromApp(a, 200))
	if got := http.Header(authStats(t, svc).Last.Headers).Get("X-Tenant"); got != "later" {
		t.Errorf("X-Tenant %q, want later", got)
	}
}

// auth-always-set-cookie: the auth answer's Set-Cookie reaches the client
// with 2xx and 3xx answers (as in ingress-nginx), with every answer when
// set. auth-signin-redirect-param names the parameter of the sign-in
// redirect, which also carries the cookie; a fixed one is kept as it is.
func TestAuthSigninAndCookies(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "authck")
	a := newApp(t, ns, "a", 1, "")
	svc := newApp(t, ns, "authsvc", 1, "")
	for _, tc := range []struct {
		name string
		ann  map[string]string
	}{
		{"cookie", map[string]string{ann + "auth-url": authURL(svc, 200, "cookie=session")}},
		{"always", map[string]string{ann + "auth-url": authURL(svc, 200, "cookie=session"), ann + "auth-always-set-cookie": "true"}},
		{"signin", map[string]string{ann + "auth-url": authURL(svc, 401, "cookie=session"),
			ann + "auth-signin": "https://login.example.com/start?client=portico", ann + "auth-signin-redirect-param": "next"}},
		{"fixed", map[string]string{ann + "auth-url": authURL(svc, 401, ""), ann + "auth-signin": "https://login.example.com/start?rd=home"}},
	} {
		routed, static := withStatic(tc.ann)
		createIngress(t, newIngress(ns, tc.name, routed, hostRule(tc.name+".ck.example.com", prefixPath("/", "a"))))
		createIngress(t, newIngress(ns, tc.name+"-static", static, hostRule(tc.name+".static.ck.example.com", prefixPath("/", "a"))))
	}
	cookie := regexp.MustCompile(`^session=[0-9]+; Path=/$`)
	for _, kind := range []string{"", ".static"} {
		host := func(name string) string { return name + kind + ".ck.example.com" }
		r := expect(t, "cookie with a 200", "GET", host("cookie"), "/", nil, "", fromApp(a, 200))
		if !cookie.MatchString(r.header.Get("Set-Cookie")) {
			t.Errorf("%s: 200: Set-Cookie %q, want the auth service's", host("cookie"), r.header.Get("Set-Cookie"))
		}
		r = expect(t, "no cookie with a 500", "GET", host("cookie"), "/__status/500", nil, "", fromApp(a, 500))
		if got := r.header.Get("Set-Cookie"); got != "" {
			t.Errorf("%s: 500 without auth-always-set-cookie: Set-Cookie %q", host("cookie"), got)
		}
		r = expect(t, "cookie with a 500 when always", "GET", host("always"), "/__status/500", nil, "", fromApp(a, 500))
		if !cookie.MatchString(r.header.Get("Set-Cookie")) {
			t.Errorf("%s: 500 with auth-always-set-cookie: Set-Cookie %q", host("always"), r.header.Get("Set-Cookie"))
		}
		r = expect(t, "sign-in", "GET", host("signin"), "/p?a=1", nil, "", status(302))
		want := "https://login.example.com/start?client=portico&next=http%3A%2F%2F" + host("signin") + "%2Fp%3Fa%3D1"
		if r.header.Get("Location") != want || !cookie.MatchString(r.header.Get("Set-Cookie")) {
			t.Errorf("%s: Location %q Set-Cookie %q; want %s and the auth service's cookie", host("signin"), r.header.Get("Location"), r.header.Get("Set-Cookie"), want)
		}
		r = expect(t, "sign-in, fixed parameter", "GET", host("fixed"), "/p", nil, "", status(302))
		if got := r.header.Get("Location"); got != "https://login.example.com/start?rd=home" {
			t.Errorf("%s: Location %q", host("fixed"), got)
		}
	}
	routedInLua(t, "cookie.ck.example.com", "signin.ck.example.com")
}

// The ConfigMap's global auth: every Ingress path asks it (the Lua router
// and server blocks alike) with its companions, but an Ingress with
// enable-global-auth: "false", one with its own auth-url and the paths of
// no-auth-locations (an ACME HTTP-01 solver's, as cert-manager creates
// it, by default).
func TestGlobalAuth(t *testing.T) {
	ns := namespace(t, "gauth")
	a := newApp(t, ns, "a", 1, "")
	allow, deny, own := newApp(t, ns, "allow", 1, ""), newApp(t, ns, "deny", 1, ""), newApp(t, ns, "own", 1, "")
	global := func(kv ...string) {
		m := map[string]string{"global-auth-url": authURL(allow, 200, "cookie=gsession"), "global-auth-response-headers": echo.AuthCountHeader,
			"global-auth-request-redirect": "https://portal.example.com/", "global-auth-method": "POST",
			"global-auth-always-set-cookie": "true", "global-auth-snippet": "proxy_set_header X-Global-Snippet yes;"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		allowSnippets(t, slicesOf(m)...)
	}
	global("no-auth-locations", "/.well-known/acme-challenge,/public")
	createIngress(t, newIngress(ns, "plain", nil, hostRule("g.example.com", prefixPath("/", "a"), prefixPath("/public", "a"))))
	createIngress(t, newIngress(ns, "static", needsServerBlock(), hostRule("static.g.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "out", map[string]string{ann + "enable-global-auth": "false"}, hostRule("out.g.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "own", map[string]string{ann + "auth-url": authURL(own, 403, "")}, hostRule("own.g.example.com", prefixPath("/", "a"))))
	// cert-manager's HTTP-01 solver Ingress, on a host that asks.
	solver := newIngress(ns, "cm-acme-http-solver-x7k2p", map[string]string{ann + "whitelist-source-range": "0.0.0.0/0,::/0"},
		hostRule("g.example.com", pathOf("/.well-known/acme-challenge/tok-123", networkingv1.PathTypeImplementationSpecific, "a", 80)))
	createIngress(t, solver)

	bearer := map[string]string{"Authorization": "Bearer g"}
	for _, host := range []string{"g.example.com", "static.g.example.com"} {
		r := expect(t, host+" asks the global auth service", "GET", host, "/x", bearer, "", fromApp(a, 200))
		first := authCount(t, r)
		if n := authCount(t, expect(t, host+" asks again", "GET", host, "/y", bearer, "", fromApp(a, 200))); n != first+1 {
			t.Errorf("%s: global-auth-response-headers: answers %d then %d, want one per request", host, first, n)
		}
		if !strings.HasPrefix(r.header.Get("Set-Cookie"), "gsession=") {
			t.Errorf("%s: global-auth-always-set-cookie: Set-Cookie %q", host, r.header.Get("Set-Cookie"))
		}
		last := authStats(t, allow).Last
		h := http.Header(last.Headers)
		if last.Method != "POST" || h.Get("X-Auth-Request-Redirect") != "https://portal.example.com/" || h.Get("X-Global-Snippet") != "yes" {
			t.Errorf("%s: the global auth service saw %s %v", host, last.Method, last.Headers)
		}
		// global-auth-always-set-cookie: the cookie with an error too.
		r = expect(t, host+" error", "GET", host, "/__status/502", map[string]string{"Authorization": "Bearer other"}, "", fromApp(a, 502))
		if !strings.HasPrefix(r.header.Get("Set-Cookie"), "gsession=") {
			t.Errorf("%s: 502: Set-Cookie %q", host, r.header.Get("Set-Cookie"))
		}
	}
	routedInLua(t, "g.example.com")
	unasked := []struct{ host, path string }{
		{"out.g.example.com", "/"}, {"g.example.com", "/.well-known/acme-challenge/tok-123"}, {"g.example.com", "/public/x"},
	}
	// Served first (until then another route may ask), then counted.
	for _, tc := range unasked {
		expect(t, tc.host+tc.path+" served", "GET", tc.host, tc.path, nil, "", fromApp(a, 200))
	}
	asked := authStats(t, allow).Requests
	for _, tc := range unasked {
		expect(t, tc.host+tc.path+" without the global auth", "GET", tc.host, tc.path, nil, "", fromApp(a, 200))
	}
	if got := authStats(t, allow).Requests; got != asked {
		t.Errorf("the opted-out Ingress, the solver and no-auth-locations asked the global auth service %d times", got-asked)
	}
	expect(t, "its own auth-url wins", "GET", "own.g.example.com", "/", nil, "", status(403))

	// A global auth service that answers 401: the sign-in page with the
	// redirect parameter; its 401s kept per key (an answer with a cookie
	// is never kept, as nginx does).
	global("global-auth-url", authURL(deny, 401, ""), "global-auth-signin", "https://login.example.com/global",
		"global-auth-signin-redirect-param", "return", "global-auth-cache-key", "$http_authorization", "global-auth-cache-duration", "401 1m")
	for _, host := range []string{"g.example.com", "static.g.example.com"} {
		signsIn := func(r reply) error {
			want := "https://login.example.com/global?return=http%3A%2F%2F" + host + "%2Fq"
			if r.code != 302 || r.header.Get("Location") != want {
				return fmt.Errorf("want 302 to %s, Location %q", want, r.header.Get("Location"))
			}
			return nil
		}
		expect(t, host+" signs in", "GET", host, "/q", bearer, "", signsIn)
		asked := authStats(t, deny).Requests
		for range 3 {
			expect(t, host+" kept 401", "GET", host, "/q", bearer, "", signsIn)
		}
		if got := authStats(t, deny).Requests; got != asked {
			t.Errorf("%s: global-auth-cache-key: the 401 was asked %d times more, want 0", host, got-asked)
		}
	}
	// The default no-auth-locations: the ACME solver path only.
	expect(t, "the solver answers", "GET", "g.example.com", "/.well-known/acme-challenge/tok-123", nil, "", fromApp(a, 200))
	if r := get(t, "g.example.com", "/public/x"); r.code != 302 {
		t.Errorf("/public without no-auth-locations: %d, want the sign-in redirect", r.code)
	}
}

// slicesOf flattens m into key, value pairs.
func slicesOf(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

// A refused auth annotation refuses its Ingress with a Warning Event: its
// paths never answer from the backend without the auth they asked for.
func TestAuthRefusedNeverOpens(t *testing.T) {
	ns := namespace(t, "authrefused")
	a := newApp(t, ns, "a", 1, "")
	svc := newApp(t, ns, "authsvc", 1, "")
	for name, kv := range map[string][2]string{
		"literal-key":   {"auth-cache-key", "everyone"},
		"bad-duration":  {"auth-cache-duration", "5 minutes"},
		"bad-keepalive": {"auth-keepalive", "-1"},
		"bad-redirect":  {"auth-request-redirect", "$document_root"},
		"bad-param":     {"auth-signin-redirect-param", "a b"},
		"bad-cookie":    {"auth-always-set-cookie", "sometimes"},
		"snippet":       {"auth-snippet", "proxy_set_header A b;"}, // Critical: above the default annotations-risk-level
		"foreign":       {"auth-proxy-set-headers", "kube-system/auth-headers"},
		// No Debian nginx module does digest authentication.
		"digest": {"auth-type", "digest"},
	} {
		createIngress(t, newIngress(ns, name, map[string]string{ann + "auth-url": authURL(svc, 200, ""), ann + kv[0]: kv[1],
			ann + "auth-signin": "https://login.example.com/", ann + "auth-secret": "users"}, hostRule(name+".refused.example.com", prefixPath("/", "a"))))
	}
	createIngress(t, newIngress(ns, "good", map[string]string{ann + "auth-url": authURL(svc, 200, "")}, hostRule("good.refused.example.com", prefixPath("/", "a"))))
	expect(t, "the good Ingress", "GET", "good.refused.example.com", "/", nil, "", fromApp(a, 200))
	for _, name := range []string{"literal-key", "bad-duration", "bad-keepalive", "bad-redirect", "bad-param", "bad-cookie", "snippet", "foreign", "digest"} {
		eventWith(t, ns, name, "IngressRejected")
		if r := get(t, name+".refused.example.com", "/"); r.echo != nil {
			t.Errorf("%s: refused, yet the backend answered %d", name, r.code)
		}
	}
}
