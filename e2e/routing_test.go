package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

const rewriteTarget = "nginx.ingress.kubernetes.io/rewrite-target"

// snippetsAllowed are the ConfigMap settings that let needsServerBlock's
// snippet in.
var snippetsAllowed = map[string]string{"allow-snippet-annotations": "true", "annotations-risk-level": "Critical"}

// allowSnippets sets the controller's ConfigMap to snippetsAllowed and kv.
func allowSnippets(tb testing.TB, kv ...string) {
	tb.Helper()
	m := maps.Clone(snippetsAllowed)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	putConfigMap(tb, m)
}

// needsServerBlock are annotations the Lua router cannot apply (a snippet
// that sets a variable nothing reads; allowSnippets must be in effect)
// and more annotations kv, for tests that want a host with a server
// block, so a change that reloads nginx.
func needsServerBlock(kv ...string) map[string]string {
	m := map[string]string{ann + "configuration-snippet": "set $portico_e2e_static 1;"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// Seed 000, "경로 기반 라우팅": /api → api-service, / → frontend-service on
// app.example.com, with rewrite-target: /.
func TestSeedPathIngress(t *testing.T) {
	ns := namespace(t, "ingress-lab")
	api := newApp(t, ns, "api-service", 2, "")
	fe := newApp(t, ns, "frontend-service", 2, "")
	createIngress(t, newIngress(ns, "path-ingress", map[string]string{rewriteTarget: "/"},
		hostRule("app.example.com", prefixPath("/api", "api-service"), prefixPath("/", "frontend-service"))))

	r := servedBy(t, "app.example.com", "/api", api)
	if r.echo.Path != "/" {
		t.Errorf("api backend saw path %q, want / (rewrite-target)", r.echo.Path)
	}
	if r.echo.Host != "app.example.com" {
		t.Errorf("backend saw Host %q, want app.example.com", r.echo.Host)
	}
	for _, h := range []string{"X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		if len(r.echo.Headers[h]) == 0 {
			t.Errorf("backend did not receive %s; headers %v", h, r.echo.Headers)
		}
	}
	if got := r.echo.Headers["X-Forwarded-Host"]; len(got) == 0 || got[0] != "app.example.com" {
		t.Errorf("X-Forwarded-Host = %v", got)
	}
	if r.echo.Proto != "HTTP/1.1" {
		t.Errorf("backend saw %s, want HTTP/1.1", r.echo.Proto)
	}

	r = get(t, "app.example.com", "/api/users?page=2")
	if r.echo == nil || r.echo.Service != "api-service" || r.echo.Path != "/" || r.echo.RawQuery != "page=2" {
		t.Errorf("/api/users?page=2 → %d %s, want api-service at / keeping the query", r.code, short(r.body))
	}
	if r := get(t, "app.example.com", "/"); r.echo == nil || r.echo.Service != "frontend-service" {
		t.Errorf("/ → %d %s, want frontend-service", r.code, short(r.body))
	}
	// rewrite-target makes the host's paths regexes, as in ingress-nginx:
	// ^/api takes /apix too (Prefix is element-wise only on hosts
	// without regexes).
	if r := get(t, "app.example.com", "/apix"); r.echo == nil || r.echo.Service != "api-service" || r.echo.Path != "/" {
		t.Errorf("/apix → %d %s, want api-service at /", r.code, short(r.body))
	}
	// Both api pods take traffic.
	pods := map[string]bool{}
	for range 20 {
		if r := get(t, "app.example.com", "/api"); r.echo != nil {
			pods[r.echo.Pod] = true
		}
	}
	for _, p := range api.podNames() {
		if !pods[p] {
			t.Errorf("pod %s never answered; answered: %v", p, pods)
		}
	}
	_ = fe
}

// Seed 000, "호스트 기반 라우팅": api.example.com and app.example.com.
func TestSeedHostIngress(t *testing.T) {
	ns := namespace(t, "ingress-lab")
	api := newApp(t, ns, "api-service", 1, "")
	fe := newApp(t, ns, "frontend-service", 1, "")
	createIngress(t, newIngress(ns, "host-ingress", nil,
		hostRule("api.example.com", prefixPath("/", "api-service")),
		hostRule("app.example.com", prefixPath("/", "frontend-service"))))

	r := servedBy(t, "api.example.com", "/v1/items", api)
	if r.echo.Path != "/v1/items" {
		t.Errorf("without rewrite the backend must see the request path, saw %q", r.echo.Path)
	}
	servedBy(t, "app.example.com", "/", fe)
	// Host matching ignores a port in the Host header, as HTTP requires.
	servedBy(t, fmt.Sprintf("api.example.com:%d", env.portico.httpPort), "/", api)
	if r := get(t, "unknown.example.com", "/"); r.code != 404 {
		t.Errorf("unknown host → %d, want 404 from the default server", r.code)
	}
}

// Seed 002: one Ingress without host, four paths, rewrite-target: /.
func TestSeedGameIngress(t *testing.T) {
	ns := namespace(t, "game-prod")
	apps := map[string]*app{}
	var paths []networkingv1.HTTPIngressPath
	for _, name := range []string{"lobby", "room", "chat", "ranking"} {
		apps[name] = newApp(t, ns, "game-"+name, 1, "")
		paths = append(paths, prefixPath("/"+name, "game-"+name))
	}
	createIngress(t, newIngress(ns, "game-ingress", map[string]string{rewriteTarget: "/"}, hostRule("", paths...)))

	for name, a := range apps {
		r := servedBy(t, "localhost", "/"+name, a)
		if r.echo.Path != "/" {
			t.Errorf("/%s: backend saw %q, want /", name, r.echo.Path)
		}
		if r := get(t, "any-host.example.org", "/"+name+"/123"); r.echo == nil || r.echo.Service != a.name || r.echo.Path != "/" {
			t.Errorf("/%s/123 on any host → %d %s, want %s at /", name, r.code, short(r.body), a.name)
		}
	}
	if r := get(t, "localhost", "/nope"); r.code != 404 {
		t.Errorf("/nope → %d, want 404", r.code)
	}
}

// The Ingress API's path rules: Exact, element-wise Prefix, trailing
// slashes, Exact over Prefix, longest match, ImplementationSpecific.
func TestPathTypes(t *testing.T) {
	ns := namespace(t, "paths")
	a := newApp(t, ns, "a", 1, "")
	b := newApp(t, ns, "b", 1, "")
	createIngress(t, newIngress(ns, "paths", nil, hostRule("paths.example.com",
		pathOf("/aaa", networkingv1.PathTypePrefix, "a", 80),
		pathOf("/aaa/bbb/", networkingv1.PathTypePrefix, "b", 80),
		pathOf("/foo", networkingv1.PathTypeExact, "b", 80),
		pathOf("/foo", networkingv1.PathTypePrefix, "a", 80),
		pathOf("/impl", networkingv1.PathTypeImplementationSpecific, "b", 80),
	)))
	servedBy(t, "paths.example.com", "/aaa", a)
	cases := []struct {
		path string
		want string // service, or "404"
	}{
		{"/aaa", "a"}, {"/aaa/", "a"}, {"/aaa/x", "a"}, {"/aaab", "404"},
		{"/aaa/bbb", "b"}, {"/aaa/bbb/", "b"}, {"/aaa/bbb/c", "b"}, {"/aaa/bbbc", "a"},
		{"/foo", "b"}, {"/foo/", "a"}, {"/foo/bar", "a"},
		{"/impl", "b"}, {"/implx", "b"}, {"/other", "404"},
	}
	for _, c := range cases {
		r := get(t, "paths.example.com", c.path)
		got := fmt.Sprint(r.code)
		if r.echo != nil {
			got = r.echo.Service
		}
		if got != c.want {
			t.Errorf("%s → %s, want %s", c.path, got, c.want)
		}
	}
	_ = b
}

// A wildcard host matches exactly one DNS label.
func TestWildcardHost(t *testing.T) {
	ns := namespace(t, "wild")
	a := newApp(t, ns, "a", 1, "")
	exact := newApp(t, ns, "exact", 1, "")
	createIngress(t, newIngress(ns, "wild", nil,
		hostRule("*.wild.example.com", prefixPath("/", "a")),
		hostRule("named.wild.example.com", prefixPath("/", "exact"))))
	servedBy(t, "one.wild.example.com", "/", a)
	servedBy(t, "named.wild.example.com", "/", exact)
	for _, h := range []string{"two.one.wild.example.com", "wild.example.com"} {
		if r := get(t, h, "/"); r.code != 404 {
			t.Errorf("%s → %d, want 404", h, r.code)
		}
	}
	// The Lua router serves both: a wildcard's server_name is a regex.
	routedInLua(t, "named.wild.example.com")
	if strings.Contains(runningConf(t), `wild\.example\.com`) {
		t.Error("nginx.conf has a server block for *.wild.example.com, which the Lua router should serve")
	}
	// A wildcard Ingress next to routed hosts is a push, not a reload.
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "wild2", nil, hostRule("*.wild2.example.com", prefixPath("/", "exact"))))
	servedBy(t, "any.wild2.example.com", "/", exact)
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("a wildcard Ingress reloaded nginx %d times; want 0", after-before)
	}
}

