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
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/portico-ingress/portico/pkg/controller"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/watch"
)

// nginxStopMargin is how long nginx may take to stop on shutdown beyond
// its worker_shutdown_timeout (worker-shutdown-timeout, 240s as in
// ingress-nginx), after which it ends its workers itself; then it is
// killed.
const nginxStopMargin = 10 * time.Second

func newControllerCommand() *cobra.Command {
	var f controllerFlags
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Watch Ingresses and serve them with nginx",
		Long: `Watches Ingresses and serves them with nginx. Takes ingress-nginx's
controller flags: the image runs "/nginx-ingress-controller ARGS" of
ingress-nginx's chart as "portico controller ARGS".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.showVersion {
				cmd.Println(version)
				return nil
			}
			cfg, err := f.config(cmd.Flags())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			defer cfg.Log.Sync() //nolint:errcheck
			return controller.Run(ctx, cfg)
		},
	}
	f.register(cmd.Flags())
	cmd.SetUsageFunc(func(c *cobra.Command) error {
		fmt.Fprintf(c.OutOrStderr(), "Usage:\n  %s\n\n%s", c.UseLine(), groupedUsage(c.Flags()))
		return nil
	})
	return cmd
}

// config validates the flags and builds the controller's configuration.
func (f *controllerFlags) config(fs *pflag.FlagSet) (controller.Config, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	ports := map[int]string{}
	listen := []struct {
		name string
		v    int
	}{{"--http-port", f.httpPort}, {"--https-port", f.httpsPort}, {"--healthz-port", f.healthzPort}, {"--status-port", f.statusPort}}
	if f.profiling {
		listen = append(listen, struct {
			name string
			v    int
		}{"--profiler-port", f.profilerPort})
	}
	for _, p := range listen {
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
		if ns, err := plan.ParseResolver(r); err != nil {
			bad("--resolver: %v", err)
		} else {
			resolvers = append(resolvers, ns)
		}
	}
	namespaced := func(flag, v string) (string, string) {
		if v == "" {
			return "", ""
		}
		ns, name, ok := splitNamespacedName(v)
		if !ok {
			bad("--%s=%q: want namespace/name", flag, v)
		}
		return ns, name
	}
	cmNS, cmName := namespaced("configmap", f.configMap)
	namespaced("tcp-services-configmap", f.tcpServices)
	namespaced("udp-services-configmap", f.udpServices)
	psNS, psName := namespaced("publish-service", f.publishService)
	var defBackend *model.ServiceRef
	if ns, name := namespaced("default-backend-service", f.defaultBackendService); name != "" {
		defBackend = &model.ServiceRef{Namespace: ns, Name: name}
	}
	var defCert *model.SecretRef
	if ns, name := namespaced("default-ssl-certificate", f.defaultSSLCertificate); name != "" {
		defCert = &model.SecretRef{Namespace: ns, Name: name}
	}
	for i, a := range f.publishStatusAddresses {
		a = strings.TrimSpace(a) // ingress-nginx splits at ",\s*"
		f.publishStatusAddresses[i] = a
		if _, err := netip.ParseAddr(a); err != nil && !isDNSName(a) {
			bad("--publish-status-address=%q: want an IP address or a DNS name", a)
		}
	}
	if f.watchNamespace != "" && !isDNSLabel(f.watchNamespace) {
		bad("--watch-namespace=%q: want a namespace name", f.watchNamespace)
	}
	var nsSelector labels.Selector
	if f.watchNamespaceSelector != "" {
		if f.watchNamespace != "" {
			bad("--watch-namespace and --watch-namespace-selector are mutually exclusive")
		}
		sel, err := labels.Parse(f.watchNamespaceSelector)
		if err != nil {
			bad("--watch-namespace-selector=%q: %v", f.watchNamespaceSelector, err)
		}
		nsSelector = sel
	}
	if f.updateStatus && !f.disableLeaderElection && !isDNSName(f.electionID) {
		bad("--election-id=%q: want a DNS name (lowercase letters, digits, '-' and '.')", f.electionID)
	}
	if f.electionTTL <= 0 {
		f.electionTTL = 30 * time.Second // as ingress-nginx
	}
	if f.webhookAddr != "" {
		if _, port, err := net.SplitHostPort(f.webhookAddr); err != nil || port == "" {
			bad("--validating-webhook=%q: want host:port or :port", f.webhookAddr)
		}
		if f.webhookCertificate == "" || f.webhookKey == "" {
			bad("--validating-webhook needs --validating-webhook-certificate and --validating-webhook-key")
		}
	}
	if f.healthzHost != "" {
		if _, err := netip.ParseAddr(f.healthzHost); err != nil && !isDNSName(f.healthzHost) {
			bad("--healthz-host=%q: want an IP address or a host name", f.healthzHost)
		}
	}
	switch p := f.healthCheckPath; {
	case !healthPath.MatchString(p):
		bad("--health-check-path=%q: want a path of letters, digits and -._~/ starting with /", p)
	case p == "/metrics" || p == "/status" || p == "/nginx.conf":
		bad("--health-check-path=%q: the healthz port serves %s itself", p, p)
	}
	if f.metricsPerUndefHost && !f.metricsPerHost {
		bad("--metrics-per-undefined-host=true must be passed with --metrics-per-host=true")
	}
	if f.syncPeriod < 0 {
		bad("--sync-period must not be negative")
	}
	if f.shutdownGrace < 0 || f.postShutdownGrace < 0 {
		bad("--shutdown-grace-period and --post-shutdown-grace-period must not be negative")
	}
	nginx, err := exec.LookPath(f.nginxBinary)
	if err != nil {
		bad("--nginx-binary=%q: %v", f.nginxBinary, err)
	}
	if st, err := os.Stat(filepath.Join(f.luaDir, "portico", "balancer.lua")); err != nil || st.IsDir() {
		bad("--lua-dir=%q does not hold portico/balancer.lua", f.luaDir)
	}
	for _, e := range f.maxmindEditions {
		if model.GeoIP2Variables[e] == nil {
			bad("--maxmind-edition-ids: %q is no edition Portico knows the variables of (GeoLite2-City, GeoLite2-Country, GeoLite2-ASN, GeoIP2-City, GeoIP2-Country, GeoIP2-ASN, GeoIP2-ISP, GeoIP2-Connection-Type, GeoIP2-Anonymous-IP)", e)
		}
	}
	modules := []string{"ndk_http_module.so", "ngx_http_lua_module.so"}
	if f.tcpServices != "" || f.udpServices != "" || f.sslPassthrough {
		// The stream context (TCP/UDP services, the passthrough front).
		modules = append(modules, "ngx_stream_module.so", "ngx_stream_js_module.so")
	}
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(f.modulesDir, m)); err != nil {
			bad("--modules-dir=%q does not hold %s", f.modulesDir, m)
		}
	}
	var level zapcore.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		bad("--log-level=%q: want debug, info, warn or error", f.logLevel)
	}
	if f.verbosity >= 3 && !fs.Changed("log-level") {
		level = zapcore.DebugLevel
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
	for _, ne := range noEffectSet(fs) {
		log.Warn("flag has no effect in Portico", zap.String("flag", "--"+ne[0]), zap.String("why", ne[1]))
	}
	updateStatus := f.updateStatus
	if f.disableLeaderElection && updateStatus {
		// ingress-nginx writes status only once elected.
		log.Info("--disable-leader-election: no replica writes Ingress status, as in ingress-nginx")
		updateStatus = false
	}
	restCfg, err := clientcmd.BuildConfigFromFlags(f.apiserverHost, f.kubeconfig)
	if err != nil {
		return controller.Config{}, fmt.Errorf("kubeconfig: %w", err)
	}
	if f.apiserverHost != "" && f.rootCAFile != "" {
		restCfg.TLSClientConfig.CAFile, restCfg.TLSClientConfig.CAData = f.rootCAFile, nil
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
	geoIP2Dir, _ := filepath.Abs(f.geoIP2Dir)
	var geoIP2 []string
	for _, e := range f.maxmindEditions {
		geoIP2 = append(geoIP2, filepath.Join(geoIP2Dir, e+".mmdb"))
	}
	var profiler string
	if f.profiling {
		profiler = net.JoinHostPort(f.profilerAddress.String(), strconv.Itoa(f.profilerPort))
	}
	return controller.Config{
		Client: client,
		Watch: watch.Options{
			Namespace:          f.watchNamespace,
			NamespaceSelector:  nsSelector,
			ConfigMapNamespace: cmNS,
			ConfigMapName:      cmName,
			Resync:             f.syncPeriod,

			PublishServiceNamespace: psNS,
			PublishServiceName:      psName,
			TCPServices:             f.tcpServices,
			UDPServices:             f.udpServices,
		},
		Model: model.Options{
			IngressClass:       f.ingressClass,
			ControllerClass:    f.controllerClass,
			IngressClassByName: f.ingressClassByName,
			WatchWithoutClass:  f.watchWithoutClass,
			DisableCatchAll:    f.disableCatchAll,
			DefaultBackend:     defBackend,
			DefaultCertificate: defCert,
			SSLPassthrough:     f.sslPassthrough,
			ReservedPorts:      f.reservedPorts(),
			GeoIP2Databases:    geoIP2,
		},
		Plan: plan.Options{
			HTTPPort:   f.httpPort,
			HTTPSPort:  f.httpsPort,
			StatusPort: f.statusPort,
			LuaDir:     luaDir,
			ModulesDir: f.modulesDir,
			Resolvers:  resolvers,
			// Host facts nginx.conf depends on: IPv6 listeners, the
			// workers' open files.
			IPv6:           controller.HostIPv6(),
			OpenFilesLimit: controller.OpenFilesLimit(),
			// Lua counts each request for /metrics (--enable-metrics).
			RequestMetrics: f.enableMetrics,
			// The passthrough front on the HTTPS port.
			SSLPassthrough: f.sslPassthrough,
		},
		NginxBinary:            nginx,
		ConfigDir:              configDir,
		HealthzPort:            f.healthzPort,
		HealthzHost:            f.healthzHost,
		HealthCheckPath:        f.healthCheckPath,
		ProfilerAddr:           profiler,
		EnableMetrics:          f.enableMetrics,
		MetricsPerHost:         f.metricsPerHost,
		PublishStatusAddresses: f.publishStatusAddresses,
		ShutdownGrace:          nginxStopMargin,
		Shutdown: controller.Shutdown{
			Delay:       time.Duration(f.shutdownGrace),
			PostDelay:   time.Duration(f.postShutdownGrace),
			ClearStatus: f.updateStatusOnShutdown,
		},
		Log:               log,
		UpdateStatus:      updateStatus,
		NodeInternalIP:    f.reportNodeInternalIP,
		DisableSyncEvents: f.disableSyncEvents,
		Election: controller.Election{Namespace: podNamespace(), ID: f.electionID, Identity: podName(),
			LeaseDuration: f.electionTTL, RenewDeadline: f.electionTTL / 2, RetryPeriod: f.electionTTL / 4},
		Webhook: controller.Webhook{Addr: f.webhookAddr, CertFile: f.webhookCertificate, KeyFile: f.webhookKey},
	}, nil
}

// reservedPorts are the controller's own ports, which TCP and UDP
// services may not take (as in ingress-nginx, its default server's too).
func (f *controllerFlags) reservedPorts() map[int]string {
	ports := map[int]string{f.httpPort: "HTTP port", f.httpsPort: "HTTPS port", f.healthzPort: "healthz port",
		f.statusPort: "status port", f.defaultServerPort: "default server port (--default-server-port)"}
	if f.profiling {
		ports[f.profilerPort] = "profiler port"
	}
	if _, port, err := net.SplitHostPort(f.webhookAddr); err == nil {
		if n, err := strconv.Atoi(port); err == nil {
			ports[n] = "validating webhook port"
		}
	}
	return ports
}

// healthPath is the grammar of --health-check-path.
var healthPath = regexp.MustCompile(`^/[A-Za-z0-9._~/-]*$`)

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
