package apply

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// When an nginx master dies without stopping its workers (SIGKILL, OOM),
// the workers live on, still holding the listening sockets, and a new master
// cannot bind. Each master therefore leads its own process group, which its
// workers share; before a new master starts, whatever is left of the old
// group is stopped. The controller is a child subreaper, so the orphans are
// re-parented to it and it can reap them.

var subreaperOnce sync.Once

func becomeSubreaper() {
	subreaperOnce.Do(func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
}

// stopGroup asks every process of group pgid to finish gracefully (SIGQUIT),
// kills what is left after grace, and reaps them.
func stopGroup(pgid int, grace time.Duration) {
	if syscall.Kill(-pgid, syscall.SIGQUIT) != nil {
		return // the group is empty
	}
	deadline := time.Now().Add(grace)
	killed := false
	for {
		reap(pgid)
		if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
			return
		}
		if !killed && time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			killed = true
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reap collects exited children of group pgid without blocking.
func reap(pgid int) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-pgid, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}

// workers lists the worker processes of master that still accept
// connections: children of it whose title is not "... is shutting down".
func workers(master int) []int {
	var out []int
	for pid := range children(master) {
		title, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if bytes.HasPrefix(title, []byte("nginx: worker process")) && !bytes.Contains(title, []byte("shutting down")) {
			out = append(out, pid)
		}
	}
	return out
}

// accepting reports which of pids are still workers of master that accept.
func accepting(master int, pids []int) []int {
	live := map[int]bool{}
	for _, p := range workers(master) {
		live[p] = true
	}
	var out []int
	for _, p := range pids {
		if live[p] {
			out = append(out, p)
		}
	}
	return out
}
