package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"text/tabwriter"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkEndpointChurn makes 1,000 EndpointSlice changes (BENCH_CHURN
// overrides the count) with 1,000 Ingresses present (BENCH_CHURN_N): each
// change moves one Service to another single pod, and the time from the
// update returning to the first request answered by that pod is one
// sample. Every change must be served without a reload.
func BenchmarkEndpointChurn(b *testing.B) {
	n, changes := envInt(b, "BENCH_CHURN_N", 1000), envInt(b, "BENCH_CHURN", 1000)
	s := newScaleEnv(b, n)
	// svc0 starts on one pod: with all three, round robin would answer
	// from the next pod before the change is live.
	if _, err := s.client.DiscoveryV1().EndpointSlices(s.ns).Update(context.Background(),
		s.withVersion(b, s.slice("svc0", s.pods[len(s.pods)-1:])), metav1.UpdateOptions{}); err != nil {
		b.Fatal(err)
	}
	waitOnlyPod(b, scaleHost(s.ns, 0), s.pods[len(s.pods)-1].name, time.Minute)
	before, err := env.portico.status()
	if err != nil {
		b.Fatal(err)
	}
	slicesAPI := s.client.DiscoveryV1().EndpointSlices(s.ns)
	host := scaleHost(s.ns, 0)
	lat := make([]time.Duration, 0, changes)
	start := time.Now()
	for i := range changes {
		next := s.pods[i%len(s.pods)]
		es := s.withVersion(b, s.slice("svc0", []*pod{next}))
		if _, err := slicesAPI.Update(context.Background(), es, metav1.UpdateOptions{}); err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		waitOnlyPod(b, host, next.name, 10*time.Second)
		lat = append(lat, time.Since(t))
	}
	period := time.Since(start)
	after, err := env.portico.status()
	if err != nil {
		b.Fatal(err)
	}
	reloads := after.Nginx.Reloads - before.Nginx.Reloads
	if reloads != 0 {
		b.Errorf("endpoint changes reloaded nginx %d times", reloads)
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "ingresses\tchanges\tperiod\tmedian\tp99\tmax\treloads\t")
	fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\t%d\t\n", n, len(lat), period.Round(time.Millisecond),
		p(0.5).Round(time.Microsecond), p(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond), reloads)
	w.Flush()
	b.ReportMetric(float64(p(0.5).Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(p(0.99).Microseconds())/1000, "ms-p99")
}

// envInt reads a positive count from the environment, or def.
func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("%s: %q is not a positive count", name, v)
	}
	return n
}

// withVersion gives es the resourceVersion of the stored slice.
func (s *scaleEnv) withVersion(tb testing.TB, es *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	cur, err := s.client.DiscoveryV1().EndpointSlices(s.ns).Get(context.Background(), es.Name, metav1.GetOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	es.ResourceVersion = cur.ResourceVersion
	return es
}

// waitOnlyPod polls until three requests in a row are answered by pod:
// with round robin over several endpoints that cannot happen by chance.
func waitOnlyPod(tb testing.TB, host, pod string, limit time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	run := 0
	for run < 3 {
		r, err := tryGet(host, "/")
		if err == nil && r.echo != nil && r.echo.Pod == pod {
			run++
			continue
		}
		run = 0
		if time.Now().After(deadline) {
			tb.Fatalf("pod %s not alone serving %s after %s (last: %v %d %s)", pod, host, limit, err, r.code, short(r.body))
		}
	}
}
