package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// BenchmarkLayer4 measures, on the real stack, TCP services and SSL
// passthrough against going straight to the pod, and what a reload costs
// UDP. The targets of a figure always take turns, so that the load other
// processes put on the machine falls on each alike:
//
//   - TCP throughput: one connection writes 64 KiB blocks to the stream
//     echo and reads them back, MB/s each way, in bursts of 1 s, direct
//     to the pod and through a TCP service in turn, BENCH_L4_ROUNDS (9)
//     rounds; the median and range of each, and of their ratio in a round
//     (target: ≥ 0.9× direct), with the CPU seconds per GB of the client,
//     nginx and the echo pod, and the machine's idle CPU.
//   - TCP connection rate: 8 clients connect, read the greeting, echo one
//     byte, close (BENCH_L4_SECONDS, 3, or maxConnections); connections/s
//     and p50/p99, 2 rounds.
//   - TLS handshakes: 4 clients handshake (no resumption) and close
//     (BENCH_L4_SECONDS or maxConnections); handshakes/s and p50/p99,
//     direct to a TLS pod, through the passthrough front, and ending at
//     Portico, 2 rounds. Then the latency alone: one client, the three
//     targets in turn, BENCH_L4_HANDSHAKES (3,000) handshakes each, in
//     blocks of 1,000; p50/p90/p99, and what passthrough adds to the p50
//     and p99 of direct per block (target: < 1 ms at p99).
//   - HTTPS throughput: one keep-alive client GETs 16 MiB answers; direct,
//     passthrough, ending at Portico (BENCH_L4_SECONDS, 2 rounds).
//   - UDP: queries one at a time while the tcp-services ConfigMap changes
//     (each a reload), and while the Service's endpoints change (none),
//     BENCH_L4_SECONDS each.
func BenchmarkLayer4(b *testing.B) {
	d := time.Duration(envInt(b, "BENCH_L4_SECONDS", 3)) * time.Second
	rounds := envInt(b, "BENCH_L4_ROUNDS", 9)
	handshakes := envInt(b, "BENCH_L4_HANDSHAKES", 3000)
	ns := namespace(b, "benchl4")
	db := newStreamAppTB(b, ns, "db", 1)
	tlsApp, tlsCert := newTLSAppCert(b, ns, "tlsapp")
	site := newApp(b, ns, "site", 1, "")
	siteCert := newCert(b, time.Now().Add(time.Hour), "site.example.com")
	putTLSSecret(b, ns, "site-tls", siteCert)
	p := layer4Portico(b, ns)
	tcpPort, udpPort := freePort(), freePort()
	putServicesConfigMap(b, ns, "tcp", map[string]string{strconv.Itoa(tcpPort): ns + "/db:5432"})
	putServicesConfigMap(b, ns, "udp", map[string]string{strconv.Itoa(udpPort): ns + "/db:53"})
	passHost := "tlsapp.internal"
	createIngress(b, newIngress(ns, "pass", map[string]string{"nginx.ingress.kubernetes.io/ssl-passthrough": "true"},
		hostRule(passHost, prefixPath("/", tlsApp.name))))
	ing := newIngress(ns, "site", nil, hostRule("site.example.com", prefixPath("/", site.name)))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"site.example.com"}, SecretName: "site-tls"}}
	createIngress(b, ing)

	direct := db.pods[0].host.Addr().String() + ":9000"
	stream := "127.0.0.1:" + strconv.Itoa(tcpPort)
	framework.WaitFor(b, 20*time.Second, "the TCP service", func() error { _, err := dialStream(tcpPort, nil); return err })
	https := "127.0.0.1:" + strconv.Itoa(p.httpsPort)
	tlsDirect := tlsApp.pods[0].host.Addr().String() + ":8443"
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(tlsCert.crt)
	pool.AppendCertsFromPEM(siteCert.crt)
	tlsTargets := []tlsTarget{
		{"direct to the pod", tlsDirect, passHost},
		{"passthrough", https, passHost},
		{"ending at Portico", https, "site.example.com"},
	}
	for _, tt := range tlsTargets {
		framework.WaitFor(b, 20*time.Second, tt.name, func() error { _, err := tlsHandshake(tt.addr, tt.sni, pool); return err })
	}
	b.ResetTimer()

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Printf("load average at the start: %s\n\n", loadAverage())
	tcpTargets := []streamTarget{{"direct to the pod", direct}, {"TCP service", stream}}
	ratio := streamThroughput(b, w, tcpTargets, nginxWorkers(nginxMaster(b, p)), db.pods[0].echo.Pid(), rounds)
	b.ReportMetric(ratio, "stream-vs-direct")

	fmt.Fprintln(w, "TCP\tround\tconnections/s (8 clients)\tconnect+echo p50\tp99\t")
	for round := 1; round <= 2; round++ {
		for _, tgt := range tcpTargets {
			rate, p50, p99 := connectionRate(b, tgt.addr, 8, d)
			fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t\n", tgt.name, round, rate, p50, p99)
		}
	}
	w.Flush()
	fmt.Println()

	fmt.Fprintln(w, "TLS\tround\thandshakes/s (4 clients)\tp50\tp99\tHTTPS MB/s (16 MiB GETs)\t")
	for round := 1; round <= 2; round++ {
		for _, tt := range tlsTargets {
			rate, p50, p99 := handshakeRate(b, tt.addr, tt.sni, pool, 4, d)
			mb := httpsThroughput(b, tt.addr, tt.sni, pool, d)
			fmt.Fprintf(w, "%s\t%d\t%.0f\t%s\t%s\t%.0f\t\n", tt.name, round, rate, p50, p99, mb)
		}
	}
	w.Flush()
	added := handshakeLatency(b, w, tlsTargets, pool, handshakes)
	b.ReportMetric(float64(added.Microseconds())/1000, "ms-passthrough-p99-added")

	fmt.Fprintln(w, "UDP queries during\tchanges\treloads\tqueries\tunanswered\t")
	for _, mode := range []string{"tcp-services changes (reloads)", "endpoint changes"} {
		before, _ := p.status()
		stop := make(chan struct{})
		loop := startUDPLoop(udpPort, stop)
		changes := 0
		for end := time.Now().Add(d); time.Now().Before(end); changes++ {
			if mode == "endpoint changes" {
				db.pods[0].listed = changes%2 == 0
				db.pods[1].listed = !db.pods[0].listed
				db.syncSlice(b)
			} else {
				data := map[string]string{strconv.Itoa(tcpPort): ns + "/db:5432"}
				if changes%2 == 0 {
					data[strconv.Itoa(tcpPort+1)] = ns + "/db:5432"
				}
				putServicesConfigMap(b, ns, "tcp", data)
			}
			time.Sleep(250 * time.Millisecond)
		}
		close(stop)
		<-loop.done
		after, _ := p.status()
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t\n", mode, changes, after.Nginx.Reloads-before.Nginx.Reloads, loop.sent.Load(), loop.lost.Load())
		if mode == "endpoint changes" && loop.lost.Load() != 0 {
			b.Errorf("UDP queries lost during endpoint changes: %q", loop.errs)
		}
	}
	w.Flush()
	fmt.Printf("load average at the end: %s\n", loadAverage())
}

