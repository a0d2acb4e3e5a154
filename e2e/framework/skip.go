package framework

import (
	"os"
	"testing"
)

// SkipUnlessRoot skips t unless the process runs as root, as Network needs.
func SkipUnlessRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create network namespaces, veths and bridges")
	}
}
