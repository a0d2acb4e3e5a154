package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/plan"
)

// A first config nginx refuses is reported with nginx's own words, and
// nothing runs.
func TestRefusedStartNamesTheDirective(t *testing.T) {
	f := newFixture(t)
	conf, _ := f.config(map[string]string{"/x": "ns/x:80"})
	bad := []byte(strings.Replace(string(conf), "worker_processes auto;", "worker_processes auto; no_such_directive;", 1))
	_, err := f.applier.Apply(context.Background(), bad, "bad", dynamic(t, plan.Lua{}), "test")
	if err == nil || !strings.Contains(err.Error(), "no_such_directive") {
		t.Fatalf("Apply(bad) error = %v, want nginx's [emerg] line naming the directive", err)
	}
	if f.applier.Nginx.Running() {
		t.Fatal("nginx runs a refused config")
	}
	if s := f.applier.Stats(); s.Reloads != 0 || s.ReloadFailures != 1 {
		t.Fatalf("stats = %+v, want 0 loads and 1 failure", s)
	}
}

// ingress-nginx's chart sets LD_PRELOAD=/usr/local/lib/libmimalloc.so,
// which Portico's image does not have: the dynamic loader's complaint
// about it reaches neither nginx's log nor a refused config's message.
func TestMissingPreloadIsHarmless(t *testing.T) {
	const mimalloc = "/usr/local/lib/libmimalloc.so"
	if _, err := os.Stat(mimalloc); err == nil {
		t.Skip(mimalloc + " exists here")
	}
	t.Setenv("LD_PRELOAD", mimalloc)
	f := newFixture(t)
	logPath := filepath.Join(t.TempDir(), "nginx.stderr")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	f.applier.Nginx.Stderr = lf
	conf, sum := f.config(map[string]string{"/x": "ns/x:80"})
	f.apply(conf, sum)
	bad := []byte(strings.Replace(string(conf), "worker_processes auto;", "worker_processes auto; no_such_directive;", 1))
	_, err = f.applier.Apply(context.Background(), bad, "bad", dynamic(t, plan.Lua{}), "test")
	if err == nil || strings.Contains(err.Error(), "LD_PRELOAD") {
		t.Fatalf("refused config: %v; want nginx's error without the loader's", err)
	}
	if code, _ := f.get("/x"); code != 503 {
		t.Fatalf("GET /x: %d, want 503 (no endpoints): nginx serves", code)
	}
	log, _ := os.ReadFile(logPath)
	if strings.Contains(string(log), "LD_PRELOAD") {
		t.Fatalf("nginx's log has the loader's complaint:\n%s", log)
	}
}
