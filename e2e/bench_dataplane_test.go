package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// wrkResult is what one wrk run printed.
type wrkResult struct {
	requests     int
	rps          float64
	p50, p99     time.Duration
	max          time.Duration
	non2xx       int
	socketErrors int
	socket       string // wrk's breakdown: connect/read/write/timeout
	// connectOrTimeout are the socket errors a closing keep-alive
	// connection cannot cause.
	connectOrTimeout int
}

func (r wrkResult) errors() int { return r.non2xx + r.socketErrors }

var (
	wrkRPS     = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkReqs    = regexp.MustCompile(`(?m)^\s*(\d+) requests in`)
	wrkPct     = regexp.MustCompile(`(?m)^[ \t]+(50|99)%[ \t]+(\S+)`)
	wrkLatency = regexp.MustCompile(`(?m)^[ \t]+Latency[ \t]+\S+[ \t]+\S+[ \t]+(\S+)`)
	wrkNon2xx  = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	wrkSocket  = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk --latency output.
func parseWrk(out string) (wrkResult, error) {
	r := wrkResult{socket: "0/0/0/0"} // wrk prints no line without errors
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkReqs.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.Atoi(m[1])
	}
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(m[2])
		if err != nil {
			return r, fmt.Errorf("wrk latency %q: %v", m[2], err)
		}
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := wrkLatency.FindStringSubmatch(out); m != nil {
		r.max, _ = time.ParseDuration(m[1])
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(m[1])
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		r.socket = strings.Join(m[1:], "/")
		for i, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.socketErrors += n
			if i == 0 || i == 3 {
				r.connectOrTimeout += n
			}
		}
	}
	return r, nil
}

// runWrk runs wrk (2 threads, 64 connections) against a loopback URL
// with a Host header for d.
func runWrk(tb testing.TB, url, host string, d time.Duration, headers ...string) wrkResult {
	tb.Helper()
	return runWrkWith(tb, 2, 64, url, host, d, headers...)
}

