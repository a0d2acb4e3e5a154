package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/filewatch"
)

// DataFiles are the files an operator mounts for nginx to read (GeoIP2
// databases, WAF rules), by the path the operator configured. Each is
// watched. nginx.conf never names the mounted file: it names a copy in
// Dir, named by its content, so a new version reaches nginx only in a
// config nginx -t took (one reload), and a version nginx refuses, or a
// file that cannot be read, leaves the last good copy in use, with a
// Warning and a Problem in Status.
type DataFiles struct {
	// Dir holds the copies; Portico owns it.
	Dir string
	Log *zap.Logger
	// Changed is called when a watched file's content changes: a sync
	// should follow.
	Changed func(path string)
	// Debounce is the file watcher's (zero: its default, 100 ms).
	Debounce time.Duration

	mu      sync.Mutex
	files   map[string]*dataFile
	watcher *filewatch.Watcher
}

// dataFile is one watched file; copies are paths in Dir.
type dataFile struct {
	newest     string // copy of its newest readable content; "" when none
	unreadable string // why it cannot be read now; "" when it can
	good       string // copy in the config nginx runs; "" when none
	refusedAt  time.Time
	refused    map[string]string // copies nginx refused: why
}

// DataFileStatus is what /status says of one data file.
type DataFileStatus struct {
	Path string `json:"path"`
	// Copy is the copy nginx reads; "" when it reads none yet.
	Copy string `json:"copy,omitempty"`
	// Current says the copy is the file's content as it is now.
	Current bool `json:"current"`
	// Problem says why not: what nginx said of the new version, or why
	// the file cannot be read.
	Problem string `json:"problem,omitempty"`
}

// Watch watches the data files until ctx ends.
func (d *DataFiles) Watch(ctx context.Context) {
	w, _ := filewatch.Watch(ctx, filewatch.Options{Debounce: d.Debounce, Log: d.Log}, d.changed, d.paths()...)
	d.mu.Lock()
	d.watcher = w
	d.mu.Unlock()
	d.watchSet()
}

func (d *DataFiles) paths() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Sorted(maps.Keys(d.files))
}

func (d *DataFiles) watchSet() {
	d.mu.Lock()
	w := d.watcher
	d.mu.Unlock()
	if w != nil {
		w.Set(d.paths()...)
	}
}

// Apply runs do with the copies nginx.conf should name for paths (by
// path; a file with no good copy yet and none readable is left out).
// When nginx refuses a config holding a copy it has not taken before,
// those copies are refused and do runs again with the last good ones;
// if that fails too, the new copies were not the cause and stay
// candidates, and Apply returns the first error.
func (d *DataFiles) Apply(paths []string, do func(copies map[string]string) error) error {
	if d == nil {
		return do(nil)
	}
	d.want(paths)
	copies, fresh := d.copies(paths, true)
	err := do(copies)
	if err == nil {
		d.loaded(copies)
		return nil
	}
	var rejected *RejectedError
	if len(fresh) == 0 || !errors.As(err, &rejected) {
		return err
	}
	good, _ := d.copies(paths, false)
	if do(good) != nil {
		return err
	}
	d.refuse(fresh, rejected)
	d.loaded(good)
	return nil
}

// want makes paths the watched files: new ones are read now.
func (d *DataFiles) want(paths []string) {
	d.mu.Lock()
	if d.files == nil {
		d.files = map[string]*dataFile{}
	}
	keep := map[string]bool{}
	added := false
	for _, p := range paths {
		keep[p] = true
		if d.files[p] != nil {
			continue
		}
		f := &dataFile{refused: map[string]string{}}
		d.files[p] = f
		data, err := os.ReadFile(p)
		d.take(p, f, data, err)
		added = true
	}
	removed := false
	for p := range d.files {
		if !keep[p] {
			delete(d.files, p)
			removed = true
		}
	}
	d.mu.Unlock()
	if added || removed {
		d.watchSet()
	}
}

