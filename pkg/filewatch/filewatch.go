package filewatch

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// File is one watched file as last read.
type File struct {
	Path string
	// Data is the content; nil when Err is set.
	Data []byte
	// Err says why the file could not be read: fs.ErrNotExist when it is
	// absent.
	Err error
}

// Options tune a Watcher; the zero value is usable.
type Options struct {
	// Debounce is how long a directory must be quiet after an event before
	// its files are read; a stream of events is read at least every ten
	// Debounce. Zero means 100 ms.
	Debounce time.Duration
	// Poll is how often every file is read where inotify is unavailable.
	// Zero means 10 s.
	Poll time.Duration
	Log  *zap.Logger
}

// Watcher watches a set of files; see the package doc.
type Watcher struct {
	opts     Options
	log      *zap.Logger
	onChange func([]File)

	mu      sync.Mutex
	files   map[string]*state
	notify  *fsnotify.Watcher // nil while polling
	watched map[string]bool   // directories inotify watches, as of the last ensureWatches
	dirty   map[string]bool   // paths with events since the last read
	all     bool              // read every file at the next flush
	kick    chan struct{}
}

// state is what a file gave when last read.
type state struct {
	read    bool // false until first read
	sum     [sha256.Size]byte
	err     string // "" when the read worked
	realDir string // directory of the file its symlinks lead to
}

// These are replaced by tests to force the polling fallback.
var (
	newNotifier = fsnotify.NewWatcher
	addWatch    = (*fsnotify.Watcher).Add
)

// Watch starts watching paths until ctx ends and returns what they hold
// now. onChange is called, from one goroutine at a time, with the files
// whose content changed since they were last reported.
func Watch(ctx context.Context, opts Options, onChange func([]File), paths ...string) (*Watcher, []File) {
	if opts.Debounce <= 0 {
		opts.Debounce = 100 * time.Millisecond
	}
	if opts.Poll <= 0 {
		opts.Poll = 10 * time.Second
	}
	w := &Watcher{opts: opts, log: opts.Log, onChange: onChange, files: map[string]*state{},
		watched: map[string]bool{}, dirty: map[string]bool{}, kick: make(chan struct{}, 1)}
	if w.log == nil {
		w.log = zap.NewNop()
	}
	n, err := newNotifier()
	if err != nil {
		w.log.Warn("inotify is unavailable: files are read again periodically instead", zap.Error(err), zap.Duration("every", opts.Poll))
	} else {
		w.notify = n
	}
	w.mu.Lock()
	for _, p := range paths {
		w.files[filepath.Clean(p)] = &state{}
	}
	w.ensureWatches()
	w.mu.Unlock()
	initial := w.check(func(string, *state) bool { return true }, true)
	go w.run(ctx)
	return w, initial
}

// Set makes paths the watched set. Files new to it are read and reported
// at once (with their content, or the error reading gives).
func (w *Watcher) Set(paths ...string) {
	w.mu.Lock()
	want := make(map[string]bool, len(paths))
	changed := false
	for _, p := range paths {
		p = filepath.Clean(p)
		want[p] = true
		if w.files[p] == nil {
			w.files[p] = &state{}
			w.dirty[p] = true
			changed = true
		}
	}
	for p := range w.files {
		if !want[p] {
			delete(w.files, p)
			changed = true
		}
	}
	w.mu.Unlock()
	if changed {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// Polling reports whether the Watcher fell back to reading files
// periodically.
func (w *Watcher) Polling() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.notify == nil
}

func (w *Watcher) run(ctx context.Context) {
	var (
		events  <-chan fsnotify.Event
		errs    <-chan error
		poll    <-chan time.Time
		ticker  *time.Ticker
		pending bool
		first   time.Time
	)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	channels := func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.notify != nil {
			events, errs = w.notify.Events, w.notify.Errors
			return
		}
		events, errs = nil, nil
		if ticker == nil {
			ticker = time.NewTicker(w.opts.Poll)
			poll = ticker.C
		}
	}
	arm := func() {
		now := time.Now()
		if !pending {
			pending, first = true, now
		}
		timer.Reset(min(w.opts.Debounce, first.Add(10*w.opts.Debounce).Sub(now)))
	}
	channels()
	defer func() {
		timer.Stop()
		if ticker != nil {
			ticker.Stop()
		}
		w.mu.Lock()
		if w.notify != nil {
			_ = w.notify.Close()
			w.notify = nil
		}
		w.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			w.mu.Lock()
			if ev.Has(fsnotify.Rename) && w.watched[ev.Name] && w.notify != nil {
				// A watched directory moved away: inotify would follow it.
				_ = w.notify.Remove(ev.Name)
			}
			w.dirty[ev.Name] = true
			w.dirty[filepath.Dir(ev.Name)] = true
			w.mu.Unlock()
			arm()
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflow lost events: read everything.
			w.log.Warn("file watch error; reading every watched file again", zap.Error(err))
			w.mu.Lock()
			w.all = true
			w.mu.Unlock()
			arm()
		case <-w.kick:
			arm()
		case <-poll:
			w.mu.Lock()
			w.all = true
			w.mu.Unlock()
			w.flush()
		case <-timer.C:
			pending = false
			w.flush()
			channels()
		}
	}
}

