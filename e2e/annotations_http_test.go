package e2e

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

const ann = "nginx.ingress.kubernetes.io/"

// expect retries one request until check accepts the reply (bounded by
// eventually) and returns that reply.
func expect(t *testing.T, what, method, host, path string, hdr map[string]string, body string, check func(reply) error) reply {
	t.Helper()
	var last reply
	eventually(t, what, func() error {
		r, err := send(method, host, path, hdr, body)
		if err != nil {
			return err
		}
		last = r
		if err := check(r); err != nil {
			return fmt.Errorf("%v (got %d %s)", err, r.code, short(r.body))
		}
		return nil
	})
	return last
}

func fromApp(a *app, code int) func(reply) error {
	return func(r reply) error {
		if r.code != code || r.echo == nil || r.echo.Service != a.name {
			return fmt.Errorf("want %d from %s", code, a.name)
		}
		return nil
	}
}

func status(code int) func(reply) error {
	return func(r reply) error {
		if r.code != code {
			return fmt.Errorf("want %d", code)
		}
		return nil
	}
}

// Paths: regex paths with capture groups in rewrite-target, plain
// rewrite, X-Forwarded-Prefix and upstream-vhost as the backend sees them.
func TestAnnotationsPathsAndProxyHeaders(t *testing.T) {
	ns := namespace(t, "paths")
	a := newApp(t, ns, "a", 1, "")
	b := newApp(t, ns, "b", 1, "")
	createIngress(t, newIngress(ns, "regex", map[string]string{ann + "use-regex": "true", ann + "rewrite-target": "/v2/$2"},
		hostRule("paths.example.com", prefixPath(`/api(/|$)(.*)`, "a"))))
	createIngress(t, newIngress(ns, "headers", map[string]string{ann + "x-forwarded-prefix": "/shop", ann + "upstream-vhost": "internal.shop.local",
		ann + "rewrite-target": "/"}, hostRule("paths.example.com", prefixPath("/shop", "b"))))

	r := expect(t, "regex rewrite", "GET", "paths.example.com", "/api/items/7?x=1", nil, "", fromApp(a, 200))
	if r.echo.Path != "/v2/items/7" || r.echo.RawQuery != "x=1" {
		t.Errorf("backend saw %s?%s, want /v2/items/7?x=1", r.echo.Path, r.echo.RawQuery)
	}
	// Case-insensitive, as nginx ~*.
	if r, _ := send("GET", "paths.example.com", "/API/z", nil, ""); r.echo == nil || r.echo.Path != "/v2/z" {
		t.Errorf("case-insensitive regex: %d %s", r.code, short(r.body))
	}
	// The route may serve before the reload that makes the router's
	// locations send upstream-vhost is done.
	r = expect(t, "plain rewrite with headers", "GET", "paths.example.com", "/shop/cart", nil, "", func(r reply) error {
		if err := fromApp(b, 200)(r); err != nil {
			return err
		}
		if r.echo.Host != "internal.shop.local" {
			return fmt.Errorf("Host %q, want upstream-vhost", r.echo.Host)
		}
		return nil
	})
	if r.echo.Path != "/" {
		t.Errorf("backend saw path %s, want /", r.echo.Path)
	}
	if got := r.echo.Headers["X-Forwarded-Prefix"]; len(got) != 1 || got[0] != "/shop" {
		t.Errorf("X-Forwarded-Prefix %v", got)
	}
	if r, _ := send("GET", "paths.example.com", "/api/x", nil, ""); r.echo == nil || r.echo.Host != "paths.example.com" {
		t.Errorf("a route without upstream-vhost must send the client's Host: %d %s", r.code, short(r.body))
	}
	if got := r.echo.Headers["X-Forwarded-Host"]; len(got) != 1 || got[0] != "paths.example.com" {
		t.Errorf("X-Forwarded-Host %v: the standard headers must stay", got)
	}
	// WebSocket upgrade headers pass through to the backend.
	r = expect(t, "upgrade headers", "GET", "paths.example.com", "/api/ws", map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}, "", fromApp(a, 200))
	if r.echo.Headers["Upgrade"][0] != "websocket" || r.echo.Headers["Connection"][0] != "upgrade" {
		t.Errorf("upgrade headers %v %v", r.echo.Headers["Upgrade"], r.echo.Headers["Connection"])
	}
	routedInLua(t, "paths.example.com")
}

// app-root, permanent-redirect(-code) and temporal-redirect.
func TestAnnotationsRedirects(t *testing.T) {
	ns := namespace(t, "redir")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "root", map[string]string{ann + "app-root": "/app1"}, hostRule("root.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "perm", map[string]string{ann + "permanent-redirect": "https://new.example.com/landing?from=old"},
		hostRule("redir.example.com", prefixPath("/old", "a"))))
	createIngress(t, newIngress(ns, "perm308", map[string]string{ann + "permanent-redirect": "https://new.example.com/", ann + "permanent-redirect-code": "308"},
		hostRule("redir.example.com", prefixPath("/moved", "a"))))
	createIngress(t, newIngress(ns, "temp", map[string]string{ann + "temporal-redirect": "http://maint.example.com/"},
		hostRule("redir.example.com", prefixPath("/tmp", "a"))))
	createIngress(t, newIngress(ns, "rest", nil, hostRule("redir.example.com", prefixPath("/", "a"))))

	location := func(code int, want string) func(reply) error {
		return func(r reply) error {
			if r.code != code || r.header.Get("Location") != want {
				return fmt.Errorf("want %d Location %s, got Location %q", code, want, r.header.Get("Location"))
			}
			return nil
		}
	}
	expect(t, "app-root", "GET", "root.example.com", "/", nil, "", location(302, "http://root.example.com/app1"))
	expect(t, "app-root leaves other paths", "GET", "root.example.com", "/app1", nil, "", fromApp(a, 200))
	expect(t, "permanent redirect", "GET", "redir.example.com", "/old/x", nil, "", location(301, "https://new.example.com/landing?from=old"))
	expect(t, "permanent redirect 308", "GET", "redir.example.com", "/moved", nil, "", location(308, "https://new.example.com/"))
	expect(t, "temporal redirect", "GET", "redir.example.com", "/tmp", nil, "", location(302, "http://maint.example.com/"))
	expect(t, "other paths proxied", "GET", "redir.example.com", "/other", nil, "", fromApp(a, 200))
	// The Lua router redirects, app-root too: a second app-root host is a
	// push, not a reload.
	routedInLua(t, "redir.example.com", "root.example.com")
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "root2", map[string]string{ann + "app-root": "/app2"}, hostRule("root2.example.com", prefixPath("/", "a"))))
	expect(t, "second app-root", "GET", "root2.example.com", "/", nil, "", location(302, "http://root2.example.com/app2"))
	expect(t, "second app-root leaves other paths", "GET", "root2.example.com", "/app2/x", nil, "", fromApp(a, 200))
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("an app-root Ingress reloaded nginx %d times; want 0", after-before)
	}
}

