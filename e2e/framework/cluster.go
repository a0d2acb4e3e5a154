package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The one-node cluster's names and sizes.
const (
	// NodeName is the cluster's node.
	NodeName = "portico-node"
	// clusterStartTimeout bounds StartCluster after the binaries are there:
	// from the network namespace to a Ready node.
	clusterStartTimeout = 3 * time.Minute
	// containerdSock is the containerd socket under WorkDir.
	containerdSock = "containerd/containerd.sock"
)

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	// ToolsDir holds the binaries of `hack/build-tools.sh cluster`; empty
	// means that script's directory, built first if needed.
	ToolsDir string
	// Images are docker or OCI archives imported into containerd before the
	// node is Ready (hack/cluster/images.sh writes them).
	Images []string
	// Logs, if not nil, also receives every component's output.
	Logs io.Writer
}

// Cluster is a one-node Kubernetes cluster: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubelet, kube-proxy (iptables)
// and containerd with runc and a bridge CNI, all in a network namespace of
// their own, joined to the root namespace by a veth pair.
//
// Addresses come from one /24 of BenchmarkRange (Subnet): .1 is the root
// namespace's end of the veth, .2 the node (kube-apiserver, NodePorts),
// .64/26 the Services, .128/25 the Pods; the root namespace routes the
// Services and Pods through the node, so tests reach Pods and cluster IPs
// directly.
type Cluster struct {
	opts    ClusterOptions
	workDir string
	subnet  netip.Prefix
	tools   string
	netns   string // name; /run/netns/<netns>

	cp    *ControlPlane
	host  *hostState
	procs []*process // containerd, then the node components, in start order

	stopOnce sync.Once
	stopErr  error
}

// ClusterWorkDir is where StartCluster keeps everything of this process's
// cluster: configuration, certificates, data, logs (logs/). Stop keeps the
// logs only.
func ClusterWorkDir() string {
	return filepath.Join(os.TempDir(), runPrefix+"cluster")
}

// StartCluster starts the one-node cluster and returns once the node is
// Ready. It first removes what killed runs left (CleanupStale).
func StartCluster(ctx context.Context, opts ClusterOptions) (c *Cluster, err error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("start cluster: %w", errNotRoot)
	}
	if err := CleanupStale(NamePrefix); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	c = &Cluster{
		opts:    opts,
		workDir: ClusterWorkDir(),
		netns:   runPrefix + "node",
	}
	if c.subnet, err = FreeSubnet(os.Getpid()); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	if c.tools, err = findClusterTools(ctx, opts); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	if err := os.RemoveAll(c.workDir); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	for _, d := range []string{"logs", "cni/net.d", "containerd", "kubelet"} {
		if err := os.MkdirAll(filepath.Join(c.workDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("start cluster: %w", err)
		}
	}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("start cluster: %w", err), c.Stop())
			c = nil
		}
	}()
	if c.host, err = saveHostState(); err != nil {
		return c, err
	}
	ctx, cancel := context.WithTimeout(ctx, clusterStartTimeout)
	defer cancel()
	if err := c.makeNetwork(); err != nil {
		return c, err
	}
	if err := makeCgroups(c.cgroupName()); err != nil {
		return c, err
	}
	c.cp, err = StartControlPlane(ctx, ControlPlaneOptions{
		WorkDir:               filepath.Join(c.workDir, "controlplane"),
		ToolsDir:              c.tools,
		Logs:                  opts.Logs,
		NetNS:                 c.netnsPath(),
		Address:               c.NodeIP(),
		ServiceClusterIPRange: c.ServiceRange(),
		Nodes:                 true,
	})
	if err != nil {
		return c, err
	}
	if err := c.startContainerd(ctx); err != nil {
		return c, err
	}
	for _, img := range opts.Images {
		if err := c.ImportImage(ctx, img); err != nil {
			return c, err
		}
	}
	if err := c.startNode(); err != nil {
		return c, err
	}
	if err := c.waitNodeReady(ctx); err != nil {
		return c, err
	}
	return c, nil
}

// findClusterTools returns opts.ToolsDir, or runs `hack/build-tools.sh
// cluster` and returns the directory it prints.
func findClusterTools(ctx context.Context, opts ClusterOptions) (string, error) {
	dir := opts.ToolsDir
	if dir == "" {
		var err error
		if dir, err = buildTools(ctx, opts.Logs, "cluster"); err != nil {
			return "", err
		}
	}
	for _, bin := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("cluster binary: %w (build it with hack/build-tools.sh cluster)", err)
		}
	}
	return dir, nil
}