// flush reads the files events concern and reports those that changed.
func (w *Watcher) flush() {
	w.mu.Lock()
	dirty, all := w.dirty, w.all
	w.dirty, w.all = map[string]bool{}, false
	watched := w.watched // as the events came: a watch added now missed some
	w.ensureWatches()
	w.mu.Unlock()
	changed := w.check(func(p string, s *state) bool {
		dir := filepath.Dir(p)
		if all || dirty[p] || dirty[dir] || dirty[s.realDir] {
			return true
		}
		if watched[dir] {
			return false
		}
		// Its directory is missing: an ancestor stands for it.
		for d := range dirty {
			if strings.HasPrefix(dir, d+string(filepath.Separator)) {
				return true
			}
		}
		return false
	}, false)
	if len(changed) > 0 && w.onChange != nil {
		w.onChange(changed)
	}
}

// check reads the files match selects and returns those whose content
// differs from the last read (every one with initial).
func (w *Watcher) check(match func(string, *state) bool, initial bool) []File {
	w.mu.Lock()
	var paths []string
	for p, s := range w.files {
		if match(p, s) {
			paths = append(paths, p)
		}
	}
	w.mu.Unlock()
	var out []File
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			data = nil
		}
		next := state{read: true, sum: sha256.Sum256(data)}
		if err != nil {
			next.err = errText(err)
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			next.realDir = filepath.Dir(real)
		}
		w.mu.Lock()
		s := w.files[p]
		if s == nil { // dropped by Set meanwhile
			w.mu.Unlock()
			continue
		}
		same := s.read && s.sum == next.sum && s.err == next.err
		*s = next
		w.mu.Unlock()
		if initial || !same {
			out = append(out, File{Path: p, Data: data, Err: err})
		}
	}
	return out
}

// errText identifies an error reading a file, for comparison: the same
// failure gives the same text.
func errText(err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return "not exist"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// ensureWatches makes inotify watch the directory of each file and of the
// file its symlinks lead to, or the nearest existing ancestor of one
// that does not exist, and nothing else; w.mu is held. Where inotify has
// no watch left it falls back to polling.
func (w *Watcher) ensureWatches() {
	if w.notify == nil {
		return
	}
	want := map[string]bool{}
	for p, s := range w.files {
		want[existingDir(filepath.Dir(p))] = true
		if s.realDir != "" {
			want[existingDir(s.realDir)] = true
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			want[existingDir(filepath.Dir(real))] = true
		}
	}
	// fsnotify forgets a directory that was removed.
	w.watched = map[string]bool{}
	for _, d := range w.notify.WatchList() {
		w.watched[d] = true
	}
	for d := range w.watched {
		if !want[d] {
			_ = w.notify.Remove(d) // gone with its directory, perhaps
			delete(w.watched, d)
		}
	}
	for d := range want {
		if w.watched[d] {
			continue
		}
		err := addWatch(w.notify, d)
		switch {
		case err == nil:
			w.watched[d] = true
		case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENOMEM):
			w.log.Warn("inotify has no watch left (fs.inotify.max_user_watches): files are read again periodically instead",
				zap.String("dir", d), zap.Error(err), zap.Duration("every", w.opts.Poll))
			_ = w.notify.Close()
			w.notify, w.watched = nil, map[string]bool{}
			return
		default:
			// Removed since it was found, or not readable: the next
			// event tries again.
			w.log.Debug("cannot watch directory", zap.String("dir", d), zap.Error(err))
		}
	}
}

// existingDir is dir, or its nearest ancestor that exists.
func existingDir(dir string) string {
	for {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}
