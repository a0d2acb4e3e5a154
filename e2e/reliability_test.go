package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"golang.org/x/net/websocket"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/e2e/framework"
	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// faultRow is one line of the reliability table (make reliability).
type faultRow struct {
	fault        string
	sent, failed int
	// recovery is how long after the fault Portico served normally again
	// (or applied a change); 0 when service never stopped.
	recovery time.Duration
	note     string
}

var faultRows struct {
	mu   sync.Mutex
	rows []faultRow
}

func recordFault(t *testing.T, r faultRow) {
	t.Helper()
	t.Logf("%s: %d sent, %d failed, recovery %s; %s", r.fault, r.sent, r.failed, r.recovery.Round(time.Millisecond), r.note)
	faultRows.mu.Lock()
	defer faultRows.mu.Unlock()
	faultRows.rows = append(faultRows.rows, r)
}

// writeFaultTable writes the recorded rows as an aligned table to the file
// named by $PORTICO_FAULT_TABLE, if set and any row was recorded.
func writeFaultTable() error {
	faultRows.mu.Lock()
	defer faultRows.mu.Unlock()
	lines := make([]string, 0, len(faultRows.rows))
	for _, r := range faultRows.rows {
		rec := "-"
		if r.recovery > 0 {
			rec = r.recovery.Round(10 * time.Millisecond).String()
		}
		lines = append(lines, fmt.Sprintf("%s\t%d\t%d\t%s\t%s", r.fault, r.sent, r.failed, rec, r.note))
	}
	return writeTable("PORTICO_FAULT_TABLE", "fault\trequests sent\tfailed\trecovery\tnotes", lines)
}

