package apply_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/render"
	"github.com/portico-ingress/portico/pkg/statusport"
)

// These tests run the real nginx with the Lua balancer from rootfs/ against
// loopback HTTP backends.

type fixture struct {
	t        *testing.T
	applier  *apply.Applier
	opts     plan.Options
	httpPort int
}

// workerDir is a temporary directory that nginx workers can use: run as
// root, nginx starts its workers as nobody, who cannot enter t.TempDir().
func workerDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// freePort returns a port nothing listens on, below Linux's ephemeral
// range (32768-60999): a port the kernel hands out for :0 may be taken
// again as the local port of an outgoing connection (nginx's to its
// backends) before nginx binds it.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(12000)
		if l, err := net.Listen("tcp", fmt.Sprintf(":%d", port)); err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port below 32000")
	return 0
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not installed (make deps installs it)")
	}
	dir := workerDir(t)
	lua, _ := filepath.Abs("../../rootfs/etc/nginx/lua")
	f := &fixture{t: t, httpPort: freePort(t)}
	crt, key, err := apply.WriteDefaultCertificate(dir)
	if err != nil {
		t.Fatal(err)
	}
	f.opts = plan.Options{HTTPPort: f.httpPort, HTTPSPort: freePort(t), StatusPort: freePort(t), RunDir: dir, LuaDir: lua,
		ModulesDir: "/usr/lib/nginx/modules", DefaultCertificate: crt, DefaultCertificateKey: key}
	f.applier = &apply.Applier{
		Nginx:       &apply.Nginx{Binary: nginx, Conf: filepath.Join(dir, "nginx.conf"), Stderr: os.Stderr},
		Status:      statusport.Loopback(f.opts.StatusPort),
		Log:         zaptest.NewLogger(t),
		LoadTimeout: 10 * time.Second,
	}
	t.Cleanup(func() { _ = f.applier.Nginx.Stop(5 * time.Second) })
	return f
}

// config is one host, app.test, with one location per backend name.
func (f *fixture) config(paths map[string]string) ([]byte, string) {
	srv := &model.Server{Host: "app.test"}
	for p, be := range paths {
		srv.Locations = append(srv.Locations, &model.Location{Modifier: model.ModExact, Path: p, Backend: be})
	}
	cfg := &model.Config{Global: model.Build(model.Input{}).Global, Servers: []*model.Server{{Default: true, Locations: []*model.Location{{Path: "/"}}}, srv}}
	cfg.Global.DynamicRouting = false // app.test is a server block
	conf, sum, err := render.Render(f.plan(cfg))
	if err != nil {
		f.t.Fatal(err)
	}
	return conf, sum
}