// nginxMaster is the pid of p's nginx master.
func nginxMaster(tb testing.TB, p *portico) int {
	b, err := os.ReadFile(filepath.Join(p.configDir, "run", "nginx.pid"))
	if err != nil {
		tb.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		tb.Fatal(err)
	}
	return pid
}

// procCPU is the CPU time (user and system) pids used so far, from
// /proc/PID/stat (in clock ticks of 10 ms).
func procCPU(pids ...int) time.Duration {
	var ticks int64
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime stime: the 12th and 13th
		// fields after the command.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// selfCPU is the CPU time this process used so far.
func selfCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// newStreamAppTB is newStreamApp for benchmarks: two stream echo pods,
// the first listed.
func newStreamAppTB(tb testing.TB, ns, name string, listed int) *streamApp {
	tb.Helper()
	a := &streamApp{ns: ns, name: name, tcpPort: 5432, client: env.client}
	for i := range 2 {
		a.addPod(tb, fmt.Sprintf("%s-%d", name, i))
		a.pods[i].listed = i < listed
	}
	a.createService(tb)
	return a
}

// tcpThroughput writes 64 KiB blocks to the TCP echo at addr for d while
// reading them back, and returns MB/s each way.
func tcpThroughput(tb testing.TB, addr string, d time.Duration) float64 {
	c, err := framework.DialStreamEcho(addr, nil, 2*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	var n int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, _ = io.Copy(io.Discard, c)
	}()
	block := make([]byte, 64<<10)
	start := time.Now()
	for time.Since(start) < d {
		if _, err := c.Write(block); err != nil {
			tb.Fatal(err)
		}
	}
	_ = c.Conn.(*net.TCPConn).CloseWrite()
	<-done
	return float64(n) / time.Since(start).Seconds() / 1e6
}

// connectionRate runs clients loops of connect, greeting, one byte echoed,
// close, for d or maxConnections.
func connectionRate(tb testing.TB, addr string, clients int, d time.Duration) (float64, time.Duration, time.Duration) {
	return concurrently(tb, clients, d, maxConnections, func() error {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		r := bufio.NewReader(c)
		if _, err := r.ReadString('\n'); err != nil {
			return err
		}
		if _, err := c.Write([]byte("x")); err != nil {
			return err
		}
		_, err = r.ReadByte()
		return err
	})
}

// tlsHandshake makes one TLS connection to addr with server name sni, and
// returns its leaf certificate's subject.
func tlsHandshake(addr, sni string, pool *x509.CertPool) (string, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr,
		&tls.Config{ServerName: sni, RootCAs: pool, ClientSessionCache: nil})
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

func handshakeRate(tb testing.TB, addr, sni string, pool *x509.CertPool, clients int, d time.Duration) (float64, time.Duration, time.Duration) {
	return concurrently(tb, clients, d, maxConnections, func() error { _, err := tlsHandshake(addr, sni, pool); return err })
}

// httpsThroughput GETs /__bytes/16777216 over one keep-alive connection
// for d and returns MB/s.
func httpsThroughput(tb testing.TB, addr, sni string, pool *x509.CertPool, d time.Duration) float64 {
	c := framework.NewHTTPClient(framework.WithTLSConfig(&tls.Config{ServerName: sni, RootCAs: pool}))
	c.Timeout = 30 * time.Second
	var n int64
	start := time.Now()
	for time.Since(start) < d {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://"+addr+"/__bytes/16777216", nil)
		req.Host = sni
		resp, err := c.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		k, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			tb.Fatalf("GET %s (%s): %d %v", addr, sni, resp.StatusCode, err)
		}
		n += k
	}
	return float64(n) / time.Since(start).Seconds() / 1e6
}

