package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// benchSizes are the Ingress counts of BenchmarkScale: BENCH_N, a comma
// separated list, or 100 and 1,000.
func benchSizes(tb testing.TB) []int {
	spec := os.Getenv("BENCH_N")
	if spec == "" {
		spec = "100,1000"
	}
	var out []int
	for f := range strings.SplitSeq(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 20000 {
			tb.Fatalf("BENCH_N: %q is not a count from 1 to 20000", f)
		}
		out = append(out, n)
	}
	return out
}

// scaleEnv is a fresh controller watching one namespace that holds n
// Ingresses, each with its own host, 1 to 5 Prefix paths and its own
// Service whose EndpointSlice lists the same 3 echo pods.
type scaleEnv struct {
	n        int
	ns       string
	pods     []*pod
	client   kubernetes.Interface
	created  time.Time     // when the last object was created
	last     time.Duration // from created to the last Ingress's host served
	served   time.Duration // from created to every host served
	createIn time.Duration // how long creating the objects took
}

// fastClient is a client whose rate limit does not bound bulk creation.
func fastClient(tb testing.TB) kubernetes.Interface {
	cfg := env.cp.RESTConfig()
	cfg.QPS, cfg.Burst = 5000, 10000
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// swapPortico stops the suite's controller and starts a fresh one with
// extra flags, so that its peak RSS and reloads belong to one benchmark;
// the suite's controller comes back at cleanup.
func swapPortico(tb testing.TB, name string, extra ...string) *portico {
	tb.Helper()
	dir := filepath.Join(env.workDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	suite := env.portico
	suite.stop()
	p, err := startPortico(env.binary, env.cp.Kubeconfig(), dir, extra...)
	if err != nil {
		tb.Fatal(err)
	}
	env.portico = p
	tb.Cleanup(func() {
		p.stop()
		back, err := startPortico(env.binary, env.cp.Kubeconfig(), env.workDir)
		if err != nil {
			panic(fmt.Sprintf("restart the suite's controller: %v", err))
		}
		env.portico = back
	})
	return p
}

func scaleHost(ns string, i int) string { return fmt.Sprintf("s%d.%s.example.com", i, ns) }

// scalePaths are the paths of Ingress i: "/" and up to 4 more.
func scalePaths(i int) []string {
	out := []string{"/"}
	for k := range i % 5 {
		out = append(out, fmt.Sprintf("/p%d", k+1))
	}
	return out
}

// newScaleEnv creates the namespace, pods and objects with a few workers,
// and waits until every host answers from an echo pod.
func newScaleEnv(b *testing.B, n int) *scaleEnv {
	ns := namespace(b, fmt.Sprintf("scale%d", n))
	s := &scaleEnv{n: n, ns: ns, client: fastClient(b)}
	a := &app{ns: ns, name: "scale", port: 80, target: 8080}
	for i := range 3 {
		a.addPod(b, fmt.Sprintf("scale%d-%d", n, i))
	}
	s.pods = a.pods
	profilerPort = freePort()
	swapPortico(b, "portico-"+ns, "--watch-namespace="+ns, "--profiling", fmt.Sprintf("--profiler-port=%d", profilerPort))
	b.Cleanup(func() { s.deleteAll() })

	start := time.Now()
	if err := eachOn8(n, s.create); err != nil {
		b.Fatal(err)
	}
	s.created = time.Now()
	s.createIn = s.created.Sub(start)

	// The last Ingress created answers first; then every host must, each
	// asked once it answered (8 at a time: the sweep of 10,000 hosts one
	// by one took longer than serving them).
	limit := 5*time.Minute + time.Duration(n)*30*time.Millisecond
	waitServedByAny(b, scaleHost(ns, n-1), "/", s.podNames(), limit)
	s.last = time.Since(s.created)
	err := eachOn8(n, func(i int) error {
		return servedByAnyWithin(scaleHost(ns, i), scalePaths(i)[len(scalePaths(i))-1], s.podNames(), limit-time.Since(s.created))
	})
	if err != nil {
		b.Fatal(err)
	}
	s.served = time.Since(s.created)
	return s
}

// eachOn8 runs do(0) … do(n-1) on 8 goroutines; a worker stops at its
// first error, and the first error is returned.
func eachOn8(n int, do func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := do(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (s *scaleEnv) podNames() []string {
	var out []string
	for _, p := range s.pods {
		out = append(out, p.name)
	}
	return out
}

// create writes Service, EndpointSlice and Ingress number i.
func (s *scaleEnv) create(i int) error {
	ctx := context.Background()
	name := fmt.Sprintf("svc%d", i)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}}},
	}
	if _, err := s.client.CoreV1().Services(s.ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := s.client.DiscoveryV1().EndpointSlices(s.ns).Create(ctx, s.slice(name, s.pods), metav1.CreateOptions{}); err != nil {
		return err
	}
	var paths []networkingv1.HTTPIngressPath
	for _, p := range scalePaths(i) {
		paths = append(paths, prefixPath(p, name))
	}
	ing := newIngress(s.ns, fmt.Sprintf("ing%d", i), nil, hostRule(scaleHost(s.ns, i), paths...))
	_, err := s.client.NetworkingV1().Ingresses(s.ns).Create(ctx, ing, metav1.CreateOptions{})
	return err
}

// slice is the EndpointSlice of Service name listing pods.
func (s *scaleEnv) slice(name string, pods []*pod) *discoveryv1.EndpointSlice {
	port, proto, portName := int32(8080), corev1.ProtocolTCP, ""
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "portico-e2e"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}},
		Endpoints:   []discoveryv1.Endpoint{},
	}
	for _, p := range pods {
		ready := true
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{p.host.Addr().String()},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
		})
	}
	return es
}

