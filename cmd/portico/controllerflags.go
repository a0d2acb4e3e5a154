package main

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// The controller's flags come in three groups, kept on each flag as an
// annotation: Portico's own; ingress-nginx v1.15's that Portico implements
// with the same meaning; and ingress-nginx's that Portico accepts (with
// ingress-nginx's value syntax) but that change nothing, each with the
// reason. A flag ingress-nginx never had and Portico does not define is
// an error, as any unknown flag.
const (
	groupPortico  = "portico"
	groupCompat   = "ingress-nginx"
	groupNoEffect = "no-effect"

	groupAnnotation  = "portico/group"
	reasonAnnotation = "portico/no-effect"
)

var groupTitles = []struct{ group, title string }{
	{groupPortico, "Portico's own flags"},
	{groupCompat, "ingress-nginx flags, implemented"},
	{groupNoEffect, "ingress-nginx flags accepted with no effect (a Warning at start says so)"},
}

type controllerFlags struct {
	kubeconfig             string
	apiserverHost          string
	rootCAFile             string
	ingressClass           string
	controllerClass        string
	ingressClassByName     bool
	watchNamespace         string
	watchNamespaceSelector string
	watchWithoutClass      bool
	disableCatchAll        bool
	configMap              string
	defaultBackendService  string
	defaultSSLCertificate  string
	publishService         string
	publishStatusAddresses []string
	updateStatus           bool
	updateStatusOnShutdown bool
	reportNodeInternalIP   bool
	electionID             string
	electionTTL            time.Duration
	disableLeaderElection  bool
	webhookAddr            string
	webhookCertificate     string
	webhookKey             string
	httpPort, httpsPort    int
	healthzPort            int
	healthzHost            string
	healthCheckPath        string
	statusPort             int
	profiling              bool
	profilerPort           int
	profilerAddress        net.IP
	enableMetrics          bool
	metricsPerHost         bool
	metricsPerUndefHost    bool
	disableExternalName    bool
	disableSyncEvents      bool
	syncPeriod             time.Duration
	shutdownGrace          seconds
	postShutdownGrace      seconds
	verbosity              int
	showVersion            bool
	tcpServices            string
	udpServices            string
	sslPassthrough         bool
	defaultServerPort      int

	resolvers   []string
	nginxBinary string
	configDir   string
	luaDir      string
	modulesDir  string
	logLevel    string
	geoIP2Dir   string

	maxmindEditions []string
}

// seconds is a duration given as whole seconds, as ingress-nginx's flags
// take it ("30"), or as a Go duration ("30s", "1m").
type seconds time.Duration

func (s *seconds) String() string { return strconv.Itoa(int(time.Duration(*s) / time.Second)) }
func (s *seconds) Type() string   { return "seconds" }
func (s *seconds) Set(v string) error {
	if n, err := strconv.Atoi(v); err == nil {
		*s = seconds(time.Duration(n) * time.Second)
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want whole seconds or a duration such as 30s")
	}
	*s = seconds(d)
	return nil
}