// maxConnections bounds the connections of one figure of the connection
// and handshake rates. Each leaves a socket in TIME_WAIT for 60 s on the
// side that closes first (the client, or nginx towards the pod), from the
// same address to the same pod port whether direct or through nginx;
// past ~10,000 of the ~28,000 ephemeral ports, connect() slows by
// milliseconds and the later figures would measure that.
const maxConnections = 1500

// concurrently runs op in clients loops for d, or until limit ops in all,
// and returns ops/s, p50 and p99; an error fails the benchmark.
func concurrently(tb testing.TB, clients int, d time.Duration, limit int64, op func() error) (float64, time.Duration, time.Duration) {
	var ops atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Since(start) < d && ops.Add(1) <= limit {
				t0 := time.Now()
				if err := op(); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		tb.Fatal(firstErr)
	}
	slices.Sort(lat)
	return float64(len(lat)) / time.Since(start).Seconds(), quantile(lat, 0.5), quantile(lat, 0.99)
}

type streamTarget struct{ name, addr string }

type tlsTarget struct{ name, addr, sni string }

// throughputBurst is the length of one throughput sample. Short bursts,
// the targets taking turns, so that the load other processes put on the
// machine falls on each target alike; the first target of a round
// alternates too.
const throughputBurst = time.Second

// streamThroughput measures tcpThroughput of each target in rounds bursts
// each, taking turns, with where the CPU goes: this process (the
// client), nginx's workers, the echo pod (pod), in CPU seconds per GB
// each way, and the share of the machine's CPU left idle. It prints the
// median and range of each, and of the second target's throughput over
// the first's in the same round, which it returns (the median).
func streamThroughput(tb testing.TB, w *tabwriter.Writer, targets []streamTarget, nginx map[int]bool, pod, rounds int) float64 {
	type sample struct{ mb, client, nginx, pod, idle float64 }
	got := make([][]sample, len(targets))
	var ratios []float64
	workers := slices.Collect(maps.Keys(nginx))
	for round := range rounds {
		mb := make([]float64, len(targets))
		for k := range targets {
			i := k
			if round%2 == 1 {
				i = len(targets) - 1 - k
			}
			idle0, total0 := cpuIdle(tb)
			cpu0 := []time.Duration{selfCPU(tb), procCPU(workers...), procCPU(pod)}
			mb[i] = tcpThroughput(tb, targets[i].addr, throughputBurst)
			cpu1 := []time.Duration{selfCPU(tb), procCPU(workers...), procCPU(pod)}
			idle1, total1 := cpuIdle(tb)
			gb := mb[i] * throughputBurst.Seconds() / 1000
			got[i] = append(got[i], sample{mb[i], (cpu1[0] - cpu0[0]).Seconds() / gb, (cpu1[1] - cpu0[1]).Seconds() / gb,
				(cpu1[2] - cpu0[2]).Seconds() / gb, 100 * float64(idle1-idle0) / float64(max(1, total1-total0))})
		}
		ratios = append(ratios, mb[len(mb)-1]/mb[0])
	}
	fmt.Fprintf(w, "TCP, one connection, %d bursts of %s each\tMB/s each way: median\trange\tCPU s/GB: client\tnginx\tpod\tall\tCPU idle\t\n",
		rounds, throughputBurst)
	for i, tgt := range targets {
		med := func(f func(sample) float64) float64 {
			xs := make([]float64, len(got[i]))
			for j, x := range got[i] {
				xs[j] = f(x)
			}
			return median(xs)
		}
		mbs := make([]float64, len(got[i]))
		for j, x := range got[i] {
			mbs[j] = x.mb
		}
		fmt.Fprintf(w, "%s\t%.0f\t%.0f–%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f %%\t\n", tgt.name, median(mbs), slices.Min(mbs), slices.Max(mbs),
			med(func(x sample) float64 { return x.client }), med(func(x sample) float64 { return x.nginx }),
			med(func(x sample) float64 { return x.pod }), med(func(x sample) float64 { return x.client + x.nginx + x.pod }),
			med(func(x sample) float64 { return x.idle }))
	}
	w.Flush()
	r := median(ratios)
	fmt.Printf("%s throughput: %.2f× %s (median of %d rounds, range %.2f–%.2f; target ≥ 0.9×)\n\n",
		targets[len(targets)-1].name, r, targets[0].name, rounds, slices.Min(ratios), slices.Max(ratios))
	return r
}

