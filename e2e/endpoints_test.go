package e2e

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/e2e/framework"
)

// load sends GETs one after another until stopped (at most max requests or
// limit time), counting answers per pod and failures.
type load struct {
	mu       sync.Mutex
	pods     map[string]int
	sent     int
	failures []string
	stop     chan struct{}
	done     chan struct{}
}

// startPacedLoad sends up to max requests for at most limit, at least
// every apart, until finished.
func startPacedLoad(host, path string, max int, limit, every time.Duration) *load {
	l := &load{pods: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		deadline := time.Now().Add(limit)
		for i := 0; i < max && time.Now().Before(deadline); i++ {
			select {
			case <-l.stop:
				return
			case <-time.After(every):
			}
			r, err := tryGet(host, path)
			l.mu.Lock()
			l.sent++
			switch {
			case err != nil:
				l.failures = append(l.failures, err.Error())
			case r.code != 200 || r.echo == nil:
				l.failures = append(l.failures, fmt.Sprintf("%d %s", r.code, short(r.body)))
			default:
				l.pods[r.echo.Pod]++
			}
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *load) finish() (sent int, pods map[string]int, failures []string) {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent, l.pods, l.failures
}

// podsAnswering sends n requests and counts answers per pod.
func podsAnswering(t *testing.T, host, path string, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range n {
		r := get(t, host, path)
		if r.echo == nil {
			t.Fatalf("GET %s%s → %d %s", host, path, r.code, short(r.body))
		}
		seen[r.echo.Pod]++
	}
	return seen
}

// Scaling 1 → 10 → 1 endpoints under traffic: every endpoint serves, no
// request fails, and nginx never reloads.
func TestScaleEndpointsWithoutReload(t *testing.T) {
	ns := namespace(t, "scale")
	a := newApp(t, ns, "web", 1, "")
	createIngress(t, newIngress(ns, "web", nil, hostRule("scale.example.com", prefixPath("/", "web"))))
	servedBy(t, "scale.example.com", "/", a)
	before := mustStatus(t).Nginx.Reloads

	// Paced, so that the bounded load still runs when the pods are
	// scaled on a busy machine.
	l := startPacedLoad("scale.example.com", "/", 20000, 2*time.Minute, 2*time.Millisecond)
	for i := 1; i < 10; i++ {
		a.addPod(t, fmt.Sprintf("web-%d", i))
	}
	a.syncSlice(t, "")
	eventually(t, "all 10 pods answer", func() error {
		seen := podsAnswering(t, "scale.example.com", "/", 40)
		for _, p := range a.podNames() {
			if seen[p] == 0 {
				return fmt.Errorf("pod %s has not answered; seen %v", p, seen)
			}
		}
		return nil
	})
	// Round robin is even: each of the 10 takes about a tenth. Each of the
	// two workers keeps its own turn and the load above takes turns too,
	// so these 200 see it only roughly (31 once in make test).
	seen := podsAnswering(t, "scale.example.com", "/", 200)
	for _, p := range a.podNames() {
		if n := seen[p]; n < 6 || n > 40 {
			t.Errorf("pod %s took %d of 200 requests, want about 20: %v", p, n, seen)
		}
	}
	// The load goes on through the scaled state until it has reached
	// every pod too (on a busy machine the checks above can outrun it).
	eventually(t, "the load reached all 10 pods", func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if len(l.pods) != 10 {
			return fmt.Errorf("load spread %v", l.pods)
		}
		return nil
	})
	// Scale down: endpoints leave the slice first, the pods stop after.
	gone := a.pods[1:]
	a.pods = a.pods[:1]
	a.syncSlice(t, "")
	eventually(t, "Lua holds one endpoint", func() error {
		b, err := env.portico.luaBackend(ns + "/web:80")
		if err == nil && len(b.Endpoints) != 1 {
			err = fmt.Errorf("backend %+v", b)
		}
		return err
	})
	for _, p := range gone {
		p.echo.Stop()
	}
	time.Sleep(500 * time.Millisecond)
	sent, pods, failures := l.finish()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during scaling, first: %s", len(failures), sent, failures[0])
	}
	if len(pods) != 10 {
		t.Errorf("traffic reached %d pods, want 10: %v", len(pods), pods)
	}
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("scaling endpoints reloaded nginx %d times", after-before)
	}
	t.Logf("%d requests, %d failed, spread %v", sent, len(failures), pods)
}

