package apply

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/filewatch"
)

// OwnedFiles are the files Portico writes under its config dir (nginx.conf
// and the files beside it), with what it wrote. Every write of one goes
// through it. A file watcher tells when one changes; a change Portico did
// not make, such as a hand edit through kubectl exec, is drift: it is
// logged as a Warning, counted, and Portico's version is written back at
// once, so that neither a reload nor a restart of nginx loads the edit.
// A nil *OwnedFiles only writes.
type OwnedFiles struct {
	Log *zap.Logger
	// Debounce is the file watcher's (zero: its default, 100 ms).
	Debounce time.Duration

	mu      sync.Mutex
	files   map[string]*ownedFile
	watcher *filewatch.Watcher
	drift   Drift
}

type ownedFile struct {
	data     []byte // shared with the writer: never modified
	sum      [sha256.Size]byte
	mode     os.FileMode
	uid, gid int
}

// Drift is what OwnedFiles saw of changes Portico did not make.
type Drift struct {
	// Edits counts them since the controller started.
	Edits int `json:"edits"`
	// Last is the latest.
	Last *DriftEvent `json:"last,omitempty"`
	// Unrestored are the files that differ from Portico's version now:
	// writing it back failed.
	Unrestored []DriftEvent `json:"unrestored,omitempty"`
}

// DriftEvent is one change to a file Portico owns that Portico did not make.
type DriftEvent struct {
	Path string    `json:"path"`
	At   time.Time `json:"at"`
	// Change is "edited" or "removed".
	Change string `json:"change"`
	// Line is the first line that differs from Portico's version, when
	// the file was edited.
	Line int `json:"line,omitempty"`
	// Restored says Portico's version was written back; Error says why not.
	Restored bool   `json:"restored"`
	Error    string `json:"error,omitempty"`
}

// write runs write, which puts data at path, and records data as
// Portico's version of path; a nil write records a file already holding
// data. Drift checks wait meanwhile.
func (o *OwnedFiles) write(path string, data []byte, write func() error) error {
	if o == nil {
		if write == nil {
			return nil
		}
		return write()
	}
	o.mu.Lock()
	if write != nil {
		if err := write(); err != nil {
			o.mu.Unlock()
			return err
		}
	}
	own, known := o.files[path]
	if write != nil || !known || own.sum != sha256.Sum256(data) {
		o.record(path, data)
	}
	o.mu.Unlock()
	if !known {
		o.watch()
	}
	return nil
}

// Own records the files at paths, as they are now, as Portico's: for files
// written before the OwnedFiles existed.
func (o *OwnedFiles) Own(paths ...string) error {
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := o.write(p, data, nil); err != nil {
			return err
		}
	}
	return nil
}

// record makes data Portico's version of path, with the file's mode and
// owner as they are now; o.mu is held.
func (o *OwnedFiles) record(path string, data []byte) {
	if o.files == nil {
		o.files = map[string]*ownedFile{}
	}
	f := &ownedFile{data: data, sum: sha256.Sum256(data), mode: 0o644, uid: -1, gid: -1}
	if st, err := os.Stat(path); err == nil {
		f.mode = st.Mode().Perm()
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			f.uid, f.gid = int(sys.Uid), int(sys.Gid)
		}
	}
	o.files[path] = f
	o.settled(path)
}

// forget runs remove, which removes path, and stops owning path.
func (o *OwnedFiles) forget(path string, remove func() error) error {
	if o == nil {
		return remove()
	}
	o.mu.Lock()
	delete(o.files, path)
	o.settled(path)
	err := remove()
	o.mu.Unlock()
	o.watch()
	return err
}

// settled drops path from the unrestored files; o.mu is held.
func (o *OwnedFiles) settled(path string) {
	out := o.drift.Unrestored[:0]
	for _, e := range o.drift.Unrestored {
		if e.Path != path {
			out = append(out, e)
		}
	}
	o.drift.Unrestored = out
}

// Watch watches the owned files until ctx ends: a change Portico did not
// make is reported and undone within the watcher's debounce.
func (o *OwnedFiles) Watch(ctx context.Context) {
	w, _ := filewatch.Watch(ctx, filewatch.Options{Debounce: o.Debounce, Log: o.Log}, o.changed, o.paths()...)
	o.mu.Lock()
	o.watcher = w
	o.mu.Unlock()
	o.watch() // files written meanwhile
}

