package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/statusport"
)

// Applier puts rendered configs and backends into one nginx.
type Applier struct {
	Nginx  *Nginx
	Status *statusport.Client
	Log    *zap.Logger
	// LoadTimeout bounds how long a start or reload may take to show the
	// new checksum on the status port.
	LoadTimeout time.Duration
	// AuthFiles, when set, receives Dynamic.AuthFiles (HTTP annotations).
	AuthFiles *AuthFiles
	// Owned, when set, records each nginx.conf written, so that a change
	// Portico did not make is undone before nginx loads it.
	Owned *OwnedFiles
	// PushWait bounds how long Apply waits for the Lua endpoints to take
	// a push; what is not taken by then PushLoop keeps pushing, so a slow
	// or unreachable endpoint never stalls the sync loop. Zero means 2 s.
	PushWait time.Duration
	// OnRefused, when set, is called (a.mu held: it must not call back)
	// when the items the Lua endpoints refused change (Refused).
	OnRefused func()

	mu       sync.Mutex
	conf     []byte            // last config nginx loaded
	checksum string            // its checksum
	pushed   map[string][]byte // per Lua endpoint, the last body nginx took
	desired  *plan.Documents   // the last documents asked for
	// Per endpoint that takes patches (backends, routes): each item's JSON
	// by name of pushed (nil when nginx holds a body not made of desired
	// items, such as a union), and the generation nginx answered for
	// pushed: the base of the next patch.
	pushedItems map[string]map[string]json.RawMessage
	gens        map[string]string
	// refused are, per Lua endpoint, the items of the desired ones it
	// refused, by name, with their reasons; nginx keeps the version it
	// held of each, if any.
	refused map[string]map[string]string
	stats   Stats
	kick    chan struct{} // wakes PushLoop; made on first use
}

// Dynamic is what nginx takes without a reload.
type Dynamic struct {
	// Documents are pushed to the Lua configuration endpoints.
	Documents *plan.Documents
	// AuthFiles are htpasswd files by name, read by nginx per request.
	AuthFiles map[string][]byte
}

// Stats counts what the Applier did.
type Stats struct {
	Reloads        int `json:"reloads"`
	ReloadFailures int `json:"reloadFailures"`
	Restarts       int `json:"restarts"`
	Pushes         int `json:"pushes"`
	// Patches counts the pushes of backends or routes that carried only
	// what changed.
	Patches    int       `json:"patches"`
	LastReason string    `json:"lastReloadReason,omitempty"`
	LastError  string    `json:"lastReloadError,omitempty"`
	LastReload time.Time `json:"lastReload,omitzero"`
	Checksum   string    `json:"checksum,omitempty"`
}

// Result says what one Apply did.
type Result struct {
	Reloaded bool
	Pushed   bool
}

// Stats returns a copy of the counters.
func (a *Applier) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// Loaded reports whether nginx runs a config and holds the last backends.
func (a *Applier) Loaded() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.checksum == "" || !a.Nginx.Running() || a.desired == nil {
		return false
	}
	for _, d := range a.desired.InOrder() {
		if string(a.pushed[d.Path]) != string(d.Body) {
			return false
		}
	}
	return true
}

// Apply makes nginx run conf (identified by checksum) with dyn; a nil conf
// keeps the config nginx runs, the last one Apply loaded, and changes only
// what Lua holds. reason says what changed, for logs and stats.
func (a *Applier) Apply(ctx context.Context, conf []byte, checksum string, dyn Dynamic, reason string) (Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if conf == nil {
		if a.conf == nil {
			return Result{}, errors.New("no config loaded yet")
		}
		conf, checksum = a.conf, a.checksum
	}
	a.desired = dyn.Documents
	var res Result
	if a.AuthFiles != nil {
		// New files first: the config about to load may name them.
		if err := a.AuthFiles.Write(dyn.AuthFiles); err != nil {
			return res, fmt.Errorf("auth files: %w", err)
		}
		defer func() {
			if a.checksum != checksum {
				return // nginx still runs a config that may name old files
			}
			if err := a.AuthFiles.Prune(dyn.AuthFiles); err != nil {
				a.Log.Warn("remove unused auth files", zap.Error(err))
			}
		}()
	}
	if checksum != a.checksum || !a.Nginx.Running() {
		if err := a.load(ctx, conf, checksum, reason); err != nil {
			a.stats.ReloadFailures++
			a.stats.LastError = err.Error()
			return res, err
		}
		res.Reloaded = true
	}
	pctx, cancel := context.WithTimeout(ctx, a.pushWait())
	defer cancel()
	pushed, err := a.pushChanged(pctx)
	res.Pushed = pushed
	if err != nil {
		// nginx keeps its last backends meanwhile.
		a.Log.Warn("nginx has not taken the new backends yet; pushing on in the background", zap.Error(err))
		a.wake()
	}
	return res, nil
}