// handshakeLatency is the latency a hop adds to the TLS handshake, apart
// from the queueing of concurrent clients on 2 vCPUs: one client, the
// targets taking turns handshake by handshake so that the machine's
// other load falls on each alike, n handshakes each in blocks of
// handshakeBlock. It prints each target's p50, p90 and p99, and what
// passthrough (the second target) adds to the first's p50 and p99 in each
// block; it returns the median of the blocks' p99 added.
func handshakeLatency(tb testing.TB, w *tabwriter.Writer, targets []tlsTarget, pool *x509.CertPool, n int) time.Duration {
	lat := make([][]time.Duration, len(targets))
	var addedP50, addedP99 []time.Duration
	for done := 0; done < n; done += handshakeBlock {
		block := make([][]time.Duration, len(targets))
		for i := 0; i < min(handshakeBlock, n-done)*len(targets); i++ {
			k := i % len(targets)
			t0 := time.Now()
			if _, err := tlsHandshake(targets[k].addr, targets[k].sni, pool); err != nil {
				tb.Fatal(err)
			}
			block[k] = append(block[k], time.Since(t0))
		}
		for k := range targets {
			slices.Sort(block[k])
			lat[k] = append(lat[k], block[k]...)
		}
		addedP50 = append(addedP50, quantile(block[1], 0.5)-quantile(block[0], 0.5))
		addedP99 = append(addedP99, quantile(block[1], 0.99)-quantile(block[0], 0.99))
	}
	fmt.Fprintf(w, "TLS handshake, one client, targets in turn\thandshakes\tp50\tp90\tp99\t\n")
	for k, tt := range targets {
		slices.Sort(lat[k])
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t\n", tt.name, len(lat[k]), quantile(lat[k], 0.5), quantile(lat[k], 0.9), quantile(lat[k], 0.99))
	}
	w.Flush()
	slices.Sort(addedP50)
	slices.Sort(addedP99)
	fmt.Printf("%s adds to the handshake, median of %d blocks of %d (range): p50 %s (%s to %s), p99 %s (%s to %s); all handshakes: p99 %s (target < 1 ms at p99)\n\n",
		targets[1].name, len(addedP99), handshakeBlock,
		quantile(addedP50, 0.5), addedP50[0], addedP50[len(addedP50)-1],
		quantile(addedP99, 0.5), addedP99[0], addedP99[len(addedP99)-1],
		quantile(lat[1], 0.99)-quantile(lat[0], 0.99))
	return quantile(addedP99, 0.5)
}

// handshakeBlock is how many handshakes of each target one block of the
// latency figure takes: its p99 is the 10th slowest.
const handshakeBlock = 1000

// median of xs (which it sorts).
func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// cpuIdle is the machine's idle and total CPU time so far, in clock
// ticks (/proc/stat).
func cpuIdle(tb testing.TB) (idle, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		tb.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for i, f := range strings.Fields(line)[1:] {
		n, _ := strconv.ParseInt(f, 10, 64)
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return idle, total
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// quantile is the q quantile of sorted, to the microsecond.
func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))].Round(time.Microsecond)
}