// runWrkWith is runWrk with threads and connections of its own.
func runWrkWith(tb testing.TB, threads, conns int, url, host string, d time.Duration, headers ...string) wrkResult {
	tb.Helper()
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		tb.Fatalf("wrk only targets loopback, not %s", url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	args := []string{fmt.Sprintf("-t%d", threads), fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(d.Seconds())),
		"--timeout", "5s", "--latency", "-H", "Host: " + host}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	out, err := exec.CommandContext(ctx, "wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("wrk: %v\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func needWrk(tb testing.TB) {
	if _, err := exec.LookPath("wrk"); err != nil {
		tb.Skip("wrk is not installed (hack/install-deps.sh installs it)")
	}
}

// handNginx is a minimal hand-written nginx proxying to fixed backends.
type handNginx struct {
	port int
}

// handHeaders are the request headers Portico sends besides Host, for the
// hand-written config that sends them too.
const handHeaders = `            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Scheme $scheme;
            proxy_set_header X-Request-ID $request_id;
`

// floorHeaders are Portico's headers (Upgrade too) without X-Request-ID:
// the design floor leaves out making an id (nginx's $request_id alone
// costs a request ~6,600 instructions here; Portico makes its own in Lua).
var floorHeaders = "            proxy_set_header Upgrade $http_upgrade;\n" +
	strings.Replace(handHeaders, "            proxy_set_header X-Request-ID $request_id;\n", "", 1)

// handFloor makes the hand-written config the floor of Portico's design:
// what every request through any controller built like it pays at
// least. To the minimal config it adds floorHeaders, Portico's access log
// line (buffered the same; its backend field is $proxy_host) and a Lua
// balancer that only sets the peer, round-robin; no router, no metrics,
// no request id, no maps.
type handFloor struct {
	modules   string // Portico's load_module lines
	logFormat string // Portico's log_format line
}

// porticoFloor takes the floor's parts from Portico's running nginx.conf.
func porticoFloor(tb testing.TB) *handFloor {
	tb.Helper()
	conf, err := os.ReadFile(filepath.Join(env.portico.configDir, "nginx.conf"))
	if err != nil {
		tb.Fatal(err)
	}
	modules := regexp.MustCompile(`(?m)^load_module .*;$`).FindAllString(string(conf), -1)
	format := regexp.MustCompile(`(?m)^\s*log_format portico '.*';$`).FindString(string(conf))
	if len(modules) == 0 || format == "" {
		tb.Fatal("Portico's nginx.conf has no load_module or log_format line")
	}
	format = strings.ReplaceAll(format, "$portico_backend", "$proxy_host")
	if strings.Contains(format, "$portico_") {
		tb.Fatalf("the floor has no Portico variables: %s", format)
	}
	return &handFloor{modules: strings.Join(modules, "\n"), logFormat: strings.TrimSpace(format)}
}

// startHandNginx runs the same nginx binary with the same worker count as
// Portico's, proxying every request round-robin to addrs over keep-alive,
// with Host and the extra headers lines, as the design floor if floor is
// not nil.
func startHandNginx(tb testing.TB, addrs []string, headers string, floor *handFloor) *handNginx {
	tb.Helper()
	dir := filepath.Join(env.workDir, fmt.Sprintf("hand-nginx-%d", time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	h := &handNginx{port: freePort()}
	startNginxProcess(tb, dir, handConf(dir, addrs, h.port, headers, floor), "daemon off; master_process on;")
	url := fmt.Sprintf("http://127.0.0.1:%d/", h.port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _, err := plainGet(url); err == nil && code == 200 {
			return h
		}
		if time.Now().After(deadline) {
			tb.Fatalf("hand-written nginx not answering 200 on %s", url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startNginxProcess writes conf to dir/nginx.conf and runs nginx on it
// with the -g directives global, after wrapper (a command and its
// arguments, such as valgrind's) if any, logging to dir/nginx.log. When
// tb ends (or the test process dies) it gets SIGQUIT, and SIGKILL 20 s
// later.
func startNginxProcess(tb testing.TB, dir, conf, global string, wrapper ...string) *exec.Cmd {
	tb.Helper()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "nginx.log"))
	if err != nil {
		tb.Fatal(err)
	}
	args := append(append([]string{}, wrapper...), "/usr/sbin/nginx", "-e", "stderr", "-c", path, "-g", global)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return cmd
}

// handConf is the minimal hand-written config: one upstream with addrs
// (keep-alive), one server on 127.0.0.1:port sending Host, keep-alive
// and the extra headers lines; temporary files and pid under dir. With
// floor, the upstream picks its peer in Lua and requests are logged to
// dir/access.log.
func handConf(dir string, addrs []string, port int, headers string, floor *handFloor) string {
	var servers, modules, logging, balancer strings.Builder
	logging.WriteString("    access_log off;\n")
	for _, a := range addrs {
		fmt.Fprintf(&servers, "        server %s;\n", a)
	}
	if floor != nil {
		modules.WriteString(floor.modules + "\n")
		logging.Reset()
		fmt.Fprintf(&logging, "    %s\n    access_log %s/access.log portico buffer=64k flush=1s;\n", floor.logFormat, dir)
		var peers []string
		for _, a := range addrs {
			host, port, _ := strings.Cut(a, ":")
			peers = append(peers, fmt.Sprintf("{%q, %s}", host, port))
		}
		fmt.Fprintf(&balancer, `    init_by_lua_block {
        floor_balancer = require("ngx.balancer")
        floor_peers, floor_next = { %s }, 0
    }
`, strings.Join(peers, ", "))
		servers.Reset()
		servers.WriteString(`        server 0.0.0.1:1;
        balancer_by_lua_block {
            floor_next = floor_next % #floor_peers + 1
            local p = floor_peers[floor_next]
            floor_balancer.set_current_peer(p[1], p[2])
        }
`)
	}
	return fmt.Sprintf(`%[5]sworker_processes auto;
pid %[1]s/nginx.pid;
error_log stderr warn;
events {
    worker_connections 16384;
    multi_accept on;
}
http {
%[6]s    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[7]s    upstream backends {
%[2]s        keepalive 320;
    }
    server {
        listen 127.0.0.1:%[3]d;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Connection "";
%[4]s            proxy_pass http://backends;
        }
    }
}
`, dir, servers.String(), port, headers, modules.String(), logging.String(), balancer.String())
}

// BenchmarkDataPlane compares requests/s and latency through Portico's
// generated config with a minimal hand-written nginx config proxying to
// the same 3 echo pods, same nginx binary and worker count, with that
// config plus the headers Portico sends, and with the design floor
// (handFloor); alternating runs of
// BENCH_WRK_SECONDS (default 10) each, 2 rounds, against two backend
// paths: /__ok, whose answer is "ok" whatever the request (the proxies'
// cost), and /, whose answer is every request header as JSON (so each
// header a proxy adds costs the echo pod and wrk too, on the same cores).
func BenchmarkDataPlane(b *testing.B) {
	needWrk(b)
	d := time.Duration(envInt(b, "BENCH_WRK_SECONDS", 10)) * time.Second
	host, addrs := dataPlaneApp(b, "dataplane")
	type config struct {
		name string
		base string
		// accessLog is Portico's disable-access-log, set before each run
		// (nil: not Portico's)
		accessLog *bool
		rs        []wrkResult
	}
	on, off := true, false
	portico := fmt.Sprintf("http://127.0.0.1:%d", env.portico.httpPort)
	bases := []string{
		portico,
		fmt.Sprintf("http://127.0.0.1:%d", startHandNginx(b, addrs, "", nil).port),
		fmt.Sprintf("http://127.0.0.1:%d", startHandNginx(b, addrs, handHeaders, nil).port),
		fmt.Sprintf("http://127.0.0.1:%d", startHandNginx(b, addrs, floorHeaders, porticoFloor(b)).port),
		portico,
	}
	names := []string{"portico", "hand-written", "hand-written + Portico's headers", "design floor", "portico, disable-access-log"}
	logs := []*bool{&on, nil, nil, nil, &off}
	b.Cleanup(func() {
		_ = env.client.CoreV1().ConfigMaps(configMapNamespace).Delete(context.Background(), configMapName, metav1.DeleteOptions{})
	})
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "backend path\tconfig\tround\trequests/s\tp50\tp99\terrors\t")
	mean := func(rs []wrkResult) (rps float64) {
		for _, r := range rs {
			rps += r.rps
		}
		return rps / float64(len(rs))
	}
	for _, path := range []string{"/__ok", "/"} {
		configs := make([]config, len(bases))
		for i := range bases {
			configs[i] = config{name: names[i], base: bases[i], accessLog: logs[i]}
		}
		// Warm all (keep-alive pools, Lua code cache).
		for _, c := range configs {
			if c.accessLog != nil {
				setAccessLog(b, *c.accessLog)
			}
			runWrk(b, c.base+path, host, time.Second)
		}
		for range 2 {
			for i, c := range configs {
				if c.accessLog != nil {
					setAccessLog(b, *c.accessLog)
				}
				configs[i].rs = append(configs[i].rs, runWrk(b, c.base+path, host, d))
			}
		}
		for round := range 2 {
			for _, c := range configs {
				r := c.rs[round]
				fmt.Fprintf(w, "%s\t%s\t%d\t%.0f\t%s\t%s\t%d\t\n", path, c.name, round+1, r.rps, r.p50, r.p99, r.errors())
				if r.errors() != 0 {
					b.Errorf("%s %s round %d: %d errors", path, c.name, round+1, r.errors())
				}
			}
		}
		p, h, hh, fl, pn := mean(configs[0].rs), mean(configs[1].rs), mean(configs[2].rs), mean(configs[3].rs), mean(configs[4].rs)
		fmt.Fprintf(w, "%s\tratio portico/hand-written (mean requests/s)\t\t%.3f\t\t\t\t\n", path, p/h)
		fmt.Fprintf(w, "%s\tratio portico/hand-written + Portico's headers\t\t%.3f\t\t\t\t\n", path, p/hh)
		fmt.Fprintf(w, "%s\tratio design floor/hand-written\t\t%.3f\t\t\t\t\n", path, fl/h)
		fmt.Fprintf(w, "%s\tratio portico/design floor\t\t%.3f\t\t\t\t\n", path, p/fl)
		fmt.Fprintf(w, "%s\tratio portico without access log/hand-written\t\t%.3f\t\t\t\t\n", path, pn/h)
		unit := map[string]string{"/__ok": "ok", "/": "echo"}[path]
		b.ReportMetric(p, "portico-req/s-"+unit)
		b.ReportMetric(h, "hand-req/s-"+unit)
		b.ReportMetric(p/h, "ratio-"+unit)
		b.ReportMetric(p/hh, "ratio-same-headers-"+unit)
		b.ReportMetric(fl/h, "ratio-floor-"+unit)
		b.ReportMetric(pn/h, "ratio-no-access-log-"+unit)
	}
	w.Flush()
}

// dataPlaneApp makes the data-plane benchmarks' backend: 3 echo pods in
// namespace ns behind one plain Ingress for host ns.example.com (so the
// Lua router serves it), served by all of them; it returns the host and
// the pods' addresses.
func dataPlaneApp(tb testing.TB, ns string) (string, []string) {
	tb.Helper()
	ns = namespace(tb, ns)
	a := newApp(tb, ns, "dp", 3, "")
	host := ns + ".example.com"
	createIngress(tb, newIngress(ns, "dp", nil, hostRule(host, prefixPath("/", "dp"))))
	waitServedByAny(tb, host, "/", a.podNames(), 20*time.Second)
	var addrs []string
	for _, p := range a.pods {
		addrs = append(addrs, fmt.Sprintf("%s:%d", p.host.Addr(), a.target))
	}
	return host, addrs
}

// setAccessLog sets Portico's access log on or off through the ConfigMap
// (disable-access-log) and waits until nginx runs that config.
func setAccessLog(tb testing.TB, on bool) {
	tb.Helper()
	ctx := context.Background()
	ensureNamespace(tb, configMapNamespace)
	cms := env.client.CoreV1().ConfigMaps(configMapNamespace)
	data := map[string]string{"disable-access-log": strconv.FormatBool(!on)}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, configMapName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configMapName}, Data: data}, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		cm.Data = data
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		conf, _ := os.ReadFile(filepath.Join(env.portico.configDir, "nginx.conf"))
		m := checksumLine.FindSubmatch(conf)
		st, err := env.portico.status()
		if m != nil && err == nil && st.Nginx.Checksum == string(m[1]) &&
			strings.Contains(string(conf), "access_log off; # disable-access-log") != on {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("nginx does not run a config with the access log %v after 30 s", map[bool]string{true: "on", false: "off"}[on])
}

// checksumLine is the line of nginx.conf that carries its checksum.
var checksumLine = regexp.MustCompile(`(?m)^# checksum ([0-9a-f]{64})$`)

// BenchmarkReloadUnderLoad runs wrk against one host for BENCH_RELOAD_SECONDS
// (default 60) while another Ingress is created or deleted every second,
// each a structural change that reloads nginx, twice: with keep-alive
// clients and with one connection per request ("Connection: close").
// No request may get a non-2xx/3xx answer, and no connection may be
// refused or time out. With keep-alive, an old worker closes its idle
// connections when it exits, and a request wrk sends at that instant is
// reset: stock nginx has no setting against it, so read/write errors are
// reported there, not failed on; with Connection: close they must be 0.
func BenchmarkReloadUnderLoad(b *testing.B) {
	needWrk(b)
	d := time.Duration(envInt(b, "BENCH_RELOAD_SECONDS", 60)) * time.Second
	ns := namespace(b, "reloadload")
	allowSnippets(b) // the changing Ingress has a snippet: a reload each
	a := newApp(b, ns, "rl", 3, "")
	host := "reload-load.example.com"
	createIngress(b, newIngress(ns, "rl", nil, hostRule(host, prefixPath("/", "rl"))))
	waitServedByAny(b, host, "/", a.podNames(), 20*time.Second)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "clients\tduration\tchanges\treloads\trequests\trequests/s\tp50\tp99\tmax\tnon-2xx/3xx\tsocket errors connect/read/write/timeout\t")
	for _, mode := range []struct {
		name    string
		headers []string
	}{{"keep-alive", nil}, {"Connection: close", []string{"Connection: close"}}} {
		before, err := env.portico.status()
		if err != nil {
			b.Fatal(err)
		}
		stop, changes := make(chan struct{}), make(chan int, 1)
		go churnIngress(ns, "rl", stop, changes)
		r := runWrk(b, fmt.Sprintf("http://127.0.0.1:%d/", env.portico.httpPort), host, d, mode.headers...)
		close(stop)
		n := <-changes
		after, err := env.portico.status()
		if err != nil {
			b.Fatal(err)
		}
		reloads := after.Nginx.Reloads - before.Nginx.Reloads
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%d\t%s\t\n", mode.name, d, n, reloads, r.requests, r.rps, r.p50, r.p99, r.max, r.non2xx, r.socket)
		if r.non2xx+r.connectOrTimeout != 0 || (mode.headers != nil && r.socketErrors != 0) {
			b.Errorf("%s: requests failed during reloads (%d non-2xx/3xx; socket errors %s)", mode.name, r.non2xx, r.socket)
		}
		if reloads < n/2 {
			b.Errorf("%s: only %d reloads for %d structural changes", mode.name, reloads, n)
		}
		if mode.headers == nil {
			b.ReportMetric(float64(r.p99.Microseconds())/1000, "ms-p99-keepalive")
		}
	}
	w.Flush()
}

// churnIngress creates and deletes an Ingress named churn in ns, on
// Service svc, once a second until stop closes; then it reports how many
// changes it made.
func churnIngress(ns, svc string, stop <-chan struct{}, changes chan<- int) {
	n := 0
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	ings := env.client.NetworkingV1().Ingresses(ns)
	for {
		select {
		case <-stop:
			_ = ings.Delete(context.Background(), "churn", metav1.DeleteOptions{})
			changes <- n
			return
		case <-tick.C:
		}
		var err error
		if n%2 == 0 {
			// A host with a server block: a plain host would be a push to
			// the Lua router, not a reload.
			_, err = ings.Create(context.Background(), newIngress(ns, "churn", needsServerBlock(),
				hostRule(fmt.Sprintf("churn%d.%s.example.com", n, ns), prefixPath("/", svc))), metav1.CreateOptions{})
		} else {
			err = ings.Delete(context.Background(), "churn", metav1.DeleteOptions{})
		}
		if err == nil {
			n++
		}
	}
}
