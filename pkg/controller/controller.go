package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/render"
	"github.com/portico-ingress/portico/pkg/report"
	"github.com/portico-ingress/portico/pkg/statusport"
	"github.com/portico-ingress/portico/pkg/watch"
)

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
	// EnableMetrics exports ingress-nginx's nginx_ingress_controller_*
	// families on /metrics (--enable-metrics), labelled with this
	// controller's Pod (Election's Identity and Namespace) and controller
	// class; MetricsPerHost keeps the per-request families' host label.
	// Portico's own portico_* families are always there.
	EnableMetrics, MetricsPerHost bool
	// PublishStatusAddresses go into status.loadBalancer of our Ingresses.
	PublishStatusAddresses []string
	// ShutdownGrace bounds nginx's graceful stop beyond the
	// worker_shutdown_timeout in effect (worker-shutdown-timeout), after
	// which nginx ends its workers itself.
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
	// served the versions of them it served (the previous one of an
	// Ingress whose latest the model refuses: model.Input.Served), and
	// held the Ingresses whose latest version nginx refused
	// (quarantine.go); only the sync goroutine uses them.
	applied map[model.IngressRef]*networkingv1.Ingress
	served  map[model.IngressRef]*networkingv1.Ingress
	held    map[model.IngressRef]heldIngress
	// heldCM are the ConfigMap keys nginx refused (heldkeys.go); only
	// the sync goroutine uses it.
	heldCM *heldKeys

	synced     atomic.Bool  // one sync has completed
	eventRetry atomic.Bool  // a sync for findings over their Event budget is due
	lastErr    atomic.Value // string: error of the last sync, "" when it worked
	// lastSync is the *model.Config of the last successful sync, for
	// /status; nil while a sync runs (so that the garbage collector may
	// take it while the next one is built: at 10,000 Ingresses a model is
	// ~100 MB) and after a failed one.
	lastSync atomic.Value
	// routedFile renders the routed-hosts file; the sync loop's alone.
	routedFile render.RoutedHostsFile
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
	cfg.Plan.RoutedHostsFile = filepath.Join(cfg.ConfigDir, "routed-hosts.conf")
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
			Nginx: &apply.Nginx{Binary: cfg.NginxBinary, Conf: filepath.Join(cfg.ConfigDir, "nginx.conf"), Stderr: os.Stderr,
				Sockets: plan.Sockets(cfg.Plan.RunDir)},
			Status:      statusport.Loopback(cfg.Plan.StatusPort),
			Log:         log.Named("apply"),
			LoadTimeout: 30 * time.Second,
			AuthFiles:   &apply.AuthFiles{Dir: filepath.Join(cfg.Plan.RunDir, "auth"), Owned: owned},
			PeerFiles:   &apply.AuthFiles{Dir: plan.PeersDir(cfg.Plan.RunDir), Owned: owned},
			Owned:       owned,
			RoutedHosts: cfg.Plan.RoutedHostsFile,
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

// publishAddresses are the addresses Ingress status gets: the flag's, else
// the publish Service's.
func (c *Controller) publishAddresses(snap watch.Snapshot) []string {
	if len(c.cfg.PublishStatusAddresses) > 0 {
		return c.cfg.PublishStatusAddresses
	}
	return report.PublishAddresses(snap.PublishService, snap.Nodes, c.cfg.NodeInternalIP)
}