// register defines every controller flag on fs in its group.
func (f *controllerFlags) register(fs *pflag.FlagSet) {
	own := func(names ...string) { setGroup(fs, groupPortico, names...) }
	compat := func(names ...string) { setGroup(fs, groupCompat, names...) }

	// Portico's own.
	fs.StringSliceVar(&f.resolvers, "resolver", nil, "nameservers (IP, or IP:port; comma-separated) nginx resolves host names with at request time, such as auth-url's; empty uses /etc/resolv.conf's")
	fs.StringVar(&f.nginxBinary, "nginx-binary", "/usr/sbin/nginx", "nginx executable")
	fs.StringVar(&f.configDir, "config-dir", "/etc/nginx", "directory where nginx.conf is written (and run/, the pid files /wait-shutdown reads)")
	fs.StringVar(&f.luaDir, "lua-dir", "/etc/nginx/lua", "directory holding Portico's Lua modules")
	fs.StringVar(&f.modulesDir, "modules-dir", "/usr/lib/nginx/modules", "directory holding the nginx ndk and lua modules")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error (--v=3 and more also means debug)")
	fs.StringVar(&f.geoIP2Dir, "geoip2-dir", "/etc/ingress-controller/geoip", "directory of the GeoIP2 databases the operator mounts (<edition>.mmdb, per --maxmind-edition-ids), read with the ConfigMap's use-geoip2; Portico downloads nothing")
	own("resolver", "nginx-binary", "config-dir", "lua-dir", "modules-dir", "log-level", "geoip2-dir")

	// ingress-nginx's, implemented.
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path to a kubeconfig; empty means the in-cluster config")
	fs.StringVar(&f.apiserverHost, "apiserver-host", "", "address of the API server (protocol://address:port); overrides the kubeconfig's")
	fs.StringVar(&f.rootCAFile, "certificate-authority", "", "CA certificate file for --apiserver-host")
	fs.StringVar(&f.ingressClass, "ingress-class", "nginx", "class name matched against the legacy kubernetes.io/ingress.class annotation (and the IngressClass name with --ingress-class-by-name)")
	fs.StringVar(&f.controllerClass, "controller-class", "k8s.io/ingress-nginx", "IngressClass spec.controller value this controller serves")
	fs.BoolVar(&f.ingressClassByName, "ingress-class-by-name", false, "also serve the IngressClass named --ingress-class, whatever its spec.controller")
	fs.StringVar(&f.watchNamespace, "watch-namespace", "", "namespace to watch; empty means all")
	fs.StringVar(&f.watchNamespaceSelector, "watch-namespace-selector", "", "label selector of the namespaces whose Ingresses are served (exclusive with --watch-namespace)")
	fs.BoolVar(&f.watchWithoutClass, "watch-ingress-without-class", false, "also serve Ingresses that name no class")
	fs.BoolVar(&f.disableCatchAll, "disable-catch-all", false, "ignore Ingresses with a spec.defaultBackend (catch-all Ingresses)")
	fs.StringVar(&f.configMap, "configmap", "", "the controller's ConfigMap as namespace/name")
	fs.StringVar(&f.defaultBackendService, "default-backend-service", "", "Service (namespace/name) for requests that match no rule; empty answers 404")
	fs.StringVar(&f.defaultSSLCertificate, "default-ssl-certificate", "", "TLS Secret (namespace/name) served for unknown SNI names and hosts whose Secret is unusable; empty uses a self-signed one made at start")
	fs.StringVar(&f.publishService, "publish-service", "", "Service (namespace/name) whose load-balancer address (node addresses for NodePort) goes into Ingress status, unless --publish-status-address is set")
	fs.StringSliceVar(&f.publishStatusAddresses, "publish-status-address", nil, "addresses (IPs or host names, comma-separated) written to the status of served Ingresses")
	fs.BoolVar(&f.updateStatus, "update-status", true, "write Ingress status (the elected leader among replicas does)")
	fs.BoolVar(&f.updateStatusOnShutdown, "update-status-on-shutdown", true, "on shutdown, the leader clears the Ingress status when no other replica of its Pod's labels is left")
	fs.BoolVar(&f.reportNodeInternalIP, "report-node-internal-ip-address", false, "publish nodes' InternalIP rather than their ExternalIP (NodePort --publish-service)")
	fs.StringVar(&f.electionID, "election-id", "ingress-controller-leader", "name of the coordination Lease replicas elect the status writer with, in $POD_NAMESPACE (else default)")
	fs.DurationVar(&f.electionTTL, "election-ttl", 30*time.Second, "how long a leader's Lease holds (renewed at half, retried at a quarter of it)")
	fs.BoolVar(&f.disableLeaderElection, "disable-leader-election", false, "no leader election: no replica writes Ingress status")
	fs.StringVar(&f.webhookAddr, "validating-webhook", "", "address (e.g. :8443) of the validating admission webhook for Ingresses; empty disables it")
	fs.StringVar(&f.webhookCertificate, "validating-webhook-certificate", "", "PEM serving certificate of the validating webhook; loaded again when it changes on disk (a Secret volume's new version is served on the next handshake)")
	fs.StringVar(&f.webhookKey, "validating-webhook-key", "", "PEM private key of the validating webhook; loaded again with the certificate")
	fs.IntVar(&f.httpPort, "http-port", 80, "port for HTTP traffic")
	fs.IntVar(&f.httpsPort, "https-port", 443, "port for HTTPS traffic")
	fs.IntVar(&f.healthzPort, "healthz-port", 10254, "port for the health check and /metrics (all clients), /status, /nginx.conf and /routed-hosts.conf (loopback clients only)")
	fs.StringVar(&f.healthzHost, "healthz-host", "", "address the healthz port listens on; empty means all")
	fs.StringVar(&f.healthCheckPath, "health-check-path", "/healthz", "path of the health check on the healthz port")
	fs.IntVar(&f.statusPort, "status-port", 10246, "loopback port of nginx's configuration endpoint")
	fs.BoolVar(&f.profiling, "profiling", true, "serve Go's /debug/pprof/ on --profiler-address:--profiler-port")
	fs.IntVar(&f.profilerPort, "profiler-port", 10245, "port of the Go profiler (--profiling)")
	fs.IPVar(&f.profilerAddress, "profiler-address", net.IPv4(127, 0, 0, 1), "address of the Go profiler (--profiling)")
	fs.BoolVar(&f.enableMetrics, "enable-metrics", false, "export the per-request metrics on /metrics (the controller's own are always there)")
	fs.BoolVar(&f.metricsPerHost, "metrics-per-host", true, "label per-request metrics with the request's host; false: host=\"\"")
	fs.BoolVar(&f.disableExternalName, "disable-svc-external-name", false, "refuse Services of type ExternalName as backends (Portico always does: it never proxies to them)")
	fs.BoolVar(&f.disableSyncEvents, "disable-sync-events", false, "no Normal Sync Event when an Ingress is served (Warning Events about refused objects stay)")
	fs.DurationVar(&f.syncPeriod, "sync-period", 0, "how often to replay every cached object; 0 disables")
	f.postShutdownGrace = seconds(10 * time.Second)
	fs.Var(&f.shutdownGrace, "shutdown-grace-period", "seconds nginx keeps accepting after the shutdown signal (with the health check failing) before it drains")
	fs.Var(&f.postShutdownGrace, "post-shutdown-grace-period", "seconds to wait after nginx stopped before the controller exits")
	fs.StringVar(&f.tcpServices, "tcp-services-configmap", "", "ConfigMap (namespace/name) of TCP services: port = namespace/service:port[:PROXY][:PROXY] (docs/layer4.md)")
	fs.StringVar(&f.udpServices, "udp-services-configmap", "", "ConfigMap (namespace/name) of UDP services: port = namespace/service:port (docs/layer4.md)")
	fs.BoolVar(&f.sslPassthrough, "enable-ssl-passthrough", false, "serve the ssl-passthrough annotation: nginx reads the TLS server name on the HTTPS port and passes those hosts' connections to their backends untouched")
	fs.IntVarP(&f.verbosity, "v", "v", 0, "log verbosity as klog's: 3 or more logs at debug level")
	fs.BoolVar(&f.showVersion, "version", false, "print the version and exit")
	fs.StringSliceVar(&f.maxmindEditions, "maxmind-edition-ids", []string{"GeoLite2-City", "GeoLite2-ASN"}, "MaxMind editions whose databases (<edition>.mmdb in --geoip2-dir) use-geoip2 reads; Portico downloads nothing (--maxmind-license-key has no effect)")
	compat("kubeconfig", "apiserver-host", "certificate-authority", "ingress-class", "controller-class", "ingress-class-by-name",
		"watch-namespace", "watch-namespace-selector", "watch-ingress-without-class", "disable-catch-all", "configmap",
		"default-backend-service", "default-ssl-certificate", "publish-service", "publish-status-address", "update-status",
		"update-status-on-shutdown", "report-node-internal-ip-address", "election-id", "election-ttl", "disable-leader-election",
		"validating-webhook", "validating-webhook-certificate", "validating-webhook-key", "http-port", "https-port",
		"healthz-port", "healthz-host", "health-check-path", "status-port", "profiling", "profiler-port", "profiler-address",
		"enable-metrics", "metrics-per-host", "disable-svc-external-name", "disable-sync-events", "sync-period", "shutdown-grace-period",
		"post-shutdown-grace-period", "v", "version", "tcp-services-configmap", "udp-services-configmap", "enable-ssl-passthrough", "maxmind-edition-ids")

	registerNoEffect(fs, &f.metricsPerUndefHost, &f.defaultServerPort)
}

