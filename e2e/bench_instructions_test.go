package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// BenchmarkDataPlaneInstructions counts what nginx executes per request,
// in instructions (valgrind's callgrind), for the configs of
// BenchmarkDataPlane: Portico's nginx.conf as the controller wrote it,
// the minimal hand-written one, that one sending Portico's headers, and
// the design floor (handFloor).
// Each runs as one nginx process (one worker, master_process off) under
// callgrind on ports of its own; Portico's copy gets the running nginx's
// backends and routes pushed. Counting starts after a warm-up (keep-alive
// pools, LuaJIT traces) and covers BENCH_INSTR_SECONDS (default 5) of
// wrk -t1 -c8 on /__ok. Unlike requests/s on a shared 2-core machine,
// the count repeats to about 1 %; it leaves out the kernel and the echo
// pods, which BenchmarkDataPlane's ratio includes.
func BenchmarkDataPlaneInstructions(b *testing.B) {
	needWrk(b)
	for _, tool := range []string{"valgrind", "callgrind_control"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s is not installed (hack/install-deps.sh bench installs it)", tool)
		}
	}
	d := time.Duration(envInt(b, "BENCH_INSTR_SECONDS", 5)) * time.Second
	// A shell command that rewrites Portico's nginx.conf (stdin to
	// stdout) before it is counted, to price one part of it: e.g.
	// BENCH_INSTR_FILTER='sed "s#access_log /dev/stdout[^;]*;#access_log off;#"'.
	filter := os.Getenv("BENCH_INSTR_FILTER")
	host, addrs := dataPlaneApp(b, "instructions")
	running, err := os.ReadFile(filepath.Join(env.portico.configDir, "nginx.conf"))
	if err != nil {
		b.Fatal(err)
	}

	type result struct {
		name     string
		requests int
		instr    int64
	}
	var results []result
	// start runs a config under callgrind in dir; check asks it for /__ok.
	measure := func(name string, start func(dir string) (cg *callgrind, port int, check func() error)) {
		dir := filepath.Join(env.workDir, fmt.Sprintf("callgrind-%d", time.Now().UnixNano()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		cg, port, check := start(dir)
		url := fmt.Sprintf("http://127.0.0.1:%d/__ok", port)
		runWrkWith(b, 1, 8, url, host, 2*time.Second) // warm-up, not counted
		cg.control(b, "-z")
		cg.control(b, "-i", "on")
		r := runWrkWith(b, 1, 8, url, host, d)
		cg.control(b, "-i", "off")
		cg.control(b, "-d")
		if r.errors() != 0 || r.requests == 0 {
			b.Fatalf("%s: %d requests, %d errors", name, r.requests, r.errors())
		}
		if err := check(); err != nil {
			b.Fatalf("%s after the run: %v", name, err)
		}
		results = append(results, result{name, r.requests, cg.instructions(b)})
		if keep := os.Getenv("BENCH_PROFILE_DIR"); keep != "" {
			base := filepath.Join(keep, "callgrind-"+strings.NewReplacer(" ", "", "+", "-", "'", "").Replace(name))
			cg.save(b, base+".out")
			// The config the profile is of, for reading it.
			if conf, err := os.ReadFile(filepath.Join(dir, "nginx.conf")); err == nil {
				if err := os.WriteFile(base+".nginx.conf", conf, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}

	name := "portico"
	if filter != "" {
		name = "portico, filtered"
	}
	measure(name, func(dir string) (*callgrind, int, func() error) {
		port, status := freePort(), freePort()
		conf := porticoConfCopy(b, string(running), dir, port, status)
		if filter != "" {
			conf = filterConf(b, filter, conf)
		}
		cg := startCallgrind(b, dir, conf)
		base := fmt.Sprintf("http://127.0.0.1:%d", status)
		waitAnswers(b, base+"/healthz")
		from := fmt.Sprintf("http://127.0.0.1:%d", env.portico.statusPort)
		for _, doc := range []string{"/configuration/backends", "/configuration/routes"} {
			copyPush(b, from+doc, base+doc)
		}
		// The copy serves the host from the pushed routes, from the echo pods.
		check := func() error {
			resp, body, err := request(port, http.MethodGet, host, "/__ok", nil)
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("%d %s", resp.StatusCode, short(string(body)))
			}
			return err
		}
		if err := check(); err != nil {
			b.Fatalf("Portico's config under callgrind: %v", err)
		}
		return cg, port, check
	})
	for _, hc := range []struct {
		name, headers string
		floor         *handFloor
	}{
		{"hand-written", "", nil},
		{"hand-written + Portico's headers", handHeaders, nil},
		{"design floor", floorHeaders, porticoFloor(b)},
	} {
		measure(hc.name, func(dir string) (*callgrind, int, func() error) {
			port := freePort()
			conf := strings.Replace(handConf(dir, addrs, port, hc.headers, hc.floor), "worker_processes auto;", "worker_processes 1;", 1)
			cg := startCallgrind(b, dir, conf)
			waitAnswers(b, fmt.Sprintf("http://127.0.0.1:%d/__ok", port))
			return cg, port, func() error { _, _, err := request(port, http.MethodGet, host, "/__ok", nil); return err }
		})
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "config\trequests\tinstructions/request\tto hand-written\t")
	per := func(r result) float64 { return float64(r.instr) / float64(r.requests) }
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%.2f×\t\n", r.name, r.requests, per(r), per(r)/per(results[1]))
	}
	w.Flush()
	b.ReportMetric(per(results[0]), "instr/req-portico")
	b.ReportMetric(per(results[1]), "instr/req-hand")
	b.ReportMetric(per(results[2]), "instr/req-hand-headers")
	b.ReportMetric(per(results[3]), "instr/req-floor")
}

// filterConf runs conf through the shell command filter.
func filterConf(tb testing.TB, filter, conf string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", filter)
	cmd.Stdin = strings.NewReader(conf)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("BENCH_INSTR_FILTER: %v", err)
	}
	if len(out) == 0 {
		tb.Fatal("BENCH_INSTR_FILTER printed nothing")
	}
	return string(out)
}

// porticoConfCopy is Portico's running nginx.conf for a process of its
// own: its traffic port and loopback status port are port and status
// (HTTPS is dropped), one worker, its pid and temporary files under dir.
func porticoConfCopy(tb testing.TB, conf, dir string, port, status int) string {
	tb.Helper()
	p := env.portico
	run := filepath.Join(p.configDir, "run") + "/"
	for _, r := range []struct {
		re  string
		new string
	}{
		{fmt.Sprintf(`(?m)^(\s*listen )127\.0\.0\.1:%d;`, p.statusPort), fmt.Sprintf("${1}127.0.0.1:%d;", status)},
		{fmt.Sprintf(`(?m)^(\s*listen )%d\b`, p.httpPort), fmt.Sprintf("${1}127.0.0.1:%d", port)},
	} {
		re := regexp.MustCompile(r.re)
		if !re.MatchString(conf) {
			tb.Fatalf("nginx.conf has no line matching %s", r.re)
		}
		conf = re.ReplaceAllString(conf, r.new)
	}
	// HTTPS listeners would clash with the running nginx's.
	conf = regexp.MustCompile(fmt.Sprintf(`(?m)^\s*listen %d ssl[^;]*;\n`, p.httpsPort)).ReplaceAllString(conf, "")
	conf = regexp.MustCompile(`(?m)^worker_processes .*;$`).ReplaceAllString(conf, "worker_processes 1;")
	conf = regexp.MustCompile(`(?m)^pid .*;$`).ReplaceAllString(conf, "pid "+filepath.Join(dir, "nginx.pid")+";")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		conf = strings.ReplaceAll(conf, "_temp_path "+run+t+";", "_temp_path "+filepath.Join(dir, t)+";")
	}
	return conf
}