// proxy-body-size answers 413 above the limit; proxy-read-timeout 504.
func TestAnnotationsProxyLimits(t *testing.T) {
	ns := namespace(t, "limits")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "small", map[string]string{ann + "proxy-body-size": "1k", ann + "proxy-read-timeout": "1s"},
		hostRule("limits.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "big", nil, hostRule("nolimits.example.com", prefixPath("/", "a"))))
	expect(t, "small body passes", "POST", "limits.example.com", "/", nil, strings.Repeat("x", 900), fromApp(a, 200))
	expect(t, "big body refused", "POST", "limits.example.com", "/", nil, strings.Repeat("x", 2000), status(413))
	expect(t, "default limit elsewhere", "POST", "nolimits.example.com", "/", nil, strings.Repeat("x", 2000), fromApp(a, 200))
	expect(t, "read timeout", "GET", "limits.example.com", "/__sleep/2500", nil, "", status(504))
	expect(t, "no timeout within the limit", "GET", "limits.example.com", "/__sleep/100", nil, "", fromApp(a, 200))
}

// proxy-request-buffering: off streams a request body to the backend as
// it arrives (the backend is reading it while the client still sends);
// by default nginx reads the whole body first. The other buffer
// annotations are in the route's location of nginx.conf.
func TestAnnotationsRequestBuffering(t *testing.T) {
	ns := namespace(t, "reqbuf")
	a := newApp(t, ns, "a", 1, "")
	streamed, buffered := "reqbuf-off.example.com", "reqbuf-on.example.com"
	createIngress(t, newIngress(ns, "off", map[string]string{ann + "proxy-request-buffering": "off", ann + "client-body-buffer-size": "32k",
		ann + "proxy-buffers-number": "6", ann + "proxy-buffer-size": "8k", ann + "proxy-max-temp-file-size": "0"},
		hostRule(streamed, prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "on", nil, hostRule(buffered, prefixPath("/", "a"))))
	servedBy(t, streamed, "/", a)
	servedBy(t, buffered, "/", a)

	pod := a.pods[0].echo.Addr().String()
	for _, tc := range []struct {
		host     string
		streamed bool
	}{{streamed, true}, {buffered, false}} {
		inFlight, body := chunkedUpload(t, tc.host, pod)
		if inFlight != tc.streamed {
			t.Errorf("%s: the backend was reading the body before the client finished = %v, want %v", tc.host, inFlight, tc.streamed)
		}
		if body != "read 11 bytes\n" {
			t.Errorf("%s: backend answered %q, want the whole body read", tc.host, body)
		}
	}
	conf, err := os.ReadFile(filepath.Join(env.portico.configDir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"proxy_request_buffering off;", "client_body_buffer_size 32k;", "proxy_buffers 6 8k;", "proxy_max_temp_file_size 0;"} {
		if !strings.Contains(string(conf), d) {
			t.Errorf("nginx.conf has no %q", d)
		}
	}
}

// chunkedUpload POSTs a chunked body to /__upload of host in two parts;
// between them it asks the echo pod at pod (for up to 1 s) whether it is
// reading an upload, and it returns that and the answer's body.
func chunkedUpload(t *testing.T, host, pod string) (inFlight bool, body string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", env.portico.httpPort), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "POST /__upload HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", host); err != nil {
		t.Fatal(err)
	}
	client := framework.NewHTTPClient()
	for deadline := time.Now().Add(time.Second); !inFlight && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := client.Get("http://" + pod + "/__uploads")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inFlight = strings.TrimSpace(string(b)) == "1"
	}
	if _, err := io.WriteString(c, "6\r\n world\r\n0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %q %v", host, resp.StatusCode, b, err)
	}
	return inFlight, string(b)
}

// CORS: preflights answered 204 by nginx; the origin is echoed only when
// it matches the list, wildcards one label deep.
func TestAnnotationsCORS(t *testing.T) {
	ns := namespace(t, "cors")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "cors", map[string]string{ann + "enable-cors": "true",
		ann + "cors-allow-origin": "https://app.example.com, https://*.partner.example", ann + "cors-allow-methods": "GET, POST",
		ann + "cors-allow-headers": "X-Token", ann + "cors-max-age": "600", ann + "cors-expose-headers": "X-Request-Id"},
		hostRule("cors.example.com", prefixPath("/", "a"))))
	preflight := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"}
	}
	r := expect(t, "preflight", "OPTIONS", "cors.example.com", "/x", preflight("https://app.example.com"), "", func(r reply) error {
		if r.code != 204 || r.echo != nil {
			return fmt.Errorf("want 204 from nginx")
		}
		return nil
	})
	for k, want := range map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET, POST",
		"Access-Control-Allow-Headers": "X-Token", "Access-Control-Max-Age": "600", "Access-Control-Allow-Credentials": "true"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("preflight %s = %q, want %q", k, got, want)
		}
	}
	for origin, allowed := range map[string]bool{"https://eu.partner.example": true, "https://a.b.partner.example": false,
		"https://evil.example": false, "http://app.example.com": false, "https://app.example.com.evil.example": false} {
		r, err := send("OPTIONS", "cors.example.com", "/", preflight(origin), "")
		if err != nil {
			t.Fatal(err)
		}
		got := r.header.Get("Access-Control-Allow-Origin")
		if allowed && got != origin || !allowed && got != "" {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q, allowed=%v", origin, got, allowed)
		}
	}
	r = expect(t, "simple request", "GET", "cors.example.com", "/y", map[string]string{"Origin": "https://eu.partner.example"}, "", fromApp(a, 200))
	if r.header.Get("Access-Control-Allow-Origin") != "https://eu.partner.example" || r.header.Get("Access-Control-Expose-Headers") != "X-Request-Id" {
		t.Errorf("CORS headers on the proxied answer: %v", r.header)
	}
	// On errors too (add_header ... always).
	r = expect(t, "error answer", "GET", "cors.example.com", "/__status/503", map[string]string{"Origin": "https://app.example.com"}, "", status(503))
	if r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || r.header.Get("Vary") != "Origin" {
		t.Errorf("CORS headers on a 503 from the backend: %v", r.header)
	}
	routedInLua(t, "cors.example.com")
}

