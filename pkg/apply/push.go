package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/statusport"
)

// Pushes: what Lua holds goes over the status port as documents of named
// items; after the first push of backends and routes, as patches on the
// generation nginx answered. What Apply cannot push within PushWait,
// PushLoop keeps pushing.

// pushWait is PushWait, or its default.
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
