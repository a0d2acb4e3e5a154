package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	// ServiceClusterIPRange is the API server's default
	// --service-cluster-ip-range. Without a Cluster nothing routes it:
	// there is no kube-proxy.
	ServiceClusterIPRange = "10.96.0.0/16"
	// ServiceAccountIssuer is the API server's --service-account-issuer.
	ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
	// AdminUser is the user of Kubeconfig and RESTConfig, in system:masters.
	AdminUser = "portico-e2e-admin"

	defaultReadyTimeout = 90 * time.Second
	// buildToolsTimeout bounds hack/build-tools.sh; a cold build of
	// kube-apiserver takes about 12 minutes on 2 cores.
	buildToolsTimeout = 30 * time.Minute
	// stopGrace is how long etcd and kube-apiserver get to exit after SIGTERM.
	stopGrace = 10 * time.Second
)

// ControlPlaneOptions configures StartControlPlane.
type ControlPlaneOptions struct {
	// WorkDir, a new directory, receives etcd's data (etcd/), certificates
	// and keys (pki/), the admin kubeconfig (kubeconfig) and the logs
	// (logs/etcd.log, logs/kube-apiserver.log). Required.
	WorkDir string
	// ToolsDir holds the etcd and kube-apiserver binaries. Empty means the
	// directory printed by hack/build-tools.sh, which it builds first if
	// needed.
	ToolsDir string
	// Logs, if not nil, also receives the output of hack/build-tools.sh, etcd
	// and kube-apiserver.
	Logs io.Writer
	// ReadyTimeout bounds each start, from launching etcd to a ready
	// kube-apiserver. Zero means 90 s.
	ReadyTimeout time.Duration
	// Audit makes kube-apiserver write an audit event (level Metadata: who
	// did what to which object, and the answer's code) for every request
	// to logs/audit.log, one JSON object a line (AuditLog).
	Audit bool
	// AuditIngresses makes kube-apiserver write, to the same log, the
	// body of every request that creates, updates or patches an Ingress
	// (level Request); IngressAnnotationsAudited reads them.
	AuditIngresses bool

	// NetNS, if set, is the path of a network namespace (/run/netns/NAME)
	// that etcd and kube-apiserver run in (nsenter --net), listening on
	// Address instead of 127.0.0.1.
	NetNS   string
	Address netip.Addr
	// ServiceClusterIPRange is --service-cluster-ip-range; zero means
	// ServiceClusterIPRange.
	ServiceClusterIPRange netip.Prefix
	// Nodes makes a control plane for real nodes (StartCluster): the
	// ServiceAccount admission plugin is on, kube-apiserver publishes
	// Address as the kubernetes Service's endpoint and reaches kubelets
	// at their InternalIP with a client certificate.
	Nodes bool
}

// ControlPlane is etcd and kube-apiserver serving on 127.0.0.1, or on
// Address inside NetNS.
type ControlPlane struct {
	opts ControlPlaneOptions

	etcdBin, etcdDir, etcdLog, etcdURL string
	etcdArgs                           []string
	etcdHTTP                           *http.Client
	apiBin, apiLog, apiURL             string
	apiArgs                            []string

	addr       string // Address, or 127.0.0.1
	pkiDir     string
	ca         *authority
	kubeconfig string
	restConfig *rest.Config
	client     kubernetes.Interface

	mu              sync.Mutex
	etcd, apiserver *process // both nil while stopped
	stopped         bool     // Stop was called
}