// plan is cfg's plan.
func (f *fixture) plan(cfg *model.Config) *plan.Plan {
	f.t.Helper()
	p, err := plan.Make(cfg, nil, f.opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) apply(conf []byte, sum string, bs ...plan.Backend) apply.Result {
	f.t.Helper()
	res, err := f.applier.Apply(context.Background(), conf, sum, dynamic(f.t, plan.Lua{Backends: bs}), "test")
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// dynamic is what Apply takes for l.
func dynamic(t *testing.T, l plan.Lua) apply.Dynamic {
	t.Helper()
	docs, err := l.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	return apply.Dynamic{Documents: docs}
}

func (f *fixture) get(path string) (int, string) {
	f.t.Helper()
	code, body, _ := f.do(path, nil)
	return code, body
}

// killMaster kills nginx's master with SIGKILL, with Supervise running
// until t ends, and waits until a new master has loaded the config.
func (f *fixture) killMaster(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go f.applier.Supervise(ctx)
	old := f.applier.Nginx.PID()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if pid := f.applier.Nginx.PID(); pid != 0 && pid != old && f.applier.Loaded() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx not restarted within 20s; stats %+v", f.applier.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// backendServer answers with its name on a loopback address.
func backendServer(t *testing.T, name string) plan.Endpoint {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, name)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return plan.Endpoint{Address: "127.0.0.1", Port: int32(l.Addr().(*net.TCPAddr).Port)}
}

func TestApplyRoutesAndSkipsUnchanged(t *testing.T) {
	f := newFixture(t)
	a := backendServer(t, "a")
	conf, sum := f.config(map[string]string{"/x": "ns/a:80"})
	res := f.apply(conf, sum, plan.Backend{Name: "ns/a:80", LoadBalance: "round_robin", Endpoints: []plan.Endpoint{a}})
	if !res.Reloaded || !res.Pushed {
		t.Fatalf("first apply = %+v, want a start and a push", res)
	}
	if code, body := f.get("/x"); code != 200 || body != "a" {
		t.Fatalf("GET /x = %d %q, want 200 from a", code, body)
	}
	res = f.apply(conf, sum, plan.Backend{Name: "ns/a:80", LoadBalance: "round_robin", Endpoints: []plan.Endpoint{a}})
	if res.Reloaded || res.Pushed {
		t.Fatalf("identical apply = %+v, want nothing done", res)
	}
	if got := f.applier.Stats().Reloads; got != 1 {
		t.Fatalf("reloads = %d, want 1", got)
	}
	held, err := f.applier.Status.Get(context.Background(), plan.BackendsPath)
	var got plan.Backends
	if err == nil {
		err = json.Unmarshal(held, &got)
	}
	if err != nil || len(got.Backends) != 1 || got.Backends[0].Name != "ns/a:80" || got.Backends[0].Endpoints[0] != a {
		t.Fatalf("GET /configuration/backends = %s, %v", held, err)
	}
}

func TestEndpointChangesArePushedWithoutReload(t *testing.T) {
	f := newFixture(t)
	a, b, c := backendServer(t, "a"), backendServer(t, "b"), backendServer(t, "c")
	conf, sum := f.config(map[string]string{"/x": "ns/x:80"})
	if _, err := f.applier.Apply(context.Background(), nil, "", dynamic(t, plan.Lua{}), "test"); err == nil {
		t.Fatal("the running config kept before any was loaded")
	}
	f.apply(conf, sum, plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{a}})
	// No config: the running one stays (what the controller does for an
	// endpoints-only change).
	res := f.apply(nil, "", plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{a, b, c}})
	if res.Reloaded || !res.Pushed {
		t.Fatalf("endpoint change = %+v, want a push and no reload", res)
	}
	seen := map[string]int{}
	for range 30 {
		code, body := f.get("/x")
		if code != 200 {
			t.Fatalf("GET /x = %d %q", code, body)
		}
		seen[body]++
	}
	if len(seen) != 3 {
		t.Fatalf("round robin reached %v, want all of a, b, c", seen)
	}
	if got := f.applier.Stats().Reloads; got != 1 {
		t.Fatalf("reloads = %d, want 1", got)
	}
	// The change went as a patch: nginx still holds the other backend.
	f.apply(conf, sum, plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{a, b, c}},
		plan.Backend{Name: "ns/y:80", Endpoints: []plan.Endpoint{a}})
	f.apply(conf, sum, plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{c}},
		plan.Backend{Name: "ns/y:80", Endpoints: []plan.Endpoint{a}})
	for range 5 {
		if code, body := f.get("/x"); code != 200 || body != "c" {
			t.Fatalf("GET /x = %d %q, want c alone", code, body)
		}
	}
	held, err := f.applier.Status.Get(context.Background(), plan.BackendsPath)
	var got plan.Backends
	if err == nil {
		err = json.Unmarshal(held, &got)
	}
	if err != nil || len(got.Backends) != 2 || got.Backends[1].Name != "ns/y:80" || len(got.Backends[0].Endpoints) != 1 {
		t.Fatalf("GET /configuration/backends = %s, %v", held, err)
	}
	if p := f.applier.Stats().Patches; p != 3 {
		t.Errorf("patches = %d, want 3 (every backends push after the first)", p)
	}
}

