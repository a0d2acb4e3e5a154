package filewatch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap/zaptest"

	"github.com/portico-ingress/portico/pkg/filewatch/filewatchtest"
)

func newVolume(t *testing.T, data map[string]string) *filewatchtest.Volume {
	return filewatchtest.NewVolume(t, bytesOf(data))
}

func bytesOf(data map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range data {
		out[k] = []byte(v)
	}
	return out
}

// recorder collects the callbacks of a Watcher.
type recorder struct {
	mu    sync.Mutex
	calls [][]File
	seen  chan struct{}
}

func newRecorder() *recorder { return &recorder{seen: make(chan struct{}, 100)} }

func (r *recorder) onChange(fs []File) {
	r.mu.Lock()
	r.calls = append(r.calls, fs)
	r.mu.Unlock()
	r.seen <- struct{}{}
}

// wait waits for the next callback, at most limit.
func (r *recorder) wait(t *testing.T, limit time.Duration) []File {
	t.Helper()
	select {
	case <-r.seen:
	case <-time.After(limit):
		t.Fatalf("no change reported within %s", limit)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[len(r.calls)-1]
}

// quiet fails when a callback comes within d.
func (r *recorder) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-r.seen:
		r.mu.Lock()
		defer r.mu.Unlock()
		t.Fatalf("unexpected report: %s", describe(r.calls[len(r.calls)-1]))
	case <-time.After(d):
	}
}

func describe(fs []File) string {
	out := ""
	for _, f := range fs {
		out += fmt.Sprintf("%s=%q(err %v) ", filepath.Base(f.Path), f.Data, f.Err)
	}
	return out
}

func byName(fs []File) map[string]File {
	m := map[string]File{}
	for _, f := range fs {
		m[filepath.Base(f.Path)] = f
	}
	return m
}

func watch(t *testing.T, opts Options, r *recorder, paths ...string) (*Watcher, []File) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts.Log = zaptest.NewLogger(t)
	return Watch(ctx, opts, r.onChange, paths...)
}

// A Secret volume's new version, swapped in by renaming `..data`, is
// reported once, with both keys' new content.
func TestKubeletAtomicWriterSwap(t *testing.T) {
	v := newVolume(t, map[string]string{"tls.crt": "cert 1", "tls.key": "key 1"})
	r := newRecorder()
	w, initial := watch(t, Options{}, r, v.Path("tls.crt"), v.Path("tls.key"))
	if w.Polling() {
		t.Fatal("inotify is available here, yet the watcher polls")
	}
	got := byName(initial)
	if string(got["tls.crt"].Data) != "cert 1" || string(got["tls.key"].Data) != "key 1" {
		t.Fatalf("initial: %s", describe(initial))
	}
	for i := 2; i <= 3; i++ {
		v.Update(bytesOf(map[string]string{"tls.crt": fmt.Sprintf("cert %d", i), "tls.key": fmt.Sprintf("key %d", i)}))
		got := byName(r.wait(t, 5*time.Second))
		if string(got["tls.crt"].Data) != fmt.Sprintf("cert %d", i) || string(got["tls.key"].Data) != fmt.Sprintf("key %d", i) {
			t.Fatalf("version %d: reported %v", i, got)
		}
		// One swap, one report.
		r.quiet(t, 500*time.Millisecond)
	}
	// A version that changes one key reports that key only.
	v.Update(bytesOf(map[string]string{"tls.crt": "cert 3", "tls.key": "key 4"}))
	got = byName(r.wait(t, 5*time.Second))
	if len(got) != 1 || string(got["tls.key"].Data) != "key 4" {
		t.Fatalf("reported %v, want tls.key only", got)
	}
}

// A file absent at start (its directory too) is reported when it appears,
// when it goes, and when it comes back.
func TestMissingFileAppears(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "mount", "sub")
	p := filepath.Join(dir, "data")
	r := newRecorder()
	_, initial := watch(t, Options{}, r, p)
	if len(initial) != 1 || !errors.Is(initial[0].Err, fs.ErrNotExist) {
		t.Fatalf("initial: %s", describe(initial))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := r.wait(t, 5*time.Second); len(got) != 1 || string(got[0].Data) != "one" {
		t.Fatalf("after create: %s", describe(got))
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if got := r.wait(t, 5*time.Second); len(got) != 1 || !errors.Is(got[0].Err, fs.ErrNotExist) {
		t.Fatalf("after remove: %s", describe(got))
	}
	// The whole directory goes and comes back.
	if err := os.RemoveAll(filepath.Join(base, "mount")); err != nil {
		t.Fatal(err)
	}
	r.quiet(t, 300*time.Millisecond) // still absent: nothing to report
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := r.wait(t, 5*time.Second); len(got) != 1 || string(got[0].Data) != "two" {
		t.Fatalf("after re-create: %s", describe(got))
	}
}

// A burst of writes gives one report, of the last content; a burst that
// ends where it began gives none.
func TestBurstDebounced(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("start"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	watch(t, Options{Debounce: 200 * time.Millisecond}, r, p)
	for i := range 50 {
		if err := os.WriteFile(p, []byte(fmt.Sprint("write ", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.wait(t, 5*time.Second); len(got) != 1 || string(got[0].Data) != "write 49" {
		t.Fatalf("reported %s", describe(got))
	}
	r.quiet(t, 600*time.Millisecond)
	for _, s := range []string{"a", "b", "write 49"} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.quiet(t, 600*time.Millisecond)
}

// Set adds files (reported at once) and drops others (no longer reported).
func TestSet(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := newRecorder()
	w, _ := watch(t, Options{}, r, a)
	w.Set(b)
	if got := r.wait(t, 5*time.Second); len(got) != 1 || got[0].Path != b || string(got[0].Data) != "x" {
		t.Fatalf("after Set: %s", describe(got))
	}
	if err := os.WriteFile(a, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.quiet(t, 500*time.Millisecond)
}

// Without inotify, files are read every Poll: a change shows within it.
func TestPollingFallback(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func()
	}{
		{"no inotify instance", func() {
			newNotifier = func() (*fsnotify.Watcher, error) { return nil, syscall.EMFILE }
		}},
		{"no inotify watch left", func() {
			addWatch = func(*fsnotify.Watcher, string) error { return fmt.Errorf("add: %w", syscall.ENOSPC) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.set()
			t.Cleanup(func() { newNotifier, addWatch = fsnotify.NewWatcher, (*fsnotify.Watcher).Add })
			v := newVolume(t, map[string]string{"k": "1"})
			r := newRecorder()
			w, initial := watch(t, Options{Poll: 100 * time.Millisecond}, r, v.Path("k"))
			if !w.Polling() {
				t.Fatal("the watcher did not fall back to polling")
			}
			if len(initial) != 1 || string(initial[0].Data) != "1" {
				t.Fatalf("initial: %s", describe(initial))
			}
			v.Update(bytesOf(map[string]string{"k": "2"}))
			if got := r.wait(t, 5*time.Second); len(got) != 1 || string(got[0].Data) != "2" {
				t.Fatalf("reported %s", describe(got))
			}
			r.quiet(t, 400*time.Millisecond)
		})
	}
}
