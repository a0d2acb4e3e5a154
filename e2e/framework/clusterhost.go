package framework

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What a one-node cluster changes outside its WorkDir, and how Stop and
// CleanupStale put it back.

// kubeletSysctls are the machine-wide kernel settings the kubelet sets when
// it starts (its container manager's kernel tunables).
var kubeletSysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
}

// hostDirs are the directories the node's components create outside
// WorkDir at fixed paths: containerd's shim sockets, libcni's cache, the
// kubelet's container log links. Children before parents.
var hostDirs = []string{"/run/containerd/s", "/run/containerd", "/var/lib/cni/results", "/var/lib/cni", "/var/log/containers"}

// hostState is the machine as the first of the running clusters found it:
// the kubelet's sysctls and which hostDirs were missing. The last cluster
// to stop puts it back.
type hostState struct {
	Sysctls map[string]string `json:"sysctls"`
	Missing []string          `json:"missing"`
}

// hostStateFile is shared by every cluster on the machine.
func hostStateFile() string { return filepath.Join(os.TempDir(), NamePrefix+"-cluster-host.json") }

// saveHostState records the machine's state unless a running cluster has
// already done so.
func saveHostState() (*hostState, error) {
	if b, err := os.ReadFile(hostStateFile()); err == nil {
		var st hostState
		if json.Unmarshal(b, &st) == nil {
			return &st, nil
		}
	}
	st := &hostState{Sysctls: map[string]string{}}
	for _, k := range kubeletSysctls {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			return nil, fmt.Errorf("save host state: %w", err)
		}
		st.Sysctls[k] = strings.TrimSpace(string(b))
	}
	for _, d := range hostDirs {
		if _, err := os.Stat(d); errors.Is(err, fs.ErrNotExist) {
			st.Missing = append(st.Missing, d)
		}
	}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(hostStateFile(), b, 0o644); err != nil {
		return nil, fmt.Errorf("save host state: %w", err)
	}
	return st, nil
}

// restoreHostState puts the kernel settings back and removes the hostDirs
// that were missing, if empty, once no other cluster runs.
func restoreHostState(self string, st *hostState) error {
	if st == nil || otherClusterRunning(self) {
		return nil
	}
	var errs []error
	for k, v := range st.Sysctls {
		if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range hostDirs {
		if slices.Contains(st.Missing, d) {
			_ = os.Remove(d) // only if empty
		}
	}
	if err := os.Remove(hostStateFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// clusterDirs returns the WorkDirs of clusters on the machine by the pid of
// the process that started each.
func clusterDirs(prefix string) map[int]string {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*-cluster"))
	out := map[int]string{}
	for _, d := range dirs {
		pid36 := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(d), prefix), "-cluster")
		if pid, ok := strconvPid36(pid36); ok {
			out[pid] = d
		}
	}
	return out
}

// otherClusterRunning reports whether a live process other than the one
// owning self has a cluster WorkDir.
func otherClusterRunning(self string) bool {
	for pid, d := range clusterDirs(NamePrefix) {
		if d != self && syscall.Kill(pid, 0) != syscall.ESRCH {
			return true
		}
	}
	return false
}

// cleanupStaleClusters kills and removes the clusters of processes that
// no longer exist.
func cleanupStaleClusters(prefix string) error {
	var errs []error
	for pid, dir := range clusterDirs(prefix) {
		if pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		run := prefix + strconv.FormatInt(int64(pid), 36) + "-"
		var st *hostState
		if b, err := os.ReadFile(hostStateFile()); err == nil {
			st = new(hostState)
			if json.Unmarshal(b, st) != nil {
				st = nil
			}
		}
		errs = append(errs, killCluster(run), removeClusterLeftovers(run, dir, st), os.RemoveAll(dir))
	}
	return errors.Join(errs...)
}

// removeClusterLeftovers removes, for the cluster of run (a runPrefix) in
// workDir, the mounts under workDir, the node's network namespace (with
// it its veth, routes and iptables rules), its cgroups, the files it left
// in /var/log/containers, and all of workDir but its logs; then it
// restores st. Its processes must be gone (killCluster).
func removeClusterLeftovers(run, workDir string, st *hostState) error {
	var errs []error
	errs = append(errs, unmountUnder(workDir))
	if netnsExists(run + "node") {
		errs = append(errs, ipCmds([]string{"netns", "del", run + "node"}))
	}
	errs = append(errs, removeCgroup(run+"node"))
	// The kubelet's links to container logs under workDir.
	links, _ := filepath.Glob("/var/log/containers/*.log")
	for _, l := range links {
		if t, err := os.Readlink(l); err == nil && strings.HasPrefix(t, workDir+"/") {
			_ = os.Remove(l)
		}
	}
	entries, _ := os.ReadDir(workDir)
	for _, e := range entries {
		if e.Name() == "logs" {
			continue
		}
		if e.Name() == "controlplane" {
			errs = append(errs, removeAllBut(filepath.Join(workDir, "controlplane"), "logs"))
			continue
		}
		errs = append(errs, os.RemoveAll(filepath.Join(workDir, e.Name())))
	}
	errs = append(errs, restoreHostState(workDir, st))
	return errors.Join(errs...)
}

// removeAllBut removes what dir holds but keep.
func removeAllBut(dir, keep string) error {
	entries, _ := os.ReadDir(dir)
	var errs []error
	for _, e := range entries {
		if e.Name() != keep {
			errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 {
			// Octal escapes (\040 for a space) do not occur under dir.
			if mp := fields[4]; strings.HasPrefix(mp, dir+"/") {
				points = append(points, mp)
			}
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	var errs []error
	for _, mp := range points {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
		}
	}
	return errors.Join(errs...)
}

// cgroupRoots returns the mount points of the cgroup v1 hierarchies.
func cgroupRoots() []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var roots []string
	for _, line := range strings.Split(string(b), "\n") {
		// ... mount-point ... - fstype source options
		pre, post, ok := strings.Cut(line, " - ")
		if !ok || !strings.HasPrefix(post, "cgroup ") {
			continue
		}
		if f := strings.Fields(pre); len(f) > 4 {
			roots = append(roots, f[4])
		}
	}
	return roots
}

// makeCgroups creates the cgroup name (the kubelet's cgroupRoot) and
// name/shims (containerd's shims) in every cgroup v1 hierarchy; in cpuset,
// with the parent's CPUs and memory nodes, without which no task can join.
func makeCgroups(name string) error {
	for _, root := range cgroupRoots() {
		for _, dir := range []string{filepath.Join(root, name), filepath.Join(root, name, "shims")} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("cgroup %s: %w", dir, err)
			}
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if v, err := os.ReadFile(filepath.Join(filepath.Dir(dir), f)); err == nil {
					if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
						return fmt.Errorf("cgroup %s: %w", dir, err)
					}
				}
			}
		}
	}
	return nil
}

