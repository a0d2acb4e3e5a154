package controller

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/statusport"
)

type metrics struct {
	registry     *prometheus.Registry
	syncDuration *prometheus.HistogramVec
	// Config loads (start or reload) by reason and result.
	reloads            *prometheus.CounterVec
	lastReloadDuration prometheus.Gauge
	lastReloadSuccess  prometheus.Gauge
	// Findings reported as Events, by object kind, severity and reason.
	findings *prometheus.CounterVec
	// loads and admission are ingress-nginx's families of the loads and
	// of the webhook's reviews, nil without --enable-metrics.
	loads     *loadFamilies
	admission *admissionFamilies
}

func newMetrics(reg *prometheus.Registry, c *Controller) *metrics {
	m := &metrics{
		registry: reg,
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portico_sync_duration_seconds",
			Help:    "Time of one sync: watch→model→plan→render→apply, or an endpoints-only change.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_nginx_reloads_total",
			Help: "Config loads (start or reload) by reason (start, or the kinds of changed objects) and result (success, failure).",
		}, []string{"reason", "result"}),
		lastReloadDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portico_nginx_last_reload_duration_seconds", Help: "Time the last successful config load took: nginx -t, reload, new workers serving, Lua pushes."}),
		lastReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portico_nginx_last_reload_success", Help: "1 when the last config load took effect, 0 when it failed."}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_findings_total",
			Help: "Problems reported as Events and log lines (rejected values, missing references, configs nginx did not take), by object kind, severity and reason.",
		}, []string{"kind", "severity", "reason"}),
	}
	stat := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.syncDuration,
		m.reloads, m.lastReloadDuration, m.lastReloadSuccess, m.findings,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portico_config_hash",
			Help: "The running nginx.conf's checksum: its first 52 bits as a number."},
			func() float64 { return checksumNumber(c.applier.Stats().Checksum) }),
		stat("portico_nginx_reload_failures_total", "Config loads refused by nginx -t or that did not take effect.",
			func() float64 { return float64(c.applier.Stats().ReloadFailures) }),
		stat("portico_nginx_restarts_total", "Restarts of an nginx master that died.",
			func() float64 { return float64(c.applier.Stats().Restarts) }),
		stat("portico_lua_pushes_total", "Backend sets pushed to the Lua balancer.",
			func() float64 { return float64(c.applier.Stats().Pushes) }),
		stat("portico_config_drift_edits_total", "Changes Portico did not make to files it writes under the config dir (nginx.conf and the files beside it), each undone by writing Portico's version back.",
			func() float64 { return float64(c.applier.Owned.Drift().Edits) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portico_config_drift",
			Help: "Files Portico writes under the config dir that differ from Portico's version now (writing it back failed)."},
			func() float64 { return float64(len(c.applier.Owned.Drift().Unrestored)) }),
	)
	if c.cfg.EnableMetrics {
		pod := c.podLabels()
		status := statusport.Loopback(c.cfg.Plan.StatusPort)
		log := c.log.Named("metrics")
		m.loads = newLoadFamilies(pod, func() float64 { return checksumNumber(c.applier.Stats().Checksum) })
		reg.MustRegister(m.loads.collectors()...)
		running := func() *model.Config {
			cfg, _ := c.lastSync.Load().(*model.Config)
			return cfg
		}
		reg.MustRegister(
			newRequestCollector(status, c.cfg.MetricsPerHost, pod, log),
			newNginxCollector(pod, func() int { return c.applier.Nginx.PID() }, status, log),
			newCertificateCollector(c.cfg.Model.ControllerClass, running),
			newOrphanCollector(pod, running))
		if c.cfg.Webhook.Addr != "" {
			m.admission = newAdmissionFamilies(pod)
			reg.MustRegister(m.admission.collectors()...)
		}
		if c.elector != nil {
			reg.MustRegister(leaderGauge(pod, c.elector))
		}
	}
	return m
}

// observeLoad records one config load attempt.
func (m *metrics) observeLoad(reason string, took time.Duration, err error) {
	if m.loads != nil {
		m.loads.observe(err)
	}
	if err != nil {
		m.reloads.WithLabelValues(reason, "failure").Inc()
		m.lastReloadSuccess.Set(0)
		return
	}
	m.reloads.WithLabelValues(reason, "success").Inc()
	m.lastReloadSuccess.Set(1)
	m.lastReloadDuration.Set(took.Seconds())
}

func (m *metrics) observeSync(d time.Duration, err error) {
	result := "success"
	if err != nil {
		result = "error"
	}
	m.syncDuration.WithLabelValues(result).Observe(d.Seconds())
}

// reloadReason is a bounded label for why a load happened: "start" or the
// kinds of the changed objects, e.g. "ConfigMap+Ingress".
func reloadReason(wasRunning bool, reasons []string) string {
	if !wasRunning {
		return "start"
	}
	seen := map[string]bool{}
	var kinds []string
	for _, r := range reasons {
		k, _, _ := strings.Cut(r, " ")
		if k == "and" || k == "" || seen[k] {
			continue
		}
		seen[k] = true
		kinds = append(kinds, k)
	}
	if len(kinds) == 0 {
		return "other"
	}
	// reasons are sorted, so kinds are too.
	return strings.Join(kinds, "+")
}

// checksumNumber is the first 52 bits of a hex checksum, exact in a float64.
func checksumNumber(sum string) float64 {
	if len(sum) < 13 {
		return 0
	}
	n, err := strconv.ParseUint(sum[:13], 16, 64)
	if err != nil {
		return 0
	}
	return float64(n)
}

// observeTest records a review's model build: of tested Ingresses, in
// took.
func (m *metrics) observeTest(tested int, took time.Duration) {
	if m.admission != nil {
		m.admission.tested.Set(float64(tested))
		m.admission.testedTime.Set(took.Seconds())
	}
}

// observeReview records a review of an Ingress: admitted or not, and how
// long the whole review took.
func (m *metrics) observeReview(namespace, name string, admitted bool, took time.Duration) {
	if m.admission == nil {
		return
	}
	if admitted {
		m.admission.checks.WithLabelValues(namespace, name).Inc()
	} else {
		m.admission.checkErrors.WithLabelValues(namespace, name).Inc()
	}
	m.admission.roundtrip.Set(took.Seconds())
}
