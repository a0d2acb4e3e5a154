package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/render"
	"github.com/portico-ingress/portico/pkg/report"
	"github.com/portico-ingress/portico/pkg/statusport"
	"github.com/portico-ingress/portico/pkg/watch"
)

// applyTimeout bounds one Apply: reload, wait, push. nginx parses a
// config of 10,000 hosts in about a minute on 2 busy cores; a reload given
// up on would be repeated forever.
const applyTimeout = 5 * time.Minute

// Config is everything the controller needs; cmd/portico fills it from flags.
type Config struct {
	Client kubernetes.Interface
	Watch  watch.Options
	Model  model.Options
	// Plan.RunDir is derived from ConfigDir.
	Plan        plan.Options
	NginxBinary string
	// ConfigDir is where nginx.conf is written.
	ConfigDir string
	// HealthzPort serves the health check, /metrics and /status, on
	// HealthzHost ("" means every address).
	HealthzPort int
	HealthzHost string
	// HealthCheckPath is the health check's path; "" means /healthz.
	HealthCheckPath string
	// ProfilerAddr, when set, serves Go's /debug/pprof/ (host:port).
	ProfilerAddr string
	// RequestMetrics exports the per-request families on /metrics;
	// MetricsPerHost keeps their host label (else it is "").
	RequestMetrics, MetricsPerHost bool
	// PublishStatusAddresses go into status.loadBalancer of our Ingresses.
	PublishStatusAddresses []string
	// ShutdownGrace bounds nginx's graceful stop.
	ShutdownGrace time.Duration
	// Shutdown holds the steps around nginx's stop (shutdown.go).
	Shutdown Shutdown
	Log      *zap.Logger

	// UpdateStatus makes the leader write Ingress status: the
	// PublishStatusAddresses, else those of Watch's publish Service.
	UpdateStatus bool
	// Election is used when UpdateStatus is set.
	Election Election
	// NodeInternalIP publishes nodes' InternalIP first
	// (--report-node-internal-ip-address).
	NodeInternalIP bool
	// DisableSyncEvents: no Normal "Sync" Event when an Ingress is served
	// (--disable-sync-events); Warning Events stay.
	DisableSyncEvents bool
	// Webhook, when Addr is set, serves Ingress admission reviews.
	Webhook Webhook
}

// Controller is a running Portico.
type Controller struct {
	cfg     Config
	log     *zap.Logger
	watcher *watch.Watcher
	applier *apply.Applier
	status  *report.Status
	statusQ *statusLoop // sets of statuses for runStatus
	events  *report.Events
	metrics *metrics

	elector *elector
	// dataFiles are the operator's mounted files nginx reads, by copy.
	dataFiles *apply.DataFiles
	stopping  atomic.Bool // ctx ended: /healthz fails, nginx drains
	// last is the last plan nginx took (nil before the first), the
	// previous plan of the next. Between syncs it carries its whole model;
	// while a sync builds the next, only what the next is made from
	// (plan.Carried): the garbage collector may take the model meanwhile.
	// The sync goroutine writes it; the webhook reads it.
	last atomic.Pointer[plan.Plan]
	// applied holds the Ingress objects of the last config nginx took,
	// and held the Ingresses whose latest version nginx refused
	// (quarantine.go); only the sync goroutine uses them.
	applied map[model.IngressRef]*networkingv1.Ingress
	held    map[model.IngressRef]heldIngress

	synced     atomic.Bool  // one sync has completed
	eventRetry atomic.Bool  // a sync for findings over their Event budget is due
	lastErr    atomic.Value // string: error of the last sync, "" when it worked
	// lastSync is the *model.Config of the last successful sync, for
	// /status; nil while a sync runs (so that the garbage collector may
	// take it while the next one is built: at 10,000 Ingresses a model is
	// ~100 MB) and after a failed one.
	lastSync atomic.Value
}

// Run runs the controller until ctx ends, then stops nginx gracefully.
func Run(ctx context.Context, cfg Config) error {
	c, err := newController(cfg)
	if err != nil {
		return err
	}
	return c.run(ctx)
}