// sha1Line is an htpasswd line in nginx's {SHA} format.
func sha1Line(user, password string) string {
	s := sha1.Sum([]byte(password))
	return user + ":{SHA}" + base64.StdEncoding.EncodeToString(s[:]) + "\n"
}

func putSecret(t *testing.T, ns, name string, data map[string][]byte) {
	t.Helper()
	_, err := env.client.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// Basic auth from an htpasswd Secret (auth-file and auth-map), and
// external auth (auth-url) against an echo service that answers the
// status its path asks for.
func TestAnnotationsAuth(t *testing.T) {
	ns := namespace(t, "auth")
	a := newApp(t, ns, "a", 1, "")
	authSvc := newApp(t, ns, "authsvc", 1, "")
	putSecret(t, ns, "users", map[string][]byte{"auth": []byte(sha1Line("alice", "wonderland"))})
	putSecret(t, ns, "umap", map[string][]byte{"bob": []byte(strings.TrimPrefix(sha1Line("bob", "builder"), "bob:"))})
	createIngress(t, newIngress(ns, "basic", map[string]string{ann + "auth-type": "basic", ann + "auth-secret": "users", ann + "auth-realm": "Staff only"},
		hostRule("auth.example.com", prefixPath("/basic", "a"))))
	createIngress(t, newIngress(ns, "basic-map", map[string]string{ann + "auth-type": "basic", ann + "auth-secret": "umap", ann + "auth-secret-type": "auth-map"},
		hostRule("auth.example.com", prefixPath("/map", "a"))))
	authAddr := authSvc.pods[0].host.Addr().String()
	createIngress(t, newIngress(ns, "ext-ok", map[string]string{ann + "auth-url": "http://" + authAddr + ":8080/__status/200",
		ann + "auth-response-headers": "X-Echo-Pod,X-Echo-Request-Id"}, hostRule("auth.example.com", prefixPath("/ext-ok", "a"))))
	createIngress(t, newIngress(ns, "ext-deny", map[string]string{ann + "auth-url": "http://" + authAddr + ":8080/__status/401"},
		hostRule("auth.example.com", prefixPath("/ext-deny", "a"))))
	createIngress(t, newIngress(ns, "ext-forbid", map[string]string{ann + "auth-url": "http://" + authAddr + ":8080/__status/403",
		ann + "auth-signin": "https://login.example.com/start"}, hostRule("auth.example.com", prefixPath("/ext-forbid", "a"))))
	createIngress(t, newIngress(ns, "ext-signin", map[string]string{ann + "auth-url": "http://" + authAddr + ":8080/__status/401",
		ann + "auth-signin": "https://login.example.com/start"}, hostRule("auth.example.com", prefixPath("/ext-signin", "a"))))

	basic := func(u, p string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}
	}
	r := expect(t, "basic auth without credentials", "GET", "auth.example.com", "/basic", nil, "", status(401))
	if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="Staff only"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	expect(t, "basic auth, wrong password", "GET", "auth.example.com", "/basic", basic("alice", "nope"), "", status(401))
	expect(t, "basic auth, right password", "GET", "auth.example.com", "/basic/x", basic("alice", "wonderland"), "", fromApp(a, 200))
	expect(t, "auth-map", "GET", "auth.example.com", "/map", basic("bob", "builder"), "", fromApp(a, 200))
	expect(t, "auth-map, user of the other secret", "GET", "auth.example.com", "/map", basic("alice", "wonderland"), "", status(401))

	// A host with basic auth alone is routed in Lua: its router location
	// checks the realm and file the router names, so an Ingress with
	// another Secret needs no reload.
	createIngress(t, newIngress(ns, "routed-basic", map[string]string{ann + "auth-type": "basic", ann + "auth-secret": "users", ann + "auth-realm": "Routed"},
		hostRule("basic.auth.example.com", prefixPath("/", "a"))))
	r = expect(t, "routed basic auth without credentials", "GET", "basic.auth.example.com", "/", nil, "", status(401))
	if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="Routed"` {
		t.Errorf("routed WWW-Authenticate %q", got)
	}
	expect(t, "routed basic auth, right password", "GET", "basic.auth.example.com", "/y", basic("alice", "wonderland"), "", fromApp(a, 200))
	routedInLua(t, "basic.auth.example.com")
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "routed-map", map[string]string{ann + "auth-type": "basic", ann + "auth-secret": "umap", ann + "auth-secret-type": "auth-map"},
		hostRule("map.auth.example.com", prefixPath("/", "a"))))
	expect(t, "second routed basic auth, its own Secret", "GET", "map.auth.example.com", "/", basic("bob", "builder"), "", fromApp(a, 200))
	expect(t, "second routed basic auth, a user of the other Secret", "GET", "map.auth.example.com", "/", basic("alice", "wonderland"), "", status(401))
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("an Ingress with basic auth and a new Secret reloaded nginx %d times; want 0", after-before)
	}

	r = expect(t, "external auth allows", "GET", "auth.example.com", "/ext-ok", nil, "", fromApp(a, 200))
	if got := r.echo.Headers["X-Echo-Pod"]; len(got) != 1 || got[0] != authSvc.pods[0].name {
		t.Errorf("auth-response-headers: backend saw X-Echo-Pod %v, want the auth pod", got)
	}
	// The auth subrequest and the request share one generated X-Request-ID.
	if id, auth := r.echo.Headers["X-Request-Id"], r.echo.Headers["X-Echo-Request-Id"]; len(id) != 1 || len(id[0]) != 32 || !slices.Equal(id, auth) {
		t.Errorf("backend saw X-Request-ID %v, the auth service %v: want one and the same", id, auth)
	}
	expect(t, "external auth denies", "GET", "auth.example.com", "/ext-deny", nil, "", func(r reply) error {
		if r.code != 401 || r.echo != nil {
			return fmt.Errorf("want 401 without reaching the backend")
		}
		return nil
	})
	expect(t, "external auth forbids", "GET", "auth.example.com", "/ext-forbid", nil, "", status(403))
	expect(t, "external auth signin", "GET", "auth.example.com", "/ext-signin/p?q=1", nil, "", func(r reply) error {
		want := "https://login.example.com/start?rd=http%3A%2F%2Fauth.example.com%2Fext-signin%2Fp%3Fq%3D1"
		if r.code != 302 || r.header.Get("Location") != want {
			return fmt.Errorf("want 302 to %s, Location %q", want, r.header.Get("Location"))
		}
		return nil
	})
	// The Lua router serves the host, auth-url too: its routes' locations
	// ask the service the router names. Another Ingress with the same
	// auth-response-headers needs no reload.
	routedInLua(t, "auth.example.com")
	before = quietReloads(t)
	createIngress(t, newIngress(ns, "ext-ok2", map[string]string{ann + "auth-url": "http://" + authAddr + ":8080/__status/204",
		ann + "auth-response-headers": "X-Echo-Pod,X-Echo-Request-Id"}, hostRule("auth2.example.com", prefixPath("/", "a"))))
	r = expect(t, "second external auth allows", "GET", "auth2.example.com", "/x", nil, "", fromApp(a, 200))
	if got := r.echo.Headers["X-Echo-Pod"]; len(got) != 1 || got[0] != authSvc.pods[0].name {
		t.Errorf("second auth-url: backend saw X-Echo-Pod %v, want the auth pod", got)
	}
	if id, auth := r.echo.Headers["X-Request-Id"], r.echo.Headers["X-Echo-Request-Id"]; len(id) != 1 || len(id[0]) != 32 || !slices.Equal(id, auth) {
		t.Errorf("second auth-url: backend saw X-Request-ID %v, the auth service %v: want one and the same", id, auth)
	}
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("an Ingress with auth-url in use reloaded nginx %d times; want 0", after-before)
	}
}

// oauth2-proxy as ingress-nginx's docs set it up: auth-url and
// auth-signin name the Ingress's own host as $host, and the sign-in page
// gets ?rd=$escaped_request_uri. The suite's nameserver gives the hosts
// the auth pod's address, so the auth subrequest reaches it by the
// rule's name. $host on a rule without a host is refused: there the
// client would name the auth service.
func TestAnnotationsAuthHostVariable(t *testing.T) {
	allowSnippets(t) // for the host with a server block
	ns := namespace(t, "authvar")
	a := newApp(t, ns, "a", 1, "")
	authSvc := newApp(t, ns, "authsvc", 1, "")
	okHost, loginHost, staticHost := "ok."+ns+".example.com", "login."+ns+".example.com", "static."+ns+".example.com"
	for _, h := range []string{okHost, loginHost, staticHost} {
		env.dns.add(h, authSvc.pods[0].host.Addr())
	}
	createIngress(t, newIngress(ns, "oauth-ok", map[string]string{ann + "auth-url": "http://$host:8080/__status/200",
		ann + "auth-signin": "https://$host/oauth2/start?rd=$escaped_request_uri", ann + "auth-response-headers": "X-Echo-Pod,X-Echo-Host"},
		hostRule(okHost, prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "oauth-login", map[string]string{ann + "auth-url": "http://$host:8080/__status/401",
		ann + "auth-signin": "https://$host/oauth2/start?rd=$escaped_request_uri"}, hostRule(loginHost, prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "oauth-hostless", map[string]string{ann + "auth-url": "http://$host:8080/__status/200"},
		hostRule("", prefixPath("/"+ns, "a"))))
	createIngress(t, newIngress(ns, "oauth-static", needsServerBlock(ann+"auth-url", "http://$host:8080/__status/401",
		ann+"auth-signin", "https://$host/oauth2/start?rd=$escaped_request_uri"), hostRule(staticHost, prefixPath("/", "a"))))

	r := expect(t, "auth service at $host allows", "GET", okHost, "/x", nil, "", fromApp(a, 200))
	if got := r.echo.Headers["X-Echo-Pod"]; len(got) != 1 || got[0] != authSvc.pods[0].name {
		t.Errorf("backend saw X-Echo-Pod %v, want the auth pod %s", got, authSvc.pods[0].name)
	}
	// The auth service was asked by the rule's name: its Host header.
	if got := r.echo.Headers["X-Echo-Host"]; len(got) != 1 || got[0] != okHost+":8080" {
		t.Errorf("the auth service saw Host %v, want %s:8080", got, okHost)
	}
	expect(t, "auth service at $host: 401 to the sign-in page at $host", "GET", loginHost, "/p/q?a=1&b=%2F", nil, "", func(r reply) error {
		want := "https://" + loginHost + "/oauth2/start?rd=%2Fp%2Fq%3Fa%3D1%26b%3D%252F"
		if r.code != 302 || r.header.Get("Location") != want {
			return fmt.Errorf("want 302 to %s, got %d Location %q", want, r.code, r.header.Get("Location"))
		}
		return nil
	})
	expect(t, "the same from a server block", "GET", staticHost, "/s?x=%2F", nil, "", func(r reply) error {
		want := "https://" + staticHost + "/oauth2/start?rd=%2Fs%3Fx%3D%252F"
		if r.code != 302 || r.header.Get("Location") != want {
			return fmt.Errorf("want 302 to %s, got %d Location %q", want, r.code, r.header.Get("Location"))
		}
		return nil
	})
	if !strings.Contains(runningConf(t), `server_name "`+staticHost+`"`) {
		t.Errorf("%s has no server block", staticHost)
	}
	eventually(t, "a Warning Event on the Ingress with $host on a rule without a host", func() error {
		evs, err := warningEvents(ns, "oauth-hostless")
		if err != nil {
			return err
		}
		all := strings.Join(evs, "\n")
		if !strings.Contains(all, "InvalidAnnotation: metadata.annotations[nginx.ingress.kubernetes.io/auth-url]") ||
			!strings.Contains(all, "spec.rules[0] has no host") || !strings.Contains(all, "IngressRejected") {
			return fmt.Errorf("events: %s", all)
		}
		return nil
	})
	if r := get(t, "anything.example.com", "/"+ns); r.code != 503 || r.echo != nil {
		t.Errorf("the refused Ingress: %d %s, want 503", r.code, short(r.body))
	}
}

// custom-http-errors with default-backend: the error is served by the
// error Service with X-Code and friends, with its status (the echo
// backend's 200), as in ingress-nginx.
// The Lua router serves such hosts.
func TestAnnotationsCustomHTTPErrors(t *testing.T) {
	ns := namespace(t, "errors")
	a := newApp(t, ns, "a", 1, "")
	errs := newApp(t, ns, "errsvc", 1, "")
	createIngress(t, newIngress(ns, "errs", map[string]string{ann + "custom-http-errors": "404,503", ann + "default-backend": "errsvc"},
		hostRule("errors.example.com", prefixPath("/", "a"))))
	expect(t, "normal answers pass", "GET", "errors.example.com", "/ok", nil, "", fromApp(a, 200))
	r := expect(t, "404 from the error backend", "GET", "errors.example.com", "/__status/404", map[string]string{"Accept": "text/html"}, "", fromApp(errs, 200))
	for k, want := range map[string]string{"X-Code": "404", "X-Format": "text/html", "X-Original-Uri": "/__status/404",
		"X-Namespace": ns, "X-Ingress-Name": "errs", "X-Service-Name": "a", "X-Service-Port": "80"} {
		if got := r.echo.Headers[k]; len(got) != 1 || got[0] != want {
			t.Errorf("error backend saw %s %v, want %s", k, got, want)
		}
	}
	expect(t, "500 is not intercepted", "GET", "errors.example.com", "/__status/500", nil, "", fromApp(a, 500))

	// The Lua router serves the host: its router location intercepts the
	// errors for @portico_route_error_<code>. A second Ingress with the same codes
	// and its own error backend needs no reload.
	routedInLua(t, "errors.example.com")
	errs2 := newApp(t, ns, "errsvc2", 1, "")
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "errs2", map[string]string{ann + "custom-http-errors": "404,503", ann + "default-backend": "errsvc2"},
		hostRule("errors2.example.com", prefixPath("/", "a"))))
	r = expect(t, "404 from the second error backend", "GET", "errors2.example.com", "/__status/404", nil, "", fromApp(errs2, 200))
	if got := r.echo.Headers["X-Ingress-Name"]; len(got) != 1 || got[0] != "errs2" {
		t.Errorf("second error backend saw X-Ingress-Name %v", got)
	}
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("an Ingress with custom errors in use reloaded nginx %d times; want 0", after-before)
	}
	expect(t, "the first Ingress keeps its error backend", "GET", "errors.example.com", "/__status/503", nil, "", fromApp(errs, 200))
}

// putConfigMap creates or replaces the controller's ConfigMap data and
// removes it when the test ends.
func putConfigMap(t testing.TB, data map[string]string) {
	t.Helper()
	ctx := context.Background()
	if _, err := env.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: configMapNamespace}}, metav1.CreateOptions{}); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	cms := env.client.CoreV1().ConfigMaps(configMapNamespace)
	cm, err := cms.Get(ctx, configMapName, metav1.GetOptions{})
	if err == nil {
		cm.Data = data
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	} else {
		_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configMapName}, Data: data}, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cms.Delete(ctx, configMapName, metav1.DeleteOptions{}) })
}

func eventWith(t *testing.T, ns, name string, wants ...string) {
	t.Helper()
	eventually(t, "Warning Events on "+name, func() error {
		evs, err := warningEvents(ns, name)
		if err != nil {
			return err
		}
		all := strings.Join(evs, "\n")
		for _, w := range wants {
			if !strings.Contains(all, w) {
				return fmt.Errorf("no event %q in:\n%s", w, all)
			}
		}
		return nil
	})
}

// Snippets as ingress-nginx treats them: above annotations-risk-level
// (High by default; snippets are Critical) the Ingress is refused, and
// its paths answer 503 naming the cause; within it but not allowed
// (allow-snippet-annotations false) the snippets are dropped with a
// Warning and the Ingress is served, as ingress-nginx's e2e "drops
// snippet more_set_header in all locations if disabled by admin";
// allowed, they apply verbatim.
func TestAnnotationsSnippets(t *testing.T) {
	ns := namespace(t, "snip")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "good", nil, hostRule("good.snip.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "snippet", map[string]string{ann + "configuration-snippet": "add_header X-Snippet applied always;",
		ann + "server-snippet": "location = /from-snippet { return 204; }"}, hostRule("snip.example.com", prefixPath("/", "a"))))
	servedBy(t, "good.snip.example.com", "/", a)
	eventWith(t, ns, "snippet", "AnnotationRiskTooHigh: metadata.annotations[nginx.ingress.kubernetes.io/configuration-snippet]",
		"AnnotationRiskTooHigh: metadata.annotations[nginx.ingress.kubernetes.io/server-snippet]", "IngressRejected")
	if r := get(t, "snip.example.com", "/"); r.code != 503 || !strings.Contains(r.body, "AnnotationRiskTooHigh") {
		t.Errorf("refused snippet Ingress: %d %s, want 503 naming the cause", r.code, short(r.body))
	}

	putConfigMap(t, map[string]string{"annotations-risk-level": "Critical"})
	r := expect(t, "served without its configuration-snippet", "GET", "snip.example.com", "/", nil, "", fromApp(a, 200))
	if v := r.header.Get("X-Snippet"); v != "" {
		t.Errorf("a dropped configuration-snippet applied: X-Snippet %q", v)
	}
	expect(t, "served without its server-snippet", "GET", "snip.example.com", "/from-snippet", nil, "", fromApp(a, 200))
	eventWith(t, ns, "snippet", "SnippetsDisabled: metadata.annotations[nginx.ingress.kubernetes.io/configuration-snippet]",
		"SnippetsDisabled: metadata.annotations[nginx.ingress.kubernetes.io/server-snippet]")

	allowSnippets(t)
	expect(t, "configuration-snippet applied", "GET", "snip.example.com", "/", nil, "", func(r reply) error {
		if err := fromApp(a, 200)(r); err != nil {
			return err
		}
		if v := r.header.Get("X-Snippet"); v != "applied" {
			return fmt.Errorf("X-Snippet %q", v)
		}
		return nil
	})
	expect(t, "server-snippet applied", "GET", "snip.example.com", "/from-snippet", nil, "", status(204))
	servedBy(t, "good.snip.example.com", "/", a)
}

// Values that try to add directives through the HTTP annotations are
// refused with Warning Events, and the other Ingresses keep serving.
func TestAnnotationsInjectionRefused(t *testing.T) {
	ns := namespace(t, "inject")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "good", map[string]string{ann + "enable-cors": "true"}, hostRule("good.inject.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "evil", map[string]string{
		ann + "enable-cors":        "true",
		ann + "cors-allow-origin":  `https://a.example" always; return 200 "pwned`,
		ann + "auth-url":           "http://10.0.0.1/\"; } location /pwned { return 200; } #",
		ann + "proxy-read-timeout": "5s; include /etc/passwd",
		ann + "use-regex":          "true",
	}, hostRule("evil.inject.example.com", prefixPath(`/x"; return 200; #`, "a"), prefixPath("/", "a"))))
	servedBy(t, "good.inject.example.com", "/", a)
	eventWith(t, ns, "evil", "AnnotationValueIgnored: metadata.annotations[nginx.ingress.kubernetes.io/cors-allow-origin]",
		"InvalidAnnotation: metadata.annotations[nginx.ingress.kubernetes.io/auth-url]",
		"InvalidAnnotation: metadata.annotations[nginx.ingress.kubernetes.io/proxy-read-timeout]", "IngressRejected")
	// Its paths answer 503, the one it could not read too (under its "/").
	for _, p := range []string{"/", "/pwned", "/x"} {
		if r := get(t, "evil.inject.example.com", p); r.code != 503 || strings.Contains(r.body, "pwned") {
			t.Errorf("%s: %d %s", p, r.code, short(r.body))
		}
	}
	// The preflight of the good Ingress still works: the config reloaded fine.
	expect(t, "good CORS preflight", "OPTIONS", "good.inject.example.com", "/", map[string]string{"Origin": "https://x.example"}, "", status(204))
}