// An endpoint marked not ready stops receiving traffic within a second; with
// none ready, the route answers 503 naming the cause.
func TestNotReadyEndpoints(t *testing.T) {
	ns := namespace(t, "ready")
	a := newApp(t, ns, "api", 3, "")
	createIngress(t, newIngress(ns, "api", nil, hostRule("ready.example.com", prefixPath("/", "api"))))
	servedBy(t, "ready.example.com", "/", a)
	before := mustStatus(t).Nginx.Reloads

	a.pods[0].ready = false
	a.syncSlice(t, "")
	time.Sleep(time.Second)
	if seen := podsAnswering(t, "ready.example.com", "/", 30); seen[a.pods[0].name] > 0 {
		t.Errorf("not-ready pod %s still got %d of 30 requests a second after the change", a.pods[0].name, seen[a.pods[0].name])
	}

	for _, p := range a.pods {
		p.ready = false
	}
	a.syncSlice(t, "")
	r := answers(t, "ready.example.com", "/", 503)
	if want := "service " + ns + "/api has no ready endpoints (3 not ready)"; !strings.Contains(r.body, want) {
		t.Errorf("503 body %q, want it to say %q", r.body, want)
	}

	for _, p := range a.pods {
		p.ready = true
	}
	a.syncSlice(t, "")
	servedBy(t, "ready.example.com", "/", a)
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("readiness changes reloaded nginx %d times", after-before)
	}
}

// Pods that died before their endpoints left the slice refuse connections:
// nginx tries the request on the next untried endpoint (proxy_next_upstream
// error, up to three tries), so with two of three pods dead every request
// still reaches the live one, whatever the algorithm picks first.
func TestRetriesSkipDeadEndpoints(t *testing.T) {
	ns := namespace(t, "retry")
	for _, tc := range []struct{ name, host string }{
		{"", "retry-rr.example.com"},
		{"ewma", "retry-ewma.example.com"},
		{"hash", "retry-hash.example.com"},
	} {
		a := newApp(t, ns, "api-"+cmp.Or(tc.name, "rr"), 3, "")
		ann := map[string]string{}
		switch tc.name {
		case "ewma":
			ann["nginx.ingress.kubernetes.io/load-balance"] = "ewma"
		case "hash":
			ann["nginx.ingress.kubernetes.io/upstream-hash-by"] = "$request_uri"
		}
		createIngress(t, newIngress(ns, "api-"+cmp.Or(tc.name, "rr"), ann, hostRule(tc.host, prefixPath("/", a.name))))
		servedBy(t, tc.host, "/", a)
		for _, p := range a.pods[1:] {
			if err := p.echo.StopAndWait(); err != nil {
				t.Fatal(err)
			}
		}
		live := a.pods[0].name
		for i := range 30 {
			// Distinct URIs: the hash spreads them over all three pods.
			r := get(t, tc.host, fmt.Sprintf("/x%d", i))
			if r.echo == nil || r.echo.Pod != live {
				t.Fatalf("%s request %d with two of three pods dead: %d %s, want the live pod %s", tc.host, i, r.code, short(r.body), live)
			}
		}
	}
}

