package framework

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	// echoReadyTimeout bounds StartEcho's wait for the first answer.
	echoReadyTimeout = 15 * time.Second
	// echoStopGrace is how long StopAndWait lets the echo server drain:
	// longer than its default --shutdown-timeout.
	echoStopGrace = 15 * time.Second
)

var (
	echoBinMu sync.Mutex
	echoBin   string // built once per process
)

// Echo is a hack/echoserver process serving HTTP inside a Host.
type Echo struct {
	addr netip.AddrPort
	proc *process
	out  *syncBuffer
}

// StartEcho runs hack/echoserver in host's namespace on host.Addr():port,
// answering as service and pod, and returns once it answers. The first call
// in a process builds the binary into <repo>/.cache/bin.
func StartEcho(ctx context.Context, host *Host, service, pod string, port int) (*Echo, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("echo %s: port %d out of range", pod, port)
	}
	return StartEchoOn(ctx, host, netip.AddrPortFrom(host.Addr(), uint16(port)), service, pod)
}

// StartEchoOn is StartEcho listening on addr, an address of host (its own,
// or one given with AddAddress).
func StartEchoOn(ctx context.Context, host *Host, addr netip.AddrPort, service, pod string) (*Echo, error) {
	c := NewHTTPClient()
	c.Timeout = time.Second
	return startEchoServer(ctx, host, pod, addr, []string{"--listen=" + addr.String(), "--service=" + service, "--pod=" + pod},
		answersAs(c, "http://"+addr.String()+"/", pod))
}

// StartFastCGI runs hack/echoserver as a FastCGI responder (as PHP-FPM
// is) in host's namespace on host.Addr():port, and returns once it
// accepts connections. Its answers report the request's FastCGI
// parameters.
func StartFastCGI(ctx context.Context, host *Host, service, pod string, port int) (*Echo, error) {
	addr := netip.AddrPortFrom(host.Addr(), uint16(port))
	return startEchoServer(ctx, host, pod, addr, []string{"--fastcgi", "--listen=" + addr.String(), "--service=" + service, "--pod=" + pod},
		func(ctx context.Context) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr.String())
			if err == nil {
				c.Close()
			}
			return err
		})
}

// startEchoServer runs hack/echoserver with args in host's namespace as
// pod, serving on addr, and returns once ready, polled every 100 ms,
// returns nil. It gives up when the server exits, or stops it after
// echoReadyTimeout, with ready's last error and the server's output.
func startEchoServer(ctx context.Context, host *Host, pod string, addr netip.AddrPort, args []string, ready func(context.Context) error) (*Echo, error) {
	bin, err := echoBinary(ctx)
	if err != nil {
		return nil, err
	}
	out := new(syncBuffer)
	cmd := host.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	proc, err := startProcess("echoserver "+pod, cmd)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, echoReadyTimeout)
	defer cancel()
	for {
		err := ready(rctx)
		if err == nil {
			return &Echo{addr: addr, proc: proc, out: out}, nil
		}
		select {
		case <-proc.done:
			return nil, proc.exitError(out.Bytes())
		case <-rctx.Done():
			return nil, errors.Join(fmt.Errorf("%s not answering on %s: %w (last: %v); output:\n%s", proc.name, addr, context.Cause(rctx), err, tail(out.Bytes(), 30)),
				proc.stop(echoStopGrace))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// answersAs is a readiness check: GET url with c answers as pod's echo.
func answersAs(c *http.Client, url, pod string) func(context.Context) error {
	return func(context.Context) error {
		_, resp, _, err := GetEcho(c, url, "")
		if err == nil && (resp == nil || resp.Pod != pod) {
			err = fmt.Errorf("GET %s: not an echo of pod %s", url, pod)
		}
		return err
	}
}

// Addr returns where the echo server listens.
func (e *Echo) Addr() netip.AddrPort { return e.addr }

// Stop sends SIGTERM and returns at once; the server stops accepting and
// exits once in-flight requests are done, as a pod being deleted does.
func (e *Echo) Stop() { e.proc.signal(syscall.SIGTERM) }

// Kill sends SIGKILL and waits for the server to exit: its connections
// close mid-request, as when a pod's node dies.
func (e *Echo) Kill() {
	e.proc.signal(syscall.SIGKILL)
	<-e.proc.done
}

// StopAndWait sends SIGTERM, waits for the server to exit, and kills it if
// it has not after 15 s.
func (e *Echo) StopAndWait() error {
	if err := e.proc.stop(echoStopGrace); err != nil {
		return fmt.Errorf("%w; output:\n%s", err, tail(e.out.Bytes(), 30))
	}
	return nil
}

// echoBinary builds hack/echoserver once per process and returns its path.
func echoBinary(ctx context.Context) (string, error) {
	echoBinMu.Lock()
	defer echoBinMu.Unlock()
	if echoBin != "" {
		return echoBin, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", fmt.Errorf("build echoserver: %w", err)
	}
	dir := filepath.Join(root, ".cache", "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build echoserver: %w", err)
	}
	// Build to a name of this process, then rename: concurrent test
	// processes each replace the binary atomically with an identical one.
	// The name is the checkout's: worktrees share .cache, not sources.
	sum := sha256.Sum256([]byte(root))
	bin := filepath.Join(dir, "echoserver-"+hex.EncodeToString(sum[:6]))
	tmp := bin + "." + strconv.Itoa(os.Getpid())
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, "./hack/echoserver")
	cmd.Dir = root
	setPdeathsig(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build echoserver: %w\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("build echoserver: %w", err)
	}
	echoBin = bin
	return bin, nil
}

// Pid is the echo server's process id.
func (e *Echo) Pid() int { return e.proc.cmd.Process.Pid }