// newTLSApp is newApp for one echo pod that serves only HTTPS (port 8443,
// a throwaway certificate for <name>.internal).
func newTLSApp(t *testing.T, ns, name string) *app {
	t.Helper()
	a, _ := newTLSAppCert(t, ns, name)
	return a
}

// newTLSAppCert is newTLSApp that also returns the pod's self-signed
// certificate, for name.internal.
func newTLSAppCert(t testing.TB, ns, name string) (*app, cert) {
	t.Helper()
	c := newCert(t, time.Now().Add(time.Hour), name+".internal")
	a := newOnePodApp(t, ns, name, 80, 8443, func(h *framework.Host, pod string, port int) (*framework.Echo, error) {
		return framework.StartEchoTLS(context.Background(), h, name, pod, port, c.crt, c.key, t.TempDir())
	})
	return a, c
}

// backend-protocol HTTPS: nginx speaks TLS to a backend that only serves
// HTTPS; without the annotation the same backend fails.
func TestAnnotationsBackendProtocolHTTPS(t *testing.T) {
	ns := namespace(t, "https")
	a := newTLSApp(t, ns, "tlsapp")
	createIngress(t, newIngress(ns, "https", map[string]string{ann + "backend-protocol": "HTTPS"}, hostRule("https-backend.example.com", prefixPath("/", a.name))))
	createIngress(t, newIngress(ns, "https-rewrite", map[string]string{ann + "backend-protocol": "HTTPS", rewriteTarget: "/v2"},
		hostRule("https-backend.example.com", prefixPath("/old", a.name))))
	createIngress(t, newIngress(ns, "plain", nil, hostRule("plain-backend.example.com", prefixPath("/", a.name))))
	r := expect(t, "HTTPS backend", "GET", "https-backend.example.com", "/x", nil, "", fromApp(a, 200))
	if r.echo.Proto != "HTTP/1.1" || r.echo.Path != "/x" {
		t.Errorf("backend saw %s %s", r.echo.Proto, r.echo.Path)
	}
	// The rewriting Ingress may be routed a moment after the first one.
	expect(t, "HTTPS backend, rewritten", "GET", "https-backend.example.com", "/old/y?q=1", nil, "", func(r reply) error {
		if err := fromApp(a, 200)(r); err != nil {
			return err
		}
		if r.echo.RequestURI != "/v2?q=1" {
			return fmt.Errorf("backend saw %s, want /v2?q=1", r.echo.RequestURI)
		}
		return nil
	})
	expect(t, "plain HTTP to a TLS backend fails", "GET", "plain-backend.example.com", "/", nil, "", status(400))
	// The Lua router serves both and picks the upstream of each.
	routedInLua(t, "https-backend.example.com", "plain-backend.example.com")
}