// A retry goes to the endpoints nginx holds at the time of the retry, not
// to those of the request's first try: a request in flight when its pod
// dies, after the endpoints moved to another pod, is retried there, not
// on the other dead pod of the old list.
func TestRetryUsesTheCurrentEndpoints(t *testing.T) {
	ns := namespace(t, "retrynow")
	a := newApp(t, ns, "api", 2, "")
	const host = "retry-now.example.com"
	createIngress(t, newIngress(ns, "api", nil, hostRule(host, prefixPath("/", "api"))))
	servedBy(t, host, "/", a)
	old := a.pods

	// A request that takes 3 s, in flight on one of the two pods.
	type answer struct {
		r   response
		err error
	}
	path := fmt.Sprintf("/__sleep/3000?mark=%d", time.Now().UnixNano())
	done := make(chan answer, 1)
	go func() {
		r, err := tryGet(host, path)
		done <- answer{r, err}
	}()
	time.Sleep(500 * time.Millisecond) // it reaches a pod in milliseconds
	// The endpoints move to a third pod; then both old pods die.
	a.addPod(t, "api-new")
	a.pods = a.pods[len(old):]
	a.syncSlice(t, "")
	eventually(t, "Lua holds the new endpoint alone", func() error {
		b, err := env.portico.luaBackend(ns + "/api:80")
		if err == nil && (len(b.Endpoints) != 1 || b.Endpoints[0].Address != a.pods[0].host.Addr().String()) {
			err = fmt.Errorf("backend %+v", b)
		}
		return err
	})
	for _, p := range old {
		p.echo.Kill()
	}
	select {
	case got := <-done:
		if got.err != nil || got.r.code != 200 || got.r.echo == nil || got.r.echo.Pod != a.pods[0].name {
			t.Fatalf("the request whose pod died: %v %d %s, want 200 from %s", got.err, got.r.code, short(got.r.body), a.pods[0].name)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the request whose pod died did not end in 15 s")
	}
	// It was retried: first an old pod, then the new one.
	line := waitAccessLogLine(t, path)
	tries := regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+:\d+), (\d+\.\d+\.\d+\.\d+:\d+) `).FindStringSubmatch(line)
	olds := []string{old[0].host.Addr().String() + ":8080", old[1].host.Addr().String() + ":8080"}
	if tries == nil || !slices.Contains(olds, tries[1]) || tries[2] != a.pods[0].host.Addr().String()+":8080" {
		t.Errorf("upstreams of the request: want one of %v, then %s:8080: %s", olds, a.pods[0].host.Addr(), line)
	}
}

// service-upstream sends a route's requests to its Service's cluster IP,
// where kube-proxy picks the Pod (here a stand-in: a host holding the
// cluster IP, its echo server named "cluster-ip"); the same Service
// without the annotation is served by its EndpointSlice's Pods. The Pods'
// readiness is kube-proxy's business then: with none ready, the Pods'
// route answers 503 and the cluster-IP route still proxies.
func TestServiceUpstream(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "svcup")
	a := newApp(t, ns, "a", 2, "")
	svc, err := env.client.CoreV1().Services(ns).Get(ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil {
		t.Fatalf("service a has no cluster IP: %q", svc.Spec.ClusterIP)
	}
	h, err := env.net.AddHost("svcup-cluster-ip")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	if err := h.AddAddress(ip); err != nil {
		t.Fatal(err)
	}
	e, err := framework.StartEchoOn(ctx, h, netip.AddrPortFrom(ip, uint16(a.port)), "a", "cluster-ip")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)

	viaIP, viaPods := "svcup.example.com", "svcup-pods.example.com"
	createIngress(t, newIngress(ns, "mesh", map[string]string{ann + "service-upstream": "true"}, hostRule(viaIP, prefixPath("/", "a"))))
	createIngress(t, newIngress(ns, "pods", nil, hostRule(viaPods, prefixPath("/", "a"))))
	eventually(t, viaIP+" served through the cluster IP", func() error {
		r, err := tryGet(viaIP, "/")
		if err == nil && (r.echo == nil || r.echo.Pod != "cluster-ip") {
			err = fmt.Errorf("got %d %s", r.code, short(r.body))
		}
		return err
	})
	servedBy(t, viaPods, "/", a) // the second Ingress may be routed a moment later
	seen := map[string]int{}
	for range 20 {
		if r := get(t, viaIP, "/"); r.echo == nil || r.echo.Pod != "cluster-ip" {
			t.Fatalf("%s: %d %s, want every answer from the cluster IP", viaIP, r.code, short(r.body))
		}
		r := get(t, viaPods, "/")
		if r.echo == nil {
			t.Fatalf("%s: %d %s", viaPods, r.code, short(r.body))
		}
		seen[r.echo.Pod]++
	}
	if len(seen) != 2 || seen["a-0"] == 0 || seen["a-1"] == 0 {
		t.Errorf("%s answered by %v, want both Pods of the EndpointSlice", viaPods, seen)
	}

	for _, p := range a.pods {
		p.ready = false
	}
	a.syncSlice(t, "")
	answers(t, viaPods, "/", 503)
	if r := get(t, viaIP, "/"); r.code != 200 || r.echo == nil || r.echo.Pod != "cluster-ip" {
		t.Errorf("%s with no Pod ready: %d %s, want the cluster IP's answer", viaIP, r.code, short(r.body))
	}
}
