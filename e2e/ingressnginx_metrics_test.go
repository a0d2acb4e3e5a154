package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/filewatch/filewatchtest"
)

// queriedSeries is one line of testdata/ingress-nginx-metrics.txt: a
// sample name the dashboards or alerts query and the labels they use.
type queriedSeries struct {
	name   string
	labels []string
}

func readQueriedSeries(t *testing.T) []queriedSeries {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "ingress-nginx-metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []queriedSeries
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		out = append(out, queriedSeries{name: fields[0], labels: fields[1:]})
	}
	if len(out) == 0 {
		t.Fatal("testdata/ingress-nginx-metrics.txt lists nothing")
	}
	return out
}

// scrapedSample is one sample of a scrape: its name as queried (a
// histogram's _bucket, _sum and _count apart), labels and value.
type scrapedSample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrapeSamples reads p's /metrics into samples, and its families.
func scrapeSamples(p *portico) ([]scrapedSample, map[string]*dto.MetricFamily, error) {
	code, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.healthzPort))
	if err == nil && code != 200 {
		err = fmt.Errorf("/metrics: %d", code)
	}
	if err != nil {
		return nil, nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader([]byte(body)))
	if err != nil {
		return nil, nil, fmt.Errorf("/metrics does not parse: %v", err)
	}
	var out []scrapedSample
	for name, f := range families {
		for _, m := range f.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.Counter != nil:
				out = append(out, scrapedSample{name, labels, m.Counter.GetValue()})
			case m.Gauge != nil:
				out = append(out, scrapedSample{name, labels, m.Gauge.GetValue()})
			case m.Histogram != nil:
				h := m.Histogram
				out = append(out, scrapedSample{name + "_count", labels, float64(h.GetSampleCount())},
					scrapedSample{name + "_sum", labels, h.GetSampleSum()})
				for _, b := range h.Bucket {
					bl := map[string]string{"le": fmt.Sprint(b.GetUpperBound())}
					for k, v := range labels {
						bl[k] = v
					}
					out = append(out, scrapedSample{name + "_bucket", bl, float64(b.GetCumulativeCount())})
				}
			}
		}
	}
	return out, families, nil
}

// sum adds the values of the samples named name whose labels include
// want.
func sum(samples []scrapedSample, name string, want map[string]string) float64 {
	total := 0.0
	for _, s := range find(samples, name, want) {
		total += s.value
	}
	return total
}