// A missing Service answers 503 for its route only; creating it later
// serves the route without a reload.
func TestMissingServiceAndNamedPort(t *testing.T) {
	ns := namespace(t, "refs")
	a := newApp(t, ns, "a", 1, "")
	named := newApp(t, ns, "named", 1, "http")
	namedPath := networkingv1.HTTPIngressPath{Path: "/named", PathType: ptr(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{
		Service: &networkingv1.IngressServiceBackend{Name: "named", Port: networkingv1.ServiceBackendPort{Name: "http"}}}}
	createIngress(t, newIngress(ns, "refs", nil, hostRule("refs.example.com",
		prefixPath("/ok", "a"), prefixPath("/ghost", "ghost"), namedPath)))
	servedBy(t, "refs.example.com", "/ok", a)
	servedBy(t, "refs.example.com", "/named", named)
	r := answers(t, "refs.example.com", "/ghost", 503)
	if !strings.Contains(r.body, "service "+ns+"/ghost does not exist") {
		t.Errorf("503 body %q does not name the missing service", r.body)
	}
	before := mustStatus(t).Nginx.Reloads
	ghost := newApp(t, ns, "ghost", 1, "")
	servedBy(t, "refs.example.com", "/ghost", ghost)
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("creating the Service reloaded nginx (%d → %d); it must only push endpoints", before, after)
	}
}