func TestNoEndpointsAnswers503WithReason(t *testing.T) {
	f := newFixture(t)
	conf, sum := f.config(map[string]string{"/x": "ns/x:80", "/unknown": "ns/unknown:80"})
	f.apply(conf, sum, plan.Backend{Name: "ns/x:80", NoEndpoints: "service ns/x has no ready endpoints (2 not ready)"})
	code, body := f.get("/x")
	if code != 503 || !strings.Contains(body, "service ns/x has no ready endpoints (2 not ready)") {
		t.Fatalf("GET /x = %d %q, want 503 naming the cause", code, body)
	}
	code, body = f.get("/unknown")
	if code != 503 || !strings.Contains(body, "ns/unknown:80 is not configured") {
		t.Fatalf("GET /unknown = %d %q, want 503 naming the backend", code, body)
	}
}

func TestConnectFailureRetriesNextPeer(t *testing.T) {
	f := newFixture(t)
	a := backendServer(t, "a")
	dead := plan.Endpoint{Address: "127.0.0.1", Port: int32(freePort(t))} // nothing listens
	conf, sum := f.config(map[string]string{"/x": "ns/x:80"})
	f.apply(conf, sum, plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{dead, a}})
	for range 20 {
		if code, body := f.get("/x"); code != 200 || body != "a" {
			t.Fatalf("GET /x = %d %q, want every request retried onto a", code, body)
		}
	}
}

func TestRejectedConfigKeepsServing(t *testing.T) {
	f := newFixture(t)
	a := backendServer(t, "a")
	conf, sum := f.config(map[string]string{"/x": "ns/x:80"})
	be := plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{a}}
	f.apply(conf, sum, be)
	bad := []byte(strings.Replace(string(conf), "worker_processes auto;", "worker_processes auto; no_such_directive;", 1))
	if _, err := f.applier.Apply(context.Background(), bad, "bad", dynamic(t, plan.Lua{Backends: []plan.Backend{be}}), "test"); err == nil || !strings.Contains(err.Error(), "no_such_directive") {
		t.Fatalf("Apply(bad) error = %v, want nginx -t to name the directive", err)
	}
	if code, body := f.get("/x"); code != 200 || body != "a" {
		t.Fatalf("after a rejected config GET /x = %d %q", code, body)
	}
	onDisk, _ := os.ReadFile(f.applier.Nginx.Conf)
	if string(onDisk) != string(conf) {
		t.Fatal("nginx.conf on disk is not the last good config")
	}
	if s := f.applier.Stats(); s.ReloadFailures != 1 || s.Reloads != 1 {
		t.Fatalf("stats = %+v, want 1 reload and 1 failure", s)
	}
}

func TestStructuralChangeReloadsAndServesNewRoute(t *testing.T) {
	f := newFixture(t)
	a, b := backendServer(t, "a"), backendServer(t, "b")
	conf, sum := f.config(map[string]string{"/x": "ns/x:80"})
	f.apply(conf, sum, plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{a}})
	conf2, sum2 := f.config(map[string]string{"/x": "ns/x:80", "/y": "ns/y:80"})
	res := f.apply(conf2, sum2, plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{a}}, plan.Backend{Name: "ns/y:80", Endpoints: []plan.Endpoint{b}})
	if !res.Reloaded {
		t.Fatal("a new location did not reload")
	}
	if code, body := f.get("/y"); code != 200 || body != "b" {
		t.Fatalf("GET /y = %d %q, want 200 from b", code, body)
	}
}

func TestDeadMasterIsRestarted(t *testing.T) {
	f := newFixture(t)
	a := backendServer(t, "a")
	conf, sum := f.config(map[string]string{"/x": "ns/x:80"})
	f.apply(conf, sum, plan.Backend{Name: "ns/x:80", Endpoints: []plan.Endpoint{a}})
	f.killMaster(t)
	if code, body := f.get("/x"); code != 200 || body != "a" {
		t.Fatalf("after restart GET /x = %d %q", code, body)
	}
	if s := f.applier.Stats(); s.Restarts != 1 {
		t.Fatalf("restarts = %d, want 1", s.Restarts)
	}
}

