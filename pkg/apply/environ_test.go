package apply

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestNginxEnvironDropsMissingPreloads(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "libthere.so")
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		preload string
		want    []string
	}{
		{"/usr/local/lib/libmimalloc-missing.so", []string{"A=1"}},
		{lib, []string{"A=1", "LD_PRELOAD=" + lib}},
		{"/no/such.so:" + lib + " /no/other.so", []string{"A=1", "LD_PRELOAD=" + lib}},
		// A bare name is looked up in the library path: ld.so's business.
		{"libc.so.6", []string{"A=1", "LD_PRELOAD=libc.so.6"}},
	} {
		if got := nginxEnviron([]string{"A=1", "LD_PRELOAD=" + tc.preload}); !slices.Equal(got, tc.want) {
			t.Errorf("LD_PRELOAD=%q: %q, want %q", tc.preload, got, tc.want)
		}
	}
}