// Ingresses of another class are ignored completely, status included;
// ours get the published address.
func TestOtherClassIgnored(t *testing.T) {
	ns := namespace(t, "classes")
	a := newApp(t, ns, "a", 1, "")
	theirs := newIngress(ns, "traefik", map[string]string{"kubernetes.io/ingress.class": "traefik"},
		hostRule("traefik.example.com", prefixPath("/", "a")))
	theirs.Spec.IngressClassName = nil
	createIngress(t, theirs)
	createIngress(t, newIngress(ns, "ours", nil, hostRule("ours.example.com", prefixPath("/", "a"))))
	servedBy(t, "ours.example.com", "/", a)
	eventually(t, "status of ours", func() error {
		ing, err := env.client.NetworkingV1().Ingresses(ns).Get(context.Background(), "ours", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if lb := ing.Status.LoadBalancer.Ingress; len(lb) != 1 || lb[0].IP != "127.0.0.1" {
			return fmt.Errorf("status %+v", lb)
		}
		return nil
	})
	if r := get(t, "traefik.example.com", "/"); r.code != 404 {
		t.Errorf("traefik-class host → %d, want 404", r.code)
	}
	ing, err := env.client.NetworkingV1().Ingresses(ns).Get(context.Background(), "traefik", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ing.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("status of another class's Ingress was written: %+v", ing.Status.LoadBalancer.Ingress)
	}
}

// Updates and deletions take effect.
func TestIngressUpdateAndDelete(t *testing.T) {
	ns := namespace(t, "update")
	a := newApp(t, ns, "a", 1, "")
	b := newApp(t, ns, "b", 1, "")
	createIngress(t, newIngress(ns, "web", nil, hostRule("update.example.com", prefixPath("/", "a"))))
	servedBy(t, "update.example.com", "/", a)

	ings := env.client.NetworkingV1().Ingresses(ns)
	// The controller writes the status meanwhile: retry on a conflict, as
	// kubectl edit would.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing, err := ings.Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "b"
		_, err = ings.Update(context.Background(), ing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	servedBy(t, "update.example.com", "/", b)

	if err := ings.Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, "update.example.com", "/", 404)
}

// The default IngressClass adopts Ingresses without a class, and an
// Ingress's defaultBackend serves what matches no rule.
func TestDefaultClassAndDefaultBackend(t *testing.T) {
	ns := namespace(t, "defaults")
	a := newApp(t, ns, "a", 1, "")
	fb := newApp(t, ns, "fallback", 1, "")
	ctx := context.Background()
	_, err := env.client.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "portico-default", Annotations: map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"}},
		Spec:       networkingv1.IngressClassSpec{Controller: controllerClass},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.client.NetworkingV1().IngressClasses().Delete(ctx, "portico-default", metav1.DeleteOptions{})
	})

	classless := newIngress(ns, "classless", nil, hostRule("classless.example.com", prefixPath("/", "a")))
	classless.Spec.IngressClassName = nil
	createIngress(t, classless)
	servedBy(t, "classless.example.com", "/", a)

	withDefault := newIngress(ns, "with-default", nil, hostRule("fallback.example.com", prefixPath("/only", "a")))
	withDefault.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "fallback", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	createIngress(t, withDefault)
	servedBy(t, "fallback.example.com", "/elsewhere", fb)
	servedBy(t, "fallback.example.com", "/only", a)
	servedBy(t, "no-rule-matches.example.com", "/", fb)
}

// The config nginx runs passes nginx -t and is the one Portico rendered.
func TestGeneratedConfigPassesNginxTest(t *testing.T) {
	ns := namespace(t, "conf")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "conf", nil, hostRule("conf.example.com", prefixPath("/", "a"))))
	servedBy(t, "conf.example.com", "/", a)
	conf := filepath.Join(env.portico.configDir, "nginx.conf")
	out, err := exec.Command("nginx", "-t", "-e", "stderr", "-c", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t on the running config: %v\n%s", err, out)
	}
	st := mustStatus(t)
	_, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/configuration/checksum", env.portico.statusPort))
	if err != nil || strings.TrimSpace(body) != st.Nginx.Checksum {
		t.Errorf("nginx runs checksum %q, controller applied %q (%v)", body, st.Nginx.Checksum, err)
	}
}

