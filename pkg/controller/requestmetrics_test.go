package controller

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/statusport"
)

func TestServiceUpstreamAndChecksumNumber(t *testing.T) {
	for in, want := range map[string]string{"lab/api-service:80": "api-service", "lab/web:http": "web", "odd": "odd"} {
		if got := serviceOf(in); got != want {
			t.Errorf("serviceOf(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"lab/web-canary:80": "lab-web-canary-80", "lab/web:http@lab/ing": "lab-web-http", "": ""} {
		if got := upstreamName(in); got != want {
			t.Errorf("upstreamName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := checksumNumber("00000000000ffabc"); got != 0xff {
		t.Errorf("checksumNumber = %v, want 255 (the first 13 hex digits)", got)
	}
	if got := checksumNumber("xyz"); got != 0 {
		t.Errorf("checksumNumber of garbage = %v", got)
	}
}

// series is a requestSeries of dump d with n requests of time t (in the
// first bucket), sizes in the first buckets, and an upstream time when up.
func series(d requestsDump, ingress, host, backend, canary, method, status string, n uint64, up bool) requestSeries {
	h := func(bounds []float64, count, first uint64) histogramDump {
		c := make([]uint64, len(bounds)+1)
		c[0] = first
		return histogramDump{Count: count, Sum: float64(first), Counts: c}
	}
	s := requestSeries{Ingress: ingress, Host: host, Path: "/p", Backend: backend, Canary: canary, Method: method, Status: status, Count: n,
		Time: h(d.Buckets.Time, 0, n), Upstream: h(d.Buckets.Time, 0, 0), RequestSize: h(d.Buckets.Length, 0, n),
		ResponseSize: h(d.Buckets.Length, 0, n), BytesSent: h(d.Buckets.Size, 0, n)}
	if up {
		s.Upstream = h(d.Buckets.Time, n, n)
	}
	return s
}

func testDump() requestsDump {
	var d requestsDump
	d.Buckets.Time, d.Buckets.Length, d.Buckets.Size = []float64{0.1, 1}, []float64{10, 100}, []float64{1000}
	return d
}

// gather runs a requestCollector on dump and returns its families.
func gather(t *testing.T, dump requestsDump, perHost bool) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(dump)
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	pod := prometheus.Labels{"controller_namespace": "ingress-nginx", "controller_class": "k8s.io/ingress-nginx", "controller_pod": "c-1"}
	reg.MustRegister(newRequestCollector(statusport.New(srv.URL, time.Second), perHost, pod, zap.NewNop()))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func label(m *dto.Metric, name string) (string, bool) {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue(), true
		}
	}
	return "", false
}

// Two nginx locations of one Ingress path and Service (a Prefix path's
// exact and prefix halves, or backend variants) gather as one series, with
// ingress-nginx's labels, the controller's Pod among them; a malformed
// series is dropped; the upstream time only where an upstream answered.
func TestRequestMetricsAggregateLocations(t *testing.T) {
	d := testDump()
	d.Series = []requestSeries{
		series(d, "lab/web", "a.example.com", "lab/svc:80", "", "GET", "200", 2, true),
		series(d, "lab/web", "a.example.com", "lab/svc:80@lab/web", "", "GET", "200", 3, true),
		series(d, "lab/web", "a.example.com", "lab/svc:80", "", "GET", "503", 1, false),
		series(d, "lab/web", "a.example.com", "lab/svc:80", "lab/svc-canary:80", "POST", "200", 4, true),
	}
	bad := series(d, "lab/web", "a.example.com", "lab/svc:80", "", "GET", "500", 1, true)
	bad.Time.Counts = bad.Time.Counts[:1]
	d.Series = append(d.Series, bad)
	mfs := gather(t, d, true)
	counts := map[string]float64{}
	for _, m := range mfs["nginx_ingress_controller_requests"].GetMetric() {
		status, _ := label(m, "status")
		method, _ := label(m, "method")
		canary, _ := label(m, "canary")
		counts[method+" "+status+" "+canary] = m.GetCounter().GetValue()
		var names []string
		for _, l := range m.GetLabel() {
			names = append(names, l.GetName())
		}
		want := []string{"canary", "controller_class", "controller_namespace", "controller_pod", "host", "ingress", "method", "namespace", "path", "service", "status"}
		if !slices.Equal(names, want) {
			t.Errorf("labels %v, want %v", names, want)
		}
		if pod, _ := label(m, "controller_pod"); pod != "c-1" {
			t.Errorf("controller_pod %q", pod)
		}
	}
	want := map[string]float64{"GET 200 ": 5, "GET 503 ": 1, "POST 200 lab-svc-canary-80": 4}
	if len(counts) != len(want) || counts["GET 200 "] != 5 || counts["GET 503 "] != 1 || counts["POST 200 lab-svc-canary-80"] != 4 {
		t.Errorf("requests %v, want %v (the malformed series dropped)", counts, want)
	}
	for name, n := range map[string]int{"request_duration_seconds": 3, "response_duration_seconds": 2, "request_size": 3, "response_size": 3, "bytes_sent": 3} {
		mf := mfs["nginx_ingress_controller_"+name]
		if got := len(mf.GetMetric()); got != n {
			t.Errorf("%s: %d series, want %d", name, got, n)
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if status, _ := label(m, "status"); status == "200" && h.GetSampleCount() == 5 && h.GetBucket()[0].GetCumulativeCount() != 5 {
				t.Errorf("%s: buckets %v", name, h.GetBucket())
			}
		}
	}
	if mfs["portico_request_metrics_scrape_error"].GetMetric()[0].GetGauge().GetValue() != 0 {
		t.Error("scrape error reported")
	}
}

// --metrics-per-host=false: no host label, and the hosts of one Ingress
// path share a series, as in ingress-nginx.
func TestRequestMetricsWithoutHost(t *testing.T) {
	d := testDump()
	d.Series = []requestSeries{
		series(d, "lab/web", "a.example.com", "lab/svc:80", "", "GET", "200", 2, true),
		series(d, "lab/web", "b.example.com", "lab/svc:80", "", "GET", "200", 3, true),
	}
	for _, perHost := range []bool{true, false} {
		got := map[string]float64{}
		for _, m := range gather(t, d, perHost)["nginx_ingress_controller_requests"].GetMetric() {
			host, has := label(m, "host")
			if has != perHost {
				t.Errorf("perHost %v: host label %v", perHost, has)
			}
			got[host] += m.GetCounter().GetValue()
		}
		want := map[string]float64{"a.example.com": 2, "b.example.com": 3}
		if !perHost {
			want = map[string]float64{"": 5}
		}
		if len(got) != len(want) || got[""] != want[""] || got["a.example.com"] != want["a.example.com"] {
			t.Errorf("perHost %v: counts by host %v, want %v", perHost, got, want)
		}
	}
}

func TestParseStubStatus(t *testing.T) {
	s, err := parseStubStatus([]byte("Active connections: 2 \nserver accepts handled requests\n 10 9 31 \nReading: 0 Writing: 1 Waiting: 1 \n"))
	if err != nil || s != (stubStatus{active: 2, accepted: 10, handled: 9, requests: 31, reading: 0, writing: 1, waiting: 1}) {
		t.Errorf("parseStubStatus = %+v, %v", s, err)
	}
	for _, bad := range []string{"", "Active connections: x\n\n1 2 3\nReading: 0 Writing: 1 Waiting: 1", "Active connections: 1\n\n1 2\nReading: 0 Writing: 1 Waiting: 1"} {
		if _, err := parseStubStatus([]byte(bad)); err == nil {
			t.Errorf("parseStubStatus(%q) took it", bad)
		}
	}
}