// find returns the samples named name whose labels include want.
func find(samples []scrapedSample, name string, want map[string]string) []scrapedSample {
	var out []scrapedSample
	for _, s := range samples {
		if s.name != name {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && s.labels[k] == v
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// upperBounds returns the bucket bounds of the first series of a
// histogram family.
func upperBounds(f *dto.MetricFamily) []float64 {
	if f == nil || len(f.Metric) == 0 || f.Metric[0].Histogram == nil {
		return nil
	}
	var out []float64
	for _, b := range f.Metric[0].Histogram.Bucket {
		if !math.IsInf(b.GetUpperBound(), 1) {
			out = append(out, b.GetUpperBound())
		}
	}
	return out
}

// After traffic, every series that ingress-nginx's Grafana dashboards and
// its chart's example alerts query (testdata/ingress-nginx-metrics.txt)
// is on /metrics with every label they use, with plausible values: the
// requests counted per Ingress, method, path, host and status, histograms
// with ingress-nginx's buckets and as many observations as requests, the
// configuration's hash and reload, the leader, nginx's processes and
// connections, the certificate's expiry.
func TestIngressNginxMetrics(t *testing.T) {
	ns := namespace(t, "inmetrics")
	a := newApp(t, ns, "web", 1, "")
	host := "metrics.example.com"
	notAfter := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	c := newCert(t, notAfter, host)
	putTLSSecret(t, ns, "metrics-tls", c)
	// TLS for the certificate's expiry; plain HTTP served too.
	ing := newIngress(ns, "metrics-web", map[string]string{"nginx.ingress.kubernetes.io/ssl-redirect": "false"}, hostRule(host, prefixPath("/", a.name)))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "metrics-tls"}}
	createIngress(t, ing)

	dir := filepath.Join(env.workDir, "metrics-controller")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const pod, podNS = "ingress-nginx-controller-metrics-7d9f8", "metrics-system"
	ensureNamespace(t, podNS)
	// Orphans: a path to a Service that does not exist, one to a Service
	// without endpoints.
	empty := newApp(t, ns, "empty", 0, "")
	createIngress(t, newIngress(ns, "orphan-service", nil, hostRule("orphan.example.com", prefixPath("/", "gone"))))
	createIngress(t, newIngress(ns, "orphan-endpoints", nil, hostRule("lonely.example.com", prefixPath("/", empty.name))))

	ca := newWebhookCA(t, "metrics-webhook-ca")
	vol := filewatchtest.NewVolumeIn(t, dir, ca.serving(t, 2))
	whPort := freePort()
	start := time.Now()
	p, err := startPorticoEnv(env.binary, env.cp.Kubeconfig(), dir, []string{"POD_NAME=" + pod, "POD_NAMESPACE=" + podNS},
		"--election-id=metrics-leader", "--update-status=true", fmt.Sprintf("--validating-webhook=127.0.0.1:%d", whPort),
		"--validating-webhook-certificate="+vol.Path("tls.crt"), "--validating-webhook-key="+vol.Path("tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)

	const gets, posts = 20, 5
	eventually(t, host+" served", func() error {
		resp, _, err := request(p.httpPort, "GET", host, "/", nil)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("%d", resp.StatusCode)
		}
		return err
	})
	for range gets - 1 {
		if resp, _, err := request(p.httpPort, "GET", host, "/", nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET: %v %v", resp, err)
		}
	}
	for range posts {
		if resp, _, err := request(p.httpPort, "POST", host, "/", bytes.Repeat([]byte("x"), 50)); err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST: %v %v", resp, err)
		}
	}

	// Two reviews: one admitted, one refused.
	wh := reviewClient(ca)
	whURL := fmt.Sprintf("https://127.0.0.1:%d/networking/v1/ingresses", whPort)
	good := newIngress(ns, "reviewed", nil, hostRule("reviewed.example.com", prefixPath("/", a.name)))
	bad := newIngress(ns, "reviewed", map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "lots"}, hostRule("reviewed.example.com", prefixPath("/", a.name)))
	for i, c := range []struct {
		ing     *networkingv1.Ingress
		allowed bool
	}{{good, true}, {bad, false}} {
		if _, allowed, err := review(wh, whURL, c.ing, i); err != nil || allowed != c.allowed {
			t.Fatalf("review %d: allowed %v, %v", i, allowed, err)
		}
	}

	want := map[string]string{"controller_namespace": podNS, "controller_pod": pod, "controller_class": "k8s.io/ingress-nginx"}
	per := map[string]string{"namespace": ns, "ingress": "metrics-web", "service": a.name, "host": host, "path": "/"}
	for k, v := range want {
		per[k] = v
	}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	var samples []scrapedSample
	var families map[string]*dto.MetricFamily
	eventually(t, "every request counted", func() error {
		var err error
		if samples, families, err = scrapeSamples(p); err != nil {
			return err
		}
		got := find(samples, "nginx_ingress_controller_requests", with(per, "method", "GET", "status", "200"))
		if len(got) != 1 || got[0].value < gets {
			return fmt.Errorf("requests{method=GET,status=200}: %v", got)
		}
		got = find(samples, "nginx_ingress_controller_requests", with(per, "method", "POST", "status", "200"))
		if len(got) != 1 || got[0].value < posts {
			return fmt.Errorf("requests{method=POST,status=200}: %v", got)
		}
		if got = find(samples, "nginx_ingress_controller_leader_election_status", want); len(got) != 1 || got[0].value != 1 {
			return fmt.Errorf("leader_election_status: %v", got)
		}
		return nil
	})

	// Every queried series, with every label it is queried by.
	for _, q := range readQueriedSeries(t) {
		found := false
		for _, s := range find(samples, q.name, nil) {
			all := true
			for _, l := range q.labels {
				_, ok := s.labels[l]
				all = all && ok
			}
			found = found || all
		}
		if !found {
			t.Errorf("no %s with labels %v; %d samples of that name: %v", q.name, q.labels, len(find(samples, q.name, nil)), find(samples, q.name, nil))
		}
	}

	// Values.
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		got := find(samples, name, labels)
		if len(got) != 1 {
			t.Errorf("%s%v: %d samples", name, labels, len(got))
			return -1
		}
		return got[0].value
	}
	getLabels := with(per, "method", "GET", "status", "200")
	n := value("nginx_ingress_controller_requests", getLabels)
	for _, h := range []string{"request_duration_seconds", "response_duration_seconds", "request_size", "response_size", "bytes_sent"} {
		if got := value("nginx_ingress_controller_"+h+"_count", getLabels); got != n {
			t.Errorf("%s_count %v, requests %v", h, got, n)
		}
		if got := value("nginx_ingress_controller_"+h+"_sum", getLabels); got <= 0 {
			t.Errorf("%s_sum %v", h, got)
		}
	}
	if got := value("nginx_ingress_controller_request_size_sum", with(per, "method", "POST", "status", "200")); got < posts*50 {
		t.Errorf("request_size_sum of %d POSTs of 50 bytes: %v", posts, got)
	}
	timeBuckets := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	lengthBuckets := []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	sizeBuckets := []float64{10, 100, 1000, 10000, 100000, 1e6, 1e7}
	for name, want := range map[string][]float64{"request_duration_seconds": timeBuckets, "response_duration_seconds": timeBuckets,
		"request_size": lengthBuckets, "response_size": lengthBuckets, "bytes_sent": sizeBuckets} {
		if got := upperBounds(families["nginx_ingress_controller_"+name]); !slices.Equal(got, want) {
			t.Errorf("%s buckets %v, want ingress-nginx's %v", name, got, want)
		}
	}

	if v := value("nginx_ingress_controller_config_hash", want); v <= 0 {
		t.Errorf("config_hash %v", v)
	}
	if v := value("nginx_ingress_controller_config_last_reload_successful", want); v != 1 {
		t.Errorf("config_last_reload_successful %v", v)
	}
	if v := value("nginx_ingress_controller_config_last_reload_successful_timestamp_seconds", want); v < float64(start.Unix()) || v > float64(time.Now().Unix()) {
		t.Errorf("config_last_reload_successful_timestamp_seconds %v, not since the controller started (%d)", v, start.Unix())
	}
	if v := value("nginx_ingress_controller_success", want); v < 1 {
		t.Errorf("success %v", v)
	}
	if v := value("nginx_ingress_controller_errors", want); v != 0 {
		t.Errorf("errors %v", v)
	}
	if v := value("nginx_ingress_controller_leader_election_status", with(want, "name", "metrics-leader")); v != 1 {
		t.Errorf("leader_election_status %v", v)
	}
	if v := value("nginx_ingress_controller_nginx_process_requests_total", want); v < gets+posts {
		t.Errorf("nginx_process_requests_total %v, sent %d", v, gets+posts)
	}
	if v := value("nginx_ingress_controller_nginx_process_connections_total", with(want, "state", "accepted")); v < 1 {
		t.Errorf("connections_total{accepted} %v", v)
	}
	if v := value("nginx_ingress_controller_nginx_process_connections", with(want, "state", "active")); v < 0 {
		t.Errorf("connections{active} %v", v)
	}
	if v := value("nginx_ingress_controller_nginx_process_num_procs", want); v < 2 {
		t.Errorf("nginx_process_num_procs %v: a master and a worker at least", v)
	}
	// /proc counts CPU time in 10 ms ticks: these few requests may not
	// make one.
	if v := value("nginx_ingress_controller_nginx_process_cpu_seconds_total", want); v < 0 {
		t.Errorf("nginx_process_cpu_seconds_total %v", v)
	}
	if v := value("nginx_ingress_controller_nginx_process_resident_memory_bytes", want); v < 1<<20 {
		t.Errorf("nginx_process_resident_memory_bytes %v", v)
	}
	if v := value("nginx_ingress_controller_nginx_process_oldest_start_time_seconds", want); v < float64(start.Unix()-1) || v > float64(time.Now().Unix()+1) {
		t.Errorf("nginx_process_oldest_start_time_seconds %v, not between the controller's start %d and now %d", v, start.Unix(), time.Now().Unix())
	}
	for ing, kind := range map[string]string{"orphan-service": "no-service", "orphan-endpoints": "no-endpoint"} {
		if v := value("nginx_ingress_controller_orphan_ingress", with(want, "namespace", ns, "ingress", ing, "type", kind)); v != 1 {
			t.Errorf("orphan_ingress{ingress=%s,type=%s} %v", ing, kind, v)
		}
	}
	if got := find(samples, "nginx_ingress_controller_orphan_ingress", with(want, "ingress", "metrics-web")); len(got) != 0 {
		t.Errorf("a served Ingress is an orphan: %v", got)
	}
	reviewed := with(want, "namespace", ns, "ingress", "reviewed")
	if ok, refused := value("nginx_ingress_controller_check_success", reviewed), value("nginx_ingress_controller_check_errors", reviewed); ok != 1 || refused != 1 {
		t.Errorf("check_success %v, check_errors %v; want 1 and 1", ok, refused)
	}
	if v := value("nginx_ingress_controller_admission_tested_ingresses", want); v < 4 {
		t.Errorf("admission_tested_ingresses %v: the reviewed Ingress and this test's 3 at least", v)
	}
	for _, name := range []string{"admission_tested_duration", "admission_roundtrip_duration"} {
		if v := value("nginx_ingress_controller_"+name, want); v <= 0 || v > 10 {
			t.Errorf("%s %v", name, v)
		}
	}
	if v := value("nginx_ingress_controller_ssl_expire_time_seconds", map[string]string{"host": host, "namespace": ns, "secret_name": "metrics-tls"}); v != float64(notAfter.Unix()) {
		t.Errorf("ssl_expire_time_seconds %v, the certificate's notAfter %d", v, notAfter.Unix())
	}
}