// take records what reading path gave: a copy of its content, or why it
// cannot be read; d.mu is held. It reports whether anything changed.
func (d *DataFiles) take(path string, f *dataFile, data []byte, err error) bool {
	if err != nil {
		why := err.Error()
		if f.unreadable == why {
			return false
		}
		f.unreadable = why
		d.Log.Warn("a data file cannot be read; nginx keeps reading its last good copy, if any", zap.String("file", path), zap.Error(err))
		return true
	}
	f.unreadable = ""
	sum := sha256.Sum256(data)
	cp := filepath.Join(d.Dir, hex.EncodeToString(sum[:8])+"-"+filepath.Base(path))
	if cp == f.newest {
		return false
	}
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		f.unreadable = "copy: " + err.Error()
		return true
	}
	if err := writeAtomic(cp, data, 0o644); err != nil {
		f.unreadable = "copy: " + err.Error()
		d.Log.Warn("a data file could not be copied; nginx keeps reading its last good copy, if any", zap.String("file", path), zap.Error(err))
		return true
	}
	f.newest = cp
	return true
}

// changed takes the files the watcher reports.
func (d *DataFiles) changed(files []filewatch.File) {
	var changed []string
	d.mu.Lock()
	for _, file := range files {
		if f := d.files[file.Path]; f != nil && d.take(file.Path, f, file.Data, file.Err) {
			changed = append(changed, file.Path)
		}
	}
	d.mu.Unlock()
	if d.Changed != nil {
		for _, p := range changed {
			d.Changed(p)
		}
	}
}

// copies returns the copy of each path nginx.conf should name: with
// newest, the newest copy unless nginx refused it, else the last good
// one. fresh are the copies given that nginx has not taken yet, by path.
func (d *DataFiles) copies(paths []string, newest bool) (copies, fresh map[string]string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	copies, fresh = map[string]string{}, map[string]string{}
	for _, p := range paths {
		f := d.files[p]
		switch {
		case f == nil:
		case newest && f.newest != "" && f.refused[f.newest] == "":
			copies[p] = f.newest
			if f.newest != f.good {
				fresh[p] = f.newest
			}
		case f.good != "":
			copies[p] = f.good
		}
	}
	return copies, fresh
}

// loaded records that nginx runs copies, and removes the copies no file
// needs any more.
func (d *DataFiles) loaded(copies map[string]string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	keep := map[string]bool{}
	for p, f := range d.files {
		if cp, ok := copies[p]; ok {
			if cp != f.good && cp == f.newest {
				d.Log.Info("nginx reads the new version of a data file", zap.String("file", p), zap.String("copy", cp))
			}
			f.good = cp
		}
		keep[f.good] = true
		if f.refused[f.newest] == "" {
			keep[f.newest] = true
		}
	}
	ents, err := os.ReadDir(d.Dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if p := filepath.Join(d.Dir, e.Name()); !keep[p] {
			_ = os.Remove(p)
		}
	}
}

// refuse records that nginx refused the fresh copies.
func (d *DataFiles) refuse(fresh map[string]string, cause *RejectedError) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for p, cp := range fresh {
		f := d.files[p]
		if f == nil {
			continue
		}
		f.refused[cp] = cause.Err.Error()
		f.refusedAt = time.Now()
		d.Log.Warn("nginx refused the new version of a data file; it keeps reading the last good copy", zap.String("file", p),
			zap.String("lastGood", f.good), zap.Error(cause.Err))
	}
}

// Status says, per data file, which copy nginx reads and why it is not
// the current content, when it is not.
func (d *DataFiles) Status() []DataFileStatus {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]DataFileStatus, 0, len(d.files))
	for p, f := range d.files {
		s := DataFileStatus{Path: p, Copy: f.good, Current: f.good != "" && f.good == f.newest && f.unreadable == ""}
		switch {
		case f.unreadable != "":
			s.Problem = "cannot be read: " + f.unreadable
		case f.refused[f.newest] != "":
			s.Problem = fmt.Sprintf("nginx refused the version on disk (%s): %s", f.refusedAt.UTC().Format(time.RFC3339), f.refused[f.newest])
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