// server-alias: more names with the host's routes and certificate;
// from-to-www-redirect: the www. twin answers 308 to the host, same scheme
// and URI. Both without a reload for a routed host, and on a host with a
// server block (a snippet) too. An alias that is an Ingress host of its
// own stays that host's.
func TestAnnotationsServerAliasAndWWW(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "alias")
	a := newApp(t, ns, "a", 1, "")
	own := newApp(t, ns, "own", 1, "")
	site := "alias-site.example.com"
	c := newCert(t, time.Now().AddDate(0, 1, 0), site, "alias-other.example.com", "www."+site)
	putTLSSecret(t, ns, "site-tls", c)
	createIngress(t, newIngress(ns, "own", nil, hostRule("alias-own.example.com", prefixPath("/", "own"))))
	servedBy(t, "alias-own.example.com", "/", own)
	before := quietReloads(t)
	ing := newIngress(ns, "site", map[string]string{ann + "server-alias": "alias-other.example.com, alias-own.example.com",
		ann + "from-to-www-redirect": "true", ann + "ssl-redirect": "false"}, hostRule(site, prefixPath("/", "a")))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{site}, SecretName: "site-tls"}}
	createIngress(t, ing)
	expect(t, "the alias serves the host's routes", "GET", "alias-other.example.com", "/x", nil, "", fromApp(a, 200))
	redirect := func(to string) func(reply) error {
		return func(r reply) error {
			if r.code != 308 || r.header.Get("Location") != to {
				return fmt.Errorf("want 308 to %s, got Location %q", to, r.header.Get("Location"))
			}
			return nil
		}
	}
	expect(t, "www. twin redirects", "GET", "www."+site, "/p/q?x=1", nil, "", redirect("http://"+site+"/p/q?x=1"))
	expect(t, "an alias that is a host of its own stays its own", "GET", "alias-own.example.com", "/", nil, "", fromApp(own, 200))
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("a routed host with aliases reloaded nginx %d times; want 0", after-before)
	}
	// HTTPS: the alias and the twin get the host's certificate.
	hc := httpsClient(c)
	eventually(t, "alias over HTTPS with the host's certificate", func() error {
		_, e, err := httpsGet(hc, "alias-other.example.com", "/")
		if err == nil && e.Service != a.name {
			err = fmt.Errorf("served by %s", e.Service)
		}
		return err
	})
	resp, err := hc.Get("https://www." + site + "/s?y=2")
	if err != nil {
		t.Fatalf("www. twin over HTTPS: %v", err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 308 || loc != "https://"+site+"/s?y=2" {
		t.Errorf("www. twin over HTTPS: %d Location %q, want 308 to https://%s/s?y=2", resp.StatusCode, loc, site)
	}

	// A host with a server block: the alias is one more server_name.
	createIngress(t, newIngress(ns, "static", map[string]string{ann + "server-alias": "alias-static2.example.com",
		ann + "from-to-www-redirect": "true", ann + "configuration-snippet": "add_header X-Static yes;"},
		hostRule("alias-static.example.com", prefixPath("/", "a"))))
	r := expect(t, "the alias of a server block", "GET", "alias-static2.example.com", "/", nil, "", fromApp(a, 200))
	if r.header.Get("X-Static") != "yes" {
		t.Errorf("alias of a server block answered without its snippet's header: %v", r.header)
	}
	expect(t, "www. twin of a server block redirects", "GET", "www.alias-static.example.com", "/", nil, "", redirect("http://alias-static.example.com/"))
}

// proxy-ssl-*: nginx checks an HTTPS backend's certificate against the
// Secret's CA and proxy-ssl-name; a name or a CA that does not match it
// fails the request (502) instead of proxying unchecked.
func TestAnnotationsProxySSL(t *testing.T) {
	ns := namespace(t, "proxyssl")
	a, c := newTLSAppCert(t, ns, "sslapp")
	other := newCert(t, time.Now().Add(time.Hour), "other.internal")
	for name, ca := range map[string][]byte{"backend-ca": c.crt, "other-ca": other.crt} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"ca.crt": ca}}
		if _, err := env.client.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	checked := func(secret, name string) map[string]string {
		return map[string]string{ann + "backend-protocol": "HTTPS", ann + "proxy-ssl-secret": ns + "/" + secret,
			ann + "proxy-ssl-verify": "on", ann + "proxy-ssl-name": name, ann + "proxy-ssl-server-name": "on"}
	}
	for _, tc := range []struct {
		host, secret, name string
		code               int
	}{
		{"proxyssl-good.example.com", "backend-ca", "sslapp.internal", 200},
		{"proxyssl-name.example.com", "backend-ca", "wrong.internal", 502},
		{"proxyssl-ca.example.com", "other-ca", "sslapp.internal", 502},
	} {
		createIngress(t, newIngress(ns, strings.Split(tc.host, ".")[0], checked(tc.secret, tc.name), hostRule(tc.host, prefixPath("/", a.name))))
		if tc.code == 200 {
			expect(t, tc.host+": the backend's certificate checks", "GET", tc.host, "/", nil, "", fromApp(a, 200))
		} else {
			expect(t, tc.host+": a certificate that does not check is refused", "GET", tc.host, "/", nil, "", status(tc.code))
		}
	}
	// The same backend unchecked still answers: the 502s are the checks.
	createIngress(t, newIngress(ns, "unchecked", map[string]string{ann + "backend-protocol": "HTTPS"}, hostRule("proxyssl-off.example.com", prefixPath("/", a.name))))
	expect(t, "unchecked TLS to the same backend", "GET", "proxyssl-off.example.com", "/", nil, "", fromApp(a, 200))
	conf, err := os.ReadFile(filepath.Join(env.portico.configDir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), "proxy_ssl_name wrong.internal;") {
		t.Error("nginx.conf has no proxy_ssl_name wrong.internal")
	}
}

