package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/plan"
)

// The reload protocol: a candidate nginx.conf, nginx -t, the union of old
// and new Lua documents while both configs serve, an atomic rename, SIGHUP,
// and waits until the new workers serve the checksum and the old ones no
// longer accept.

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
		if lines := a.Nginx.Refused(mark, master); len(lines) > 0 && !bindRetrying(lines) {
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

// bindRetrying reports whether the master, refusing a reload, is still
// trying to bind a port in use: nginx tries five times, 500 ms apart,
// logging each failure, and gives up with "still could not bind()". A
// reload refused before that would leave the later lines to be read as
// the refusal of the next config.
func bindRetrying(emerg []string) bool {
	inUse := false
	for _, l := range emerg {
		if strings.Contains(l, "still could not bind()") {
			return false
		}
		inUse = inUse || strings.Contains(l, "bind() to ") && strings.Contains(l, "Address already in use")
	}
	return inUse
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

// RejectedError is a config nginx refused (nginx -t, or the master on
// reload); the running config keeps serving.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string {
	return "new config rejected, nginx keeps the running one: " + e.Err.Error()
}

func (e *RejectedError) Unwrap() error { return e.Err }