func (a *Applier) pushWait() time.Duration {
	if a.PushWait > 0 {
		return a.PushWait
	}
	return 2 * time.Second
}

// wake asks PushLoop to push what nginx does not hold yet; a.mu is held.
func (a *Applier) wake() {
	if a.kick == nil {
		a.kick = make(chan struct{}, 1)
	}
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// PushLoop pushes, with backoff, whatever Apply left for it, until ctx
// ends.
func (a *Applier) PushLoop(ctx context.Context) {
	a.mu.Lock()
	a.wake() // makes the channel
	kick := a.kick
	a.mu.Unlock()
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		}
		for !a.pushPending(ctx) {
			a.Log.Warn("background push failed; retrying", zap.Duration("in", backoff))
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
		backoff = 100 * time.Millisecond
	}
}

// pushPending makes one attempt, of at most a second, at each body nginx
// does not hold, and reports whether nothing is left pending. It holds
// a.mu, so pushes reach nginx in the order they were asked for.
func (a *Applier) pushPending(ctx context.Context) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.desired == nil {
		return true
	}
	for _, d := range a.desired.InOrder() {
		if string(d.Body) == string(a.pushed[d.Path]) {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, time.Second)
		err := a.send(actx, d, d.Body)
		cancel()
		if err != nil {
			return false
		}
		a.markPushed(d, d.Body)
	}
	return true
}

// send gives nginx body, d's or another of d's endpoint, at d.Path; a.mu
// is held. Backends and routes go as a patch when nginx holds an earlier
// push of them: only what changed, so that no worker decodes everything
// again (tens of milliseconds each at 10,000 hosts); a refused patch
// (nginx restarted) sends it all. The items nginx refuses are noted
// (noteRefused); it takes the others.
func (a *Applier) send(ctx context.Context, d *plan.Document, body []byte) error {
	path := d.Path
	if d.Items == nil {
		p, err := a.Status.Push(ctx, path, body, "")
		if err == nil {
			a.noteRefused(d, p.Refused, nil)
		}
		return err
	}
	if a.gens == nil {
		a.gens = map[string]string{}
	}
	if old, base := a.pushedItems[path], a.gens[path]; base != "" && old != nil && string(body) == string(d.Body) {
		if patch, touched, err := d.Patch(old); err == nil {
			p, err := a.Status.Push(ctx, path, patch, base)
			if err == nil {
				a.gens[path] = p.Generation
				a.stats.Patches++
				a.noteRefused(d, p.Refused, touched)
				return nil
			}
			if !errors.Is(err, statusport.ErrStaleBase) {
				return err
			}
			a.Log.Info("nginx refused a patch; pushing everything", zap.String("path", path), zap.Error(err))
		}
	}
	p, err := a.Status.Push(ctx, path, body, "")
	a.gens[path] = p.Generation // "" on failure: the next push sends everything
	if err == nil {
		a.noteRefused(d, p.Refused, nil)
	}
	return err
}

// noteRefused records what nginx refused of a push of d: of a full push
// (touched nil) all it refused, of a patch a change to the refusals of the
// items it touched. a.mu is held.
func (a *Applier) noteRefused(d *plan.Document, refused map[string]string, touched []string) {
	if a.refused == nil {
		a.refused = map[string]map[string]string{}
	}
	was := a.refused[d.Path]
	now := map[string]string{}
	if touched != nil {
		maps.Copy(now, was)
		for _, name := range touched {
			delete(now, name)
		}
	}
	maps.Copy(now, refused)
	for name, why := range refused {
		if was[name] != why { // a refused item goes again with each patch
			a.Log.Warn("nginx refused an item of a push and took the others", zap.String("kind", d.Kind),
				zap.String("name", name), zap.String("reason", why))
		}
	}
	a.refused[d.Path] = now
	if !maps.Equal(was, now) && a.OnRefused != nil {
		a.OnRefused()
	}
}

