package apply

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
)

// waitUntil polls cond for at most 5 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fileIs(path string, want []byte) bool {
	got, err := os.ReadFile(path)
	return err == nil && string(got) == string(want)
}

// A file Portico wrote and someone else changed or removed is reported
// (Warning, Drift) and Portico's version is written back, mode included;
// Portico's own writes and removals are not drift.
func TestOwnedFilesDrift(t *testing.T) {
	dir := t.TempDir()
	core, logs := observer.New(zapcore.InfoLevel)
	o := &OwnedFiles{Log: zap.New(core)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Watch(ctx)

	conf := filepath.Join(dir, "nginx.conf")
	v1 := []byte("events {}\nhttp {\n    server { listen 1; }\n}\n")
	if err := o.write(conf, v1, func() error { return writeAtomic(conf, v1, 0o644) }); err != nil {
		t.Fatal(err)
	}
	auth := &AuthFiles{Dir: filepath.Join(dir, "auth"), Owned: o}
	users := map[string][]byte{"a.htpasswd": []byte("user:{PLAIN}x\n"), "b.htpasswd": []byte("other:{PLAIN}y\n")}
	if err := auth.Write(users); err != nil {
		t.Fatal(err)
	}
	// Portico's own writes: many, and none is drift.
	for i := range 20 {
		next := []byte(strings.Replace(string(v1), "listen 1;", "listen 2"+strings.Repeat("0", i)+";", 1))
		if err := o.write(conf, next, func() error { return writeAtomic(conf, next, 0o644) }); err != nil {
			t.Fatal(err)
		}
		v1 = next
	}
	time.Sleep(300 * time.Millisecond) // the watcher's debounce, thrice
	if d := o.Drift(); d.Edits != 0 {
		t.Fatalf("Portico's own writes were taken for drift: %+v", d)
	}

	// A hand edit of nginx.conf.
	edited := []byte(strings.Replace(string(v1), "http {\n", "http {\n    server { listen 9; return 200 edited; }\n", 1))
	if err := os.WriteFile(conf, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the edit undone", func() bool { return fileIs(conf, v1) })
	d := o.Drift()
	if d.Edits != 1 || d.Last == nil || d.Last.Path != conf || d.Last.Change != "edited" || d.Last.Line != 3 || !d.Last.Restored || len(d.Unrestored) != 0 {
		t.Fatalf("drift after a hand edit: %+v (last %+v)", d, d.Last)
	}
	warns := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warns) != 1 || warns[0].ContextMap()["file"] != conf {
		t.Fatalf("want one Warning naming %s, got %v", conf, warns)
	}

	// A removed auth file comes back with its mode.
	a := filepath.Join(auth.Dir, "a.htpasswd")
	st, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the removed auth file back", func() bool { return fileIs(a, users["a.htpasswd"]) })
	if st2, err := os.Stat(a); err != nil || st2.Mode() != st.Mode() {
		t.Fatalf("restored mode %v (%v), want %v", st2.Mode(), err, st.Mode())
	}
	if d := o.Drift(); d.Edits != 2 || d.Last.Change != "removed" {
		t.Fatalf("drift after a removal: %+v", d)
	}

	// Portico pruning a file is no drift.
	delete(users, "b.htpasswd")
	if err := auth.Prune(users); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if d := o.Drift(); d.Edits != 2 {
		t.Fatalf("Portico's removal was taken for drift: %+v", d)
	}

	// A path that cannot take Portico's version back (a directory stands
	// there now) stays listed as unrestored until it can.
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(a, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "an unrestored file", func() bool { return len(o.Drift().Unrestored) == 1 })
	if err := os.RemoveAll(a); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the file restored after all", func() bool { return fileIs(a, users["a.htpasswd"]) && len(o.Drift().Unrestored) == 0 })
}

// Check undoes a hand edit at once, without waiting for the watcher:
// what a restart of nginx relies on.
func TestOwnedFilesCheck(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "nginx.conf")
	o := &OwnedFiles{Log: zap.NewNop()}
	mine := []byte("events {}\n")
	if err := o.write(conf, mine, func() error { return writeAtomic(conf, mine, 0o644) }); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("events {}\nhttp {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.Check(conf)
	if !fileIs(conf, mine) {
		t.Fatal("Check did not write Portico's version back")
	}
	if d := o.Drift(); d.Edits != 1 || d.Last.Line != 2 {
		t.Fatalf("drift: %+v", d)
	}
}
