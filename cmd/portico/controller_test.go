package main

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestCommandArgs(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want []string
	}{
		// The image's ENTRYPOINT with ingress-nginx's chart's args.
		{[]string{"/usr/bin/portico", "/nginx-ingress-controller", "--v=2"}, []string{"controller", "--v=2"}},
		{[]string{"/usr/bin/portico", "/wait-shutdown"}, []string{"wait-shutdown"}},
		// The links in the image, run as commands (the preStop hook).
		{[]string{"/wait-shutdown"}, []string{"wait-shutdown"}},
		{[]string{"/nginx-ingress-controller", "--configmap=a/b"}, []string{"controller", "--configmap=a/b"}},
		// Portico's own subcommands are untouched.
		{[]string{"portico", "controller", "--v=2"}, []string{"controller", "--v=2"}},
		{[]string{"portico", "lint", "-f", "x"}, []string{"lint", "-f", "x"}},
		// Anything else goes to cobra, which refuses what it does not know.
		{[]string{"portico", "/usr/bin/nginx-ingress-controller"}, []string{"/usr/bin/nginx-ingress-controller"}},
		{[]string{"portico", "/other"}, []string{"/other"}},
		{[]string{"portico", "nginx-ingress-controller"}, []string{"nginx-ingress-controller"}},
		{[]string{"portico"}, []string{}},
	} {
		if got := commandArgs(tc.argv); !slices.Equal(got, tc.want) {
			t.Errorf("commandArgs(%q) = %q, want %q", tc.argv, got, tc.want)
		}
	}
	root := newRootCommand()
	root.SetArgs(commandArgs([]string{"portico", "/other"}))
	root.SetOut(new(strings.Builder))
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), `unknown command "/other"`) {
		t.Errorf("an unknown first argument: %v, want unknown command", err)
	}
}

// ingressNginxFlags is testdata/ingress-nginx-flags.txt: every flag of
// ingress-nginx v1.15.1's controller.
func ingressNginxFlags(t *testing.T) []string {
	f, err := os.Open("testdata/ingress-nginx-flags.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// Every ingress-nginx flag is defined, as implemented or as accepted with
// no effect; every flag of those two groups is one of ingress-nginx's;
// Portico's own are not.
func TestEveryIngressNginxFlag(t *testing.T) {
	fs := newControllerCommand().Flags()
	theirs := ingressNginxFlags(t)
	if len(theirs) < 80 {
		t.Fatalf("testdata lists %d flags", len(theirs))
	}
	for _, name := range theirs {
		fl := fs.Lookup(name)
		if fl == nil {
			t.Errorf("--%s: not defined", name)
			continue
		}
		if g := fl.Annotations[groupAnnotation]; len(g) != 1 || (g[0] != groupCompat && g[0] != groupNoEffect) {
			t.Errorf("--%s: group %q, want %s or %s", name, g, groupCompat, groupNoEffect)
		}
	}
	fs.VisitAll(func(fl *pflag.Flag) {
		g := fl.Annotations[groupAnnotation]
		if len(g) != 1 {
			t.Errorf("--%s has no group", fl.Name)
			return
		}
		if (g[0] == groupPortico) == slices.Contains(theirs, fl.Name) {
			t.Errorf("--%s: group %s, but ingress-nginx has it: %v", fl.Name, g[0], slices.Contains(theirs, fl.Name))
		}
		if g[0] == groupNoEffect && len(fl.Annotations[reasonAnnotation]) != 1 {
			t.Errorf("--%s has no effect but no reason", fl.Name)
		}
	})
}

// Flag values take ingress-nginx's syntax; a flag ingress-nginx never had
// is an error.
func TestControllerFlagSyntax(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--v=2"}, true},
		{[]string{"-v", "3"}, true},
		{[]string{"-v=5"}, true},
		{[]string{"--enable-metrics=false", "--profiling=false", "--update-status-on-shutdown=false"}, true},
		{[]string{"--enable-ssl-passthrough"}, true},
		{[]string{"--shutdown-grace-period=30", "--post-shutdown-grace-period", "5"}, true},
		{[]string{"--shutdown-grace-period=30s"}, true},
		{[]string{"--election-ttl=20s"}, true},
		{[]string{"--stderrthreshold=warning", "--alsologtostderrthreshold=1", "--logtostderr=false"}, true},
		{[]string{"--time-buckets=0.1,1,10", "--max-buckets=50", "--sync-rate-limit=0.5"}, true},
		{[]string{"--maxmind-retries-timeout=5s", "--profiler-address=0.0.0.0"}, true},
		{[]string{"--tcp-services-configmap=ingress-nginx/tcp", "--udp-services-configmap", "ingress-nginx/udp"}, true},
		{[]string{"--no-such-flag"}, false},
		{[]string{"--enable-metric"}, false},
		{[]string{"--log-dir=/tmp"}, false}, // klog's is --log_dir
		{[]string{"--v=high"}, false},
		{[]string{"--shutdown-grace-period=soon"}, false},
		{[]string{"--stderrthreshold=LOUD"}, false},
		{[]string{"--max-buckets=-1"}, false},
		{[]string{"--profiler-address=localhost"}, false},
		{[]string{"--sync-rate-limit=fast"}, false},
		{[]string{"--enable-metrics=maybe"}, false},
	} {
		cmd := newControllerCommand()
		if err := cmd.ParseFlags(tc.args); (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok %v", tc.args, err, tc.ok)
		}
	}
}

// fakeInstall is a --lua-dir, --modules-dir and kubeconfig that config's
// checks accept.
func fakeInstall(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"lua/portico/balancer.lua", "modules/ndk_http_module.so", "modules/ngx_http_lua_module.so",
		"modules/ngx_stream_module.so", "modules/ngx_stream_js_module.so"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--lua-dir=" + filepath.Join(dir, "lua"), "--modules-dir=" + filepath.Join(dir, "modules"),
		"--nginx-binary=/bin/sh", "--kubeconfig=" + kc, "--config-dir=" + dir}
}