// proxy-redirect-from/-to rewrite the Location of a backend's redirect;
// proxy-cookie-domain and -path the Domain and Path of its cookies; the
// same answers pass unchanged without them.
func TestAnnotationsProxyRewrites(t *testing.T) {
	ns := namespace(t, "rewrites")
	newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "rewriting", map[string]string{ann + "proxy-redirect-from": "http://app.internal/",
		ann + "proxy-redirect-to": "https://rewrites.example.com/app/", ann + "proxy-cookie-domain": "app.internal rewrites.example.com",
		ann + "proxy-cookie-path": "/ /app/"}, hostRule("rewrites.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "plain", nil, hostRule("norewrites.example.com", prefixPath("/", "a"))))
	// default: nginx's rewrite of the proxy_pass URL, which is the
	// balancer's upstream in ingress-nginx as in Portico, so no backend's
	// Location matches it (proxy-redirect-to is not needed).
	createIngress(t, newIngress(ns, "default", map[string]string{ann + "proxy-redirect-from": "default"},
		hostRule("defaultrewrites.example.com", prefixPath("/", "a"))))
	loc := url.QueryEscape("http://app.internal/login?next=1")
	cookie := url.QueryEscape("s=1; Domain=app.internal; Path=/")
	for _, tc := range []struct {
		host, location, cookie string
	}{
		{"rewrites.example.com", "https://rewrites.example.com/app/login?next=1", "s=1; Domain=rewrites.example.com; Path=/app/"},
		{"norewrites.example.com", "http://app.internal/login?next=1", "s=1; Domain=app.internal; Path=/"},
		{"defaultrewrites.example.com", "http://app.internal/login?next=1", "s=1; Domain=app.internal; Path=/"},
	} {
		expect(t, tc.host+" redirect", "GET", tc.host, "/__redirect?to="+loc, nil, "", func(r reply) error {
			if r.code != 302 || r.header.Get("Location") != tc.location {
				return fmt.Errorf("want 302 to %s, got Location %q", tc.location, r.header.Get("Location"))
			}
			return nil
		})
		expect(t, tc.host+" cookie", "GET", tc.host, "/__cookie?v="+cookie, nil, "", func(r reply) error {
			if r.code != 200 || !strings.HasPrefix(r.body, "cookie set by a-") {
				return fmt.Errorf("want 200 from a pod of a")
			}
			if got := r.header.Get("Set-Cookie"); got != tc.cookie {
				return fmt.Errorf("want Set-Cookie %q, got %q", tc.cookie, got)
			}
			return nil
		})
	}
}

// limit-rate caps an answer's rate (KiB/s) after limit-rate-after KiB:
// 256 KiB at 64 KiB/s after the first 32 KiB takes 3-3.5 s (3.0 s
// measured), and the body is whole.
func TestAnnotationsLimitRate(t *testing.T) {
	ns := namespace(t, "limitrate")
	newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "slow", map[string]string{ann + "limit-rate": "64", ann + "limit-rate-after": "32"},
		hostRule("limitrate.example.com", prefixPath("/", "a"))))
	const size = 256 << 10
	path := fmt.Sprintf("/__bytes/%d", size)
	expect(t, "rate-limited answer", "GET", "limitrate.example.com", "/__bytes/1", nil, "", status(200))
	start := time.Now()
	r, err := send("GET", "limitrate.example.com", path, nil, "")
	took := time.Since(start)
	if err != nil || r.code != 200 || len(r.body) != size {
		t.Fatalf("rate-limited download: %v, %d, %d bytes", err, r.code, len(r.body))
	}
	// (256 - 32) KiB at 64 KiB/s: 3.5 s; nginx sends a little ahead of
	// its schedule. Unlimited, it takes milliseconds here.
	if took < 2*time.Second {
		t.Errorf("256 KiB at 64 KiB/s after 32 KiB took %v, want 3-3.5 s", took)
	}
	t.Logf("256 KiB at 64 KiB/s after 32 KiB: %v", took)
}