func mustStatus(t *testing.T) controllerStatus {
	t.Helper()
	// Let the controller finish the sync in flight.
	time.Sleep(300 * time.Millisecond)
	s, err := env.portico.status()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// A plain host has no server block: creating, changing and deleting its
// Ingress is a push to the Lua router, never a reload, rewrite-target
// included. An Ingress that needs nginx.conf (a snippet) still reloads
// and works.
func TestDynamicRoutingWithoutReload(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "dynamic")
	a := newApp(t, ns, "a", 1, "")
	b := newApp(t, ns, "b", 1, "")
	const host = "dynamic.example.com"
	before := quietReloads(t)

	start := time.Now()
	createIngress(t, newIngress(ns, "plain", nil, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a new plain Ingress took %s to serve", took)
	}
	ings := env.client.NetworkingV1().Ingresses(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing, err := ings.Get(context.Background(), "plain", metav1.GetOptions{})
		if err != nil {
			return err
		}
		ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "b"
		ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, pathOf("/aaa", networkingv1.PathTypePrefix, "a", 80))
		_, err = ings.Update(context.Background(), ing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	servedBy(t, host, "/", b)
	servedBy(t, host, "/aaa/x", a)
	servedBy(t, host, "/aaab", b) // Prefix is element-wise
	if r := get(t, "DYNAMIC.example.com:80", "/aaa"); r.echo == nil || r.echo.Service != "a" {
		t.Errorf("Host with upper case and a port: got %d %s", r.code, short(r.body))
	}
	routedInLua(t, host)
	if err := ings.Delete(context.Background(), "plain", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, host, "/", 404)
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("plain Ingress create/update/delete reloaded nginx %d times; want 0", after-before)
	}

	// rewrite-target is done by the router too.
	createIngress(t, newIngress(ns, "rewrite", map[string]string{rewriteTarget: "/"},
		hostRule("rewrite.dynamic.example.com", prefixPath("/api", "a"))))
	r := servedBy(t, "rewrite.dynamic.example.com", "/api/users?q=1", a)
	if r.echo.RequestURI != "/?q=1" {
		t.Errorf("rewrite-target: backend saw %q, want /?q=1", r.echo.RequestURI)
	}
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("an Ingress with rewrite-target reloaded nginx %d times; want 0", after-before)
	}
	createIngress(t, newIngress(ns, "static", needsServerBlock(),
		hostRule("static.dynamic.example.com", prefixPath("/api", "a"))))
	servedBy(t, "static.dynamic.example.com", "/api/users", a)
	if after := mustStatus(t).Nginx.Reloads; after <= before {
		t.Errorf("an Ingress with a snippet did not reload nginx")
	}
}

// proxy-body-size keeps a host in the Lua router: a Content-Length above
// the route's limit gets 413 from the router, a chunked body is counted
// in the named location of its route's limit, and a route may allow more
// than the global limit ("/" takes the largest). A new Ingress with a
// limit that has its location already needs no reload.
func TestDynamicRoutingBodyLimits(t *testing.T) {
	ns := namespace(t, "dynbody")
	a := newApp(t, ns, "a", 1, "")
	const size = ann + "proxy-body-size"
	createIngress(t, newIngress(ns, "small", map[string]string{size: "1k"}, hostRule("small.body.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "large", map[string]string{size: "3m"}, hostRule("large.body.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "global", nil, hostRule("global.body.example.com", prefixPath("/", "a"))))
	for _, h := range []string{"small", "large", "global"} {
		servedBy(t, h+".body.example.com", "/", a)
	}
	// The routes may reach nginx before the reload that adds the limits'
	// locations is done.
	quietReloads(t)
	routedInLua(t, "small.body.example.com", "large.body.example.com", "global.body.example.com")
	// check sends a body of n bytes: 413, or the whole body at the backend.
	check := func(host string, n int, chunked bool, want int) {
		t.Helper()
		r, err := sendBody("POST", host, "/", nil, strings.Repeat("x", n), chunked)
		switch {
		case err != nil:
			t.Errorf("%s, %d bytes, chunked %v: %v", host, n, chunked, err)
		case r.code != want:
			t.Errorf("%s, %d bytes, chunked %v: got %d %s, want %d", host, n, chunked, r.code, short(r.body), want)
		case want == 200 && (r.echo == nil || r.echo.BodyBytes != int64(n)):
			t.Errorf("%s, %d bytes, chunked %v: the backend did not get the whole body: %s", host, n, chunked, short(r.body))
		}
	}
	for _, chunked := range []bool{false, true} {
		check("small.body.example.com", 900, chunked, 200)
		check("small.body.example.com", 2000, chunked, 413)
		check("large.body.example.com", 2<<20, chunked, 200) // above the global 1m
		check("large.body.example.com", 4<<20, chunked, 413)
		check("global.body.example.com", 900<<10, chunked, 200)
		check("global.body.example.com", 2<<20, chunked, 413)
	}
	// A GET without a body is never handed on.
	expect(t, "GET on a small route", "GET", "small.body.example.com", "/x", nil, "", fromApp(a, 200))
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "small2", map[string]string{size: "1024"}, hostRule("small2.body.example.com", prefixPath("/", "a"))))
	servedBy(t, "small2.body.example.com", "/", a)
	check("small2.body.example.com", 2000, true, 413)
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("an Ingress with a body limit that has its location reloaded nginx %d times; want 0", after-before)
	}
}

