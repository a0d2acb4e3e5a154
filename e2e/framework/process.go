package framework

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// killWait bounds the wait for a process to exit after SIGKILL.
const killWait = 5 * time.Second

// process is a started child process reaped by its own goroutine.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // cmd.Wait's result, set before done is closed
}

// setPdeathsig makes the kernel SIGKILL cmd's process when its parent dies.
func setPdeathsig(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// startProcess starts cmd with Pdeathsig set, in its own process group so
// that a Ctrl-C meant for the parent does not reach it, and reaps it in the
// background.
func startProcess(name string, cmd *exec.Cmd) (*process, error) {
	setPdeathsig(cmd)
	cmd.SysProcAttr.Setpgid = true
	// Bounds Wait when a leftover grandchild keeps an output pipe open.
	cmd.WaitDelay = killWait
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig unless the process has exited already.
func (p *process) signal(sig os.Signal) {
	if !p.exited() {
		p.cmd.Process.Signal(sig) //nolint:errcheck // it may exit in between
	}
}

// stop sends SIGTERM, then SIGKILL if the process is still there after grace,
// and waits for it to exit. It returns nil if the process exited after SIGTERM
// (whatever its status), an error if it needed SIGKILL or would not die.
func (p *process) stop(grace time.Duration) error {
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	p.signal(syscall.SIGKILL)
	select {
	case <-p.done:
		return fmt.Errorf("%s (pid %d) ignored SIGTERM for %v and was killed", p.name, p.cmd.Process.Pid, grace)
	case <-time.After(killWait):
		return fmt.Errorf("%s (pid %d) still running %v after SIGKILL", p.name, p.cmd.Process.Pid, killWait)
	}
}

// exitError describes an unexpected exit, with the tail of the output.
func (p *process) exitError(output []byte) error {
	return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, tail(output, 30))
}

// tail returns the last n lines of b.
func tail(b []byte, n int) []byte {
	b = bytes.TrimRight(b, "\n")
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if n--; n == 0 {
				return b[i+1:]
			}
		}
	}
	return b
}

// fileTail returns the last n lines of the file at path, or why it cannot.
func fileTail(path string, n int) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return []byte(err.Error())
	}
	return tail(b, n)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written so far.
func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// errNotRoot is returned by what needs root when not running as root.
var errNotRoot = errors.New("needs root (network namespaces, veth, bridges)")
