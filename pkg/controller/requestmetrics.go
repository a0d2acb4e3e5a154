package controller

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/statusport"
)

// requestSeries is one label set of GET /metrics/requests (metrics.lua).
type requestSeries struct {
	Ingress string  `json:"ingress"`
	Host    string  `json:"host"`
	Path    string  `json:"path"`
	Backend string  `json:"backend"`
	Status  string  `json:"status"`
	Count   uint64  `json:"count"`
	Sum     float64 `json:"sum"`
	// BucketCounts are non-cumulative, one more than Buckets (+Inf).
	BucketCounts []uint64 `json:"bucketCounts"`
}

type requestsDump struct {
	Buckets []float64       `json:"buckets"`
	Series  []requestSeries `json:"series"`
}

var requestLabels = []string{"namespace", "ingress", "host", "path", "service", "status"}

var (
	requestsDesc = prometheus.NewDesc("portico_requests_total",
		"Requests proxied, by Ingress, host, Ingress path, Service and status code.", requestLabels, nil)
	durationDesc = prometheus.NewDesc("portico_request_duration_seconds",
		"Time from the first byte read from the client to the last byte sent, by Ingress, host, Ingress path, Service and status code.", requestLabels, nil)
	scrapeErrDesc = prometheus.NewDesc("portico_request_metrics_scrape_error",
		"1 when the last read of nginx's request counters failed.", nil, nil)
)

// requestCollector reads nginx's per-request counters at scrape time.
type requestCollector struct {
	status *statusport.Client
	log    *zap.Logger
	// perHost keeps the host label; without it, hosts share series.
	perHost bool
}

func newRequestCollector(status *statusport.Client, perHost bool, log *zap.Logger) *requestCollector {
	return &requestCollector{status: status, log: log, perHost: perHost}
}

// Describe sends nothing: the label values are only known at scrape time.
func (r *requestCollector) Describe(chan<- *prometheus.Desc) {}

func (r *requestCollector) Collect(ch chan<- prometheus.Metric) {
	dump, err := r.fetch()
	failed := 0.0
	if err != nil {
		failed = 1
		r.log.Debug("request metrics unavailable", zap.Error(err))
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
	for _, s := range aggregate(dump, r.perHost) {
		buckets := make(map[float64]uint64, len(dump.Buckets))
		var cum uint64
		for i, le := range dump.Buckets {
			cum += s.BucketCounts[i]
			buckets[le] = cum
		}
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue, float64(s.Count), s.labels...)
		ch <- prometheus.MustNewConstHistogram(durationDesc, s.Count, s.Sum, buckets, s.labels...)
	}
}

// labelledSeries is a requestSeries under its Prometheus labels.
type labelledSeries struct {
	requestSeries
	labels []string
}

// aggregate sums the series that share Prometheus labels: several nginx
// locations (a Prefix path's two, a Service's backend variants) count
// toward one Ingress path and Service. Series with a malformed histogram
// are dropped. Without perHost the host label is "" (ingress-nginx's
// --metrics-per-host=false).
func aggregate(dump requestsDump, perHost bool) []*labelledSeries {
	byKey := map[string]*labelledSeries{}
	var out []*labelledSeries
	for _, s := range dump.Series {
		if len(s.BucketCounts) != len(dump.Buckets)+1 {
			continue
		}
		ns, name, _ := strings.Cut(s.Ingress, "/")
		host := s.Host
		if !perHost {
			host = ""
		}
		labels := []string{ns, name, host, s.Path, serviceOf(s.Backend), s.Status}
		key := strings.Join(labels, "\x00")
		cur := byKey[key]
		if cur == nil {
			cur = &labelledSeries{requestSeries: requestSeries{BucketCounts: make([]uint64, len(s.BucketCounts))}, labels: labels}
			byKey[key] = cur
			out = append(out, cur)
		}
		cur.Count += s.Count
		cur.Sum += s.Sum
		for i, n := range s.BucketCounts {
			cur.BucketCounts[i] += n
		}
	}
	return out
}

func (r *requestCollector) fetch() (requestsDump, error) {
	var d requestsDump
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := r.status.GetJSON(ctx, plan.RequestsPath, &d)
	return d, err
}

// serviceOf returns the Service name of a backend "namespace/service:port".
func serviceOf(backend string) string {
	_, rest, ok := strings.Cut(backend, "/")
	if !ok {
		return backend
	}
	svc, _, _ := strings.Cut(rest, ":")
	return svc
}