// Refused returns the items the Lua endpoints refused of the last pushes
// they took, sorted by kind and name.
func (a *Applier) Refused() []plan.Refusal {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []plan.Refusal
	if a.desired != nil {
		for _, d := range a.desired.InOrder() {
			for name, why := range a.refused[d.Path] {
				out = append(out, plan.Refusal{Kind: d.Kind, Name: name, Reason: why})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// markPushed records that nginx holds body at d.Path; a.mu is held.
func (a *Applier) markPushed(d *plan.Document, body []byte) {
	if a.pushed == nil {
		a.pushed = map[string][]byte{}
	}
	if a.pushedItems == nil {
		a.pushedItems = map[string]map[string]json.RawMessage{}
	}
	a.pushed[d.Path] = body
	a.pushedItems[d.Path] = nil // a body of other items (a union) cannot be patched
	if string(body) == string(d.Body) {
		items := d.Items
		if len(a.refused[d.Path]) > 0 && items != nil {
			items = maps.Clone(items)
			for name := range a.refused[d.Path] {
				if _, ok := items[name]; ok {
					items[name] = plan.RefusedItem
				}
			}
		}
		a.pushedItems[d.Path] = items
	}
	a.stats.Pushes++
}

// pushChanged pushes every desired body nginx does not hold yet.
func (a *Applier) pushChanged(ctx context.Context) (bool, error) {
	did := false
	if a.desired == nil {
		return false, nil
	}
	for _, d := range a.desired.InOrder() {
		if string(d.Body) == string(a.pushed[d.Path]) {
			continue
		}
		if err := a.push(ctx, d, d.Body); err != nil {
			return did, err
		}
		did = true
	}
	return did, nil
}

// load swaps conf in and starts or reloads nginx, which checks it: nginx
// parses it once, not twice as nginx -t before a reload would. On failure
// nginx keeps running the previous config, and so does the file on disk.
func (a *Applier) load(ctx context.Context, conf []byte, checksum string, reason string) error {
	candidate := a.Nginx.Conf + ".candidate"
	if err := writeFileSync(candidate, conf); err != nil {
		return fmt.Errorf("write candidate config: %w", err)
	}
	defer os.Remove(candidate)
	// A refused config never reaches nginx.conf: nginx -t checks the
	// candidate first (a refused reload is also caught below, from the
	// master's [emerg] lines, should the two ever disagree).
	if err := a.Nginx.Test(candidate); err != nil {
		return &RejectedError{Err: err}
	}
	running := a.Nginx.Running()
	if running && a.pushed[plan.BackendsPath] != nil && a.desired != nil {
		// Until the old workers are gone, both configs serve: give nginx the
		// new certificates and the union of old and new backends, so
		// neither config answers "not configured". Hosts move between
		// server blocks and the router: both configs must find theirs in
		// the union of old and new routes.
		pctx, cancel := context.WithTimeout(ctx, a.pushWait())
		for _, d := range a.desired.InOrder() {
			body := d.Body
			if d.Items != nil {
				var err error
				if body, err = d.Union(a.pushed[d.Path], a.pushedItems[d.Path]); err != nil {
					continue
				}
			}
			_ = a.push(pctx, d, body)
		}
		cancel()
	}
	if err := a.Owned.write(a.Nginx.Conf, conf, func() error { return renameSync(candidate, a.Nginx.Conf) }); err != nil {
		return fmt.Errorf("install config: %w", err)
	}
	start := time.Now()
	kind := "reload"
	var old []int
	mark := a.Nginx.ReloadMark()
	if running {
		master := a.Nginx.PID()
		old = workers(master)
		before := children(master)
		err := a.Nginx.Reload()
		if err != nil {
			return a.restore(fmt.Errorf("reload nginx: %w", err))
		}
		if err := a.waitNewWorkers(ctx, master, before, mark); err != nil {
			return a.restore(err)
		}
	} else {
		kind = "start"
		if err := a.Nginx.Start(); err != nil {
			return a.restore(err)
		}
	}
	if err := a.waitChecksum(ctx, checksum); err != nil {
		if !running {
			a.Nginx.log.drained(time.Second)
		}
		if lines := a.Nginx.Refused(mark, 0); !running && len(lines) > 0 {
			err = fmt.Errorf("%w: %s", err, strings.Join(lines, "; "))
		}
		return a.restore(fmt.Errorf("nginx %s: %w", kind, err))
	}
	// Until the old workers have taken their shutdown signal they still
	// accept connections and answer with the old config.
	if err := a.waitOldWorkers(ctx, old); err != nil {
		return a.restore(fmt.Errorf("nginx %s: %w", kind, err))
	}
	a.conf, a.checksum = conf, checksum
	a.pushed, a.pushedItems = nil, nil // push again: new workers must see the exact sets
	a.stats.Reloads++
	a.stats.LastReason, a.stats.LastError = reason, ""
	a.stats.LastReload = time.Now()
	a.stats.Checksum = checksum
	a.Log.Info("nginx config loaded", zap.String("action", kind), zap.String("reason", reason),
		zap.String("checksum", checksum[:12]), zap.Duration("took", time.Since(start)), zap.Int("reloads", a.stats.Reloads))
	return nil
}

// restore puts the last good config back on disk after a failed load.
func (a *Applier) restore(cause error) error {
	if a.conf != nil {
		if err := a.Owned.write(a.Nginx.Conf, a.conf, func() error { return writeAtomic(a.Nginx.Conf, a.conf, 0o644) }); err != nil {
			return errors.Join(cause, fmt.Errorf("restore last good config: %w", err))
		}
	}
	return cause
}

// waitChecksum waits until nginx's workers serve the config with checksum.
func (a *Applier) waitChecksum(ctx context.Context, checksum string) error {
	ctx, cancel := context.WithTimeout(ctx, a.LoadTimeout)
	defer cancel()
	exited := a.Nginx.Exited()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		got, err := a.Status.Checksum(ctx)
		if err == nil && got == checksum {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("workers still run checksum %.12s", got)
		}
		last = err
		select {
		case <-exited:
			return fmt.Errorf("nginx exited: %v", a.Nginx.ExitErr())
		case <-ctx.Done():
			return fmt.Errorf("config not live after %s: %w", a.LoadTimeout, last)
		case <-tick.C:
		}
	}
}

// waitNewWorkers waits until the master, after a reload, has started
// workers that were not its children before (it took the config) or
// logged why it refused it. Only ctx bounds it: parsing a config of 10,000
// hosts takes nginx tens of seconds on a small machine.
func (a *Applier) waitNewWorkers(ctx context.Context, master int, was map[int]bool, mark int) error {
	exited := a.Nginx.Exited()
	for {
		for _, p := range workers(master) {
			if !was[p] {
				return nil
			}
		}
		if lines := a.Nginx.Refused(mark, master); len(lines) > 0 {
			return &RejectedError{Err: errors.New(strings.Join(lines, "; "))}
		}
		select {
		case <-exited:
			return fmt.Errorf("nginx exited: %v", a.Nginx.ExitErr())
		case <-ctx.Done():
			return fmt.Errorf("no new workers after the reload: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// waitOldWorkers waits until none of the workers in old accepts
// connections any more.
func (a *Applier) waitOldWorkers(ctx context.Context, old []int) error {
	ctx, cancel := context.WithTimeout(ctx, a.LoadTimeout)
	defer cancel()
	for {
		left := accepting(a.Nginx.PID(), old)
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("old workers %v still accept after %s", left, a.LoadTimeout)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// push sends body, d's or another of d's endpoint, to the Lua endpoint
// at d.Path, retrying with backoff until nginx takes it or ctx ends.
func (a *Applier) push(ctx context.Context, d *plan.Document, body []byte) error {
	backoff := 10 * time.Millisecond
	for {
		err := a.send(ctx, d, body)
		if err == nil {
			a.markPushed(d, body)
			return nil
		}
		a.Log.Warn("push failed; retrying", zap.String("path", d.Path), zap.Error(err), zap.Duration("in", backoff))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

// Restart starts nginx again with the last good config after it died, and
// pushes the last backends into it.
func (a *Applier) Restart(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Nginx.Running() || a.conf == nil {
		return nil
	}
	a.Owned.Check(a.Nginx.Conf) // a hand edit is never what nginx starts with
	if err := a.Nginx.Start(); err != nil {
		return err
	}
	if err := a.waitChecksum(ctx, a.checksum); err != nil {
		return fmt.Errorf("restart nginx: %w", err)
	}
	a.stats.Restarts++
	a.pushed, a.pushedItems = nil, nil
	pctx, cancel := context.WithTimeout(ctx, a.pushWait())
	defer cancel()
	if _, err := a.pushChanged(pctx); err != nil {
		a.wake()
	}
	return nil
}

// Supervise restarts nginx whenever the master exits, until ctx ends.
func (a *Applier) Supervise(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		exited := a.Nginx.Exited()
		if exited == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		if ctx.Err() != nil {
			return
		}
		a.Log.Error("nginx master exited; restarting it with the last good config", zap.Error(a.Nginx.ExitErr()))
		if err := a.Restart(ctx); err != nil {
			a.Log.Error("nginx restart failed", zap.Error(err), zap.Duration("retry in", backoff))
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		a.Log.Info("nginx restarted", zap.Int("pid", a.Nginx.PID()))
	}
}

// writeFileSync writes data to path and flushes it to disk.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// renameSync renames old to new and flushes the directory entry.
func renameSync(oldPath, newPath string) error {
	if err := os.Rename(oldPath, newPath); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(newPath))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// RejectedError is a config nginx refused (nginx -t, or the master on
// reload); the running config keeps serving.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string {
	return "new config rejected, nginx keeps the running one: " + e.Err.Error()
}

func (e *RejectedError) Unwrap() error { return e.Err }