// deleteAll removes the namespace's objects: namespaces never finish
// deleting here, and the hosts must not stay claimed.
func (s *scaleEnv) deleteAll() {
	ctx := context.Background()
	all := metav1.ListOptions{}
	_ = s.client.NetworkingV1().Ingresses(s.ns).DeleteCollection(ctx, metav1.DeleteOptions{}, all)
	_ = s.client.DiscoveryV1().EndpointSlices(s.ns).DeleteCollection(ctx, metav1.DeleteOptions{}, all)
	svcs, err := s.client.CoreV1().Services(s.ns).List(ctx, all)
	if err != nil {
		return
	}
	// Services have no DeleteCollection: a few workers.
	_ = eachOn8(len(svcs.Items), func(i int) error {
		_ = s.client.CoreV1().Services(s.ns).Delete(ctx, svcs.Items[i].Name, metav1.DeleteOptions{})
		return nil
	})
}

// oneChange creates one more Ingress named name with annotations (a new
// host on Service svc0) and returns the time from the API call returning
// to the host answering.
func (s *scaleEnv) oneChange(b *testing.B, name string, annotations map[string]string) time.Duration {
	host := name + "." + s.ns + ".example.com"
	ing := newIngress(s.ns, name, annotations, hostRule(host, prefixPath("/", "svc0")))
	if _, err := s.client.NetworkingV1().Ingresses(s.ns).Create(context.Background(), ing, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	waitServedByAny(b, host, "/", s.podNames(), 5*time.Minute)
	return time.Since(start)
}

// vmHWM is the peak resident set size of process pid, in MiB.
func vmHWM(tb testing.TB, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				tb.Fatalf("VmHWM %q: %v", v, err)
			}
			return float64(kb) / 1024
		}
	}
	tb.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// waitServedByAny polls until host+path is answered by one of pods.
func waitServedByAny(tb testing.TB, host, path string, pods []string, limit time.Duration) {
	tb.Helper()
	if err := servedByAnyWithin(host, path, pods, limit); err != nil {
		tb.Fatal(err)
	}
}