func setGroup(fs *pflag.FlagSet, group string, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, groupAnnotation, []string{group}); err != nil {
			panic(err) // a name above that is not defined: a programming error
		}
	}
}

// Reasons shared by several flags that have no effect.
const (
	whyMetrics     = "Portico's per-request metrics have fixed labels and buckets"
	whyKlog        = "Portico logs with zap to stderr; use --log-level or --v"
	whyMaxmind     = "Portico downloads no GeoIP2 databases: the operator mounts them (--geoip2-dir)"
	whyUnneeded    = "Portico has no such process"
	whyEventDriven = "Portico writes status and syncs on changes, not on a timer"
)

// registerNoEffect defines the ingress-nginx flags that Portico accepts
// without acting on them, with ingress-nginx's types and defaults.
// undefinedHost is kept: --metrics-per-undefined-host is checked against
// --metrics-per-host as ingress-nginx does; defaultServerPort too: TCP and
// UDP services may not take it, as in ingress-nginx.
func registerNoEffect(fs *pflag.FlagSet, undefinedHost *bool, defaultServerPort *int) {
	type def struct {
		name, why string
		add       func(name string)
	}
	str := func(v string) func(string) { return func(n string) { fs.String(n, v, "") } }
	boolean := func(v bool) func(string) { return func(n string) { fs.Bool(n, v, "") } }
	integer := func(v int) func(string) { return func(n string) { fs.Int(n, v, "") } }
	floats := func(v ...float64) func(string) { return func(n string) { fs.Float64Slice(n, v, "") } }
	defs := []def{
		{"annotations-prefix", "Portico reads annotations under nginx.ingress.kubernetes.io/ only", str("nginx.ingress.kubernetes.io")},
		{"enable-annotation-validation", "Portico always parses every annotation with a typed grammar", boolean(true)},
		{"deep-inspect", "Portico's typed grammars refuse what the deep inspector looks for", boolean(true)},
		{"disable-full-test", "the webhook always builds the model from every Ingress and never runs nginx -t", boolean(false)},
		{"enable-ssl-chain-completion", "Portico serves the certificate chain of the Secret as it is", boolean(false)},
		{"enable-topology-aware-routing", "Portico balances over every ready endpoint and ignores topology hints", boolean(false)},
		{"ssl-passthrough-proxy-port", "behind the passthrough front the HTTPS server listens on a unix socket, not a port", integer(442)},
		{"stream-port", "Portico has no stream configuration port: endpoints reach the stream context as files", integer(10247)},
		{"default-server-port", "Portico answers requests that match nothing itself, without an internal default server", func(n string) { fs.IntVar(defaultServerPort, n, 8181, "") }},
		{"health-check-timeout", "Portico's health check reads the controller's state and does not ask nginx over HTTP", integer(10)},
		{"sync-rate-limit", "Portico coalesces changes in one work queue", func(n string) { fs.Float32(n, 0.3, "") }},
		{"status-update-interval", whyEventDriven, integer(60)},
		{"dynamic-configuration-retries", "a push nginx did not take is retried with backoff until it is", integer(15)},
		{"internal-logger-address", whyUnneeded + " (a syslog listener for chroot images)", str("127.0.0.1:11514")},
		{"metrics-per-undefined-host", whyMetrics, func(n string) { fs.BoolVar(undefinedHost, n, false, "") }},
		{"report-status-classes", whyMetrics, boolean(false)},
		{"time-buckets", whyMetrics, floats(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)},
		{"length-buckets", whyMetrics, floats(10, 20, 30, 40, 50, 60, 70, 80, 90, 100)},
		{"size-buckets", whyMetrics, floats(10, 100, 1000, 10000, 100000, 1e+06, 1e+07)},
		{"bucket-factor", whyMetrics, func(n string) { fs.Float64(n, 0, "") }},
		{"max-buckets", whyMetrics, func(n string) { fs.Uint32(n, 100, "") }},
		{"exclude-socket-metrics", whyMetrics, func(n string) { fs.StringSlice(n, nil, "") }},
		{"monitor-max-batch-size", whyMetrics, integer(10000)},
		{"maxmind-mirror", whyMaxmind, str("")},
		{"maxmind-license-key", whyMaxmind, str("")},
		{"maxmind-retries-count", whyMaxmind, integer(1)},
		{"maxmind-retries-timeout", whyMaxmind, func(n string) { fs.Duration(n, 0, "") }},
		// klog's flags, which ingress-nginx's command line includes.
		{"log_dir", whyKlog, str("")},
		{"log_file", whyKlog, str("")},
		{"log_file_max_size", whyKlog, func(n string) { fs.Uint64(n, 1800, "") }},
		{"logtostderr", whyKlog, boolean(true)},
		{"alsologtostderr", whyKlog, boolean(false)},
		{"legacy_stderr_threshold_behavior", whyKlog, boolean(true)},
		{"add_dir_header", whyKlog, boolean(false)},
		{"skip_headers", whyKlog, boolean(false)},
		{"one_output", whyKlog, boolean(false)},
		{"skip_log_headers", whyKlog, boolean(false)},
		{"stderrthreshold", whyKlog, func(n string) { fs.Var(&klogSeverity{"2"}, n, "") }},
		{"alsologtostderrthreshold", whyKlog, func(n string) { fs.Var(&klogSeverity{"0"}, n, "") }},
		{"vmodule", whyKlog, str("")},
		{"log_backtrace_at", whyKlog, str(":0")},
	}
	for _, d := range defs {
		d.add(d.name)
		fl := fs.Lookup(d.name)
		fl.Usage = "no effect: " + d.why
		setGroup(fs, groupNoEffect, d.name)
		_ = fs.SetAnnotation(d.name, reasonAnnotation, []string{d.why})
	}
}

