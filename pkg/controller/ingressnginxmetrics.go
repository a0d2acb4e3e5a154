package controller

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/statusport"
)

// ingress-nginx's controller families (--enable-metrics), with its names
// and labels: the configuration's loads, the leader, nginx's processes and
// connections, the certificates' expiry. Each carries this controller's
// Pod as ingress-nginx's do: controller_namespace, controller_class,
// controller_pod (the certificates' carry namespace and class, as there).

// podLabels are the constant labels of ingress-nginx's families.
func (c *Controller) podLabels() prometheus.Labels {
	return prometheus.Labels{
		"controller_namespace": c.cfg.Election.Namespace,
		"controller_class":     c.cfg.Model.ControllerClass,
		"controller_pod":       c.cfg.Election.Identity,
	}
}

// loadFamilies follow the configuration's loads (observeLoad).
type loadFamilies struct {
	hash          prometheus.GaugeFunc
	lastOK        prometheus.Gauge
	lastOKTime    prometheus.Gauge
	loads, errors prometheus.Counter
}

func newLoadFamilies(pod prometheus.Labels, checksum func() float64) *loadFamilies {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: ingressNginxNamespace, Name: name, Help: help, ConstLabels: pod}
	}
	return &loadFamilies{
		hash:       prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("config_hash", "The running nginx.conf's checksum: its first 52 bits as a number.")), checksum),
		lastOK:     prometheus.NewGauge(prometheus.GaugeOpts(opts("config_last_reload_successful", "1 when the last configuration load took effect, 0 when nginx refused it."))),
		lastOKTime: prometheus.NewGauge(prometheus.GaugeOpts(opts("config_last_reload_successful_timestamp_seconds", "When the last successful configuration load took effect (Unix time)."))),
		loads:      prometheus.NewCounter(prometheus.CounterOpts(opts("success", "Configuration loads (start and reloads) that took effect."))),
		errors:     prometheus.NewCounter(prometheus.CounterOpts(opts("errors", "Configuration loads nginx refused or that did not take effect."))),
	}
}

func (l *loadFamilies) collectors() []prometheus.Collector {
	return []prometheus.Collector{l.hash, l.lastOK, l.lastOKTime, l.loads, l.errors}
}

func (l *loadFamilies) observe(err error) {
	if err != nil {
		l.errors.Inc()
		l.lastOK.Set(0)
		return
	}
	l.loads.Inc()
	l.lastOK.Set(1)
	l.lastOKTime.Set(float64(time.Now().Unix()))
}

// leaderGauge is leader_election_status: 1 while this replica holds the
// Lease, named by the election's ID.
func leaderGauge(pod prometheus.Labels, e *elector) prometheus.Collector {
	labels := prometheus.Labels{"name": e.cfg.ID}
	for k, v := range pod {
		labels[k] = v
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ingressNginxNamespace, Name: "leader_election_status",
		Help: "1 while this replica leads (writes Ingress status), else 0; name is the election's Lease.", ConstLabels: labels},
		func() float64 {
			if e.Leading() {
				return 1
			}
			return 0
		})
}

// certificateCollector is ssl_expire_time_seconds, one series per TLS
// host of the running model and the Secret it is served from.
type certificateCollector struct {
	desc    *prometheus.Desc
	class   string
	running func() *model.Config
}

func newCertificateCollector(class string, running func() *model.Config) *certificateCollector {
	return &certificateCollector{class: class, running: running, desc: prometheus.NewDesc(ingressNginxNamespace+"_ssl_expire_time_seconds",
		"When the certificate served for the host expires (Unix time).",
		[]string{"namespace", "class", "host", "secret_name", "identifier"}, nil)}
}

func (cc *certificateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- cc.desc }

func (cc *certificateCollector) Collect(ch chan<- prometheus.Metric) {
	cfg := cc.running()
	if cfg == nil {
		return
	}
	certs := make(map[string]*model.Certificate, len(cfg.Certificates))
	for _, crt := range cfg.Certificates {
		certs[crt.Name] = crt
	}
	for _, s := range cfg.Servers {
		if s.Host == "" || s.TLS == nil {
			continue
		}
		crt := certs[s.TLS.Certificate]
		if crt == nil {
			continue
		}
		ns, name, _ := strings.Cut(crt.Name, "/")
		ch <- prometheus.MustNewConstMetric(cc.desc, prometheus.GaugeValue, float64(crt.NotAfter.Unix()),
			ns, cc.class, s.Host, name, crt.IssuerSerial+"-"+crt.Serial)
	}
}

// nginxCollector is nginx's processes (the master and its children, from
// /proc) and connections (stub_status), read at scrape time.
type nginxCollector struct {
	pid    func() int
	status *statusport.Client
	log    *zap.Logger

	numProcs, cpu, readBytes, writeBytes, resident, virtual, start *prometheus.Desc
	connectionsTotal, requestsTotal, connections                   *prometheus.Desc
}