// The catch-all server runs the Lua router: a host's routes change with a
// push, never a reload, and the router serves what it was pushed.
func TestRouteChangesArePushedWithoutReload(t *testing.T) {
	f := newFixture(t)
	a, b := backendServer(t, "a"), backendServer(t, "b")
	p := f.plan(model.Build(model.Input{})) // the catch-all server alone: a Router
	if len(p.Servers) != 1 || p.Servers[0].Router == nil {
		t.Fatalf("servers of an empty model: %+v", p.Servers)
	}
	conf, sum, err := render.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	bs := []plan.Backend{{Name: "ns/a:80", Endpoints: []plan.Endpoint{a}}, {Name: "ns/b:80", Endpoints: []plan.Endpoint{b}}}
	routes := func(hosts map[string]plan.HostRoutes) apply.Dynamic {
		return dynamic(t, plan.Lua{Backends: bs, Routes: plan.Routes{Hosts: hosts}})
	}
	apply1 := func(d apply.Dynamic) apply.Result {
		res, err := f.applier.Apply(context.Background(), conf, sum, d, "test")
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	apply1(routes(map[string]plan.HostRoutes{"app.test": {Routes: []plan.Route{{Exact: true, Path: "/x", Backend: "ns/a:80"}}}}))
	if code, body := f.get("/x"); code != 200 || body != "a" {
		t.Fatalf("GET /x = %d %q, want 200 from a", code, body)
	}
	if code, _ := f.get("/x/y"); code != 404 {
		t.Fatalf("GET /x/y = %d, want 404 (exact route only)", code)
	}
	res := apply1(routes(map[string]plan.HostRoutes{
		"app.test": {Routes: []plan.Route{{Path: "/", Backend: "ns/b:80"}}},
		"":         {Routes: []plan.Route{{Path: "/"}}},
	}))
	if res.Reloaded || !res.Pushed {
		t.Fatalf("route change = %+v, want a push and no reload", res)
	}
	if code, body := f.get("/x/y"); code != 200 || body != "b" {
		t.Fatalf("GET /x/y = %d %q, want 200 from b", code, body)
	}
	if got := f.applier.Stats().Reloads; got != 1 {
		t.Fatalf("reloads = %d, want 1", got)
	}
	held, err := f.applier.Status.Get(context.Background(), plan.RoutesPath)
	var got plan.Routes
	if err == nil {
		err = json.Unmarshal(held, &got)
	}
	want := plan.HostRoutes{Routes: []plan.Route{{Path: "/", Backend: "ns/b:80"}}}
	if err != nil || len(got.Hosts) != 2 || !reflect.DeepEqual(got.Hosts["app.test"], want) {
		t.Fatalf("GET /configuration/routes = %s, %v", held, err)
	}
	// Later changes are patches on what nginx holds: a host goes, one
	// comes, and the one left alone stays as it was.
	apply1(routes(map[string]plan.HostRoutes{
		"":          {Routes: []plan.Route{{Path: "/"}}},
		"next.test": {Routes: []plan.Route{{Path: "/", Backend: "ns/a:80"}}},
	}))
	held, err = f.applier.Status.Get(context.Background(), plan.RoutesPath)
	got = plan.Routes{}
	if err == nil {
		err = json.Unmarshal(held, &got)
	}
	if _, gone := got.Hosts["app.test"]; err != nil || gone || len(got.Hosts) != 2 || got.Hosts["next.test"].Routes[0].Backend != "ns/a:80" {
		t.Fatalf("after the patch GET /configuration/routes = %s, %v", held, err)
	}
	if code, body := f.get("/x/y"); code != 404 {
		t.Fatalf("GET /x/y for the deleted host = %d %q, want 404 from the rules without a host", code, body)
	}
	if got := f.applier.Stats().Patches; got != 2 {
		t.Errorf("patches = %d, want 2 (every routes push after the first; the backends did not change)", got)
	}
}
