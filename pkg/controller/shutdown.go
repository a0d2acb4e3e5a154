package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/zap"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/portico-ingress/portico/pkg/model"
)

// Shutdown configures the steps between the shutdown signal and the
// controller's exit, as ingress-nginx takes them. The health check fails
// from the signal on.
type Shutdown struct {
	// Delay: nginx keeps accepting this long after the signal
	// (--shutdown-grace-period), so that load balancers stop sending
	// before it stops listening.
	Delay time.Duration
	// PostDelay: the controller waits this long after nginx stopped
	// (--post-shutdown-grace-period), so that a preStop hook waiting for
	// nginx (/wait-shutdown) ends before the container does.
	PostDelay time.Duration
	// ClearStatus empties the status of the served Ingresses when no
	// other Pod with this Pod's labels is left (--update-status-on-shutdown).
	ClearStatus bool
}

// The pid files in the run directory (ConfigDir/run): the controller's,
// written at start and removed at exit, and nginx's (nginx.conf's pid).
const (
	controllerPIDFile = "controller.pid"
	nginxPIDFile      = "nginx.pid"
)

// writePIDFile records this process for SignalShutdown.
func (c *Controller) writePIDFile() error {
	return os.WriteFile(filepath.Join(c.cfg.Plan.RunDir, controllerPIDFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// shutdown runs after the sync loop ended: the delay, the status, nginx's
// graceful stop (after the Lease is released, so that another replica
// takes over status at once), the post delay.
func (c *Controller) shutdown(electDone <-chan struct{}) {
	if d := c.cfg.Shutdown.Delay; d > 0 {
		c.log.Info("shutting down: the health check fails; nginx keeps accepting for the shutdown grace period", zap.Duration("period", d))
		time.Sleep(d)
	}
	if c.cfg.UpdateStatus && c.cfg.Shutdown.ClearStatus {
		c.clearStatus()
	}
	<-electDone
	grace := c.cfg.ShutdownGrace
	if p := c.last.Load(); p != nil {
		grace += p.HTTP.Workers.ShutdownDuration()
	}
	c.log.Info("shutting down nginx gracefully: no new connections, in-flight requests finish", zap.Duration("grace", grace))
	if err := c.applier.Nginx.Stop(grace); err != nil {
		c.log.Warn("nginx stop", zap.Error(err))
	}
	if d := c.cfg.Shutdown.PostDelay; d > 0 {
		c.log.Info("nginx stopped; exiting after the post-shutdown grace period", zap.Duration("period", d))
		time.Sleep(d)
	}
	_ = os.Remove(filepath.Join(c.cfg.Plan.RunDir, controllerPIDFile))
}

// podTemplateLabels vary between the Pods of one workload; ingress-nginx
// leaves them out when it looks for other replicas.
var podTemplateLabels = []string{"pod-template-hash", "controller-revision-hash", "pod-template-generation"}

// clearStatus empties the load-balancer status of the Ingresses this
// controller serves, unless another Pod with this Pod's labels (less the
// template's) exists: that replica, or the one replacing this one, keeps
// writing it. Outside a Pod (no Pod named $POD_NAME) the status is kept.
func (c *Controller) clearStatus() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods := c.cfg.Client.CoreV1().Pods(c.cfg.Election.Namespace)
	me, err := pods.Get(ctx, c.cfg.Election.Identity, metav1.GetOptions{})
	if err != nil {
		c.log.Info("Ingress status kept on shutdown: this controller's Pod cannot be read", zap.Error(err))
		return
	}
	set := labels.Set{}
	for k, v := range me.Labels {
		set[k] = v
	}
	for _, k := range podTemplateLabels {
		delete(set, k)
	}
	if len(set) == 0 {
		c.log.Info("Ingress status kept on shutdown: this controller's Pod has no labels to find its replicas by")
		return
	}
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: set.AsSelector().String()})
	if err != nil {
		c.log.Warn("Ingress status kept on shutdown: cannot list the controller's Pods", zap.Error(err))
		return
	}
	if len(list.Items) > 1 {
		c.log.Info("Ingress status kept on shutdown: other Pods of this controller run", zap.Int("pods", len(list.Items)))
		return
	}
	snap := c.watcher.Snapshot()
	var ings []*networkingv1.Ingress
	for _, ing := range snap.Ingresses {
		if ok, _ := model.Ownership(c.cfg.Model, snap.IngressClasses, ing); ok {
			ings = append(ings, ing)
		}
	}
	if err := c.status.Clear(ctx, ings); err != nil {
		c.log.Warn("clearing Ingress status on shutdown", zap.Error(err))
		return
	}
	c.log.Info("the last controller Pod: Ingress status cleared", zap.Int("ingresses", len(ings)))
}

// SignalShutdown starts the graceful shutdown of the controller that runs
// with configDir (SIGTERM, as on Pod deletion) and returns once its nginx
// has stopped, or the controller has exited, or ctx ends. It is what
// ingress-nginx's preStop hook /wait-shutdown does.
func SignalShutdown(ctx context.Context, configDir string, poll time.Duration) error {
	runDir := filepath.Join(configDir, "run")
	pid, err := readPID(filepath.Join(runDir, controllerPIDFile))
	if err != nil {
		return fmt.Errorf("no running controller: %w", err)
	}
	if err := sameExecutable(pid); err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal the controller (pid %d): %w", pid, err)
	}
	nginx, _ := readPID(filepath.Join(runDir, nginxPIDFile))
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if !alive(pid) || (nginx > 0 && !alive(nginx)) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the controller (pid %d) is still shutting down: %w", pid, context.Cause(ctx))
		case <-t.C:
		}
	}
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid < 1 {
		return 0, fmt.Errorf("%s: not a process id", path)
	}
	return pid, nil
}

// sameExecutable checks that pid runs this program, not a process that
// took the number of a controller gone without removing its pid file.
func sameExecutable(pid int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	self, _ = filepath.EvalSymlinks(self)
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return fmt.Errorf("no running controller (pid %d): %w", pid, err)
	}
	if exe != self {
		return fmt.Errorf("pid %d runs %s, not %s: no running controller", pid, exe, self)
	}
	return nil
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
		return false
	}
	return true
}