// Subnet returns the /24 the cluster's addresses come from.
func (c *Cluster) Subnet() netip.Prefix { return c.subnet }

// HostIP returns the root namespace's address on the veth to the node.
func (c *Cluster) HostIP() netip.Addr { a, _ := nthAddr(c.subnet, 1); return a }

// NodeIP returns the node's InternalIP: kube-apiserver and NodePorts.
func (c *Cluster) NodeIP() netip.Addr { a, _ := nthAddr(c.subnet, 2); return a }

// ServiceRange returns the Services' cluster IP range.
func (c *Cluster) ServiceRange() netip.Prefix {
	a, _ := nthAddr(c.subnet, 64)
	return netip.PrefixFrom(a, 26)
}

// PodRange returns the Pods' address range.
func (c *Cluster) PodRange() netip.Prefix {
	a, _ := nthAddr(c.subnet, 128)
	return netip.PrefixFrom(a, 25)
}

// Kubeconfig returns the path of the admin kubeconfig.
func (c *Cluster) Kubeconfig() string { return c.cp.Kubeconfig() }

// ControlPlane returns the cluster's etcd and kube-apiserver.
func (c *Cluster) ControlPlane() *ControlPlane { return c.cp }

// WorkDir returns ClusterWorkDir.
func (c *Cluster) WorkDir() string { return c.workDir }

// Kubectl returns the path of the pinned kubectl.
func (c *Cluster) Kubectl() string { return filepath.Join(c.tools, "kubectl") }

func (c *Cluster) netnsPath() string { return "/run/netns/" + c.netns }

// cgroupName is the kubelet's cgroupRoot, as killCluster knows it.
func (c *Cluster) cgroupName() string { return runPrefix + "node" }
func (c *Cluster) path(p string) string {
	return filepath.Join(c.workDir, p)
}

// makeNetwork creates the node's network namespace and the veth pair to it,
// and routes the Services and Pods through it.
func (c *Cluster) makeNetwork() error {
	hostEnd, peer := nextLinkName("v"), nextLinkName("p")
	hostAddr := netip.PrefixFrom(c.HostIP(), 30).String()
	nodeAddr := netip.PrefixFrom(c.NodeIP(), 30).String()
	if err := ipCmds(
		[]string{"netns", "add", c.netns},
		[]string{"link", "add", hostEnd, "type", "veth", "peer", "name", peer, "netns", c.netns},
		[]string{"addr", "add", hostAddr, "dev", hostEnd},
		[]string{"link", "set", hostEnd, "up"},
		[]string{"-n", c.netns, "link", "set", peer, "name", "eth0"},
		[]string{"-n", c.netns, "addr", "add", nodeAddr, "dev", "eth0"},
		[]string{"-n", c.netns, "link", "set", "lo", "up"},
		[]string{"-n", c.netns, "link", "set", "eth0", "up"},
		[]string{"-n", c.netns, "route", "add", "default", "via", c.HostIP().String()},
		[]string{"route", "add", c.ServiceRange().String(), "via", c.NodeIP().String(), "dev", hostEnd},
		[]string{"route", "add", c.PodRange().String(), "via", c.NodeIP().String(), "dev", hostEnd},
	); err != nil {
		return err
	}
	// Forwarding between eth0 and the Pods' bridge, in the node's
	// namespace only.
	return run(inNetNS(c.netnsPath(), "sh", "-c", "echo 1 >/proc/sys/net/ipv4/ip_forward"))
}