// servedByAnyWithin is waitServedByAny for any goroutine: it returns the
// error.
func servedByAnyWithin(host, path string, pods []string, limit time.Duration) error {
	deadline := time.Now().Add(max(limit, time.Second))
	for {
		r, err := tryGet(host, path)
		if err == nil && r.echo != nil && slices.Contains(pods, r.echo.Pod) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s%s not served after %s (last: %v %d %s)", host, path, limit, err, r.code, short(r.body))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkScale measures, for each N of BENCH_N (default 100,1000), a
// fresh controller taking N Ingresses (1-5 paths each, one Service and 3
// endpoints each): creation time, time from the last object created to
// every host served, nginx.conf size, reloads, the controller's peak RSS,
// and the time for one more Ingress to go live with N present: one the
// Lua router serves (a push), then one that needs a server block (a
// reload, with the union of old and new backends and routes pushed
// first).
func BenchmarkScale(b *testing.B) {
	allowSnippets(b) // for the change that needs a server block
	type row struct {
		n                                    int
		create, last, served, change, reload time.Duration
		confKiB, rssMiB                      float64
		reloads                              int
	}
	var rows []row
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			s := newScaleEnv(b, n)
			change := s.oneChange(b, "one-more", nil)
			reload := s.oneChange(b, "one-static", needsServerBlock())
			st, err := env.portico.status()
			if err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(filepath.Join(env.portico.configDir, "nginx.conf"))
			if err != nil {
				b.Fatal(err)
			}
			if dir := os.Getenv("BENCH_PROFILE_DIR"); dir != "" {
				saveHeapProfile(b, filepath.Join(dir, fmt.Sprintf("heap-%d.pb.gz", n)))
			}
			r := row{n: n, create: s.createIn, last: s.last, served: s.served, change: change, reload: reload, confKiB: float64(fi.Size()) / 1024,
				rssMiB: vmHWM(b, env.portico.cmd.Process.Pid), reloads: st.Nginx.Reloads}
			rows = append(rows, r)
			// Printed now too: tearing 10,000 objects down takes a while.
			fmt.Printf("scale: ingresses=%d create=%s last-served=%s all-served=%s one-change=%s one-reload=%s conf=%.0fKiB reloads=%d peak-rss=%.1fMiB\n",
				r.n, r.create.Round(time.Millisecond), r.last.Round(time.Millisecond), r.served.Round(time.Millisecond), r.change.Round(time.Millisecond),
				r.reload.Round(time.Millisecond), r.confKiB, r.reloads, r.rssMiB)
			b.ReportMetric(r.last.Seconds(), "s-last-served")
			b.ReportMetric(r.served.Seconds(), "s-all-served")
			b.ReportMetric(r.change.Seconds(), "s-one-change")
			b.ReportMetric(r.reload.Seconds(), "s-one-reload")
			b.ReportMetric(r.rssMiB, "MiB-peak-rss")
		})
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "ingresses\tcreate\tlast created→its host served\tlast created→all served\tone change live\tone change live (reload)\tnginx.conf KiB\treloads\tcontroller peak RSS MiB\t")
	for _, r := range rows {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%.0f\t%d\t%.1f\t\n", r.n, r.create.Round(time.Millisecond), r.last.Round(time.Millisecond), r.served.Round(time.Millisecond),
			r.change.Round(time.Millisecond), r.reload.Round(time.Millisecond), r.confKiB, r.reloads, r.rssMiB)
	}
	w.Flush()
}

// profilerPort is the --profiler-port of BenchmarkScale's controller.
var profilerPort int

// saveHeapProfile writes the controller's heap profile (--profiling) to
// path, for go tool pprof.
func saveHeapProfile(tb testing.TB, path string) {
	tb.Helper()
	code, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap", profilerPort))
	if err == nil && code != 200 {
		err = fmt.Errorf("/debug/pprof/heap: %d", code)
	}
	if err == nil {
		err = os.WriteFile(path, []byte(body), 0o644)
	}
	if err != nil {
		tb.Fatal(err)
	}
}
