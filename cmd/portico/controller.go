package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/controller"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/render"
	"github.com/portico-ingress/portico/pkg/watch"
)

type controllerFlags struct {
	kubeconfig             string
	ingressClass           string
	controllerClass        string
	watchNamespace         string
	watchWithoutClass      bool
	configMap              string
	defaultBackendService  string
	defaultSSLCertificate  string
	publishStatusAddresses []string
	resolvers              []string
	httpPort, httpsPort    int
	healthzPort            int
	statusPort             int
	nginxBinary            string
	configDir              string
	luaDir                 string
	modulesDir             string
	syncPeriod             time.Duration
	shutdownGrace          time.Duration
	logLevel               string
	// Cluster operation (issue 6).
	publishService     string
	updateStatus       bool
	profiling          bool
	electionID         string
	webhookAddr        string
	webhookCertificate string
	webhookKey         string
}

func newControllerCommand() *cobra.Command {
	var f controllerFlags
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Watch Ingresses and serve them with nginx",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			defer cfg.Log.Sync() //nolint:errcheck
			return controller.Run(ctx, cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path to a kubeconfig; empty means the in-cluster config")
	fs.StringVar(&f.ingressClass, "ingress-class", "nginx", "class name matched against the legacy kubernetes.io/ingress.class annotation")
	fs.StringVar(&f.controllerClass, "controller-class", "k8s.io/ingress-nginx", "IngressClass spec.controller value this controller serves")
	fs.StringVar(&f.watchNamespace, "watch-namespace", "", "namespace to watch; empty means all")
	fs.BoolVar(&f.watchWithoutClass, "watch-ingress-without-class", false, "also serve Ingresses that name no class")
	fs.StringVar(&f.configMap, "configmap", "", "the controller's ConfigMap as namespace/name")
	fs.StringVar(&f.defaultBackendService, "default-backend-service", "", "Service (namespace/name) for requests that match no rule; empty answers 404")
	fs.StringVar(&f.defaultSSLCertificate, "default-ssl-certificate", "", "TLS Secret (namespace/name) served for unknown SNI names and hosts whose Secret is unusable; empty uses a self-signed one made at start")
	fs.StringSliceVar(&f.publishStatusAddresses, "publish-status-address", nil, "addresses (IPs or host names, comma-separated) written to the status of served Ingresses")
	fs.StringSliceVar(&f.resolvers, "resolver", nil, "nameservers (IP, or IP:port; comma-separated) nginx resolves host names with at request time, such as auth-url's; empty uses /etc/resolv.conf's")
	fs.IntVar(&f.httpPort, "http-port", 80, "port for HTTP traffic")
	fs.IntVar(&f.httpsPort, "https-port", 443, "port for HTTPS traffic")
	fs.IntVar(&f.healthzPort, "healthz-port", 10254, "port for /healthz, /metrics and /status")
	fs.BoolVar(&f.profiling, "profiling", false, "serve Go's /debug/pprof/ on the healthz port")
	fs.IntVar(&f.statusPort, "status-port", 10246, "loopback port of nginx's configuration endpoint")
	fs.StringVar(&f.nginxBinary, "nginx-binary", "/usr/sbin/nginx", "nginx executable")
	fs.StringVar(&f.configDir, "config-dir", "/etc/nginx", "directory where nginx.conf is written")
	fs.StringVar(&f.luaDir, "lua-dir", "/etc/nginx/lua", "directory holding Portico's Lua modules")
	fs.StringVar(&f.modulesDir, "modules-dir", "/usr/lib/nginx/modules", "directory holding the nginx ndk and lua modules")
	fs.DurationVar(&f.syncPeriod, "sync-period", 0, "how often to replay every cached object; 0 disables")
	fs.DurationVar(&f.shutdownGrace, "shutdown-grace-period", 60*time.Second, "how long nginx may drain requests on shutdown")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.publishService, "publish-service", "", "Service (namespace/name) whose load-balancer address (node addresses for NodePort) goes into Ingress status, unless --publish-status-address is set")
	fs.BoolVar(&f.updateStatus, "update-status", true, "write Ingress status (the elected leader among replicas does)")
	fs.StringVar(&f.electionID, "election-id", "ingress-nginx-leader", "name of the coordination Lease replicas elect the status writer with, in $POD_NAMESPACE (default: default)")
	fs.StringVar(&f.webhookAddr, "validating-webhook", "", "address (e.g. :8443) of the validating admission webhook for Ingresses; empty disables it")
	fs.StringVar(&f.webhookCertificate, "validating-webhook-certificate", "", "PEM serving certificate of the validating webhook")
	fs.StringVar(&f.webhookKey, "validating-webhook-key", "", "PEM private key of the validating webhook")
	return cmd
}