// StartControlPlane generates certificates and keys, starts etcd and
// kube-apiserver on free loopback ports and returns once /readyz answers ok.
func StartControlPlane(ctx context.Context, opts ControlPlaneOptions) (*ControlPlane, error) {
	if opts.WorkDir == "" {
		return nil, errors.New("start control plane: ControlPlaneOptions.WorkDir is required")
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = defaultReadyTimeout
	}
	if !opts.ServiceClusterIPRange.IsValid() {
		opts.ServiceClusterIPRange = netip.MustParsePrefix(ServiceClusterIPRange)
	}
	addr := "127.0.0.1"
	if opts.NetNS != "" {
		if !opts.Address.Is4() {
			return nil, errors.New("start control plane: NetNS needs an IPv4 Address")
		}
		addr = opts.Address.String()
	}
	workDir, err := filepath.Abs(opts.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	apiPort := FreePort()
	cp := &ControlPlane{
		opts:       opts,
		addr:       addr,
		etcdDir:    filepath.Join(workDir, "etcd"),
		etcdLog:    filepath.Join(workDir, "logs", "etcd.log"),
		etcdURL:    "http://" + addr + ":" + strconv.Itoa(FreePort()),
		etcdHTTP:   &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second},
		apiLog:     filepath.Join(workDir, "logs", "kube-apiserver.log"),
		apiURL:     "https://" + addr + ":" + strconv.Itoa(apiPort),
		pkiDir:     filepath.Join(workDir, "pki"),
		kubeconfig: filepath.Join(workDir, "kubeconfig"),
	}
	for _, d := range []string{cp.etcdDir, cp.pkiDir, filepath.Dir(cp.etcdLog)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("start control plane: %w", err)
		}
	}
	if err := cp.findTools(ctx); err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	if err := cp.writePKI(); err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	cp.etcdArgs = cp.etcdFlags("http://" + addr + ":" + strconv.Itoa(FreePort()))
	cp.apiArgs = cp.apiServerFlags(apiPort)
	if opts.Audit || opts.AuditIngresses {
		policy := filepath.Join(workDir, "audit-policy.yaml")
		rules := "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n"
		if opts.AuditIngresses {
			rules += "  - level: Request\n    verbs: [create, update, patch]\n    resources: [{group: networking.k8s.io, resources: [ingresses]}]\n"
		}
		if opts.Audit {
			rules += "  - level: Metadata\n"
		}
		if err := os.WriteFile(policy, []byte(rules), 0o600); err != nil {
			return nil, fmt.Errorf("start control plane: %w", err)
		}
		cp.apiArgs = append(cp.apiArgs, "--audit-policy-file="+policy, "--audit-log-path="+cp.AuditLog(), "--audit-log-mode=blocking")
	}
	if err := cp.StartAPIServer(ctx); err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	return cp, nil
}

// findTools sets the binaries' paths, running hack/build-tools.sh if
// ToolsDir is empty.
func (cp *ControlPlane) findTools(ctx context.Context) error {
	dir := cp.opts.ToolsDir
	if dir == "" {
		var err error
		if dir, err = buildTools(ctx, cp.opts.Logs); err != nil {
			return err
		}
	}
	cp.etcdBin = filepath.Join(dir, "etcd")
	cp.apiBin = filepath.Join(dir, "kube-apiserver")
	for _, bin := range []string{cp.etcdBin, cp.apiBin} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("control-plane binary: %w (build it with hack/build-tools.sh)", err)
		}
	}
	return nil
}

// pki file names, under WorkDir/pki.
const (
	caCertFile      = "ca.crt"
	servingCertFile = "apiserver.crt"
	servingKeyFile  = "apiserver.key"
	saKeyFile       = "sa.key"
	saPubFile       = "sa.pub"
	// kube-apiserver's client certificate for kubelets (Nodes).
	kubeletClientCertFile = "apiserver-kubelet-client.crt"
	kubeletClientKeyFile  = "apiserver-kubelet-client.key"
)

// writePKI generates the CA, the serving certificate, the service-account
// key pair and the admin kubeconfig, and loads the admin REST config.
func (cp *ControlPlane) writePKI() error {
	ca, err := newAuthority("portico-e2e-ca")
	if err != nil {
		return err
	}
	// The kubernetes Service has the first address of the range.
	svcIP := cp.opts.ServiceClusterIPRange.Masked().Addr().Next()
	serving, err := ca.serving("kube-apiserver",
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		[]net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP(cp.addr), net.IP(svcIP.AsSlice())})
	if err != nil {
		return err
	}
	saPriv, saPub, err := signingKey()
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		caCertFile:      ca.certPEM,
		servingCertFile: serving.certPEM,
		servingKeyFile:  serving.keyPEM,
		saKeyFile:       saPriv,
		saPubFile:       saPub,
	} {
		if err := os.WriteFile(filepath.Join(cp.pkiDir, name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	if cp.opts.Nodes {
		kp, err := ca.client("kube-apiserver-kubelet-client", nil)
		if err != nil {
			return err
		}
		for name, data := range map[string][]byte{kubeletClientCertFile: kp.certPEM, kubeletClientKeyFile: kp.keyPEM} {
			if err := os.WriteFile(filepath.Join(cp.pkiDir, name), data, 0o600); err != nil {
				return fmt.Errorf("write %s: %w", name, err)
			}
		}
	}
	cp.ca = ca
	if err := cp.writeKubeconfig(cp.kubeconfig, AdminUser, []string{"system:masters"}); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.kubeconfig)
	if err != nil {
		return fmt.Errorf("load %s: %w", cp.kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil } // never a proxy
	cp.restConfig = cfg
	if cp.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return fmt.Errorf("client for %s: %w", cp.kubeconfig, err)
	}
	return nil
}

// writeKubeconfig writes a kubeconfig at path that authenticates as user in
// groups with a client certificate the control plane's CA signs.
func (cp *ControlPlane) writeKubeconfig(path, user string, groups []string) error {
	kp, err := cp.ca.client(user, groups)
	if err != nil {
		return err
	}
	const name = "portico-e2e"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: cp.apiURL, CertificateAuthorityData: cp.ca.certPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.certPEM, ClientKeyData: kp.keyPEM}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: user}
	cfg.CurrentContext = name
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