// watch makes the watcher's set the owned files.
func (o *OwnedFiles) watch() {
	o.mu.Lock()
	w := o.watcher
	o.mu.Unlock()
	if w != nil {
		w.Set(o.paths()...)
	}
}

func (o *OwnedFiles) paths() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Sorted(maps.Keys(o.files))
}

// changed takes the files the watcher reports.
func (o *OwnedFiles) changed(files []filewatch.File) {
	for _, f := range files {
		o.mu.Lock()
		if own := o.files[f.Path]; own != nil && (f.Err != nil || sha256.Sum256(f.Data) != own.sum) {
			o.check(f.Path)
		}
		o.mu.Unlock()
	}
}

// Check compares path, if Portico owns it, with Portico's version, and
// writes that back when they differ. nginx's loads call it first, so that
// one never takes a hand edit the watcher has not seen yet.
func (o *OwnedFiles) Check(path string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.files[path] != nil {
		o.check(path)
	}
}

// check reads path again (a write of Portico's may have landed since the
// watcher read it) and, when it differs from Portico's version, reports
// drift and restores that version; o.mu is held.
func (o *OwnedFiles) check(path string) {
	own := o.files[path]
	data, err := os.ReadFile(path)
	if err == nil && bytes.Equal(data, own.data) {
		o.settled(path)
		return
	}
	ev := DriftEvent{Path: path, At: time.Now(), Change: "edited"}
	switch {
	case errors.Is(err, os.ErrNotExist):
		ev.Change = "removed"
	case err != nil:
		ev.Change = "unreadable"
	default:
		ev.Line = firstDifferentLine(data, own.data)
	}
	again := false // the same drift, still not undone
	for _, e := range o.drift.Unrestored {
		again = again || e.Path == path
	}
	o.settled(path)
	if rerr := restore(path, own); rerr != nil {
		ev.Error = rerr.Error()
		o.drift.Unrestored = append(o.drift.Unrestored, ev)
	} else {
		ev.Restored = true
	}
	if again {
		if ev.Restored {
			o.Log.Info("Portico's version of a changed file is written back", zap.String("file", path))
			if last := o.drift.Last; last != nil && last.Path == path {
				fixed := *last
				fixed.Restored, fixed.Error = true, ""
				o.drift.Last = &fixed
			}
		}
		return
	}
	o.drift.Edits++
	o.drift.Last = &ev
	fields := []zap.Field{zap.String("file", path), zap.String("change", ev.Change)}
	if ev.Line > 0 {
		fields = append(fields, zap.Int("firstDifferentLine", ev.Line))
	}
	if ev.Restored {
		o.Log.Warn("a file Portico writes was changed by someone else; Portico's version is written back, so nginx never loads the change (make it through the Ingress objects or the ConfigMap)", fields...)
	} else {
		o.Log.Warn("a file Portico writes was changed by someone else and Portico's version could not be written back; nginx may load the change on its next reload", append(fields, zap.String("error", ev.Error))...)
	}
}

// Drift returns what was seen of changes Portico did not make.
func (o *OwnedFiles) Drift() Drift {
	if o == nil {
		return Drift{}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	d := o.drift
	d.Unrestored = append([]DriftEvent(nil), d.Unrestored...)
	if d.Last != nil {
		last := *d.Last
		d.Last = &last
	}
	return d
}

// restore writes Portico's version of path back, with its mode and owner.
func restore(path string, own *ownedFile) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".restore")
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, own.mode)
	if err != nil {
		return err
	}
	_, err = f.Write(own.data)
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil && (own.uid >= 0 || own.gid >= 0) {
		err = os.Chown(tmp, own.uid, own.gid)
	}
	if err == nil {
		err = os.Chmod(tmp, own.mode) // not narrowed by the umask
	}
	if err == nil {
		err = renameSync(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restore %s: %w", path, err)
	}
	return nil
}

// firstDifferentLine is the 1-based number of the first line where a and
// b differ.
func firstDifferentLine(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return bytes.Count(a[:n], []byte("\n")) + 1
}