// startContainerd writes containerd's and the CNI's configuration and
// starts containerd in the node's namespace.
func (c *Cluster) startContainerd(ctx context.Context) error {
	pause := "localhost/portico-pause:dev"
	conf := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = %[3]q
[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  # The node lacks CAP_SYS_RESOURCE in its sandbox; without this every pod
  # sandbox fails with runc's "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[6]q
        ShimCgroup = %[7]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %[8]q
`, c.path("containerd/root"), c.path("containerd/state"), c.path(containerdSock), c.path("containerd/opt"),
		pause, c.path("containerd/runc"), "/"+c.cgroupName()+"/shims", c.path("cni/net.d"))
	cni := fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": %q,
  "plugins": [{
    "type": "bridge",
    "bridge": "cni0",
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": %q}]],
      "routes": [{"dst": "0.0.0.0/0"}],
      "dataDir": %q
    }
  }]
}
`, c.cniNetwork(), c.PodRange(), c.path("cni/ipam"))
	for name, data := range map[string]string{"containerd/config.toml": conf, "cni/net.d/10-pods.conflist": cni} {
		if err := os.WriteFile(c.path(name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	p, err := c.launch("containerd", "containerd", "--config", c.path("containerd/config.toml"))
	if err != nil {
		return err
	}
	return waitReady(ctx, p, c.logPath("containerd"), func(ctx context.Context) error {
		_, err := c.ctr(ctx, "version")
		return err
	})
}

// cniNetwork names the Pods' network.
func (c *Cluster) cniNetwork() string { return runPrefix + "pods" }

// ctr runs containerd's ctr against the node's containerd, in the
// namespace the kubelet uses.
func (c *Cluster) ctr(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"--address", c.path(containerdSock), "--namespace", "k8s.io"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// ImportImage imports a docker or OCI archive into the node's containerd,
// where Pods find it without a pull (imagePullPolicy IfNotPresent).
func (c *Cluster) ImportImage(ctx context.Context, archive string) error {
	_, err := c.ctr(ctx, "images", "import", archive)
	return err
}

// startNode writes the kubeconfigs and configurations of the node's
// components and starts them.
func (c *Cluster) startNode() error {
	kubeconfigs := map[string]struct {
		user   string
		groups []string
	}{
		"kube-controller-manager": {"system:kube-controller-manager", nil},
		"kube-scheduler":          {"system:kube-scheduler", nil},
		"kubelet":                 {"system:node:" + NodeName, []string{"system:nodes"}},
		"kube-proxy":              {"system:kube-proxy", nil},
	}
	kc := map[string]string{}
	for name, u := range kubeconfigs {
		path, err := c.cp.UserKubeconfig(u.user, u.groups...)
		if err != nil {
			return err
		}
		kc[name] = path
	}
	pki := filepath.Join(c.workDir, "controlplane", "pki")
	kubelet := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %[1]s
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %[2]q}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://%[3]s
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: %[4]q
podLogsDir: %[5]q
failSwapOn: false
resolvConf: /etc/resolv.conf
# Images come from archives, never from a registry: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%%, imagefs.available: 1%%}
nodeStatusUpdateFrequency: 4s
syncFrequency: 10s
`, c.NodeIP(), filepath.Join(pki, caCertFile), c.path(containerdSock), "/"+c.cgroupName(), c.path("pod-logs"))
	proxy := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: %[1]s
hostnameOverride: %[2]s
clientConnection: {kubeconfig: %[3]q}
# The conntrack table size is a sysctl of the whole machine: leave it.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
`, c.PodRange(), NodeName, kc["kube-proxy"])
	for name, data := range map[string]string{"kubelet/config.yaml": kubelet, "kube-proxy.yaml": proxy} {
		if err := os.WriteFile(c.path(name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	tool := func(name string) string { return filepath.Join(c.tools, name) }
	components := []struct {
		name string
		args []string
	}{
		{"kube-controller-manager", []string{
			"--kubeconfig=" + kc["kube-controller-manager"],
			"--use-service-account-credentials=true",
			"--service-account-private-key-file=" + filepath.Join(pki, saKeyFile),
			"--root-ca-file=" + filepath.Join(pki, caCertFile),
			"--cluster-cidr=" + c.PodRange().String(),
			"--service-cluster-ip-range=" + c.ServiceRange().String(),
			"--leader-elect=false",
			"--bind-address=127.0.0.1",
			// Node lifecycle: a Node whose kubelet stops answering gets
			// tainted after this long.
			"--node-monitor-grace-period=20s",
		}},
		{"kube-scheduler", []string{
			"--kubeconfig=" + kc["kube-scheduler"],
			"--leader-elect=false",
			"--bind-address=127.0.0.1",
		}},
		{"kubelet", []string{
			"--config=" + c.path("kubelet/config.yaml"),
			"--kubeconfig=" + kc["kubelet"],
			"--root-dir=" + c.path("kubelet"),
			"--hostname-override=" + NodeName,
			"--node-ip=" + c.NodeIP().String(),
		}},
		{"kube-proxy", []string{"--config=" + c.path("kube-proxy.yaml")}},
	}
	for _, comp := range components {
		if _, err := c.launch(comp.name, tool(comp.name), comp.args...); err != nil {
			return err
		}
	}
	return nil
}

// waitNodeReady waits for the Node to be Ready and for the default
// ServiceAccount, without which no Pod is admitted.
func (c *Cluster) waitNodeReady(ctx context.Context) error {
	client := c.cp.Client()
	ready := func() error {
		node, err := client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status != corev1.ConditionTrue {
				return fmt.Errorf("node %s not Ready: %s", NodeName, cond.Message)
			}
			if cond.Type == corev1.NodeReady {
				_, err = client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
				return err
			}
		}
		return fmt.Errorf("node %s has no Ready condition", NodeName)
	}
	for {
		for _, p := range c.procs {
			if p.exited() {
				return fmt.Errorf("%s exited: %v; log %s ends:\n%s", p.name, p.err, c.logPath(p.name), fileTail(c.logPath(p.name), 30))
			}
		}
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node not ready: %w (last: %v)", context.Cause(ctx), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (c *Cluster) logPath(name string) string { return c.path("logs/" + name + ".log") }

// launch starts bin with args in the node's network namespace, its output
// appended to logs/<name>.log and copied to Logs.
func (c *Cluster) launch(name, bin string, args ...string) (*process, error) {
	f, err := os.OpenFile(c.logPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out io.Writer = f
	if c.opts.Logs != nil {
		out = io.MultiWriter(f, &linePrefixer{w: c.opts.Logs, prefix: name + ": "})
	}
	cmd := inNetNS(c.netnsPath(), bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	p, err := startProcess(name, cmd)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	return p, nil
}

// Stop stops every component, kills the Pods' processes and removes what
// the cluster made on the machine: mounts, network namespaces, links,
// routes, cgroups, iptables rules (with the node's namespace) and the
// kernel settings the kubelet changed. The logs stay in WorkDir/logs.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		// The controllers first, so that nothing is recreated; the
		// kubelet, then the Pods' processes; containerd last.
		for i := len(c.procs) - 1; i >= 0; i-- {
			if p := c.procs[i]; p.name != "containerd" {
				errs = append(errs, p.stop(stopGrace))
			}
		}
		errs = append(errs, killCluster(runPrefix))
		for _, p := range c.procs {
			if p.name == "containerd" {
				errs = append(errs, p.stop(stopGrace))
			}
		}
		if c.cp != nil {
			errs = append(errs, c.cp.Stop())
		}
		errs = append(errs, removeClusterLeftovers(runPrefix, c.workDir, c.host))
		c.stopErr = errors.Join(errs...)
	})
	if c.stopErr != nil {
		return fmt.Errorf("stop cluster: %w", c.stopErr)
	}
	return nil
}

// inNetNS returns a command running name with args inside the network
// namespace at path. Unlike ip netns exec, nsenter leaves the mounts alone:
// the kubelet and runc need the machine's cgroup v1 mounts under /sys.
func inNetNS(path, name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + path, "--", name}, args...)...)
}

// run runs cmd; the error holds its output.
func run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// buildTools runs hack/build-tools.sh with args and returns the directory
// it prints last.
func buildTools(ctx context.Context, logs io.Writer, args ...string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, buildToolsTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(root, "hack", "build-tools.sh")}, args...)...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	if logs != nil {
		cmd.Stderr = logs
	}
	setPdeathsig(cmd)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/build-tools.sh %s: %w", strings.Join(args, " "), err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// imagesTimeout bounds hack/cluster/images.sh: a cold build (base images,
// apt, Go modules and build) takes about 5 minutes on 2 cores.
const imagesTimeout = 20 * time.Minute

// BuildImages runs hack/cluster/images.sh, which builds the controller's
// image from the Dockerfile, the echo server's and the pause image into
// outDir, and returns the archives' paths.
func BuildImages(ctx context.Context, outDir string, logs io.Writer) ([]string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, imagesTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "hack", "cluster", "images.sh"), outDir)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	if logs != nil {
		cmd.Stderr = logs
	}
	setPdeathsig(cmd)
	if _, err := cmd.Output(); err != nil {
		return nil, fmt.Errorf("hack/cluster/images.sh: %w", err)
	}
	var archives []string
	for _, name := range []string{"portico", "echoserver", "pause"} {
		archives = append(archives, filepath.Join(outDir, name+".tar"))
	}
	return archives, nil
}

// Helm returns the path of the pinned helm, which `hack/build-tools.sh
// helm` builds first if it is not there yet.
func Helm(ctx context.Context, logs io.Writer) (string, error) {
	dir, err := buildTools(ctx, logs, "helm")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("helm: %w", err)
	}
	return bin, nil
}
