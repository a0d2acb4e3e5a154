package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/filewatch/filewatchtest"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/render"
)

// A data file an operator mounts (a ConfigMap volume of nginx rules here,
// read by an include in app.test's server block, as a feature's directive
// would read it) is applied through Portico's copy: a new version with
// one reload; a version nginx refuses keeps the last good copy in use,
// with a Warning and a Problem in Status, and no reload; a fixed version
// applies again; a file gone keeps the last good copy.
func TestDataFileReplaced(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rules := func(answer string) map[string][]byte {
		return map[string][]byte{"rules.conf": []byte("location = /data { return 200 \"" + answer + "\"; }\n")}
	}
	vol := filewatchtest.NewVolume(t, rules("v1"))
	mounted := vol.Path("rules.conf")
	core, logs := observer.New(zapcore.InfoLevel)
	changed := make(chan string, 10)
	d := &apply.DataFiles{Dir: filepath.Join(f.opts.RunDir, "data"), Log: zap.New(core), Changed: func(p string) { changed <- p }}
	d.Watch(ctx)

	// do renders app.test with an include of the copy it is given.
	do := func(copies map[string]string) error {
		opts := f.opts
		opts.DataFiles = copies
		srv := &model.Server{Host: "app.test", Locations: []*model.Location{{Path: "/"}}}
		if cp := copies[mounted]; cp != "" {
			srv.Snippets = []annotations.Snippet{annotations.Snippet("include " + cp + ";")}
		}
		cfg := &model.Config{Global: model.Build(model.Input{}).Global, DataFiles: []string{mounted},
			Servers: []*model.Server{{Default: true, Locations: []*model.Location{{Path: "/"}}}, srv}}
		cfg.Global.DynamicRouting = false // app.test is a server block
		p, err := plan.Make(cfg, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		conf, sum, err := render.Render(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.applier.Apply(ctx, conf, sum, dynamic(t, plan.Lua{}), "test")
		return err
	}
	sync := func() {
		t.Helper()
		if err := d.Apply([]string{mounted}, do); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	waitChanged := func() {
		t.Helper()
		select {
		case p := <-changed:
			if p != mounted {
				t.Fatalf("changed %s, want %s", p, mounted)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no change reported within 5s")
		}
	}
	answer := func(want string) {
		t.Helper()
		if code, body := f.get("/data"); code != 200 || body != want {
			t.Fatalf("GET /data = %d %q, want 200 %q", code, body, want)
		}
	}
	status := func() apply.DataFileStatus {
		t.Helper()
		st := d.Status()
		if len(st) != 1 || st[0].Path != mounted {
			t.Fatalf("status %+v", st)
		}
		return st[0]
	}
	onDisk := func() string {
		b, err := os.ReadFile(f.applier.Nginx.Conf)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	sync()
	answer("v1")
	if s := status(); !s.Current || s.Problem != "" || filepath.Dir(s.Copy) != filepath.Join(f.opts.RunDir, "data") {
		t.Fatalf("status after the first apply: %+v", s)
	}
	if strings.Contains(onDisk(), mounted) {
		t.Fatal("nginx.conf names the mounted file, not Portico's copy")
	}
	reloads := f.applier.Stats().Reloads

	// A new version (the kubelet swaps the ConfigMap volume): one reload.
	vol.Update(rules("v2"))
	waitChanged()
	sync()
	answer("v2")
	if got := f.applier.Stats().Reloads; got != reloads+1 {
		t.Fatalf("%d reloads for a new version, want 1", got-reloads)
	}
	good := status()
	if !good.Current || good.Problem != "" {
		t.Fatalf("status after v2: %+v", good)
	}

	// A broken version: nginx -t refuses it, the last good copy stays.
	vol.Update(map[string][]byte{"rules.conf": []byte("location = /data { return 200 \"v3\"; \n")})
	waitChanged()
	failures := f.applier.Stats().ReloadFailures
	sync()
	answer("v2")
	if st := f.applier.Stats(); st.Reloads != reloads+1 || st.ReloadFailures != failures+1 {
		t.Fatalf("after a broken version: %d reloads, %d failures; want none and 1 (nginx -t)", st.Reloads-reloads-1, st.ReloadFailures-failures)
	}
	if s := status(); s.Current || s.Copy != good.Copy || !strings.Contains(s.Problem, "nginx refused the version on disk") {
		t.Fatalf("status after a broken version: %+v", s)
	}
	if !strings.Contains(onDisk(), good.Copy) {
		t.Fatal("nginx.conf on disk does not name the last good copy")
	}
	if warns := logs.FilterMessageSnippet("nginx refused the new version of a data file").Len(); warns != 1 {
		t.Fatalf("%d Warnings for the refused version, want 1", warns)
	}
	// The next sync does not try it again.
	failures = f.applier.Stats().ReloadFailures
	sync()
	if got := f.applier.Stats().ReloadFailures; got != failures {
		t.Fatal("a refused version was tried again")
	}

	// Fixed: applied.
	vol.Update(rules("v4"))
	waitChanged()
	sync()
	answer("v4")
	if s := status(); !s.Current || s.Problem != "" {
		t.Fatalf("status after v4: %+v", s)
	}

	// Gone: the last good copy stays, and Status says why it is not
	// current.
	if err := os.RemoveAll(vol.Dir); err != nil {
		t.Fatal(err)
	}
	waitChanged()
	sync()
	answer("v4")
	if s := status(); s.Current || !strings.Contains(s.Problem, "cannot be read") {
		t.Fatalf("status with the file gone: %+v", s)
	}
	// Only the copy in use is left.
	ents, err := os.ReadDir(filepath.Join(f.opts.RunDir, "data"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("copies left: %v (%v), want the one in use", ents, err)
	}
}
