package apply

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// When an nginx master dies without stopping its workers (SIGKILL, OOM),
// the workers live on, still holding the listening sockets, and a new master
// cannot bind. To find them, the controller makes itself a child subreaper:
// orphaned workers are re-parented to it instead of to init.

var subreaperOnce sync.Once

func becomeSubreaper() {
	subreaperOnce.Do(func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
}

// orphanWorkers lists nginx worker processes whose parent is this process:
// their master is gone.
func orphanWorkers() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state, ppid, ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(self) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if bytes.HasPrefix(cmdline, []byte("nginx: worker process")) || bytes.HasPrefix(cmdline, []byte("nginx: cache")) {
			out = append(out, pid)
		}
	}
	return out
}

// stopOrphans asks orphaned workers to finish gracefully, kills those still
// there after grace, and reaps them all.
func stopOrphans(grace time.Duration) int {
	pids := orphanWorkers()
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGQUIT)
	}
	deadline := time.Now().Add(grace)
	for _, pid := range pids {
		for {
			var ws syscall.WaitStatus
			got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			if got == pid || err != nil {
				break
			}
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				_, _ = syscall.Wait4(pid, &ws, 0, nil)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return len(pids)
}
