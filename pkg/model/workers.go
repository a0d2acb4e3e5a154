package model

import (
	"strconv"
	"strings"
	"time"
)

// WorkerSettings are the ConfigMap's settings of nginx's worker
// processes (main and events contexts).
type WorkerSettings struct {
	// CPUAffinity is worker_cpu_affinity ("auto", "auto" and a mask, or
	// one mask of 0s and 1s per worker); "" binds none.
	CPUAffinity string `json:"cpuAffinity,omitempty"`
	// MaxOpenFiles is worker_rlimit_nofile; 0 lets package plan derive it
	// from the controller's limit, as ingress-nginx does.
	MaxOpenFiles int `json:"maxOpenFiles"`
	// MaxConnections is worker_connections; 0 is three quarters of the
	// open files.
	MaxConnections int `json:"maxConnections"`
	// ShutdownTimeout is worker_shutdown_timeout, an nginx time: how long
	// old workers may finish requests after a reload or at shutdown.
	ShutdownTimeout string `json:"shutdownTimeout"`
	// MultiAccept: a worker accepts all new connections at once.
	MultiAccept bool `json:"multiAccept"`
}

func defaultWorkerSettings() WorkerSettings {
	return WorkerSettings{MaxConnections: 16384, ShutdownTimeout: "240s", MultiAccept: true}
}

// ShutdownDuration is ShutdownTimeout as a duration.
func (w WorkerSettings) ShutdownDuration() time.Duration {
	d, _ := parseNginxTime(w.ShutdownTimeout)
	return d
}

// Masks of worker_cpu_affinity: one per worker at most, of at most 1024
// CPUs each (nginx's CPU_SETSIZE).
const maxCPUMasks, maxCPUs = 1024, 1024

// parseCPUAffinity takes worker_cpu_affinity's grammar: auto with an
// optional mask, or masks of 0s and 1s separated by spaces.
func parseCPUAffinity(v string, b *globalBuild) string {
	const want = "auto, auto and a CPU mask, or one mask of 0s and 1s per worker (0001 0010 0100 1000)"
	fs := strings.Split(v, " ")
	masks := fs
	if fs[0] == "auto" {
		masks = fs[1:]
	}
	if v != "" && (len(masks) > maxCPUMasks || fs[0] == "auto" && len(masks) > 1) {
		return want
	}
	for _, m := range masks {
		if v != "" && (m == "" || len(m) > maxCPUs || strings.Trim(m, "01") != "") {
			return want
		}
	}
	b.g.Workers.CPUAffinity = v
	return ""
}

// HashSizes are the sizes of nginx's hash tables (nginx.org/en/docs/hash.html).
// A server names size of 0 (the bucket size's default) lets package plan
// size the table for the names of its server blocks; a size set is raised
// to what they need, as ingress-nginx does.
type HashSizes struct {
	ServerNamesMaxSize     int `json:"serverNamesMaxSize"`
	ServerNamesBucketSize  int `json:"serverNamesBucketSize"`
	ProxyHeadersMaxSize    int `json:"proxyHeadersMaxSize"`
	ProxyHeadersBucketSize int `json:"proxyHeadersBucketSize"`
	VariablesMaxSize       int `json:"variablesMaxSize"`
	VariablesBucketSize    int `json:"variablesBucketSize"`
	MapBucketSize          int `json:"mapBucketSize"`
}

func defaultHashSizes() HashSizes {
	return HashSizes{ServerNamesMaxSize: 1024, ProxyHeadersMaxSize: 512, ProxyHeadersBucketSize: 64,
		VariablesMaxSize: 2048, VariablesBucketSize: 256, MapBucketSize: 64}
}

// Hash sizes: nginx refuses a bucket larger than 64 KiB less a cache line;
// a table larger than a million entries is not one any config needs.
const (
	maxHashBucket = 32768
	maxHashSize   = 1 << 20
)

// hashOption takes a hash table's size or bucket size from lo to hi.
func hashOption(lo, hi int, field func(*globalBuild) *int) func(string, *globalBuild) string {
	return intOption(lo, hi, "a number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi), field)
}