func newController(cfg Config) (*Controller, error) {
	cfg.Plan.RunDir = filepath.Join(cfg.ConfigDir, "run")
	if err := os.MkdirAll(cfg.Plan.RunDir, 0o755); err != nil {
		return nil, fmt.Errorf("config dir: %w", err)
	}
	crt, key, err := apply.WriteDefaultCertificate(cfg.Plan.RunDir)
	if err != nil {
		return nil, err
	}
	owned := &apply.OwnedFiles{Log: cfg.Log.Named("drift")}
	if err := owned.Own(crt, key); err != nil {
		return nil, err
	}
	cfg.Plan.DefaultCertificate, cfg.Plan.DefaultCertificateKey = crt, key
	if cfg.Plan.Resolvers == nil {
		conf, _ := os.ReadFile("/etc/resolv.conf") // none: auth-url host names do not resolve
		cfg.Plan.Resolvers = plan.Resolvers(conf)
	}
	log := cfg.Log
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cfg.Client.CoreV1().Events("")})
	c := &Controller{
		cfg:     cfg,
		log:     log,
		watcher: watch.New(cfg.Client, cfg.Watch),
		applier: &apply.Applier{
			Nginx:       &apply.Nginx{Binary: cfg.NginxBinary, Conf: filepath.Join(cfg.ConfigDir, "nginx.conf"), Stderr: os.Stderr},
			Status:      statusport.Loopback(cfg.Plan.StatusPort),
			Log:         log.Named("apply"),
			LoadTimeout: 30 * time.Second,
			AuthFiles:   &apply.AuthFiles{Dir: filepath.Join(cfg.Plan.RunDir, "auth"), Owned: owned},
			Owned:       owned,
		},
		status:  &report.Status{Client: cfg.Client, Addresses: cfg.PublishStatusAddresses, Timeout: 10 * time.Second},
		statusQ: newStatusLoop(),
		events:  &report.Events{Recorder: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "portico"})},
	}
	c.dataFiles = &apply.DataFiles{Dir: filepath.Join(cfg.Plan.RunDir, "data"), Log: log.Named("datafiles"),
		Changed: func(path string) { c.watcher.Trigger("DataFile " + path + " changed") }}
	c.lastErr.Store("")
	// What nginx refused of a background push is reported by a sync.
	c.applier.OnRefused = func() { c.watcher.Trigger("nginx refused pushed items") }
	if cfg.UpdateStatus {
		c.elector = &elector{cfg: cfg.Election, client: cfg.Client, log: log.Named("leader"),
			onStart: func() { c.watcher.Trigger("leader elected") }}
	}
	c.metrics = newMetrics(prometheus.NewRegistry(), c)
	return c, nil
}

func (c *Controller) run(ctx context.Context) error {
	srv, err := c.serveHealth()
	if err != nil {
		return err
	}
	defer srv.Close()
	if c.cfg.ProfilerAddr != "" {
		prof, err := c.serveProfiler()
		if err != nil {
			return err
		}
		defer prof.Close()
	}
	if err := c.writePIDFile(); err != nil {
		return err
	}
	c.log.Info("waiting for caches")
	if err := c.watcher.Start(ctx); err != nil {
		return err
	}
	c.log.Info("caches synced; starting")
	c.applier.Owned.Watch(ctx)
	c.dataFiles.Watch(ctx)
	go c.applier.Supervise(ctx)
	go c.applier.PushLoop(ctx)
	go c.runStatus(ctx)
	electDone := make(chan struct{})
	if c.elector != nil {
		go func() { c.elector.run(ctx); close(electDone) }()
	} else {
		close(electDone)
	}
	if c.cfg.Webhook.Addr != "" {
		wh, err := c.serveWebhook(ctx)
		if err != nil {
			return err
		}
		defer wh.Close()
	}
	for {
		change, ok := c.watcher.Next()
		if !ok {
			break
		}
		err := c.sync(ctx, change)
		if err != nil && ctx.Err() == nil {
			c.log.Error("sync failed; nginx keeps its last good config; will retry", zap.Error(err))
		}
		c.watcher.Done(err)
	}
	c.stopping.Store(true)
	c.shutdown(electDone)
	return nil
}

// sync runs the pipeline once.
func (c *Controller) sync(ctx context.Context, change watch.Change) (err error) {
	start := time.Now()
	reasons := change.Reasons
	defer func() {
		c.metrics.observeSync(time.Since(start), err)
		if err != nil {
			c.lastErr.Store(err.Error())
		} else {
			c.lastErr.Store("")
		}
	}()
	if change.EndpointsOnly {
		if done, err := c.syncEndpoints(ctx, reasons); done {
			return err
		}
	}
	c.lastSync.Store((*model.Config)(nil))
	if prev := c.last.Load(); prev != nil {
		c.last.Store(prev.Carried())
	}
	snap := c.watcher.Snapshot()
	in := c.modelInput(snap)
	in.Ingresses = c.holdBack(snap.Ingresses)
	reason := strings.Join(reasons, ", ")
	cfg, res, err := c.buildAndApply(ctx, in, reasons)
	var rejected *apply.RejectedError
	if errors.As(err, &rejected) {
		// One Ingress's change (a snippet) may be what nginx refuses: serve
		// the others and keep that one at its last good version.
		if icfg, ires, iin, ok := c.isolate(ctx, in, reasons, err); ok {
			cfg, res, in, err = icfg, ires, iin, nil
		}
	}
	if err != nil {
		if cfg != nil {
			c.reportNotApplied(snap, cfg, err)
		}
		return err
	}
	c.rememberApplied(in.Ingresses)
	if ds := refusalDiagnostics(c.applier.Refused(), cfg, in.Ingresses); len(ds) > 0 {
		cfg.Diagnostics = append(cfg.Diagnostics, ds...)
		diag.Sort(cfg.Diagnostics)
	}
	c.lastSync.Store(cfg)
	c.synced.Store(true)
	c.log.Debug("synced", zap.String("reason", reason), zap.Bool("reloaded", res.Reloaded),
		zap.Bool("pushed", res.Pushed), zap.Duration("took", time.Since(start)))
	c.reportDiagnostics(snap, cfg)
	if c.elector == nil || !c.elector.Leading() {
		return nil
	}
	c.statusQ.offer(statusWork{addresses: c.publishAddresses(snap), ingresses: ownedIngresses(snap, cfg)})
	return nil
}