// config validates the flags and builds the controller's configuration.
func (f *controllerFlags) config() (controller.Config, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	ports := map[int]string{}
	for _, p := range []struct {
		name string
		v    int
	}{{"--http-port", f.httpPort}, {"--https-port", f.httpsPort}, {"--healthz-port", f.healthzPort}, {"--status-port", f.statusPort}} {
		if p.v < 1 || p.v > 65535 {
			bad("%s=%d: want a port from 1 to 65535", p.name, p.v)
		} else if other, dup := ports[p.v]; dup {
			bad("%s and %s are both %d", other, p.name, p.v)
		}
		ports[p.v] = p.name
	}
	if f.ingressClass == "" {
		bad("--ingress-class must not be empty")
	}
	if f.controllerClass == "" {
		bad("--controller-class must not be empty")
	}
	var resolvers []string
	for _, r := range f.resolvers {
		if ns, err := apply.ParseResolver(r); err != nil {
			bad("--resolver: %v", err)
		} else {
			resolvers = append(resolvers, ns)
		}
	}
	var cmNS, cmName string
	if f.configMap != "" {
		ns, name, ok := splitNamespacedName(f.configMap)
		if !ok {
			bad("--configmap=%q: want namespace/name", f.configMap)
		}
		cmNS, cmName = ns, name
	}
	var defBackend *model.ServiceRef
	if f.defaultBackendService != "" {
		ns, name, ok := splitNamespacedName(f.defaultBackendService)
		if !ok {
			bad("--default-backend-service=%q: want namespace/name", f.defaultBackendService)
		}
		defBackend = &model.ServiceRef{Namespace: ns, Name: name}
	}
	var defCert *model.SecretRef
	if f.defaultSSLCertificate != "" {
		ns, name, ok := splitNamespacedName(f.defaultSSLCertificate)
		if !ok {
			bad("--default-ssl-certificate=%q: want namespace/name", f.defaultSSLCertificate)
		}
		defCert = &model.SecretRef{Namespace: ns, Name: name}
	}
	for _, a := range f.publishStatusAddresses {
		if _, err := netip.ParseAddr(a); err != nil && !isDNSName(a) {
			bad("--publish-status-address=%q: want an IP address or a DNS name", a)
		}
	}
	var psNS, psName string
	if f.publishService != "" {
		ns, name, ok := splitNamespacedName(f.publishService)
		if !ok {
			bad("--publish-service=%q: want namespace/name", f.publishService)
		}
		psNS, psName = ns, name
	}
	if f.updateStatus && !isDNSName(f.electionID) {
		bad("--election-id=%q: want a DNS name (lowercase letters, digits, '-' and '.')", f.electionID)
	}
	if f.webhookAddr != "" {
		if _, port, err := net.SplitHostPort(f.webhookAddr); err != nil || port == "" {
			bad("--validating-webhook=%q: want host:port or :port", f.webhookAddr)
		}
		if f.webhookCertificate == "" || f.webhookKey == "" {
			bad("--validating-webhook needs --validating-webhook-certificate and --validating-webhook-key")
		}
	}
	if f.syncPeriod < 0 {
		bad("--sync-period must not be negative")
	}
	nginx, err := exec.LookPath(f.nginxBinary)
	if err != nil {
		bad("--nginx-binary=%q: %v", f.nginxBinary, err)
	}
	if st, err := os.Stat(filepath.Join(f.luaDir, "portico", "balancer.lua")); err != nil || st.IsDir() {
		bad("--lua-dir=%q does not hold portico/balancer.lua", f.luaDir)
	}
	for _, m := range []string{"ndk_http_module.so", "ngx_http_lua_module.so"} {
		if _, err := os.Stat(filepath.Join(f.modulesDir, m)); err != nil {
			bad("--modules-dir=%q does not hold %s", f.modulesDir, m)
		}
	}
	var level zapcore.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		bad("--log-level=%q: want debug, info, warn or error", f.logLevel)
	}
	if len(errs) > 0 {
		return controller.Config{}, errors.Join(errs...)
	}

	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.Encoding = "console"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	zc.EncoderConfig.EncodeDuration = zapcore.StringDurationEncoder
	log, err := zc.Build()
	if err != nil {
		return controller.Config{}, err
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", f.kubeconfig)
	if err != nil {
		return controller.Config{}, fmt.Errorf("kubeconfig: %w", err)
	}
	restCfg.UserAgent = "portico"
	// client-go's default (5/s, bursts of 10) makes the first status write
	// of 10,000 Ingresses take over half an hour.
	restCfg.QPS, restCfg.Burst = 50, 100
	restCfg.Wrap(watch.WaitingReads(func(down bool, err error, after time.Duration) {
		if down {
			log.Warn("API server unreachable: nginx keeps serving its config; informers wait for the API server", zap.String("host", restCfg.Host), zap.Error(err))
		} else {
			log.Info("API server reachable again", zap.String("host", restCfg.Host), zap.Duration("after", after))
		}
	}))
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return controller.Config{}, err
	}
	configDir, err := filepath.Abs(f.configDir)
	if err != nil {
		return controller.Config{}, err
	}
	luaDir, _ := filepath.Abs(f.luaDir)
	return controller.Config{
		Client: client,
		Watch: watch.Options{
			Namespace:          f.watchNamespace,
			ConfigMapNamespace: cmNS,
			ConfigMapName:      cmName,
			Resync:             f.syncPeriod,

			PublishServiceNamespace: psNS,
			PublishServiceName:      psName,
		},
		Model: model.Options{
			IngressClass:       f.ingressClass,
			ControllerClass:    f.controllerClass,
			WatchWithoutClass:  f.watchWithoutClass,
			DefaultBackend:     defBackend,
			DefaultCertificate: defCert,
		},
		Render: render.Options{
			HTTPPort:   f.httpPort,
			HTTPSPort:  f.httpsPort,
			StatusPort: f.statusPort,
			LuaDir:     luaDir,
			ModulesDir: f.modulesDir,
			Resolvers:  resolvers,
		},
		NginxBinary:            nginx,
		ConfigDir:              configDir,
		HealthzPort:            f.healthzPort,
		Profiling:              f.profiling,
		PublishStatusAddresses: f.publishStatusAddresses,
		ShutdownGrace:          f.shutdownGrace,
		Log:                    log,
		UpdateStatus:           f.updateStatus,
		Election:               controller.Election{Namespace: podNamespace(), ID: f.electionID, Identity: podName()},
		Webhook:                controller.Webhook{Addr: f.webhookAddr, CertFile: f.webhookCertificate, KeyFile: f.webhookKey},
	}, nil
}

// podNamespace is $POD_NAMESPACE (the downward API), else "default".
func podNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return "default"
}

// podName is $POD_NAME (the downward API), else the host name.
func podName() string {
	if n := os.Getenv("POD_NAME"); n != "" {
		return n
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return fmt.Sprintf("portico-%d", os.Getpid())
}

func splitNamespacedName(s string) (string, string, bool) {
	ns, name, ok := strings.Cut(s, "/")
	return ns, name, ok && isDNSLabel(ns) && isDNSName(name)
}