// CORS as ingress-nginx v1.15 reads it: its default cors-allow-headers
// (Range among them), and an origin list with entries it skips (no
// scheme, empty ones, a trailing comma) and origins of app schemes: the
// Ingress is served, the skipped entry named in a Warning Event, the
// other origins allowed. On routed and server-block hosts.
func TestCORSAsIngressNginxReadsIt(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "corsnginx")
	a := newApp(t, ns, "a", 1, "")
	for _, kind := range servingKinds {
		t.Run(kind.name, func(t *testing.T) {
			host := "cors-" + kind.name + ".example.com"
			name := "cors-" + kind.name
			createIngress(t, newIngress(ns, name, kind.anns(ann+"enable-cors", "true",
				ann+"cors-allow-origin", "tauri://localhost, app.example.com, ,https://ok.example,"),
				hostRule(host, prefixPath("/", "a"))))
			preflight := func(origin string) map[string]string {
				return map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"}
			}
			r := expect(t, "preflight", "OPTIONS", host, "/x", preflight("tauri://localhost"), "", status(204))
			if got := r.header.Get("Access-Control-Allow-Origin"); got != "tauri://localhost" {
				t.Errorf("Access-Control-Allow-Origin %q, want tauri://localhost", got)
			}
			if got, want := r.header.Get("Access-Control-Allow-Headers"), "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"; got != want {
				t.Errorf("Access-Control-Allow-Headers %q, want ingress-nginx v1.15's %q", got, want)
			}
			for origin, allowed := range map[string]bool{"https://ok.example": true, "https://app.example.com": false, "http://app.example.com": false} {
				r, err := send("OPTIONS", host, "/", preflight(origin), "")
				if err != nil {
					t.Fatal(err)
				}
				if got := r.header.Get("Access-Control-Allow-Origin"); allowed && got != origin || !allowed && got != "" {
					t.Errorf("origin %s: Access-Control-Allow-Origin %q, allowed=%v", origin, got, allowed)
				}
			}
			expect(t, "served", "GET", host, "/y", map[string]string{"Origin": "https://ok.example"}, "", fromApp(a, 200))
			eventWith(t, ns, name, `AnnotationValueIgnored: metadata.annotations[nginx.ingress.kubernetes.io/cors-allow-origin]: entry "app.example.com"`)
		})
	}
}