// syncEndpoints applies a change to EndpointSlices alone to the last plan
// nginx took, when it is whole (the last sync worked): its backends get
// the slices' endpoints and Lua their document; no model is built,
// nothing rendered, nginx.conf stays. done is false when there is no
// such plan: a full sync is needed.
func (c *Controller) syncEndpoints(ctx context.Context, reasons []string) (done bool, err error) {
	last := c.last.Load()
	running, _ := c.lastSync.Load().(*model.Config)
	if last == nil || running == nil || last.Model != running {
		return false, nil
	}
	start := time.Now()
	snap := c.watcher.Snapshot()
	p, err := last.WithEndpoints(last.Model.WithEndpoints(snap.Services, snap.EndpointSlices))
	if err != nil {
		return true, err
	}
	res, err := c.apply(ctx, nil, "", p, reasons)
	if err != nil {
		return true, err
	}
	c.lastSync.Store(p.Model)
	c.log.Debug("synced endpoints", zap.Strings("reasons", reasons), zap.Bool("pushed", res.Pushed), zap.Duration("took", time.Since(start)))
	return true, nil
}

// buildAndApply runs model, plan, render and apply once on in.
//
// nginx.conf names copies of the data files the model names: the new
// version of one unless nginx refused it (apply.DataFiles).
func (c *Controller) buildAndApply(ctx context.Context, in model.Input, reasons []string) (cfg *model.Config, res apply.Result, err error) {
	built := model.Build(in)
	err = c.dataFiles.Apply(built.DataFiles, func(copies map[string]string) error {
		opts := c.cfg.Plan
		opts.DataFiles = copies
		var aerr error
		cfg, res, aerr = c.planAndApply(ctx, built, opts, reasons)
		return aerr
	})
	return cfg, res, err
}

// planAndApply makes the plan of cfg with opts, renders it and applies
// it.
func (c *Controller) planAndApply(ctx context.Context, cfg *model.Config, opts plan.Options, reasons []string) (*model.Config, apply.Result, error) {
	p, err := plan.Make(cfg, c.last.Load(), opts)
	if err != nil {
		return nil, apply.Result{}, err
	}
	conf, sum, err := render.Render(p)
	if err != nil {
		return nil, apply.Result{}, err
	}
	res, err := c.apply(ctx, conf, sum, p, reasons)
	return cfg, res, err
}

// apply gives nginx conf (nil: the one it runs) with p's Lua documents
// and files, counts a load in the metrics, and once nginx took them keeps
// p as the last plan.
func (c *Controller) apply(ctx context.Context, conf []byte, sum string, p *plan.Plan, reasons []string) (apply.Result, error) {
	// A stuck nginx must not stall the loop: give up and retry with backoff.
	actx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	before, wasRunning := c.applier.Stats(), c.applier.Nginx.Running()
	applyStart := time.Now()
	res, err := c.applier.Apply(actx, conf, sum, apply.Dynamic{Documents: p.Documents, AuthFiles: p.AuthFiles}, strings.Join(reasons, ", "))
	if after := c.applier.Stats(); after.Reloads > before.Reloads || after.ReloadFailures > before.ReloadFailures {
		var loadErr error
		if after.ReloadFailures > before.ReloadFailures {
			loadErr = err
		}
		c.metrics.observeLoad(reloadReason(wasRunning, reasons), time.Since(applyStart), loadErr)
	}
	if err == nil {
		c.last.Store(p)
	}
	return res, err
}

// modelInput is the model's input from a snapshot of the caches.
func (c *Controller) modelInput(snap watch.Snapshot) model.Input {
	var prev *model.Config
	if p := c.last.Load(); p != nil {
		prev = p.Model
	}
	return model.Input{
		Ingresses:      snap.Ingresses,
		IngressClasses: snap.IngressClasses,
		Services:       snap.Services,
		EndpointSlices: snap.EndpointSlices,
		Secrets:        snap.Secrets,
		ConfigMap:      snap.ConfigMap,
		Previous:       prev,
		Options:        c.cfg.Model,
		Now:            time.Now(),
	}
}

// publishAddresses are the addresses Ingress status gets: the flag's, else
// the publish Service's.
func (c *Controller) publishAddresses(snap watch.Snapshot) []string {
	if len(c.cfg.PublishStatusAddresses) > 0 {
		return c.cfg.PublishStatusAddresses
	}
	return report.PublishAddresses(snap.PublishService, snap.Nodes, c.cfg.NodeInternalIP)
}
