package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// orphanGrace bounds how long workers of a dead master may drain.
const orphanGrace = 5 * time.Second

// Nginx is one nginx master process run in the foreground as a child.
type Nginx struct {
	// Binary is the nginx executable.
	Binary string
	// Conf is the path of nginx.conf.
	Conf string
	// Stderr receives nginx's error log.
	Stderr *os.File
	// Sockets are the unix sockets nginx.conf may listen on: removed
	// before a start, as a killed nginx leaves them and nginx cannot bind
	// a path that exists.
	Sockets []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd exits
	err    error         // cmd's exit status, once exited is closed
	pgid   int           // process group of the last master and its workers
	log    errorLog      // nginx's stderr, watched for refused reloads
}

// Test runs nginx -t on the config file at path.
func (n *Nginx) Test(path string) error {
	cmd := exec.Command(n.Binary, "-t", "-q", "-e", "stderr", "-c", path)
	cmd.Env = nginxEnviron(os.Environ())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nginx -t: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Start starts the master process with Conf.
func (n *Nginx) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil && !isClosed(n.exited) {
		return errors.New("nginx is already running")
	}
	becomeSubreaper()
	if n.pgid != 0 {
		// Workers of a master that died hold the ports: give them the
		// graceful shutdown their master would have.
		stopGroup(n.pgid, orphanGrace)
	}
	for _, s := range n.Sockets {
		if fi, err := os.Lstat(s); err == nil && fi.Mode().Type() == os.ModeSocket {
			_ = os.Remove(s)
		}
	}
	cmd := exec.Command(n.Binary, "-e", "stderr", "-c", n.Conf, "-g", "daemon off; master_process on;")
	cmd.Env = nginxEnviron(os.Environ())
	var dst io.Writer
	if n.Stderr != nil {
		dst = n.Stderr
	}
	stderr, err := n.log.pipe(dst)
	if err != nil {
		return fmt.Errorf("start nginx: %w", err)
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, stderr
	// If the controller dies, nginx finishes its requests and exits.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	err = cmd.Start()
	stderr.Close() // nginx holds its own copy
	if err != nil {
		return fmt.Errorf("start nginx: %w", err)
	}
	exited := make(chan struct{})
	n.cmd, n.exited, n.pgid = cmd, exited, cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.err = err
		n.mu.Unlock()
		close(exited)
	}()
	return nil
}

// Exited returns a channel closed when the current master exits, and nil
// when none was started.
func (n *Nginx) Exited() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exited
}

// ExitErr is the last master's exit status.
func (n *Nginx) ExitErr() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// Running reports whether the master process is alive.
func (n *Nginx) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil && !isClosed(n.exited)
}

// PID is the master's process id, or 0.
func (n *Nginx) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || isClosed(n.exited) {
		return 0
	}
	return n.cmd.Process.Pid
}

// Reload makes the master re-read Conf (SIGHUP): new workers start with it
// and old ones finish their requests.
func (n *Nginx) Reload() error { return n.signal(syscall.SIGHUP) }

// ReloadMark is a position in the error log before a Reload.
func (n *Nginx) ReloadMark() int { return n.log.mark() }

// Refused returns the [emerg] lines process pid (0: any) logged since
// mark: when the master logged any after a reload, it refused the new
// config and its old workers still run.
func (n *Nginx) Refused(mark, pid int) []string { return n.log.emergSince(mark, pid) }

// Stop asks the master for a graceful shutdown (SIGQUIT) and waits up to
// grace for it, then kills it.
func (n *Nginx) Stop(grace time.Duration) error {
	if err := n.signal(syscall.SIGQUIT); err != nil {
		return nil // not running
	}
	exited := n.Exited()
	select {
	case <-exited:
		return nil
	case <-time.After(grace):
	}
	_ = n.signal(syscall.SIGKILL)
	<-exited
	n.mu.Lock()
	pgid := n.pgid
	n.mu.Unlock()
	stopGroup(pgid, 0)
	return fmt.Errorf("nginx did not stop within %s and was killed", grace)
}

func (n *Nginx) signal(sig syscall.Signal) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || isClosed(n.exited) {
		return errors.New("nginx is not running")
	}
	return n.cmd.Process.Signal(sig)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