// callgrind is one nginx process (master_process off) under callgrind,
// counting nothing until told to.
type callgrind struct {
	cmd *exec.Cmd
	out string
}

// startCallgrind starts nginx on conf, under dir, under callgrind; it is
// stopped when tb ends.
func startCallgrind(tb testing.TB, dir, conf string) *callgrind {
	tb.Helper()
	c := &callgrind{out: filepath.Join(dir, "callgrind.out")}
	c.cmd = startNginxProcess(tb, dir, conf, "daemon off; master_process off;",
		"valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file="+c.out)
	return c
}

// control runs callgrind_control with args on the process.
func (c *callgrind) control(tb testing.TB, args ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append(args, strconv.Itoa(c.cmd.Process.Pid))
	if out, err := exec.CommandContext(ctx, "callgrind_control", args...).CombinedOutput(); err != nil {
		tb.Fatalf("callgrind_control %v: %v\n%s", args, err, out)
	}
}

// callgrindTotals is the count of a dump ("summary:" is 0 there).
var callgrindTotals = regexp.MustCompile(`(?m)^totals: (\d+)`)

// instructions reads the count of the first dump (control "-d").
func (c *callgrind) instructions(tb testing.TB) int64 {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(c.out + ".1"); err == nil {
			if m := callgrindTotals.FindSubmatch(b); m != nil {
				n, _ := strconv.ParseInt(string(m[1]), 10, 64)
				if n == 0 {
					tb.Fatalf("callgrind counted nothing (%s.1)", c.out)
				}
				return n
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no callgrind dump at %s.1", c.out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// save copies the first dump to path, for callgrind_annotate.
func (c *callgrind) save(tb testing.TB, path string) {
	tb.Helper()
	b, err := os.ReadFile(c.out + ".1")
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// waitAnswers waits up to a minute (valgrind starts slowly) for url to
// answer.
func waitAnswers(tb testing.TB, url string) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, _, err := plainGet(url); err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s does not answer after a minute", url)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// copyPush GETs a configuration document from one nginx and POSTs it to
// another.
func copyPush(tb testing.TB, from, to string) {
	tb.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get(from)
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("GET %s: %d %v", from, resp.StatusCode, err)
	}
	resp, err = c.Post(to, "application/json", strings.NewReader(string(doc)))
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		tb.Fatalf("POST %s: %d %s", to, resp.StatusCode, body)
	}
}