// UserKubeconfig writes WorkDir/kubeconfig-<user>, authenticating as user in
// groups, for tests of what RBAC grants, and returns its path. A user
// "system:serviceaccount:NS:NAME" in groups "system:serviceaccounts" and
// "system:serviceaccounts:NS" gets what RBAC grants that ServiceAccount.
func (cp *ControlPlane) UserKubeconfig(user string, groups ...string) (string, error) {
	path := filepath.Join(filepath.Dir(cp.kubeconfig), "kubeconfig-"+user)
	if err := cp.writeKubeconfig(path, user, groups); err != nil {
		return "", err
	}
	return path, nil
}

func (cp *ControlPlane) etcdFlags(peerURL string) []string {
	return []string{
		"--name=portico-e2e",
		"--data-dir=" + cp.etcdDir,
		"--listen-client-urls=" + cp.etcdURL,
		"--advertise-client-urls=" + cp.etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=portico-e2e=" + peerURL,
		"--log-level=warn",
		// Test data need not survive a machine crash.
		"--unsafe-no-fsync=true",
	}
}

func (cp *ControlPlane) apiServerFlags(port int) []string {
	pki := func(name string) string { return filepath.Join(cp.pkiDir, name) }
	flags := []string{
		"--etcd-servers=" + cp.etcdURL,
		"--bind-address=" + cp.addr,
		"--advertise-address=" + cp.addr,
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + cp.pkiDir,
		"--tls-cert-file=" + pki(servingCertFile),
		"--tls-private-key-file=" + pki(servingKeyFile),
		"--client-ca-file=" + pki(caCertFile),
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=" + ServiceAccountIssuer,
		"--service-account-key-file=" + pki(saPubFile),
		"--service-account-signing-key-file=" + pki(saKeyFile),
		"--service-cluster-ip-range=" + cp.opts.ServiceClusterIPRange.String(),
	}
	if !cp.opts.Nodes {
		return append(flags,
			// The lease reconciler would publish 127.0.0.1 as the endpoint
			// of the kubernetes Service, which Endpoints validation rejects.
			"--endpoint-reconciler-type=none",
			"--disable-admission-plugins=ServiceAccount")
	}
	return append(flags,
		"--kubelet-client-certificate="+pki(kubeletClientCertFile),
		"--kubelet-client-key="+pki(kubeletClientKeyFile),
		"--kubelet-preferred-address-types=InternalIP")
}

// AuditLog returns the path of the audit log (ControlPlaneOptions.Audit).
func (cp *ControlPlane) AuditLog() string { return filepath.Join(filepath.Dir(cp.apiLog), "audit.log") }

// TokenKubeconfig writes WorkDir/kubeconfig-token-<name>, authenticating
// with a bearer token (a ServiceAccount's, from the TokenRequest API), and
// returns its path.
func (cp *ControlPlane) TokenKubeconfig(name, token string) (string, error) {
	path := filepath.Join(filepath.Dir(cp.kubeconfig), "kubeconfig-token-"+name)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["portico-e2e"] = &clientcmdapi.Cluster{Server: cp.apiURL, CertificateAuthorityData: cp.ca.certPEM}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["portico-e2e"] = &clientcmdapi.Context{Cluster: "portico-e2e", AuthInfo: name}
	cfg.CurrentContext = "portico-e2e"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return path, nil
}

// Kubeconfig returns the path of the admin kubeconfig.
func (cp *ControlPlane) Kubeconfig() string { return cp.kubeconfig }

// RESTConfig returns a copy of the admin REST config.
func (cp *ControlPlane) RESTConfig() *rest.Config { return rest.CopyConfig(cp.restConfig) }

