package incluster

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/portico-ingress/portico/e2e/framework"
)

// The controller as deploy/portico.yaml installs it.
const (
	controllerNS     = "ingress-nginx"
	controllerDeploy = "ingress-nginx-controller"
	controllerLabels = "app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller"
	leaseName        = "ingress-nginx-leader"
	// nodePort is deploy/nodeport.yaml's HTTP node port.
	nodePort = 30080
)

// env is what every test of the suite shares.
var env struct {
	cluster *framework.Cluster
	client  kubernetes.Interface
	http    *http.Client
	root    string
	images  []string // archives: portico, echoserver, pause
	portico string   // the portico binary, built here, for diagnose
	helm    string   // the pinned helm
	workDir string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "incluster: needs root (the node's network namespace, containerd); run `make incluster` as root")
		return 1
	}
	ctx := context.Background()
	var err error
	if env.root, err = framework.RepoRoot(); err != nil {
		return fail(err)
	}
	if env.workDir, err = os.MkdirTemp("", "portico-incluster-"); err != nil {
		return fail(err)
	}
	start := time.Now()
	if env.images, err = framework.BuildImages(ctx, filepath.Join(env.workDir, "images"), nil); err != nil {
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "incluster: images built in %v\n", time.Since(start).Round(time.Second))
	if env.helm, err = framework.Helm(ctx, nil); err != nil {
		return fail(err)
	}
	env.portico = filepath.Join(env.workDir, "portico")
	if out, err := exec.Command("go", "build", "-o", env.portico, "../../cmd/portico").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("build portico: %v\n%s", err, out))
	}
	start = time.Now()
	env.cluster, err = framework.StartCluster(ctx, framework.ClusterOptions{Images: env.images})
	if err != nil {
		return fail(err)
	}
	defer env.cluster.Stop()
	fmt.Fprintf(os.Stderr, "incluster: node Ready in %v\n", time.Since(start).Round(100*time.Millisecond))
	env.client = env.cluster.ControlPlane().Client()
	env.http = framework.NewHTTPClient()
	env.http.Transport.(*http.Transport).DisableKeepAlives = true

	start = time.Now()
	if err := install(); err != nil {
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "incluster: controller and seed apps Ready in %v\n", time.Since(start).Round(100*time.Millisecond))
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "incluster: failed; cluster logs in %s\n", filepath.Join(env.cluster.WorkDir(), "logs"))
		return code
	}
	if err := env.cluster.Stop(); err != nil {
		return fail(err)
	}
	os.RemoveAll(env.cluster.WorkDir())
	os.RemoveAll(env.workDir)
	return 0
}

// install applies what a user applies: deploy/portico.yaml and its
// NodePort Service, then the seed apps, and waits for all to be Ready.
func install() error {
	steps := [][]string{
		{"apply", "-f", "deploy/portico.yaml", "-f", "deploy/nodeport.yaml"},
		{"apply", "-f", "hack/dev/manifests/00-namespaces.yaml"},
		{"apply", "-f", "e2e/incluster/testdata/backends.yaml", "-f", "hack/dev/manifests/30-ingresses.yaml"},
		{"rollout", "status", "-n", controllerNS, "deploy/" + controllerDeploy, "--timeout=120s"},
		{"wait", "-n", "ingress-lab", "--for=condition=Available", "deploy/api", "deploy/frontend", "--timeout=60s"},
		{"wait", "-n", "game-prod", "--for=condition=Available", "deploy/game-lobby", "deploy/game-room", "deploy/game-chat",
			"deploy/game-ranking", "--timeout=60s"},
	}
	for _, args := range steps {
		if _, err := kubectl(args...); err != nil {
			return err
		}
	}
	return nil
}

// kubectl runs the pinned kubectl as the cluster's admin, in the
// repository's root, and returns its stdout; the error holds stderr.
func kubectl(args ...string) (string, error) {
	return kubectlIn(nil, args...)
}

// kubectlIn is kubectl with stdin.
func kubectlIn(stdin []byte, args ...string) (string, error) {
	return clusterCommand(3*time.Minute, stdin, nil, env.cluster.Kubectl(), args...)
}

// clusterCommand runs bin with args as the cluster's admin (KUBECONFIG,
// and the environment variables extra), in the repository's root, for at
// most limit, and returns its stdout; the error holds stderr.
func clusterCommand(limit time.Duration, stdin []byte, extra []string, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = env.root
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+env.cluster.Kubeconfig()), extra...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "incluster setup:", err)
	return 1
}