// klogSeverity takes klog's severity syntax: INFO, WARNING, ERROR or
// FATAL in any case, or a number.
type klogSeverity struct{ v string }

func (s *klogSeverity) String() string { return s.v }
func (s *klogSeverity) Type() string   { return "severity" }
func (s *klogSeverity) Set(v string) error {
	switch strings.ToUpper(v) {
	case "INFO", "WARNING", "ERROR", "FATAL":
	default:
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			return errors.New("want INFO, WARNING, ERROR, FATAL or a number")
		}
	}
	s.v = v
	return nil
}

// noEffectSet lists the flags given on the command line that have no
// effect, with their reasons, sorted by name.
func noEffectSet(fs *pflag.FlagSet) [][2]string {
	var out [][2]string
	fs.Visit(func(fl *pflag.Flag) {
		if why := fl.Annotations[reasonAnnotation]; len(why) == 1 {
			out = append(out, [2]string{fl.Name, why[0]})
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// flagsOf returns the flags of one group, sorted by name.
func flagsOf(fs *pflag.FlagSet, group string) []*pflag.Flag {
	var out []*pflag.Flag
	fs.VisitAll(func(fl *pflag.Flag) {
		if g := fl.Annotations[groupAnnotation]; len(g) == 1 && g[0] == group {
			out = append(out, fl)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// groupedUsage prints the flags group by group, as `portico controller
// --help` shows them.
func groupedUsage(fs *pflag.FlagSet) string {
	var b strings.Builder
	for _, g := range groupTitles {
		sub := pflag.NewFlagSet(g.group, pflag.ContinueOnError)
		for _, fl := range flagsOf(fs, g.group) {
			sub.AddFlag(fl)
		}
		fmt.Fprintf(&b, "%s:\n%s\n", g.title, sub.FlagUsages())
	}
	return b.String()
}

// flagTables prints the flags as the Markdown tables of docs/flags.md,
// one per group.
func flagTables(fs *pflag.FlagSet) string {
	var b strings.Builder
	cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	for i, g := range groupTitles {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s:\n\n", g.title)
		if g.group == groupNoEffect {
			b.WriteString("| flag | why it has no effect |\n| --- | --- |\n")
		} else {
			b.WriteString("| flag | default | meaning |\n| --- | --- | --- |\n")
		}
		for _, fl := range flagsOf(fs, g.group) {
			if g.group == groupNoEffect {
				fmt.Fprintf(&b, "| `--%s` | %s |\n", fl.Name, cell(fl.Annotations[reasonAnnotation][0]))
				continue
			}
			def := ""
			if fl.DefValue != "" && fl.DefValue != "[]" {
				def = "`" + fl.DefValue + "`"
			}
			fmt.Fprintf(&b, "| `--%s` | %s | %s |\n", fl.Name, def, cell(fl.Usage))
		}
	}
	return b.String()
}
