package controller

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/statusport"
)

func TestServiceOfAndChecksumNumber(t *testing.T) {
	for in, want := range map[string]string{"lab/api-service:80": "api-service", "lab/web:http": "web", "odd": "odd"} {
		if got := serviceOf(in); got != want {
			t.Errorf("serviceOf(%q) = %q, want %q", in, got, want)
		}
	}
	if got := checksumNumber("00000000000ffabc"); got != 0xff {
		t.Errorf("checksumNumber = %v, want 255 (the first 13 hex digits)", got)
	}
	if got := checksumNumber("xyz"); got != 0 {
		t.Errorf("checksumNumber of garbage = %v", got)
	}
}

// Two nginx locations of one Ingress path and Service (a Prefix path's
// exact and prefix halves, or backend variants) must gather as one series.
func TestRequestMetricsAggregateLocations(t *testing.T) {
	dump := requestsDump{Buckets: []float64{0.1, 1}, Series: []requestSeries{
		{Ingress: "lab/web", Host: "a.example.com", Path: "/p", Backend: "lab/svc:80", Status: "200", Count: 2, Sum: 0.3, BucketCounts: []uint64{1, 1, 0}},
		{Ingress: "lab/web", Host: "a.example.com", Path: "/p", Backend: "lab/svc:80@lab/web", Status: "200", Count: 3, Sum: 0.2, BucketCounts: []uint64{3, 0, 0}},
		{Ingress: "lab/web", Host: "a.example.com", Path: "/p", Backend: "lab/svc:80", Status: "503", Count: 1, Sum: 0, BucketCounts: []uint64{1, 0, 0}},
		{Ingress: "lab/web", Host: "a.example.com", Path: "/p", Backend: "lab/svc:80", Status: "500", Count: 1, BucketCounts: []uint64{1}},
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(dump)
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	c := newRequestCollector(statusport.New(srv.URL, time.Second), true, zap.NewNop())
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	counts := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "portico_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" {
					counts[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	if len(counts) != 2 || counts["200"] != 5 || counts["503"] != 1 {
		t.Errorf("portico_requests_total by status = %v, want 200:5 503:1 (the malformed series dropped)", counts)
	}
}

// --metrics-per-host=false: the hosts of one Ingress path share a series
// with host="".
func TestRequestMetricsWithoutHost(t *testing.T) {
	dump := requestsDump{Buckets: []float64{1}, Series: []requestSeries{
		{Ingress: "lab/web", Host: "a.example.com", Path: "/", Backend: "lab/svc:80", Status: "200", Count: 2, BucketCounts: []uint64{2, 0}},
		{Ingress: "lab/web", Host: "b.example.com", Path: "/", Backend: "lab/svc:80", Status: "200", Count: 3, BucketCounts: []uint64{3, 0}},
	}}
	for _, perHost := range []bool{true, false} {
		got := map[string]uint64{}
		for _, s := range aggregate(dump, perHost) {
			got[s.labels[2]] += s.Count
		}
		want := map[string]uint64{"a.example.com": 2, "b.example.com": 3}
		if !perHost {
			want = map[string]uint64{"": 5}
		}
		if len(got) != len(want) || got[""] != want[""] || got["a.example.com"] != want["a.example.com"] {
			t.Errorf("perHost %v: counts by host %v, want %v", perHost, got, want)
		}
	}
}
