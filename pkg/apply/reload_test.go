package apply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/pkg/apply"
)

// A first config nginx refuses is reported with nginx's own words, and
// nothing runs.
func TestRefusedStartNamesTheDirective(t *testing.T) {
	f := newFixture(t)
	conf, _ := f.config(map[string]string{"/x": "ns/x:80"})
	bad := []byte(strings.Replace(string(conf), "worker_processes auto;", "worker_processes auto; no_such_directive;", 1))
	_, err := f.applier.Apply(context.Background(), bad, "bad", apply.Dynamic{}, "test")
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
