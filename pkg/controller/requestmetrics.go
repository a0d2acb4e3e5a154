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

// histogramDump is one histogram of a series of GET /metrics/requests
// (metrics.lua): Counts are non-cumulative, one more than its bounds
// (+Inf); Count is given for the upstream time alone (the others count
// every request of the series).
type histogramDump struct {
	Count  uint64   `json:"count"`
	Sum    float64  `json:"sum"`
	Counts []uint64 `json:"counts"`
}

// requestSeries is one label set of GET /metrics/requests.
type requestSeries struct {
	Ingress string `json:"ingress"`
	Host    string `json:"host"`
	Path    string `json:"path"`
	Backend string `json:"backend"`
	// Canary is the canary backend that answered, "" for the main one.
	Canary string `json:"canary"`
	Method string `json:"method"`
	Status string `json:"status"`
	Count  uint64 `json:"count"`
	// Time is the request's ($request_time), Upstream its upstream's
	// response time, RequestSize its length with headers, ResponseSize and
	// BytesSent (the same sum, other bounds) the bytes sent to the client.
	Time         histogramDump `json:"time"`
	Upstream     histogramDump `json:"upstream"`
	RequestSize  histogramDump `json:"requestSize"`
	ResponseSize histogramDump `json:"responseSize"`
	BytesSent    histogramDump `json:"bytesSent"`
}

type requestsDump struct {
	Buckets struct {
		Time   []float64 `json:"time"`
		Length []float64 `json:"length"`
		Size   []float64 `json:"size"`
	} `json:"buckets"`
	Series []requestSeries `json:"series"`
}

// ingressNginxNamespace prefixes the families ingress-nginx exports, whose
// names and labels Portico's match so its dashboards and alerts carry over.
const ingressNginxNamespace = "nginx_ingress_controller"

// requestFamilies are ingress-nginx's per-request families, with its
// labels: the Ingress's namespace, name, Service, Ingress path, the
// request's method and status, the canary upstream that answered, and the
// host unless --metrics-per-host=false; the controller's Pod as constant
// labels.
type requestFamilies struct {
	requests, requestTime, upstreamTime, requestSize, responseSize, bytesSent *prometheus.Desc
}

func newRequestFamilies(perHost bool, pod prometheus.Labels) requestFamilies {
	labels := []string{"status", "method", "path", "namespace", "ingress", "service", "canary"}
	if perHost {
		labels = append(labels, "host")
	}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(ingressNginxNamespace+"_"+name, help, labels, pod)
	}
	return requestFamilies{
		requests:     d("requests", "Client requests, by Ingress, Service, path, method and status."),
		requestTime:  d("request_duration_seconds", "Time from the first byte read from the client to the last byte sent ($request_time)."),
		upstreamTime: d("response_duration_seconds", "Time the upstream took to answer, for requests a single upstream answered ($upstream_response_time)."),
		requestSize:  d("request_size", "Request length: request line, headers and body ($request_length)."),
		responseSize: d("response_size", "Bytes sent to the client: status line, headers and body ($bytes_sent)."),
		bytesSent:    d("bytes_sent", "Bytes sent to the client, in ingress-nginx's --size-buckets ($bytes_sent)."),
	}
}

var scrapeErrDesc = prometheus.NewDesc("portico_request_metrics_scrape_error",
	"1 when the last read of nginx's request counters failed.", nil, nil)

// requestCollector reads nginx's per-request counters at scrape time.
type requestCollector struct {
	status   *statusport.Client
	log      *zap.Logger
	families requestFamilies
	// perHost keeps the host label; without it, hosts share series.
	perHost bool
}

func newRequestCollector(status *statusport.Client, perHost bool, pod prometheus.Labels, log *zap.Logger) *requestCollector {
	return &requestCollector{status: status, log: log, perHost: perHost, families: newRequestFamilies(perHost, pod)}
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
	f := r.families
	b := dump.Buckets
	for _, s := range aggregate(dump, r.perHost) {
		ch <- prometheus.MustNewConstMetric(f.requests, prometheus.CounterValue, float64(s.Count), s.labels...)
		ch <- histogram(f.requestTime, b.Time, s.Count, s.Time, s.labels)
		if s.Upstream.Count > 0 {
			ch <- histogram(f.upstreamTime, b.Time, s.Upstream.Count, s.Upstream, s.labels)
		}
		ch <- histogram(f.requestSize, b.Length, s.Count, s.RequestSize, s.labels)
		ch <- histogram(f.responseSize, b.Length, s.Count, s.ResponseSize, s.labels)
		ch <- histogram(f.bytesSent, b.Size, s.Count, histogramDump{Sum: s.ResponseSize.Sum, Counts: s.BytesSent.Counts}, s.labels)
	}
}

// histogram is h, of count observations, under bounds as a Prometheus
// histogram with cumulative buckets.
func histogram(desc *prometheus.Desc, bounds []float64, count uint64, h histogramDump, labels []string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var cum uint64
	for i, le := range bounds {
		cum += h.Counts[i]
		buckets[le] = cum
	}
	return prometheus.MustNewConstHistogram(desc, count, h.Sum, buckets, labels...)
}

// labelledSeries is a requestSeries under its Prometheus labels.
type labelledSeries struct {
	requestSeries
	labels []string
}

// aggregate sums the series that share Prometheus labels: several nginx
// locations (a Prefix path's two, a Service's backend variants) count
// toward one Ingress path and Service. Series with a malformed histogram
// are dropped. Without perHost there is no host label (ingress-nginx's
// --metrics-per-host=false).
func aggregate(dump requestsDump, perHost bool) []*labelledSeries {
	byKey := map[string]*labelledSeries{}
	var out []*labelledSeries
	b := dump.Buckets
	for _, s := range dump.Series {
		if len(s.Time.Counts) != len(b.Time)+1 || len(s.Upstream.Counts) != len(b.Time)+1 ||
			len(s.RequestSize.Counts) != len(b.Length)+1 || len(s.ResponseSize.Counts) != len(b.Length)+1 ||
			len(s.BytesSent.Counts) != len(b.Size)+1 {
			continue
		}
		ns, name, _ := strings.Cut(s.Ingress, "/")
		labels := []string{s.Status, s.Method, s.Path, ns, name, serviceOf(s.Backend), upstreamName(s.Canary)}
		if perHost {
			labels = append(labels, s.Host)
		}
		key := strings.Join(labels, "\x00")
		cur := byKey[key]
		if cur == nil {
			cur = &labelledSeries{labels: labels}
			byKey[key] = cur
			out = append(out, cur)
		}
		cur.Count += s.Count
		cur.Time.add(s.Time)
		cur.Upstream.add(s.Upstream)
		cur.RequestSize.add(s.RequestSize)
		cur.ResponseSize.add(s.ResponseSize)
		cur.BytesSent.add(s.BytesSent)
	}
	return out
}

func (h *histogramDump) add(o histogramDump) {
	h.Count += o.Count
	h.Sum += o.Sum
	if h.Counts == nil {
		h.Counts = make([]uint64, len(o.Counts))
	}
	for i, n := range o.Counts {
		h.Counts[i] += n
	}
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

// upstreamName is a backend "namespace/service:port[@variant]" as
// ingress-nginx names its upstream, "namespace-service-port" (its canary
// label); "" stays "".
func upstreamName(backend string) string {
	backend, _, _ = strings.Cut(backend, "@")
	ns, rest, ok := strings.Cut(backend, "/")
	if !ok {
		return backend
	}
	svc, port, _ := strings.Cut(rest, ":")
	return ns + "-" + svc + "-" + port
}