func newNginxCollector(pod prometheus.Labels, pid func() int, status *statusport.Client, log *zap.Logger) *nginxCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(ingressNginxNamespace+"_nginx_process_"+name, help, labels, pod)
	}
	return &nginxCollector{pid: pid, status: status, log: log,
		numProcs:         d("num_procs", "nginx processes: the master and its workers (and cache helpers)."),
		cpu:              d("cpu_seconds_total", "CPU time nginx's processes used (user and system)."),
		readBytes:        d("read_bytes_total", "Bytes nginx's processes read from storage."),
		writeBytes:       d("write_bytes_total", "Bytes nginx's processes wrote to storage."),
		resident:         d("resident_memory_bytes", "Resident memory of nginx's processes."),
		virtual:          d("virtual_memory_bytes", "Virtual memory of nginx's processes."),
		start:            d("oldest_start_time_seconds", "When the oldest nginx process started (Unix time)."),
		connectionsTotal: d("connections_total", "Client connections nginx accepted and handled.", "state"),
		requestsTotal:    d("requests_total", "Client requests nginx read."),
		connections:      d("connections", "Client connections now: active, and of those reading, writing and waiting.", "state"),
	}
}

func (n *nginxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{n.numProcs, n.cpu, n.readBytes, n.writeBytes, n.resident, n.virtual, n.start,
		n.connectionsTotal, n.requestsTotal, n.connections} {
		ch <- d
	}
}

func (n *nginxCollector) Collect(ch chan<- prometheus.Metric) {
	if err := n.collectProcesses(ch); err != nil {
		n.log.Debug("nginx process metrics unavailable", zap.Error(err))
	}
	if err := n.collectConnections(ch); err != nil {
		n.log.Debug("nginx connection metrics unavailable", zap.Error(err))
	}
}

func (n *nginxCollector) collectProcesses(ch chan<- prometheus.Metric) error {
	master := n.pid()
	if master == 0 {
		return fmt.Errorf("nginx is not running")
	}
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return err
	}
	all, err := fs.AllProcs()
	if err != nil {
		return err
	}
	var procs int
	var cpu, rss, vsize, read, write float64
	oldest := 0.0
	for _, p := range all {
		st, err := p.Stat()
		if err != nil || (p.PID != master && st.PPID != master) {
			continue
		}
		procs++
		cpu += st.CPUTime()
		rss += float64(st.ResidentMemory())
		vsize += float64(st.VirtualMemory())
		if t, err := st.StartTime(); err == nil && (oldest == 0 || t < oldest) {
			oldest = t
		}
		if io, err := p.IO(); err == nil {
			read += float64(io.ReadBytes)
			write += float64(io.WriteBytes)
		}
	}
	if procs == 0 {
		return fmt.Errorf("no nginx process %d", master)
	}
	ch <- prometheus.MustNewConstMetric(n.numProcs, prometheus.GaugeValue, float64(procs))
	ch <- prometheus.MustNewConstMetric(n.cpu, prometheus.CounterValue, cpu)
	ch <- prometheus.MustNewConstMetric(n.readBytes, prometheus.CounterValue, read)
	ch <- prometheus.MustNewConstMetric(n.writeBytes, prometheus.CounterValue, write)
	ch <- prometheus.MustNewConstMetric(n.resident, prometheus.GaugeValue, rss)
	ch <- prometheus.MustNewConstMetric(n.virtual, prometheus.GaugeValue, vsize)
	ch <- prometheus.MustNewConstMetric(n.start, prometheus.GaugeValue, oldest)
	return nil
}

func (n *nginxCollector) collectConnections(ch chan<- prometheus.Metric) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	body, err := n.status.Get(ctx, plan.ConnectionsPath)
	if err != nil {
		return err
	}
	s, err := parseStubStatus(body)
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(n.connectionsTotal, prometheus.CounterValue, s.accepted, "accepted")
	ch <- prometheus.MustNewConstMetric(n.connectionsTotal, prometheus.CounterValue, s.handled, "handled")
	ch <- prometheus.MustNewConstMetric(n.requestsTotal, prometheus.CounterValue, s.requests)
	ch <- prometheus.MustNewConstMetric(n.connections, prometheus.GaugeValue, s.active, "active")
	ch <- prometheus.MustNewConstMetric(n.connections, prometheus.GaugeValue, s.reading, "reading")
	ch <- prometheus.MustNewConstMetric(n.connections, prometheus.GaugeValue, s.writing, "writing")
	ch <- prometheus.MustNewConstMetric(n.connections, prometheus.GaugeValue, s.waiting, "waiting")
	return nil
}

// stubStatus is what nginx's stub_status answers.
type stubStatus struct {
	active, accepted, handled, requests, reading, writing, waiting float64
}