// Client returns an admin clientset. It keeps working across
// StopAPIServer and StartAPIServer.
func (cp *ControlPlane) Client() kubernetes.Interface { return cp.client }

// StartAPIServer starts etcd, on its data, and kube-apiserver again, on the
// same ports, after StopAPIServer, and returns once /readyz answers ok.
func (cp *ControlPlane) StartAPIServer(ctx context.Context) error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	switch {
	case cp.stopped:
		return errors.New("start kube-apiserver: control plane stopped")
	case cp.apiserver != nil:
		return errors.New("start kube-apiserver: already running")
	}
	ctx, cancel := context.WithTimeout(ctx, cp.opts.ReadyTimeout)
	defer cancel()

	etcd, err := cp.launch("etcd", cp.etcdBin, cp.etcdArgs, cp.etcdLog)
	if err != nil {
		return err
	}
	if err := waitReady(ctx, etcd, cp.etcdLog, cp.etcdHealthy); err != nil {
		return errors.Join(err, etcd.stop(stopGrace))
	}
	api, err := cp.launch("kube-apiserver", cp.apiBin, cp.apiArgs, cp.apiLog)
	if err != nil {
		return errors.Join(err, etcd.stop(stopGrace))
	}
	if err := waitReady(ctx, api, cp.apiLog, cp.apiServerReady); err != nil {
		return errors.Join(err, api.stop(stopGrace), etcd.stop(stopGrace))
	}
	cp.etcd, cp.apiserver = etcd, api
	return nil
}

// StopAPIServer stops kube-apiserver, then etcd, keeping etcd's data. It
// does nothing if they are stopped already.
func (cp *ControlPlane) StopAPIServer() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.stopLocked()
}

// Stop stops kube-apiserver, then etcd, for good. WorkDir is left in place.
func (cp *ControlPlane) Stop() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.stopped = true
	return cp.stopLocked()
}

func (cp *ControlPlane) stopLocked() error {
	if cp.apiserver == nil {
		return nil
	}
	err := errors.Join(cp.apiserver.stop(stopGrace), cp.etcd.stop(stopGrace))
	cp.apiserver, cp.etcd = nil, nil
	if err != nil {
		return fmt.Errorf("stop control plane: %w", err)
	}
	return nil
}

// launch starts bin with args, its output appended to logPath and copied to
// Logs.
func (cp *ControlPlane) launch(name, bin string, args []string, logPath string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	// The child has its own copy of the descriptor once started.
	defer f.Close()
	fmt.Fprintf(f, "=== %s %s\n", time.Now().Format(time.RFC3339), strings.Join(append([]string{bin}, args...), " "))
	var out io.Writer = f
	if cp.opts.Logs != nil {
		out = io.MultiWriter(f, &linePrefixer{w: cp.opts.Logs, prefix: name + ": "})
	}
	cmd := exec.Command(bin, args...)
	if cp.opts.NetNS != "" {
		cmd = inNetNS(cp.opts.NetNS, bin, args...)
	}
	cmd.Stdout, cmd.Stderr = out, out
	return startProcess(name, cmd)
}

// waitReady polls probe until it succeeds, p exits or ctx ends.
func waitReady(ctx context.Context, p *process, logPath string, probe func(context.Context) error) error {
	for {
		err := probe(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready: %v; log %s ends:\n%s", p.name, p.err, logPath, fileTail(logPath, 30))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last probe: %v); log %s ends:\n%s", p.name, context.Cause(ctx), err, logPath, fileTail(logPath, 30))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (cp *ControlPlane) etcdHealthy(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cp.etcdURL+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := cp.etcdHTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var h struct{ Health string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&h); err != nil {
		return fmt.Errorf("GET /health: %s: %w", resp.Status, err)
	}
	if h.Health != "true" {
		return fmt.Errorf("GET /health: %s, health %q", resp.Status, h.Health)
	}
	return nil
}

func (cp *ControlPlane) apiServerReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// A failing /readyz answers 500; the error then holds its check list.
	if _, err := cp.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
		return fmt.Errorf("GET /readyz: %w", err)
	}
	return nil
}

// linePrefixer copies whole lines to w, each prefixed. It never fails, so a
// broken w cannot block the child process writing to it.
type linePrefixer struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	partial []byte
}

func (l *linePrefixer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		line, rest, ok := bytes.Cut(l.partial, []byte("\n"))
		if !ok {
			break
		}
		fmt.Fprintf(l.w, "%s%s\n", l.prefix, line)
		l.partial = rest
	}
	return len(p), nil
}