// writeTable writes header and lines (cells separated by tabs) as an
// aligned table to the file named by $envVar, if set and lines has any.
func writeTable(envVar, header string, lines []string) error {
	path := os.Getenv(envVar)
	if path == "" || len(lines) == 0 {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := tabwriter.NewWriter(f, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, header)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	return w.Flush()
}

// waitServed waits up to limit until host+path is answered by want and
// returns how long that took.
func waitServed(t *testing.T, host, path string, want *app, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < limit {
		r, err := tryGet(host, path)
		switch {
		case err != nil:
			last = err.Error()
		case r.code == 200 && r.echo != nil && r.echo.Service == want.name:
			return time.Since(start)
		default:
			last = fmt.Sprintf("%d %s", r.code, short(r.body))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s%s not served by %s within %s; last: %s", host, path, want.name, limit, last)
	return 0
}

// nginxProcs returns the nginx master under the controller, and its
// workers that still accept connections.
func nginxProcs(p *portico) (master int, workers []int) {
	children := func(parent int) map[int]string {
		out := map[int]string{}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			i := strings.LastIndexByte(string(stat), ')')
			f := strings.Fields(string(stat[i+1:]))
			if len(f) < 2 || f[1] != strconv.Itoa(parent) {
				continue
			}
			title, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			out[pid] = string(title)
		}
		return out
	}
	for pid, title := range children(p.cmd.Process.Pid) {
		if strings.HasPrefix(title, "nginx: master process") {
			master = pid
		}
	}
	if master == 0 {
		return 0, nil
	}
	for pid, title := range children(master) {
		if strings.HasPrefix(title, "nginx: worker process") && !strings.Contains(title, "shutting down") {
			workers = append(workers, pid)
		}
	}
	return master, workers
}

// isolatedStack gives the test its own control plane and controller, in
// place of the shared ones until it ends, so a fault it injects into them
// cannot leak into other tests. before runs once the control plane is up
// and before the controller starts: what it creates is the controller's
// first sync.
func isolatedStack(t *testing.T, before ...func()) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // nginx workers run as nobody
		t.Fatal(err)
	}
	cp, err := framework.StartControlPlane(context.Background(), framework.ControlPlaneOptions{WorkDir: filepath.Join(dir, "cluster")})
	if err != nil {
		t.Fatal(err)
	}
	saved := env
	t.Cleanup(func() {
		env.portico.stop()
		_ = env.cp.Stop()
		env = saved
	})
	env.cp, env.client = cp, cp.Client()
	if err := createIngressClass(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range before {
		f()
	}
	p, err := startPortico(env.binary, cp.Kubeconfig(), dir)
	if err != nil {
		t.Fatal(err)
	}
	env.portico = p
}

// The API server and etcd stop for 30 s: nginx keeps serving the last
// config; once the API is back, the controller reconnects, lists again and
// applies changes to every kind it watches.
func TestFaultAPIServerDown(t *testing.T) {
	isolatedStack(t)
	ns := namespace(t, "apidown")
	a := newApp(t, ns, "a", 2, "")
	createIngress(t, newIngress(ns, "steady", nil, hostRule("apidown.example.com", prefixPath("/", "a"))))
	servedBy(t, "apidown.example.com", "/", a)

	const outage = 30 * time.Second
	l := startPacedLoad("apidown.example.com", "/", 100000, 3*time.Minute, 5*time.Millisecond)
	// kube-apiserver may not finish its graceful stop in time and be
	// killed instead: for this test, a harsher fault.
	if err := env.cp.StopAPIServer(); err != nil {
		t.Logf("%v", err)
	}
	time.Sleep(outage / 2)
	if code, body, err := env.portico.healthz(); err != nil || code != 200 {
		t.Errorf("/healthz without an API server: %d %q %v; nginx still serves", code, body, err)
	}
	time.Sleep(outage / 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := env.cp.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	// New Service, EndpointSlice, Secret and Ingress: every informer must
	// have come back for this host to be served with its certificate.
	back := time.Now()
	b := newApp(t, ns, "b", 1, "")
	c := newCert(t, time.Now().AddDate(0, 1, 0), "apidown-after.example.com")
	putTLSSecret(t, ns, "after-tls", c)
	ing := newIngress(ns, "after", nil, hostRule("apidown-after.example.com", prefixPath("/", "b")))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"apidown-after.example.com"}, SecretName: "after-tls"}}
	createIngress(t, ing)
	for {
		_, e, err := httpsGet(httpsClient(c), "apidown-after.example.com", "/")
		if err == nil && e.Service == b.name {
			break
		}
		// Informers' reads wait for the API server (watch.WaitingReads,
		// at most 2 s apart) rather than back off as client-go's
		// reflectors do, up to 60 s a try (recovery took 45 s and 88 s
		// then). 30 s leaves room for a slow machine, not for a backoff.
		if time.Since(back) > 30*time.Second {
			t.Fatalf("changes made after the outage not served within 30 s: %v\n%s", err, env.portico.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	recovery := time.Since(back)
	sent, _, failures := l.finish()
	recordFault(t, faultRow{fault: "API server + etcd down 30 s", sent: sent, failed: len(failures), recovery: recovery,
		note: "recovery: API back → new Service, slice, Secret, Ingress served (informers' reads wait for the API server)"})
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed while the API server was down, first: %s", len(failures), sent, failures[0])
	}
	// The outage is logged, and its end: once for all the informers'
	// reads (each of 6 informers logging would be 6 or more; the API
	// server may stop or start in two steps: 2).
	log, err := os.ReadFile(env.portico.logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"API server unreachable", "API server reachable again"} {
		if n := strings.Count(string(log), want); n < 1 || n > 2 {
			t.Errorf("controller log has %d lines %q, want 1 or 2:\n%s", n, want, env.portico.logTail())
		}
	}
	for line := range strings.Lines(string(log)) {
		if strings.Contains(line, "API server") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// The nginx master is SIGKILLed: the controller starts a new one with the
// last good config and pushes the Lua state again.
func TestFaultNginxMasterKilled(t *testing.T) {
	ns := namespace(t, "kill")
	a := newApp(t, ns, "a", 2, "")
	createIngress(t, newIngress(ns, "kill", nil, hostRule("kill.example.com", prefixPath("/", "a"))))
	servedBy(t, "kill.example.com", "/", a)
	before := mustStatus(t)
	master, _ := nginxProcs(env.portico)
	if master == 0 {
		t.Fatal("no nginx master under the controller")
	}

	l := startPacedLoad("kill.example.com", "/", 20000, time.Minute, 2*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(master, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var recovery time.Duration
	for {
		if m, _ := nginxProcs(env.portico); m != 0 && m != master {
			if r, err := tryGet("kill.example.com", "/"); err == nil && r.code == 200 && r.echo != nil {
				recovery = time.Since(killed)
				break
			}
		}
		if time.Since(killed) > 30*time.Second {
			t.Fatalf("no new nginx master serving 30 s after the kill:\n%s", env.portico.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	sent, _, failures := l.finish()
	recordFault(t, faultRow{fault: "nginx master SIGKILL", sent: sent, failed: len(failures), recovery: recovery,
		note: "new master with the last good config; Lua state pushed again"})
	if recovery > 10*time.Second {
		t.Errorf("nginx back after %s, want seconds", recovery)
	}
	after := mustStatus(t)
	if after.Nginx.Restarts != before.Nginx.Restarts+1 {
		t.Errorf("restarts %d → %d, want one more", before.Nginx.Restarts, after.Nginx.Restarts)
	}
	if after.Nginx.Reloads != before.Nginx.Reloads {
		t.Errorf("reloads %d → %d: a restart reuses the last good config", before.Nginx.Reloads, after.Nginx.Reloads)
	}
	if b, err := env.portico.luaBackend(ns + "/a:80"); err != nil || len(b.Endpoints) != 2 {
		t.Errorf("the new nginx does not hold backend %s/a:80 with 2 endpoints: %+v, %v", ns, b, err)
	}
}

// A worker crashes mid-traffic: the master starts another; at most the
// request in flight on the crashed worker fails (the load is sequential).
func TestFaultWorkerKilled(t *testing.T) {
	ns := namespace(t, "worker")
	a := newApp(t, ns, "a", 2, "")
	createIngress(t, newIngress(ns, "worker", nil, hostRule("worker.example.com", prefixPath("/", "a"))))
	servedBy(t, "worker.example.com", "/", a)
	_, workers := nginxProcs(env.portico)
	if len(workers) == 0 {
		t.Fatal("no nginx worker")
	}

	l := startPacedLoad("worker.example.com", "/", 20000, time.Minute, 2*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	if err := syscall.Kill(workers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var recovery time.Duration
	for {
		_, now := nginxProcs(env.portico)
		if len(now) == len(workers) && !containsInt(now, workers[0]) {
			recovery = time.Since(killed)
			break
		}
		if time.Since(killed) > 10*time.Second {
			t.Fatalf("workers %v → %v: no replacement for the killed worker", workers, now)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	sent, _, failures := l.finish()
	recordFault(t, faultRow{fault: "nginx worker SIGKILL", sent: sent, failed: len(failures), recovery: recovery,
		note: "recovery: a new worker replaces it; only a request in flight on the killed worker can fail"})
	if len(failures) > 1 {
		t.Errorf("%d of %d requests failed, want at most the one in flight: %v", len(failures), sent, failures)
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// One structural change (a reload) and one endpoint change every second
// under load: no request fails, and a WebSocket and a slow download that
// span every reload complete intact.
func TestFaultChurnAndReloadsUnderLoad(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "churn")
	a := newApp(t, ns, "a", 3, "")
	const host = "churn.example.com"
	createIngress(t, newIngress(ns, "churn", nil, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)
	before := mustStatus(t).Nginx.Reloads

	ws := dialWebSocket(t, host)
	defer ws.Close()
	const chunks = 150 // 15 s
	download := make(chan error, 1)
	go func() { download <- slowDownload(host, chunks) }()

	const rounds = 12
	l := startPacedLoad(host, "/", 100000, 2*time.Minute, 2*time.Millisecond)
	var wsErr error
	for i := range rounds {
		// Hosts with a server block: each is a reload.
		createIngress(t, newIngress(ns, fmt.Sprintf("extra-%d", i), needsServerBlock(),
			hostRule(fmt.Sprintf("extra-%d.churn.example.com", i), prefixPath("/", "a"))))
		// One pod of three out of rotation, a different one each round.
		for j, p := range a.pods {
			p.ready = j != i%len(a.pods)
		}
		a.syncSlice(t, "")
		if wsErr == nil {
			wsErr = wsRoundTrip(ws, fmt.Sprintf("message %d", i))
		}
		time.Sleep(time.Second)
	}
	for _, p := range a.pods {
		p.ready = true
	}
	a.syncSlice(t, "")
	sent, _, failures := l.finish()
	if wsErr == nil {
		wsErr = wsRoundTrip(ws, "last")
	}
	dlErr := <-download
	reloads := mustStatus(t).Nginx.Reloads - before
	recordFault(t, faultRow{fault: "1 reload/s + endpoint churn, 12 s", sent: sent, failed: len(failures),
		note: fmt.Sprintf("%d reloads; WebSocket and a 15 s download across all of them", reloads)})
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during churn, first: %s", len(failures), sent, failures[0])
	}
	if wsErr != nil {
		t.Errorf("WebSocket across reloads: %v", wsErr)
	}
	if dlErr != nil {
		t.Errorf("slow download across reloads: %v", dlErr)
	}
	if reloads < rounds {
		t.Errorf("%d reloads, want at least %d (one per structural change)", reloads, rounds)
	}
}

// dialWebSocket opens a WebSocket to the echo backend's /__ws through nginx.
func dialWebSocket(t *testing.T, host string) *websocket.Conn {
	t.Helper()
	cfg, err := websocket.NewConfig("ws://"+host+"/__ws", "http://"+host+"/")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", env.portico.httpPort), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := websocket.NewClient(cfg, conn)
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	return ws
}

func wsRoundTrip(ws *websocket.Conn, msg string) error {
	if err := ws.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if err := websocket.Message.Send(ws, msg); err != nil {
		return fmt.Errorf("send %q: %w", msg, err)
	}
	var got string
	if err := websocket.Message.Receive(ws, &got); err != nil {
		return fmt.Errorf("receive %q: %w", msg, err)
	}
	if got != msg {
		return fmt.Errorf("echo of %q is %q", msg, got)
	}
	return nil
}

// slowDownload fetches /__slow/<chunks> through nginx and checks the body.
func slowDownload(host string, chunks int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(chunks)*time.Second/5+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://127.0.0.1:%d/__slow/%d", env.portico.httpPort, chunks), nil)
	if err != nil {
		return err
	}
	req.Host = host
	// Not noProxyClient: its timeout would cut the body; ctx bounds it.
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", len(body), err)
	}
	if resp.StatusCode != 200 || string(body) != echo.SlowBody(chunks) {
		return fmt.Errorf("%d, %d bytes, want 200 and %d bytes", resp.StatusCode, len(body), len(echo.SlowBody(chunks)))
	}
	return nil
}

// The config dir fills up (a full disk): the new config cannot be written,
// nginx keeps the old one and serves on, the Ingress whose change is not
// live gets a Warning Event, /metrics counts the failed load, and freeing
// space applies the change without a restart.
func TestFaultDiskFull(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "disk")
	a := newApp(t, ns, "a", 2, "")
	createIngress(t, newIngress(ns, "one", nil, hostRule("disk-one.example.com", prefixPath("/", "a"))))

	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	confDir := filepath.Join(dir, "nginx")
	if err := os.Mkdir(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "portico-e2e-disk", confDir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", confDir).Run() })
	p, err := startPortico(env.binary, env.cp.Kubeconfig(), dir, "--watch-namespace="+ns, "--update-status=false")
	if err != nil {
		t.Fatal(err)
	}
	saved := env.portico
	env.portico = p
	t.Cleanup(func() { env.portico = saved; p.stop() })
	servedBy(t, "disk-one.example.com", "/", a)

	l := startPacedLoad("disk-one.example.com", "/", 20000, 2*time.Minute, 2*time.Millisecond)
	filler := filepath.Join(confDir, "filler")
	if err := fill(filler); err != nil {
		t.Fatal(err)
	}
	// A host with a server block, so a config write (a plain host would be
	// a push to the Lua router).
	createIngress(t, newIngress(ns, "two", needsServerBlock(), hostRule("disk-two.example.com", prefixPath("/", "a"))))
	eventually(t, "ConfigNotApplied Event on the new Ingress", func() error {
		evs, err := warningEvents(ns, "two")
		if err != nil {
			return err
		}
		if !strings.Contains(strings.Join(evs, "\n"), "ConfigNotApplied") || !strings.Contains(strings.Join(evs, "\n"), "no space left on device") {
			return fmt.Errorf("events: %v", evs)
		}
		return nil
	})
	if r := get(t, "disk-two.example.com", "/"); r.code != 404 {
		t.Errorf("disk-two answered %d while its config could not be written, want 404 from the old config", r.code)
	}
	// The controller counts a finding once it has sent its Event, so the
	// count may come a moment after the Event; at least one, as a retry
	// that fails with another message reports again.
	counted := regexp.MustCompile(`(?m)^portico_findings_total\{kind="Ingress",reason="ConfigNotApplied",severity="Error"\} [1-9][0-9]*$`)
	eventually(t, "/metrics counts the finding and the failed load", func() error {
		_, metrics, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.healthzPort))
		if err != nil {
			return err
		}
		if !counted.MatchString(metrics) {
			var lines []string
			for _, l := range strings.Split(metrics, "\n") {
				if strings.HasPrefix(l, "portico_findings_total") {
					lines = append(lines, l)
				}
			}
			return fmt.Errorf("no ConfigNotApplied finding counted: %q", lines)
		}
		if !strings.Contains(metrics, "portico_nginx_reload_failures_total ") || strings.Contains(metrics, "portico_nginx_reload_failures_total 0") {
			return errors.New("portico_nginx_reload_failures_total is missing or 0")
		}
		return nil
	})

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	waitServed(t, "disk-two.example.com", "/", a, time.Minute)
	recovery := time.Since(freed)
	sent, _, failures := l.finish()
	recordFault(t, faultRow{fault: "config dir full (ENOSPC)", sent: sent, failed: len(failures), recovery: recovery,
		note: "old config serves; Event + log + metric; recovery: space freed → change live (retry backoff)"})
	if len(failures) > 0 {
		t.Errorf("%d of %d requests to the unchanged Ingress failed, first: %s", len(failures), sent, failures[0])
	}
}

// fill writes zeros to path until the file system is full.
func fill(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for range 1 << 16 { // bounded: 4 GiB at most
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
	return fmt.Errorf("%s: the file system never filled", path)
}

// Several Ingress changes in one sync (the controller's first, here), two
// of them snippets nginx -t refuses: exactly those two are held back
// (Warning Events naming nginx's error), and every valid one is served
// with its snippet.
func TestFaultNginxRefusesTwoOfManyIngresses(t *testing.T) {
	var ns string
	var a *app
	good := []string{"good-1", "good-2", "good-3", "good-4", "good-5"}
	isolatedStack(t, func() {
		allowSnippets(t)
		ns = namespace(t, "refusemany")
		a = newApp(t, ns, "a", 1, "")
		for _, name := range append([]string{"bad-1", "bad-2"}, good...) {
			snippet := fmt.Sprintf("more_set_headers \"X-Snippet: %s\";", name)
			if strings.HasPrefix(name, "bad") {
				snippet = "no_such_directive on;"
			}
			createIngress(t, newIngress(ns, name, map[string]string{ann + "configuration-snippet": snippet},
				hostRule(name+".refusemany.example.com", prefixPath("/", "a"))))
		}
	})
	for _, name := range good {
		expect(t, name+" served with its snippet", "GET", name+".refusemany.example.com", "/", nil, "", func(r reply) error {
			if err := fromApp(a, 200)(r); err != nil {
				return err
			}
			if v := r.header.Get("X-Snippet"); v != name {
				return fmt.Errorf("X-Snippet %q", v)
			}
			return nil
		})
	}
	for _, name := range []string{"bad-1", "bad-2"} {
		eventWith(t, ns, name, "ConfigNotApplied", "no_such_directive")
		if r := get(t, name+".refusemany.example.com", "/"); r.echo != nil {
			t.Errorf("%s, which nginx refuses, is served", name)
		}
	}
	for _, name := range good {
		if evs, err := warningEvents(ns, name); err != nil || len(evs) > 0 {
			t.Errorf("%s: Warning Events %v %v, want none", name, evs, err)
		}
	}
}

// An Ingress change that nginx refuses (a snippet with an unknown
// directive; only snippets can get past Portico's grammars): the previous
// version of that Ingress keeps serving, the change is named in a Warning
// Event, changes to other Ingresses are applied meanwhile, and fixing the
// snippet applies it without a restart.
func TestFaultNginxRefusesOneIngress(t *testing.T) {
	ns := namespace(t, "refuse")
	a := newApp(t, ns, "a", 1, "")
	allowSnippets(t)
	createIngress(t, newIngress(ns, "good", nil, hostRule("refuse-good.example.com", prefixPath("/", "a"))))
	snippet := func(v string) map[string]string {
		return map[string]string{ann + "configuration-snippet": v}
	}
	createIngress(t, newIngress(ns, "bad", snippet("add_header X-Version v1 always;"), hostRule("refuse-bad.example.com", prefixPath("/", "a"))))
	version := func() string {
		resp, err := noProxyClient.Do(mustRequest(t, "refuse-bad.example.com", "/"))
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		return fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("X-Version"))
	}
	eventually(t, "snippet v1 served", func() error {
		if v := version(); v != "200 v1" {
			return fmt.Errorf("got %s", v)
		}
		return nil
	})

	l := startPacedLoad("refuse-good.example.com", "/", 20000, 2*time.Minute, 2*time.Millisecond)
	updateAnnotations(t, ns, "bad", map[string]string{ann + "configuration-snippet": "no_such_directive on;"})
	createIngress(t, newIngress(ns, "later", nil, hostRule("refuse-later.example.com", prefixPath("/", "a"))))
	servedBy(t, "refuse-later.example.com", "/", a)
	eventWith(t, ns, "bad", "ConfigNotApplied", "no_such_directive")
	if v := version(); v != "200 v1" {
		t.Errorf("the refused Ingress answers %s, want its previous version (200 v1)", v)
	}

	updateAnnotations(t, ns, "bad", map[string]string{ann + "configuration-snippet": "add_header X-Version v2 always;"})
	fixed := time.Now()
	for version() != "200 v2" {
		if time.Since(fixed) > 30*time.Second {
			t.Fatalf("fixed snippet not served after 30 s: %s", version())
		}
		time.Sleep(50 * time.Millisecond)
	}
	recovery := time.Since(fixed)
	sent, _, failures := l.finish()
	recordFault(t, faultRow{fault: "nginx -t refuses one Ingress's change", sent: sent, failed: len(failures), recovery: recovery,
		note: "that Ingress keeps its previous version, others' changes applied, Event names it; recovery: fix → live"})
	if len(failures) > 0 {
		t.Errorf("%d of %d requests to another Ingress failed, first: %s", len(failures), sent, failures[0])
	}
}
