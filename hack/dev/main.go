// Command dev runs Portico against a local control plane with the seed's
// example apps, for make dev: etcd and kube-apiserver on loopback, one
// network namespace and echo server per pod, the manifests of manifests/,
// and the controller. Ctrl-C stops and removes all of it. Needs root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/portico-ingress/portico/e2e/framework"
)

const (
	// controllerGrace is how long the controller gets to exit after SIGTERM.
	controllerGrace = 20 * time.Second
	// controllerReadyTimeout bounds the wait for the controller's /healthz.
	controllerReadyTimeout = 60 * time.Second
)

type options struct {
	root                             string
	portico                          string
	noController                     bool
	workDir                          string
	httpPort, httpsPort, healthzPort int
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("dev: ")
	root, err := framework.RepoRoot()
	if err != nil {
		log.Fatal(err)
	}
	o := options{root: root}
	flag.StringVar(&o.portico, "portico", "bin/portico", "controller binary, relative to the repository root unless absolute")
	flag.BoolVar(&o.noController, "no-controller", false, "set up everything but the controller")
	flag.StringVar(&o.workDir, "work-dir", "_out/dev", "directory for the control plane's data and nginx's configuration, relative to the repository root unless absolute")
	flag.IntVar(&o.httpPort, "http-port", envInt("HTTP_PORT", 8080), "controller's HTTP port (default from $HTTP_PORT)")
	flag.IntVar(&o.httpsPort, "https-port", envInt("HTTPS_PORT", 8443), "controller's HTTPS port (default from $HTTPS_PORT)")
	flag.IntVar(&o.healthzPort, "healthz-port", envInt("HEALTHZ_PORT", 10254), "controller's healthz and metrics port (default from $HEALTHZ_PORT)")
	flag.Parse()
	o.portico = underRoot(root, o.portico)
	o.workDir = underRoot(root, o.workDir)

	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

// run sets everything up, waits for SIGINT or SIGTERM (or the controller's
// exit), and tears everything down in reverse order.
func run(o options) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("needs root to create network namespaces for the example pods")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Cleanup must run even if the terminal or a pipe reading our output
	// is gone.
	signal.Ignore(syscall.SIGPIPE)

	var cleanups []func() error
	defer func() {
		log.Print("cleaning up")
		for i := len(cleanups) - 1; i >= 0; i-- {
			err = errors.Join(err, cleanups[i]())
		}
		log.Print("stopped")
	}()

	cpDir := filepath.Join(o.workDir, "controlplane")
	nginxDir := filepath.Join(o.workDir, "nginx")
	for _, d := range []string{cpDir, nginxDir} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("clear the previous run: %w", err)
		}
	}
	if err := os.MkdirAll(nginxDir, 0o755); err != nil {
		return err
	}

	log.Printf("starting etcd and kube-apiserver (logs in %s)", filepath.Join(cpDir, "logs"))
	start := time.Now()
	cp, err := framework.StartControlPlane(ctx, framework.ControlPlaneOptions{WorkDir: cpDir})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, cp.Stop)
	log.Printf("control plane ready in %v", time.Since(start).Round(100*time.Millisecond))

	network, err := framework.NewNetwork("dev", framework.DefaultSubnet(0))
	if err != nil {
		return err
	}
	cleanups = append(cleanups, network.Close)

	if err := applyManifests(ctx, cp.RESTConfig()); err != nil {
		return err
	}
	pods, err := startBackends(ctx, cp.Client(), network)
	for _, p := range pods {
		cleanups = append(cleanups, p.echo.StopAndWait)
	}
	if err != nil {
		return err
	}

	var controllerDone <-chan error
	if !o.noController {
		stopController, done, err := startController(o, cp.Kubeconfig(), nginxDir)
		if err != nil {
			return err
		}
		cleanups = append(cleanups, stopController)
		controllerDone = done
		if err := waitHealthy(ctx, o.healthzPort, done); err != nil {
			if ctx.Err() != nil { // interrupted while waiting
				return nil
			}
			return err
		}
	}
	printUsage(o, cp.Kubeconfig(), pods)

	select {
	case <-ctx.Done():
		return nil
	case err := <-controllerDone:
		return fmt.Errorf("controller exited: %v", err)
	}
}

// startController runs the controller with its output on the terminal. stop
// sends SIGTERM and waits, killing it after controllerGrace; done receives
// its exit status.
func startController(o options, kubeconfig, configDir string) (stop func() error, done <-chan error, err error) {
	cmd := exec.Command(o.portico, "controller",
		"--kubeconfig="+kubeconfig,
		"--http-port="+strconv.Itoa(o.httpPort),
		"--https-port="+strconv.Itoa(o.httpsPort),
		"--healthz-port="+strconv.Itoa(o.healthzPort),
		"--config-dir="+configDir,
		"--lua-dir="+filepath.Join(o.root, "rootfs", "etc", "nginx", "lua"),
		"--publish-status-address=127.0.0.1",
		"--enable-metrics=true",
		// Ctrl-C: no wait after nginx stopped.
		"--post-shutdown-grace-period=0",
	)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// Its own process group: Ctrl-C reaches only this process, which stops
	// the controller before the API server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start controller (build it with go build -o bin/portico ./cmd/portico, or pass --no-controller): %w", err)
	}
	log.Printf("controller started: %s", cmd)
	exited := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		exited <- cmd.Wait()
		close(finished)
	}()
	stop = func() error {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited
		select {
		case <-finished:
			return nil
		case <-time.After(controllerGrace):
		}
		cmd.Process.Kill() //nolint:errcheck // it may have exited
		<-finished
		return fmt.Errorf("controller ignored SIGTERM for %v and was killed", controllerGrace)
	}
	return stop, exited, nil
}

// waitHealthy polls the controller's /healthz until it answers 200, for at
// most controllerReadyTimeout; the controller exiting or ctx ending stop it.
func waitHealthy(ctx context.Context, port int, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, controllerReadyTimeout)
	defer cancel()
	c := framework.NewHTTPClient()
	c.Timeout = time.Second
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		select {
		case err := <-exited:
			return fmt.Errorf("controller exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("controller not healthy after %v: %w", controllerReadyTimeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func printUsage(o options, kubeconfig string, pods []*backendPod) {
	base := "http://127.0.0.1:" + strconv.Itoa(o.httpPort)
	fmt.Printf(`
Portico dev environment is up. In another terminal:

  export KUBECONFIG=%s
  kubectl get ingress,svc,endpointslices,pods -A

`, kubeconfig)
	if o.noController {
		fmt.Print("The controller is not running (--no-controller).\n\n")
	} else {
		fmt.Printf(`Through the controller:

  curl -H 'Host: app.example.com' %[1]s/api     # api-service
  curl -H 'Host: app.example.com' %[1]s/        # frontend-service
  curl -H 'Host: api.example.com' %[1]s/        # api-service
  curl %[1]s/lobby                              # game-lobby (also /room /chat /ranking)
  curl http://127.0.0.1:%[2]d/healthz

`, base, o.healthzPort)
	}
	fmt.Println("Each pod directly:")
	fmt.Println()
	for _, p := range pods {
		fmt.Printf("  curl http://%-22s # %s/%s\n", p.echo.Addr().String()+"/", p.namespace, p.name)
	}
	fmt.Print("\nCtrl-C stops and removes everything.\n\n")
}

// underRoot returns p, made absolute against root if relative.
func underRoot(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// envInt returns $name as an int, or def if it is unset or empty.
func envInt(name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		log.Fatalf("$%s=%q: want a port number", name, s)
	}
	return v
}