// cgroupPids returns the processes in the cgroup name and below, in any
// hierarchy.
func cgroupPids(name string) []int {
	seen := map[int]bool{}
	for _, root := range cgroupRoots() {
		_ = filepath.WalkDir(filepath.Join(root, name), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			for _, s := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(s); err == nil {
					seen[pid] = true
				}
			}
			return nil
		})
	}
	pids := make([]int, 0, len(seen))
	for pid := range seen {
		pids = append(pids, pid)
	}
	return pids
}

// killCluster kills the processes of the cluster of run (a runPrefix):
// the Pods' and containerd's shims, and removes what the killed shims
// leave behind: their sockets under /run/containerd/s and libcni's cache
// entries of their sandboxes under /var/lib/cni/results.
func killCluster(run string) error {
	var leftovers []string
	for _, pid := range cgroupPids(run + "node/shims") {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			continue
		}
		var id, ns, addr string
		args := strings.Split(string(b), "\x00")
		for i := 0; i+1 < len(args); i++ {
			switch args[i] {
			case "-id":
				id = args[i+1]
			case "-namespace":
				ns = args[i+1]
			case "-address":
				addr = args[i+1]
			}
		}
		if id == "" || ns == "" || addr == "" {
			continue
		}
		// containerd names a shim's socket after its address, namespace
		// and id.
		sum := sha256.Sum256([]byte(filepath.Join(addr, ns, id)))
		leftovers = append(leftovers, "/run/containerd/s/"+hex.EncodeToString(sum[:]))
		cached, _ := filepath.Glob("/var/lib/cni/results/*-" + id + "-*")
		leftovers = append(leftovers, cached...)
	}
	err := killCgroup(run + "node")
	for _, f := range leftovers {
		_ = os.Remove(f)
	}
	return err
}

// killCgroup kills every process in the cgroup name and below with SIGKILL
// and waits, at most 10 s, until none is left.
func killCgroup(name string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := cgroupPids(name)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: processes %v still there after SIGKILL", name, pids)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeCgroup removes the cgroup name and its children from every
// hierarchy, deepest first. Its processes must be gone.
func removeCgroup(name string) error {
	var errs []error
	for _, root := range cgroupRoots() {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join(root, name), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("cgroup: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// strconvPid36 parses the base-36 pid of a run prefix's name.
func strconvPid36(s string) (int, bool) {
	pid, err := strconv.ParseInt(s, 36, 32)
	return int(pid), err == nil && pid > 0
}