// parseStubStatus reads stub_status's four lines:
//
//	Active connections: 2
//	server accepts handled requests
//	 10 10 31
//	Reading: 0 Writing: 1 Waiting: 1
func parseStubStatus(b []byte) (stubStatus, error) {
	var s stubStatus
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if len(lines) < 4 {
		return s, fmt.Errorf("stub_status: %d lines", len(lines))
	}
	num := func(f string) (float64, error) { return strconv.ParseFloat(f, 64) }
	var err error
	active, ok := strings.CutPrefix(lines[0], "Active connections:")
	if !ok {
		return s, fmt.Errorf("stub_status: %q", lines[0])
	}
	if s.active, err = num(strings.TrimSpace(active)); err != nil {
		return s, err
	}
	counts := strings.Fields(lines[2])
	if len(counts) != 3 {
		return s, fmt.Errorf("stub_status: %q", lines[2])
	}
	for i, dst := range []*float64{&s.accepted, &s.handled, &s.requests} {
		if *dst, err = num(counts[i]); err != nil {
			return s, err
		}
	}
	f := strings.Fields(lines[3])
	if len(f) != 6 || f[0] != "Reading:" || f[2] != "Writing:" || f[4] != "Waiting:" {
		return s, fmt.Errorf("stub_status: %q", lines[3])
	}
	for i, dst := range []*float64{&s.reading, &s.writing, &s.waiting} {
		if *dst, err = num(f[2*i+1]); err != nil {
			return s, err
		}
	}
	return s, nil
}

// orphanCollector is orphan_ingress: 1 for each Ingress of the running
// model with a path whose Service reference is broken ("no-service") or
// whose Service has no ready endpoints ("no-endpoint"). Only orphans have
// a series (ingress-nginx keeps a 0 once an Ingress recovers).
type orphanCollector struct {
	desc    *prometheus.Desc
	running func() *model.Config
}

func newOrphanCollector(pod prometheus.Labels, running func() *model.Config) *orphanCollector {
	return &orphanCollector{running: running, desc: prometheus.NewDesc(ingressNginxNamespace+"_orphan_ingress",
		"1 for an Ingress with a path whose Service is missing (type no-service) or has no ready endpoints (no-endpoint).",
		[]string{"namespace", "ingress", "type"}, pod)}
}

func (o *orphanCollector) Describe(ch chan<- *prometheus.Desc) { ch <- o.desc }

func (o *orphanCollector) Collect(ch chan<- prometheus.Metric) {
	cfg := o.running()
	if cfg == nil {
		return
	}
	backends := make(map[string]*model.Backend, len(cfg.Backends))
	for _, be := range cfg.Backends {
		backends[be.Name] = be
	}
	type orphan struct {
		ing  model.IngressRef
		kind string
	}
	seen := map[orphan]bool{}
	for _, s := range cfg.Servers {
		for _, l := range s.Locations {
			be := backends[l.Backend]
			if be == nil || l.Ingress.Name == "" || len(be.Endpoints) > 0 {
				continue
			}
			o := orphan{l.Ingress, "no-endpoint"}
			if be.ServiceBroken {
				o.kind = "no-service"
			}
			seen[o] = true
		}
	}
	for x := range seen {
		ch <- prometheus.MustNewConstMetric(o.desc, prometheus.GaugeValue, 1, x.ing.Namespace, x.ing.Name, x.kind)
	}
}

// admissionFamilies follow the validating webhook's reviews: the checks
// per Ingress, and the last review's size and times.
type admissionFamilies struct {
	checks, checkErrors *prometheus.CounterVec
	tested, testedTime  prometheus.Gauge
	roundtrip           prometheus.Gauge
}

func newAdmissionFamilies(pod prometheus.Labels) *admissionFamilies {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: ingressNginxNamespace, Name: name, Help: help, ConstLabels: pod}
	}
	return &admissionFamilies{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts(opts("check_success", "Ingresses the validating webhook admitted.")),
			[]string{"namespace", "ingress"}),
		checkErrors: prometheus.NewCounterVec(prometheus.CounterOpts(opts("check_errors", "Ingresses the validating webhook refused.")),
			[]string{"namespace", "ingress"}),
		tested: prometheus.NewGauge(prometheus.GaugeOpts(opts("admission_tested_ingresses",
			"Ingresses the last review built the model of (the reviewed one with every other)."))),
		testedTime: prometheus.NewGauge(prometheus.GaugeOpts(opts("admission_tested_duration",
			"Seconds the last review's model build took."))),
		roundtrip: prometheus.NewGauge(prometheus.GaugeOpts(opts("admission_roundtrip_duration",
			"Seconds the last review took, from its request read to its answer."))),
	}
}

func (a *admissionFamilies) collectors() []prometheus.Collector {
	return []prometheus.Collector{a.checks, a.checkErrors, a.tested, a.testedTime, a.roundtrip}
}
