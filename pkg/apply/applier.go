package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Applier puts rendered configs and backends into one nginx.
type Applier struct {
	Nginx  *Nginx
	Status *Status
	Log    *zap.Logger
	// LoadTimeout bounds how long a start or reload may take to show the
	// new checksum on the status port.
	LoadTimeout time.Duration

	mu       sync.Mutex
	conf     []byte // last config nginx loaded
	checksum string // its checksum
	pushed   []byte // last backends body nginx acknowledged
	desired  []byte // last backends body asked for
	stats    Stats
}

// Stats counts what the Applier did.
type Stats struct {
	Reloads        int       `json:"reloads"`
	ReloadFailures int       `json:"reloadFailures"`
	Restarts       int       `json:"restarts"`
	Pushes         int       `json:"pushes"`
	LastReason     string    `json:"lastReloadReason,omitempty"`
	LastError      string    `json:"lastReloadError,omitempty"`
	LastReload     time.Time `json:"lastReload,omitzero"`
	Checksum       string    `json:"checksum,omitempty"`
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
	return a.checksum != "" && a.Nginx.Running() && a.pushed != nil && string(a.pushed) == string(a.desired)
}

// Apply makes nginx run conf (identified by checksum) with backends.
// reason says what changed, for logs and stats.
func (a *Applier) Apply(ctx context.Context, conf []byte, checksum string, backends []Backend, reason string) (Result, error) {
	body, err := json.Marshal(Backends{Backends: nonNil(backends)})
	if err != nil {
		return Result{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.desired = body
	var res Result
	if checksum != a.checksum || !a.Nginx.Running() {
		if err := a.load(ctx, conf, checksum, backends, reason); err != nil {
			a.stats.ReloadFailures++
			a.stats.LastError = err.Error()
			return res, err
		}
		res.Reloaded = true
	}
	if string(body) != string(a.pushed) {
		if err := a.push(ctx, body); err != nil {
			return res, err
		}
		res.Pushed = true
	}
	return res, nil
}

// load checks conf, swaps it in and starts or reloads nginx. On failure
// nginx keeps running the previous config, and so does the file on disk.
func (a *Applier) load(ctx context.Context, conf []byte, checksum string, backends []Backend, reason string) error {
	candidate := a.Nginx.Conf + ".candidate"
	if err := writeFileSync(candidate, conf); err != nil {
		return fmt.Errorf("write candidate config: %w", err)
	}
	defer os.Remove(candidate)
	if err := a.Nginx.Test(candidate); err != nil {
		return fmt.Errorf("new config rejected, nginx keeps the running one: %w", err)
	}
	running := a.Nginx.Running()
	if running && a.pushed != nil {
		// Until the old workers are gone, both configs serve: give nginx the
		// union of old and new backends so neither answers "not configured".
		if body, err := unionBackends(a.pushed, backends); err == nil {
			_ = a.push(ctx, body)
		}
	}
	if err := renameSync(candidate, a.Nginx.Conf); err != nil {
		return fmt.Errorf("install config: %w", err)
	}
	start := time.Now()
	kind := "reload"
	if running {
		err := a.Nginx.Reload()
		if err != nil {
			return a.restore(fmt.Errorf("reload nginx: %w", err))
		}
	} else {
		kind = "start"
		if err := a.Nginx.Start(); err != nil {
			return a.restore(err)
		}
	}
	if err := a.waitChecksum(ctx, checksum); err != nil {
		return a.restore(fmt.Errorf("nginx %s: %w", kind, err))
	}
	a.conf, a.checksum = conf, checksum
	a.pushed = nil // push again: new workers must see the exact set
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
		if err := writeFileSync(a.Nginx.Conf, a.conf); err != nil {
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

// push sends body to the balancer, retrying with backoff until nginx
// takes it or ctx ends.
func (a *Applier) push(ctx context.Context, body []byte) error {
	backoff := 10 * time.Millisecond
	for {
		err := a.Status.PushBackends(ctx, body)
		if err == nil {
			a.pushed = body
			a.stats.Pushes++
			return nil
		}
		a.Log.Warn("push backends failed; retrying", zap.Error(err), zap.Duration("in", backoff))
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
	if err := a.Nginx.Start(); err != nil {
		return err
	}
	if err := a.waitChecksum(ctx, a.checksum); err != nil {
		return fmt.Errorf("restart nginx: %w", err)
	}
	a.stats.Restarts++
	a.pushed = nil
	if a.desired != nil {
		return a.push(ctx, a.desired)
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

func nonNil(b []Backend) []Backend {
	if b == nil {
		return []Backend{}
	}
	for i := range b {
		if b[i].Endpoints == nil {
			b[i].Endpoints = []Endpoint{}
		}
	}
	return b
}

// unionBackends merges the pushed body with next; next wins on names.
func unionBackends(pushed []byte, next []Backend) ([]byte, error) {
	var old Backends
	if err := json.Unmarshal(pushed, &old); err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(next))
	for _, b := range next {
		names[b.Name] = true
	}
	all := append([]Backend(nil), next...)
	for _, b := range old.Backends {
		if !names[b.Name] {
			all = append(all, b)
		}
	}
	return json.Marshal(Backends{Backends: all})
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