// The args of ingress-nginx's chart (its defaults and common values) give
// the controller configuration they mean.
func TestChartArgsConfig(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "ingress-nginx")
	t.Setenv("POD_NAME", "ingress-nginx-controller-abc")
	chart := []string{"--publish-service=ingress-nginx/ingress-nginx-controller", "--election-id=ingress-nginx-leader",
		"--controller-class=k8s.io/ingress-nginx", "--ingress-class=nginx", "--configmap=ingress-nginx/ingress-nginx-controller",
		"--validating-webhook=:8443", "--validating-webhook-certificate=/usr/local/certificates/cert",
		"--validating-webhook-key=/usr/local/certificates/key"}
	extra := []string{"--watch-namespace-selector=team in (a,b)", "--ingress-class-by-name=true", "--watch-ingress-without-class=true",
		"--enable-metrics=true", "--metrics-per-host=false", "--election-ttl=20s", "--health-check-path=/ready", "--healthz-host=127.0.0.1",
		"--default-ssl-certificate=ingress-nginx/default-cert", "--v=3", "--update-status-on-shutdown=false",
		"--shutdown-grace-period=5", "--profiler-port=10299", "--report-node-internal-ip-address=true", "--disable-catch-all",
		"--enable-ssl-passthrough", "--tcp-services-configmap=ingress-nginx/tcp"}
	var f controllerFlags
	fs := pflag.NewFlagSet("controller", pflag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(append(append(fakeInstall(t), chart...), extra...)); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.config(fs)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case cfg.Watch.PublishServiceNamespace != "ingress-nginx" || cfg.Watch.PublishServiceName != "ingress-nginx-controller":
		t.Errorf("publish service %s/%s", cfg.Watch.PublishServiceNamespace, cfg.Watch.PublishServiceName)
	case cfg.Watch.NamespaceSelector == nil || cfg.Watch.NamespaceSelector.String() != "team in (a,b)":
		t.Errorf("namespace selector %v", cfg.Watch.NamespaceSelector)
	case !cfg.Model.IngressClassByName || !cfg.Model.WatchWithoutClass || !cfg.Model.DisableCatchAll:
		t.Errorf("model options %+v", cfg.Model)
	case cfg.Model.DefaultCertificate == nil || cfg.Model.DefaultCertificate.String() != "ingress-nginx/default-cert":
		t.Errorf("default certificate %v", cfg.Model.DefaultCertificate)
	case !cfg.EnableMetrics || cfg.MetricsPerHost:
		t.Errorf("metrics %v per host %v", cfg.EnableMetrics, cfg.MetricsPerHost)
	case cfg.Election.ID != "ingress-nginx-leader" || cfg.Election.Namespace != "ingress-nginx" || cfg.Election.Identity != "ingress-nginx-controller-abc" ||
		cfg.Election.LeaseDuration != 20*time.Second || cfg.Election.RenewDeadline != 10*time.Second || cfg.Election.RetryPeriod != 5*time.Second:
		t.Errorf("election %+v", cfg.Election)
	case cfg.HealthCheckPath != "/ready" || cfg.HealthzHost != "127.0.0.1" || cfg.ProfilerAddr != "127.0.0.1:10299":
		t.Errorf("health %q %q profiler %q", cfg.HealthCheckPath, cfg.HealthzHost, cfg.ProfilerAddr)
	case cfg.Shutdown.Delay != 5*time.Second || cfg.Shutdown.PostDelay != 10*time.Second || cfg.Shutdown.ClearStatus:
		t.Errorf("shutdown %+v", cfg.Shutdown)
	case !cfg.NodeInternalIP || !cfg.UpdateStatus:
		t.Errorf("status: internal IP %v, update %v", cfg.NodeInternalIP, cfg.UpdateStatus)
	case cfg.Webhook.Addr != ":8443" || cfg.Webhook.CertFile != "/usr/local/certificates/cert":
		t.Errorf("webhook %+v", cfg.Webhook)
	case !cfg.Log.Core().Enabled(-1): // zapcore.DebugLevel
		t.Errorf("--v=3 does not log at debug level")
	}
	if got := noEffectSet(fs); len(got) != 0 {
		t.Errorf("no-effect flags warned about: %q", got)
	}
	if !cfg.Model.SSLPassthrough || !cfg.Plan.SSLPassthrough || cfg.Watch.TCPServices != "ingress-nginx/tcp" || cfg.Watch.UDPServices != "" {
		t.Errorf("layer 4: passthrough %v/%v, TCP services %q, UDP services %q", cfg.Model.SSLPassthrough, cfg.Plan.SSLPassthrough,
			cfg.Watch.TCPServices, cfg.Watch.UDPServices)
	}
	// TCP and UDP services may not take the controller's own ports.
	for _, port := range []int{80, 443, 10254, 10246, 10299, 8443, 8181} {
		if cfg.Model.ReservedPorts[port] == "" {
			t.Errorf("port %d is not reserved (%v)", port, cfg.Model.ReservedPorts)
		}
	}
}
