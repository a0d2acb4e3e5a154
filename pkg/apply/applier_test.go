package apply_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", f.httpPort, path), nil)
	req.Host = "app.test"
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.applier.Supervise(ctx)
	old := f.applier.Nginx.PID()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if pid := f.applier.Nginx.PID(); pid != 0 && pid != old && f.applier.Loaded() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx not restarted within 20s; stats %+v", f.applier.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := f.get("/x"); code != 200 || body != "a" {
		t.Fatalf("after restart GET /x = %d %q", code, body)
	}
	if s := f.applier.Stats(); s.Restarts != 1 {
		t.Fatalf("restarts = %d, want 1", s.Restarts)
	}
}

// TestLua runs the Lua unit tests in testdata/lua inside a real nginx.
func TestLua(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not installed (make deps installs it)")
	}
	dir := workerDir(t)
	lua, _ := filepath.Abs("../../rootfs/etc/nginx/lua")
	tests, _ := filepath.Abs("testdata/lua")
	// The routing cases every matcher is tested on (match_test.lua).
	cases, _ := filepath.Abs("../model/testdata/match.json")
	// htpasswd files of router_test.lua's basic auth: alice's password is
	// "wonderland", bob's "builder" ({SHA}, which nginx verifies).
	if err := os.MkdirAll(filepath.Join(dir, "auth"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, line := range map[string]string{"ns_users": "alice:{SHA}tiY7sUhYKUwI5L3866kDY+ENcrQ=\n", "ns_others": "bob:{SHA}9SMYoF5RilWWASry7TjeaKwmpGg=\n"} {
		if err := os.WriteFile(filepath.Join(dir, "auth", name), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	conf := fmt.Sprintf(`load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
pid %[1]s/nginx.pid;
error_log stderr notice;
events {}
http {
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    access_log off;
    lua_package_path "%[2]s/?.lua;%[3]s/?.lua;;";
    lua_shared_dict portico_backends 1m;
    lua_shared_dict portico_certificates 1m;
    lua_shared_dict portico_metrics 1m;
    lua_shared_dict portico_routes 1m;
    # The router's rate limits: 1 r/s, burst 1 (see router_test.lua).
    map $portico_limit_scope $portico_limit_key {
        ""      "";
        default $binary_remote_addr$portico_limit_scope;
    }
    limit_req_zone $portico_limit_key zone=portico_rps_1:1m rate=1r/s;
    # The master loads every module: workers may not be able to read them.
    # As nginx.conf's: the Host as the client sent it.
    map $http_host $portico_host {
        default $http_host;
        ""      $host;
    }
    init_by_lua_block {
        portico = require("portico.balancer")
        portico_router = require("portico.router")
        for _, m in ipairs({"runner", "round_robin_test", "ewma_test", "configure_test", "canary_test", "chash_test", "sticky_test", "metrics_test", "router_test", "cidr_test", "match_test"}) do require(m) end
        local f = assert(io.open("%[5]s"))
        portico_match_cases = f:read("*a")
        f:close()
    }
    # Declares the variables of auth-url and X-Request-ID, as the status
    # server of nginx.conf does: the auth subrequest runs the set of its
    # own server, which must not clear what the router set.
    server {
        listen unix:%[1]s/declare.sock;
        set $portico_generated_id "";
        set $portico_auth_url "";
        set $portico_auth_host "";
        set $portico_auth_method "";
        set $portico_signin "";
        set $portico_signin_mode "";
    }
    server {
        listen 127.0.0.1:%[4]d;
        location = /run { content_by_lua_block { require("runner").run() } }
        location = /configuration/backends {
            client_body_buffer_size 1m;
            content_by_lua_block { portico.configure() }
        }
        location = /configuration/routes {
            client_body_buffer_size 1m;
            content_by_lua_block { require("portico.router").configure() }
        }
        # Routed by the Lua router (subrequests skip the access phase).
        set $portico_backend "";
        set $portico_server "";
        set $portico_ingress "";
        set $portico_path "";
        set $portico_route_vhost "";
        set $portico_route_pass "";
        set $portico_limit_scope "";
        set $portico_basic_realm "";
        set $portico_basic_file "";
        set $portico_err_backend "";
        set $portico_err_namespace "";
        set $portico_err_ingress "";
        set $portico_err_service "";
        set $portico_err_port "";
        # A router location that sends neither the router's Host nor its
        # upstream (before the reload that adds them).
        location /vh-old/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block { ngx.say("proxied") }
        }
        location /vh/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false, nil, true, true) }
            content_by_lua_block { ngx.say(ngx.var.portico_route_vhost, "|", ngx.var.portico_route_pass) }
        }
        # "/" itself (app-root).
        location = / {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block { ngx.say("root ", ngx.var.portico_backend) }
        }
        location /routed/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", true) }
            content_by_lua_block {
                local v = ngx.var
                ngx.say(v.portico_backend, "|", v.portico_server, "|", v.portico_ingress, "|", v.portico_path, "|", ngx.header["Strict-Transport-Security"] or "", "|", ngx.ctx.portico_route.labels)
            }
        }
        location /routed/id/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block { ngx.say(ngx.var.portico_generated_id) }
        }
        # Rewrites of routes.
        location /rw/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block { ngx.say(ngx.var.uri, "?", ngx.var.args, " ", ngx.var.portico_backend, " ", ngx.var.http_x_forwarded_prefix) }
        }
        # The same when the access log names no route label.
        location /routed/lean/ {
            rewrite_by_lua_block { require("portico.router").route(":8443", false) }
            content_by_lua_block {
                local v = ngx.var
                ngx.say(v.portico_backend, "|", v.portico_server, "|", v.portico_ingress, "|", v.portico_path, "|", ngx.ctx.portico_route.labels)
            }
        }
        # Routed by the Host of real requests (router_test.lua's request()
        # and raw()), as the Router's "/".
        location /by-host/ {
            access_by_lua_block { require("portico.router").route(":8443", true) }
            content_by_lua_block {
                local v = ngx.var
                ngx.say("router ", v.uri, "?", v.args, " ", v.portico_backend, "|", v.portico_server, "|", v.portico_ingress, "|", v.portico_path)
            }
        }
        # The location of a body limit and proxy settings.
        location @portico_proxy_00112233aabbccdd {
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_00112233aabbccdd") }
            content_by_lua_block { ngx.say("settled ", ngx.var.uri, " ", ngx.var.portico_backend) }
        }
        # The location of a rate limit.
        location @portico_proxy_11112222aaaabbbb {
            limit_req zone=portico_rps_1 burst=1 nodelay;
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_11112222aaaabbbb") }
            content_by_lua_block { ngx.say("limited ", ngx.var.portico_limit_scope) }
        }
        # The location of custom errors (the content stands for a backend
        # answering with the status the URI names) and the error location.
        location @portico_proxy_33334444ccccdddd {
            error_page 404 502 @portico_route_error;
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_33334444ccccdddd") }
            content_by_lua_block {
                local code = tonumber(ngx.var.uri:match("(%%d+)$"))
                if code then return ngx.exit(code) end
                ngx.say("answered ", ngx.var.portico_backend)
            }
        }
        # The location of basic auth (router_test.lua; the files are in
        # <dir>/auth).
        location @portico_proxy_55556666eeeeffff {
            auth_basic $portico_basic_realm;
            auth_basic_user_file %[1]s/auth/$portico_basic_file;
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_55556666eeeeffff") }
            content_by_lua_block { ngx.say("welcome ", ngx.var.remote_user) }
        }
        location @portico_route_error {
            content_by_lua_block {
                local v = ngx.var
                ngx.say("error ", v.status, " ", v.portico_err_backend, " ", v.portico_err_namespace, "/", v.portico_err_ingress, " ", v.portico_err_service, ":", v.portico_err_port)
            }
        }
        # The location of auth-url, the auth location and the sign-in
        # redirect, as nginx.conf has them (the auth service is
        # /auth-service/ below).
        location @portico_proxy_77778888aaaabbbb {
            auth_request "/;portico-auth";
            auth_request_set $portico_auth_x_user $upstream_http_x_user;
            error_page 401 = @portico_signin;
            access_by_lua_block { require("portico.router").route(":8443", false, 1048576, false, false, "@portico_proxy_77778888aaaabbbb") }
            content_by_lua_block { ngx.say("authed ", ngx.var.portico_auth_x_user, " ", ngx.var.portico_backend, " ", ngx.var.portico_generated_id) }
        }
        location = "/;portico-auth" {
            internal;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Host $portico_auth_host;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Request-ID $portico_generated_id;
            proxy_method $portico_auth_method;
            proxy_pass $portico_auth_url;
        }
        location @portico_signin {
            set_by_lua_block $portico_signin_rd {
                return portico_router.signin_rd(ngx.var.portico_signin_mode)
            }
            return 302 "$portico_signin?rd=$portico_signin_rd";
        }
        # An auth service: /auth-service/<status> answers that status, and
        # tells in X-User what it saw (method, Host, X-Request-ID,
        # X-Original-URI).
        location /auth-service/ {
            content_by_lua_block {
                local v = ngx.var
                ngx.header["X-User"] = table.concat({ v.request_method, v.http_host, v.http_x_request_id or "", v.http_x_original_uri or "" }, ",")
                ngx.exit(tonumber(v.uri:match("(%%d+)$")))
            }
        }
    }
}
`, dir, lua, tests, port, cases)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &apply.Nginx{Binary: nginx, Conf: path, Stderr: os.Stderr}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Stop(5 * time.Second)
	for _, suite := range []string{"round_robin", "ewma", "configure", "canary", "chash", "sticky", "metrics", "router", "cidr", "match"} {
		t.Run(suite, func(t *testing.T) {
			var body string
			deadline := time.Now().Add(10 * time.Second)
			for {
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/run?suite=%s", port, suite))
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					body = string(b)
					break
				}
				if time.Now().After(deadline) {
					t.Fatal(err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
				if strings.HasPrefix(line, "FAIL") {
					t.Error(line)
				}
			}
			if !strings.HasSuffix(strings.TrimSpace(body), " passed, 0 failed") || strings.HasPrefix(body, "0 passed") {
				t.Errorf("lua suite %s:\n%s", suite, body)
			}
		})
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