// An empty x-forwarded-prefix is no value, as in ingress-nginx: the
// Ingress is served and the backend gets no X-Forwarded-Prefix.
func TestEmptyForwardedPrefix(t *testing.T) {
	ns := namespace(t, "fwdempty")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "empty", map[string]string{ann + "x-forwarded-prefix": ""},
		hostRule("fwd-empty.example.com", prefixPath("/", "a"))))
	r := servedBy(t, "fwd-empty.example.com", "/x", a)
	if got, ok := r.echo.Headers["X-Forwarded-Prefix"]; ok {
		t.Errorf("X-Forwarded-Prefix %v, want none", got)
	}
	if evs, _ := warningEvents(ns, "empty"); len(evs) != 0 {
		t.Errorf("Warning Events %v, want none", evs)
	}
}

// default-backend without custom-http-errors, as ingress-nginx's e2e
// (annotations/default_backend.go): while the Ingress's Service does not
// exist or has no ready endpoint, its requests go to the annotation's
// Service, unchanged, with X-Code 503 and the Ingress's names, instead of
// a 503; once the Service has an endpoint, it serves again (no reload
// decides it). On routed and server-block hosts.
func TestDefaultBackendAnnotation(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "defbackend")
	fallback := newApp(t, ns, "fallback", 1, "")
	empty := newApp(t, ns, "empty", 0, "")
	for _, kind := range servingKinds {
		createIngress(t, newIngress(ns, "db-"+kind.name, kind.anns(ann+"default-backend", "fallback"),
			hostRule("defbackend-"+kind.name+".example.com", prefixPath("/", "invalid"), prefixPath("/empty", "empty"))))
	}
	for _, kind := range servingKinds {
		t.Run(kind.name, func(t *testing.T) {
			host := "defbackend-" + kind.name + ".example.com"
			hdr := map[string]string{"X-Request-ID": "something-unique", "Accept": "application/json"}
			for path, svc := range map[string]string{"/alma/armud": "invalid", "/empty/x": "empty"} {
				r := expect(t, path+" served by the default backend", "GET", host, path, hdr, "", fromApp(fallback, 200))
				if r.echo.Path != path {
					t.Errorf("%s: the default backend saw path %s", path, r.echo.Path)
				}
				for k, want := range map[string]string{"X-Code": "503", "X-Format": "application/json", "X-Namespace": ns,
					"X-Ingress-Name": "db-" + kind.name, "X-Service-Name": svc, "X-Service-Port": "80", "X-Request-Id": "something-unique"} {
					if got := r.echo.Headers[k]; len(got) != 1 || got[0] != want {
						t.Errorf("%s: the default backend saw %s %v, want %s", path, k, got, want)
					}
				}
			}
		})
	}
	// The Service gets a ready endpoint: it serves, on both kinds of host.
	empty.addPod(t, "empty-0")
	empty.syncSlice(t, "")
	for _, kind := range servingKinds {
		expect(t, "the Service with an endpoint ("+kind.name+")", "GET", "defbackend-"+kind.name+".example.com", "/empty/x", nil, "", func(r reply) error {
			if err := fromApp(empty, 200)(r); err != nil {
				return err
			}
			if got := r.echo.Headers["X-Code"]; got != nil {
				return fmt.Errorf("the Service saw X-Code %v", got)
			}
			return nil
		})
	}
}

// Allowed snippets may use headers-more's directives, the most common
// snippet content (ingress-nginx's e2e "set snippet more_set_headers in
// all locations"): nginx loads Debian's headers-more module while a
// snippet is present.
func TestSnippetHeadersMore(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "headersmore")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "more", map[string]string{
		ann + "configuration-snippet": `more_set_headers "Foo1: Bar1"; more_clear_headers "Server";`,
		ann + "server-snippet":        `more_set_headers "X-From-Server: yes";`,
	}, hostRule("headersmore.example.com", prefixPath("/", "a"))))
	expect(t, "more_set_headers and more_clear_headers applied", "GET", "headersmore.example.com", "/", nil, "", func(r reply) error {
		if err := fromApp(a, 200)(r); err != nil {
			return err
		}
		if got := r.header.Values("Foo1"); len(got) != 1 || got[0] != "Bar1" {
			return fmt.Errorf("Foo1 %v", got)
		}
		if got := r.header.Get("Server"); got != "" {
			return fmt.Errorf("Server %q not cleared", got)
		}
		return nil
	})
}
