package plan

import (
	"math/bits"
	"slices"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
)

// Worker limits when the ConfigMap leaves them to the plan, as
// ingress-nginx derives them: the controller's open files less some
// room, at least minOpenFiles; three quarters of them as connections.
const (
	openFilesRoom     = 1024
	minOpenFiles      = 1024
	defaultWorkerConn = 16384
)

// workerLimits are worker_rlimit_nofile (0: not set, when neither the
// ConfigMap nor the controller's limit says) and worker_connections.
func workerLimits(w model.WorkerSettings, limit int) (openFiles, connections int) {
	openFiles = w.MaxOpenFiles
	if openFiles == 0 && limit > 0 {
		openFiles = max(limit-openFilesRoom, minOpenFiles)
	}
	connections = w.MaxConnections
	if connections == 0 {
		connections = defaultWorkerConn
		if openFiles > 0 {
			connections = openFiles * 3 / 4
		}
	}
	return openFiles, connections
}

// nextUpstream is a proxy_next_upstream value: conditions, with
// non_idempotent once when the ConfigMap retries such requests too
// (retry-non-idempotent), as ingress-nginx adds it.
func nextUpstream(conditions []string, nonIdempotent bool) string {
	out := make([]string, 0, len(conditions)+1)
	for _, c := range conditions {
		if c == "non_idempotent" {
			nonIdempotent = true
		} else {
			out = append(out, c)
		}
	}
	if nonIdempotent && !slices.Contains(out, "off") {
		out = append(out, "non_idempotent")
	}
	return strings.Join(out, " ")
}

// ServerNamesHash are server_names_hash_max_size and
// server_names_hash_bucket_size.
type ServerNamesHash struct {
	MaxSize, BucketSize int
}

// serverNamesHash sizes the server names hash for the names of servers,
// as ingress-nginx does: a bucket fits the longest name (with nginx's two
// words of overhead), the table the sum of their lengths; the ConfigMap's
// sizes when larger. nginx cannot build the hash otherwise, and a
// refused config would hold back every change.
func serverNamesHash(servers []*Server, h model.HashSizes) ServerNamesHash {
	longest, total := 0, 0
	for _, s := range servers {
		for _, n := range append([]string{s.ServerName}, s.Aliases...) {
			longest = max(longest, len(n))
			total += len(n)
		}
	}
	const word = 8
	bucket := nextPowerOf2(word + word + (longest+2+word-1)&^(word-1))
	return ServerNamesHash{MaxSize: max(h.ServerNamesMaxSize, nextPowerOf2(total)), BucketSize: max(h.ServerNamesBucketSize, bucket)}
}

// nextPowerOf2 is the least power of two not below n (1 for n <= 1).
func nextPowerOf2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}