// Proxy settings nginx applies per location (here proxy-buffer-size and
// proxy-http-version) keep a host in the Lua router: the router hands its
// requests to the named location of its body limit and settings, so a
// backend's response header that needs the bigger buffer passes, while
// it is too big for a route without one (nginx answers 502), and the
// backend sees HTTP/1.0. A body limit still holds there, and a new
// Ingress whose settings have their location already needs no reload.
func TestDynamicRoutingProxySettings(t *testing.T) {
	ns := namespace(t, "dynbuf")
	a := newApp(t, ns, "a", 1, "")
	const buffer, size = ann + "proxy-buffer-size", ann + "proxy-body-size"
	createIngress(t, newIngress(ns, "big", map[string]string{buffer: "16k"}, hostRule("big.buf.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "small", map[string]string{buffer: "16k", size: "1k"}, hostRule("small.buf.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "plain", nil, hostRule("plain.buf.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "v10", map[string]string{ann + "proxy-http-version": "1.0"}, hostRule("v10.buf.example.com", prefixPath("/", "a"))))
	for _, h := range []string{"big", "small", "plain", "v10"} {
		servedBy(t, h+".buf.example.com", "/", a)
	}
	quietReloads(t)
	routedInLua(t, "big.buf.example.com", "small.buf.example.com", "plain.buf.example.com", "v10.buf.example.com")
	for host, want := range map[string]string{"v10.buf.example.com": "HTTP/1.0", "plain.buf.example.com": "HTTP/1.1"} {
		if r := get(t, host, "/"); r.echo == nil || r.echo.Proto != want {
			t.Errorf("%s: the backend saw %v, want %s", host, r.echo, want)
		}
	}
	// A 10,000-byte response header: more than nginx's default buffer
	// (one page), less than 16k.
	const padded = "/__header/10000"
	bigHeader := func(host string) error {
		resp, body, err := request(env.portico.httpPort, http.MethodGet, host, padded, nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || resp.Header.Get(echo.PodHeader) != a.pods[0].name || len(resp.Header.Get(echo.PadHeader)) != 10000 {
			return fmt.Errorf("%s%s: %d %s", host, padded, resp.StatusCode, short(string(body)))
		}
		return nil
	}
	eventually(t, "the big header passes through the 16k buffers", func() error { return bigHeader("big.buf.example.com") })
	if err := bigHeader("small.buf.example.com"); err != nil {
		t.Error(err)
	}
	if r := get(t, "plain.buf.example.com", padded); r.code != 502 {
		t.Errorf("plain route, big header: %d %s, want 502 (nginx's default buffer cannot hold it)", r.code, short(r.body))
	}
	for _, chunked := range []bool{false, true} {
		if r, err := sendBody("POST", "small.buf.example.com", "/", nil, strings.Repeat("x", 2000), chunked); err != nil || r.code != 413 {
			t.Errorf("2,000 bytes (chunked %v) to a 1k route with a buffer size: %d %v, want 413", chunked, r.code, err)
		}
		if r, err := sendBody("POST", "small.buf.example.com", "/", nil, strings.Repeat("x", 900), chunked); err != nil || r.code != 200 ||
			r.echo == nil || r.echo.BodyBytes != 900 {
			t.Errorf("900 bytes (chunked %v) to a 1k route with a buffer size: %d %v", chunked, r.code, err)
		}
	}
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "big2", map[string]string{buffer: "16384"}, hostRule("big2.buf.example.com", prefixPath("/", "a"))))
	eventually(t, "a second Ingress with the same buffer size", func() error { return bigHeader("big2.buf.example.com") })
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("an Ingress with a buffer size that has its location reloaded nginx %d times; want 0", after-before)
	}
}

// Over HTTP/2 a request body may come without a Content-Length: the
// router hands it to the location of its route's limit, as for chunked
// HTTP/1.1 bodies.
func TestDynamicRoutingBodyLimitsHTTP2(t *testing.T) {
	ns := namespace(t, "dynbodyh2")
	a := newApp(t, ns, "a", 1, "")
	const host = "h2.body.example.com"
	c := newCert(t, time.Now().AddDate(1, 0, 0), host)
	putTLSSecret(t, ns, "h2-tls", c)
	ing := newIngress(ns, "h2", map[string]string{ann + "proxy-body-size": "1k"}, hostRule(host, prefixPath("/", "a")))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "h2-tls"}}
	createIngress(t, ing)
	servesCert(t, host, c)
	quietReloads(t)
	routedInLua(t, host)
	client := httpsClient(c)
	post := func(n int, known bool) (*http.Response, string, error) {
		var body io.Reader = strings.NewReader(strings.Repeat("x", n))
		if !known {
			body = io.MultiReader(body) // no length: HTTP/2 sends no Content-Length
		}
		req, err := http.NewRequest(http.MethodPost, "https://"+host+"/", body)
		if err != nil {
			return nil, "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	for _, tc := range []struct {
		n     int
		known bool
		want  int
	}{{900, false, 200}, {2000, false, 413}, {900, true, 200}, {2000, true, 413}} {
		resp, body, err := post(tc.n, tc.known)
		switch {
		case err != nil:
			t.Errorf("%d bytes, length known %v: %v", tc.n, tc.known, err)
		case resp.ProtoMajor != 2:
			t.Errorf("%d bytes: answered over %s, want HTTP/2", tc.n, resp.Proto)
		case resp.StatusCode != tc.want:
			t.Errorf("%d bytes, length known %v: got %d %s, want %d", tc.n, tc.known, resp.StatusCode, short(body), tc.want)
		case tc.want == 200:
			var e echo.Response
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Service != a.name || e.BodyBytes != int64(tc.n) {
				t.Errorf("%d bytes: want the whole body at %s: %v %s", tc.n, a.name, err, short(body))
			}
		}
	}
}

// proxy-*-timeout and x-forwarded-prefix keep a host in the Lua router:
// the balancer sets the route's timeouts per request (another host keeps
// the global ones), the router the header.
func TestDynamicRoutingTimeoutsAndPrefix(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "dyntimeout")
	a := newApp(t, ns, "a", 1, "")
	before := quietReloads(t)
	createIngress(t, newIngress(ns, "short", map[string]string{ann + "proxy-read-timeout": "1", ann + "x-forwarded-prefix": "/short"},
		hostRule("short.dynamic.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "long", nil, hostRule("long.dynamic.example.com", prefixPath("/", "a"))))
	servedBy(t, "short.dynamic.example.com", "/", a)
	servedBy(t, "long.dynamic.example.com", "/", a)
	// A POST, which nginx tries once (a GET would be tried three times,
	// proxy-next-upstream-tries, as in ingress-nginx).
	start := time.Now()
	expect(t, "read timeout of the route", "POST", "short.dynamic.example.com", "/__sleep/2500", nil, "", status(504))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("504 after %s, want about the 1 s read timeout", took)
	}
	r := expect(t, "within the route's timeout", "GET", "short.dynamic.example.com", "/__sleep/100", nil, "", fromApp(a, 200))
	if got := r.echo.Headers["X-Forwarded-Prefix"]; len(got) != 1 || got[0] != "/short" {
		t.Errorf("X-Forwarded-Prefix %v, want [/short]", got)
	}
	if r := get(t, "long.dynamic.example.com", "/"); r.echo == nil || len(r.echo.Headers["X-Forwarded-Prefix"]) != 0 {
		t.Errorf("a route without x-forwarded-prefix: %d %s", r.code, short(r.body))
	}
	expect(t, "the global timeout elsewhere", "GET", "long.dynamic.example.com", "/__sleep/2500", nil, "", fromApp(a, 200))
	routedInLua(t, "short.dynamic.example.com", "long.dynamic.example.com")
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("%d reloads for Ingresses the router serves; want 0", after-before)
	}
}

// Seed 002's host-less game Ingress, with auth-url besides rewrite-target:
// the Lua router serves the rules without a host too, so a plain host next
// to them is still a push, is served its own paths with the URI
// untouched, and answers 404 for paths it lacks.
func TestDynamicRoutingNextToHostlessRewrite(t *testing.T) {
	ns := namespace(t, "hostless")
	lobby := newApp(t, ns, "game-lobby", 1, "")
	plain := newApp(t, ns, "plain-lobby", 1, "")
	auth := "http://" + lobby.pods[0].host.Addr().String() + ":8080/__status/200"
	createIngress(t, newIngress(ns, "game", map[string]string{rewriteTarget: "/", ann + "auth-url": auth},
		hostRule("", prefixPath("/lobby", "game-lobby"), prefixPath("/room", "game-lobby"))))
	if r := servedBy(t, "any.example.org", "/lobby/1", lobby); r.echo.Path != "/" {
		t.Errorf("host-less rewrite: backend saw %q, want /", r.echo.Path)
	}
	if conf := runningConf(t); strings.Contains(conf, `"/lobby"`) {
		t.Fatal("the catch-all server has a location of the host-less rules, which the Lua router should serve")
	}
	before := quietReloads(t)

	const host = "plain.example.com"
	createIngress(t, newIngress(ns, "plain", nil, hostRule(host, prefixPath("/lobby", "plain-lobby"))))
	r := servedBy(t, host, "/lobby/x?q=1", plain)
	if r.echo.RequestURI != "/lobby/x?q=1" {
		t.Errorf("plain host: backend saw %q, want /lobby/x?q=1 (no rewrite)", r.echo.RequestURI)
	}
	if r := get(t, "PLAIN.example.com:80", "/lobby"); r.echo == nil || r.echo.Service != plain.name || r.echo.Path != "/lobby" {
		t.Errorf("Host with upper case and a port: got %d %s", r.code, short(r.body))
	}
	if r := get(t, "other.example.com", "/lobby"); r.echo == nil || r.echo.Service != lobby.name || r.echo.Path != "/" {
		t.Errorf("other hosts keep the host-less rule: got %d %s", r.code, short(r.body))
	}
	// The plain host's own rules only, as its server block would: /room
	// is a host-less path, not one of the host.
	for _, p := range []string{"/room", "/room/1", "/nope"} {
		if r := get(t, host, p); r.code != 404 {
			t.Errorf("%s%s → %d %s, want 404", host, p, r.code, short(r.body))
		}
	}
	_, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/configuration/routes", env.portico.statusPort))
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Hosts map[string]json.RawMessage `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(body), &table); err != nil {
		t.Fatal(err)
	}
	if _, ok := table.Hosts[host]; !ok {
		t.Errorf("the router does not hold %s: %s", host, short(body))
	}
	if _, ok := table.Hosts[""]; !ok {
		t.Errorf("the router does not hold the host-less routes: %s", short(body))
	}
	conf1 := runPortico(t, "conf", "--host", host, "--config-dir", env.portico.configDir, luaFlag())
	conf2 := runPortico(t, "conf", "--host", "other.example.com", "--config-dir", env.portico.configDir, luaFlag())
	if !strings.Contains(conf1, "# The Lua router's routes for "+host) || !strings.Contains(conf1, "#   location \"/lobby/\" → backend "+ns+"/plain-lobby:80") ||
		!strings.Contains(conf2, "# The Lua router does not know other.example.com: the rules without a host serve it:") {
		t.Errorf("conf --host for a routed host and another:\n%s\n%s", conf1, conf2)
	}
	eventually(t, "the plain host's request counted under its Ingress", func() error {
		samples, _, err := scrapeSamples(env.portico)
		want := map[string]string{"host": host, "ingress": "plain", "namespace": ns, "path": "/lobby", "service": plain.name, "status": "200"}
		if err == nil && sum(samples, "nginx_ingress_controller_requests", want) < 1 {
			err = fmt.Errorf("no nginx_ingress_controller_requests%v", want)
		}
		return err
	})

	// TLS: ssl-redirect and HSTS as for any plain host.
	const secure = "secure.example.com"
	c := newCert(t, time.Now().AddDate(1, 0, 0), secure)
	putTLSSecret(t, ns, "secure-tls", c)
	ing := newIngress(ns, "secure", nil, hostRule(secure, prefixPath("/lobby", "plain-lobby")))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{secure}, SecretName: "secure-tls"}}
	createIngress(t, ing)
	client := httpsClient(c)
	var resp *http.Response
	var e *echo.Response
	eventually(t, "https://"+secure+"/lobby served by "+plain.name, func() error {
		var err error
		resp, e, err = httpsGet(client, secure, "/lobby")
		if err == nil && (e.Service != plain.name || e.Path != "/lobby") {
			err = fmt.Errorf("served by %s at %s", e.Service, e.Path)
		}
		return err
	})
	if got := resp.Header.Get("Strict-Transport-Security"); got == "" {
		t.Error("HTTPS answer of a routed host has no Strict-Transport-Security")
	}
	resp2, err := noProxyClient.Do(mustRequest(t, secure, "/lobby/x?a=1"))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	// As ingress-nginx writes it: no port (use-port-in-redirects adds it).
	if loc, want := resp2.Header.Get("Location"), fmt.Sprintf("https://%s/lobby/x?a=1", secure); resp2.StatusCode != 308 || loc != want {
		t.Errorf("http → %d Location %q, want 308 to %q", resp2.StatusCode, loc, want)
	}

	ings := env.client.NetworkingV1().Ingresses(ns)
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing, err := ings.Get(context.Background(), "plain", metav1.GetOptions{})
		if err != nil {
			return err
		}
		ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, prefixPath("/room", "plain-lobby"))
		_, err = ings.Update(context.Background(), ing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := servedBy(t, host, "/room/2", plain); r.echo.Path != "/room/2" {
		t.Errorf("updated plain host: backend saw %q, want /room/2", r.echo.Path)
	}
	for _, name := range []string{"plain", "secure"} {
		if err := ings.Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Without rules of its own the host gets the host-less ones again.
	if r := servedBy(t, host, "/lobby/x", lobby); r.echo.Path != "/" {
		t.Errorf("deleted plain host: backend saw %q, want / (host-less rewrite)", r.echo.Path)
	}
	answers(t, host, "/nope", 404)
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("plain Ingress create/update/delete next to a host-less rewrite reloaded nginx %d times; want 0", after-before)
	}
}

// runPortico runs the portico binary and returns its output.
func runPortico(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, env.binary, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("portico %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// luaFlag is the flag that points portico's tools at nginx's status port.
func luaFlag() string { return fmt.Sprintf("--lua-url=http://127.0.0.1:%d", env.portico.statusPort) }

// routedInLua fails the test when nginx.conf names one of hosts: a host
// the Lua router serves has no server block.
func routedInLua(t *testing.T, hosts ...string) {
	t.Helper()
	conf := runningConf(t)
	for _, h := range hosts {
		if strings.Contains(conf, `"`+h+`"`) {
			t.Errorf("nginx.conf has a server block for %s, which the Lua router should serve", h)
		}
	}
}

// runningConf returns the nginx.conf Portico wrote last.
func runningConf(t *testing.T) string {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join(env.portico.configDir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	return string(conf)
}

// quietReloads waits until no reload happened for 2 s and returns the
// reload count: earlier tests' cleanup may still reload.
func quietReloads(t *testing.T) int {
	t.Helper()
	last, since := -1, time.Now()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		s, err := env.portico.status()
		if err != nil {
			t.Fatal(err)
		}
		if s.Nginx.Reloads != last {
			last, since = s.Nginx.Reloads, time.Now()
		} else if time.Since(since) >= 2*time.Second {
			return last
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("nginx kept reloading for a minute")
	return 0
}

// Deleting the last Ingress with a router location of its own (here
// proxy-buffer-size) keeps the location, unused, so nginx does not
// reload; an Ingress with the same settings later needs no reload
// either. A change that reloads anyway drops the unused location.
func TestRouterLocationsOutliveTheirRoutes(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "keeplocs")
	a := newApp(t, ns, "a", 1, "")
	ings := env.client.NetworkingV1().Ingresses(ns)
	// A buffer size no other test uses: the location is this test's.
	const directive = "proxy_buffer_size 24k;"
	settings := map[string]string{ann + "proxy-buffer-size": "24k"}
	createIngress(t, newIngress(ns, "buf", settings, hostRule("keep1.example.com", prefixPath("/", "a"))))
	servedBy(t, "keep1.example.com", "/", a)
	if !strings.Contains(runningConf(t), directive) {
		t.Fatalf("nginx.conf has no router location with %s", directive)
	}
	before := quietReloads(t)
	if err := ings.Delete(context.Background(), "buf", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, "keep1.example.com", "/", 404)
	if !strings.Contains(runningConf(t), directive) {
		t.Error("deleting the last route of a router location dropped it from nginx.conf")
	}
	createIngress(t, newIngress(ns, "buf2", settings, hostRule("keep2.example.com", prefixPath("/", "a"))))
	servedBy(t, "keep2.example.com", "/", a)
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("deleting and re-creating a route with a router location of its own reloaded nginx %d times; want 0", after-before)
	}
	if err := ings.Delete(context.Background(), "buf2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, "keep2.example.com", "/", 404)
	createIngress(t, newIngress(ns, "static", needsServerBlock(), hostRule("keep-static.example.com", prefixPath("/", "a"))))
	servedBy(t, "keep-static.example.com", "/", a)
	if after := mustStatus(t).Nginx.Reloads; after == before {
		t.Fatal("a snippet Ingress did not reload nginx")
	}
	if strings.Contains(runningConf(t), directive) {
		t.Error("a reload kept a router location no route needs")
	}
}

// The router's access log lines name the backend of a routed request and
// leave it empty for a request no route takes.
func TestRouterAccessLog(t *testing.T) {
	ns := namespace(t, "accesslog")
	a := newApp(t, ns, "a", 1, "")
	const host = "accesslog.example.com"
	createIngress(t, newIngress(ns, "log", nil, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)
	routedInLua(t, host)
	mark := fmt.Sprintf("/portico-log-%d", time.Now().UnixNano())
	servedBy(t, host, mark+"-routed", a)
	answers(t, "nothing.accesslog.invalid", mark+"-unrouted", 404)

	lineOf := accessLogLine
	var log string
	// The access log is written in batches, at least once a second.
	eventually(t, "both requests in the access log", func() error {
		b, err := os.ReadFile(env.portico.logPath)
		if err != nil {
			return err
		}
		log = string(b)
		if lineOf(log, mark+"-routed") == "" || lineOf(log, mark+"-unrouted") == "" {
			return fmt.Errorf("not there yet")
		}
		return nil
	})
	if l := lineOf(log, mark+"-routed"); !strings.Contains(l, " 200 ") || !strings.Contains(l, "["+ns+"/a:80]") {
		t.Errorf("routed request's line: want 200 and [%s/a:80]: %s", ns, l)
	}
	if l := lineOf(log, mark+"-unrouted"); !strings.Contains(l, " 404 ") || !strings.Contains(l, " [] ") {
		t.Errorf("unrouted request's line: want 404 and no backend: %s", l)
	}
}

// accessLogLine is the access log line in log of a GET of path from the
// loopback, "" when there is none.
func accessLogLine(log, path string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "127.0.0.1 - ") && strings.Contains(l, `"GET `+path+` HTTP/1.1"`) {
			return l
		}
	}
	return ""
}

// waitAccessLogLine waits (the log is written at least once a second) for
// the access log line of a GET of path.
func waitAccessLogLine(t *testing.T, path string) string {
	t.Helper()
	var line string
	eventually(t, "the access log line of "+path, func() error {
		b, err := os.ReadFile(env.portico.logPath)
		if err != nil {
			return err
		}
		if line = accessLogLine(string(b), path); line == "" {
			return fmt.Errorf("not there yet")
		}
		return nil
	})
	return line
}

// enable-access-log: "false" leaves an Ingress's requests out of the
// access log, routed in Lua or in a server block; other hosts' stay in.
func TestAccessLogOffPerIngress(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "nolog")
	a := newApp(t, ns, "a", 1, "")
	off := map[string]string{ann + "enable-access-log": "false"}
	offStatic := map[string]string{ann + "enable-access-log": "false", ann + "configuration-snippet": "add_header X-Static yes;"}
	createIngress(t, newIngress(ns, "quiet", off, hostRule("nolog-quiet.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "quiet-static", offStatic, hostRule("nolog-static.example.com", prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "loud", nil, hostRule("nolog-loud.example.com", prefixPath("/", "a"))))
	for _, h := range []string{"nolog-quiet.example.com", "nolog-static.example.com", "nolog-loud.example.com"} {
		servedBy(t, h, "/", a)
	}
	routedInLua(t, "nolog-quiet.example.com")
	mark := fmt.Sprintf("/portico-nolog-%d", time.Now().UnixNano())
	for _, h := range []string{"nolog-quiet.example.com", "nolog-static.example.com", "nolog-loud.example.com"} {
		servedBy(t, h, mark+"-"+strings.Split(h, ".")[0], a)
	}
	// The access log is written in batches, at least once a second: the
	// logged request's line shows that the others' would be there too.
	waitAccessLogLine(t, mark+"-nolog-loud")
	time.Sleep(1500 * time.Millisecond) // one more flush
	b, err := os.ReadFile(env.portico.logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, quiet := range []string{"-nolog-quiet", "-nolog-static"} {
		if l := accessLogLine(string(b), mark+quiet); l != "" {
			t.Errorf("a request of an Ingress with enable-access-log false was logged: %s", l)
		}
	}
}
