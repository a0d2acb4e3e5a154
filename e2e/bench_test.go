package e2e

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"text/tabwriter"
	"time"
)

// BenchmarkEndpointChangeToServed measures, on the real stack, the time from
// an EndpointSlice update (the API call returning) to the first request
// answered by the endpoint it added. The slice alternates between two pods,
// so every change moves traffic. It prints median, p99 and max, and fails
// if any change reloaded nginx.
func BenchmarkEndpointChangeToServed(b *testing.B) {
	ns := namespace(b, "bench")
	a := newApp(b, ns, "web", 2, "")
	createIngress(b, newIngress(ns, "web", nil, hostRule("bench.example.com", prefixPath("/", "web"))))
	pods := a.pods
	a.pods = pods[:1]
	a.syncSlice(b, "")
	waitServedByPod(b, "bench.example.com", pods[0].name, 20*time.Second)
	before, err := env.portico.status()
	if err != nil {
		b.Fatal(err)
	}

	changes := max(b.N, 100)
	lat := make([]time.Duration, 0, changes)
	b.ResetTimer()
	for i := range changes {
		next := pods[(i+1)%2]
		a.pods = []*pod{next}
		a.syncSlice(b, "")
		start := time.Now()
		waitServedByPod(b, "bench.example.com", next.name, 10*time.Second)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()

	after, err := env.portico.status()
	if err != nil {
		b.Fatal(err)
	}
	if after.Nginx.Reloads != before.Nginx.Reloads {
		b.Errorf("endpoint changes reloaded nginx %d times", after.Nginx.Reloads-before.Nginx.Reloads)
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "changes\tmedian\tp99\tmax\treloads\t")
	fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t\n", len(lat), p(0.5).Round(time.Microsecond), p(0.99).Round(time.Microsecond),
		lat[len(lat)-1].Round(time.Microsecond), after.Nginx.Reloads-before.Nginx.Reloads)
	w.Flush()
	b.ReportMetric(float64(p(0.5).Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(p(0.99).Microseconds())/1000, "ms-p99")
}

// waitServedByPod polls until a request is answered by pod.
func waitServedByPod(tb testing.TB, host, pod string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		r, err := tryGet(host, "/")
		if err == nil && r.echo != nil && r.echo.Pod == pod {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pod %s not serving after %s (last: %v %d %s)", pod, limit, err, r.code, short(r.body))
		}
	}
}
