package apply

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

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
