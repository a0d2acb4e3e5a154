package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/portico-ingress/portico/e2e/framework"
)

// env is the stack shared by every test of the suite.
var env struct {
	cp      *framework.ControlPlane
	client  kubernetes.Interface
	net     *framework.Network
	portico *portico
	dns     *dnsServer
	binary  string
	workDir string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2e: needs root for network namespaces; run `make e2e` as root")
		return 1
	}
	ctx := context.Background()
	work, err := os.MkdirTemp("", "portico-e2e-")
	if err != nil {
		return fail(err)
	}
	// nginx workers run as nobody and must reach the config and temp dirs.
	if err := os.Chmod(work, 0o755); err != nil {
		return fail(err)
	}
	env.workDir = work
	env.binary = filepath.Join(work, "portico")
	// Static, as the image's (Makefile, Dockerfile): no dynamic loader.
	build := exec.Command("go", "build", "-o", env.binary, "../cmd/portico")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("build portico: %v\n%s", err, out))
	}
	env.cp, err = framework.StartControlPlane(ctx, framework.ControlPlaneOptions{WorkDir: filepath.Join(work, "cluster"), AuditIngresses: true})
	if err != nil {
		return fail(err)
	}
	defer env.cp.Stop()
	env.client = env.cp.Client()
	env.net, err = framework.NewNetwork("e2e", framework.DefaultSubnet(os.Getpid()))
	if err != nil {
		return fail(err)
	}
	defer env.net.Close()
	if err := createIngressClass(ctx); err != nil {
		return fail(err)
	}
	env.dns, err = startDNS()
	if err != nil {
		return fail(err)
	}
	defer env.dns.close()
	env.portico, err = startPortico(env.binary, env.cp.Kubeconfig(), work)
	if err != nil {
		return fail(err)
	}
	code := m.Run()
	env.portico.stop()
	if code == 0 {
		if err := checkAnnotationsExercised(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			code = 1
		}
	}
	if err := writeFaultTable(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: fault table:", err)
	}
	if err := writeAdversaryTable(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: adversarial table:", err)
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: failed; controller log tail:\n%s\nwork dir kept: %s\n", env.portico.logTail(), work)
		return code
	}
	os.RemoveAll(work)
	return 0
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "e2e setup:", err)
	return 1
}

// freePort returns a port nothing listens on (framework.FreePort).
func freePort() int { return framework.FreePort() }
