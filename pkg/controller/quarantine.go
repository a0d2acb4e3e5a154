package controller

import (
	"context"
	"errors"

	"go.uber.org/zap"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/report"
	"github.com/portico-ingress/portico/pkg/watch"
)

// Quarantine: when nginx refuses a config, the changed Ingress that causes
// it (a snippet nginx -t refuses) is held at its last good version, with a
// Warning Event, and the rest is applied; a new version of it is tried
// again. The Ingresses of the last config nginx took (Controller.applied)
// are the last good versions; Controller.held are those held back.

// maxErrInEvent bounds how much of an nginx error an Event repeats.
const maxErrInEvent = 512

// reportNotApplied tells each owned Ingress that changed since the last
// applied config, with a Warning Event and a log line, that nginx did not
// take the config with its change, and why. Other Ingresses keep being
// served by the previous config, as they were.
func (c *Controller) reportNotApplied(snap watch.Snapshot, cfg *model.Config, cause error) {
	msg := truncateErr(cause)
	applied := c.appliedVersions()
	for _, ing := range ownedIngresses(snap, cfg) {
		ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
		if applied[ref] == ing.ResourceVersion {
			continue
		}
		f := report.Finding{Warning: true, Reason: "ConfigNotApplied",
			Message: "nginx did not take the configuration with this Ingress's latest change; the previous configuration keeps serving: " + msg}
		if c.events.Report("not-applied/"+ref.String(), ing, []report.Finding{f}, "") {
			c.metrics.findings.WithLabelValues("Ingress", "Error", f.Reason).Inc()
			c.log.Warn("configuration not applied", zap.Stringer("ingress", ref), zap.Error(cause))
		}
	}
}

// appliedVersions is the resourceVersion of each Ingress in the last
// config nginx took.
func (c *Controller) appliedVersions() map[model.IngressRef]string {
	m := make(map[model.IngressRef]string, len(c.applied))
	for ref, ing := range c.applied {
		m[ref] = ing.ResourceVersion
	}
	return m
}

// rememberApplied records the Ingresses of a config nginx took.
func (c *Controller) rememberApplied(ings []*networkingv1.Ingress) {
	m := make(map[model.IngressRef]*networkingv1.Ingress, len(ings))
	for _, ing := range ings {
		m[model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}] = ing
	}
	// reportDiagnostics, which follows, forgets the not-applied reports,
	// so a later failure is reported afresh.
	c.applied = m
}

// heldIngress is an Ingress whose version rv nginx refused; last is the
// version served instead (nil: none, the Ingress is left out).
type heldIngress struct {
	rv   string
	last *networkingv1.Ingress
}

// holdBack replaces each held Ingress, while it keeps the refused
// version, by its last good one. A new version is tried again.
func (c *Controller) holdBack(ings []*networkingv1.Ingress) []*networkingv1.Ingress {
	if len(c.held) == 0 {
		return ings
	}
	out := make([]*networkingv1.Ingress, 0, len(ings))
	seen := map[model.IngressRef]bool{}
	for _, ing := range ings {
		ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
		seen[ref] = true
		h, ok := c.held[ref]
		switch {
		case !ok:
			out = append(out, ing)
		case h.rv != ing.ResourceVersion:
			delete(c.held, ref)
			out = append(out, ing)
		case h.last != nil:
			out = append(out, h.last)
		}
	}
	for ref := range c.held {
		if !seen[ref] {
			delete(c.held, ref)
		}
	}
	return out
}

// maxIsolate bounds the single Ingresses isolate tries before it holds
// back every changed one.
const maxIsolate = 5

// isolate looks for the changed Ingresses whose new versions make nginx
// refuse the config: it tries holding back each changed Ingress alone
// (up to maxIsolate), then all of them, keeping their last good versions.
// On success the held Ingresses get a Warning Event naming nginx's error,
// and the config applied is returned with its input.
func (c *Controller) isolate(ctx context.Context, in model.Input, reasons []string, cause error) (*model.Config, apply.Result, model.Input, bool) {
	var changed []*networkingv1.Ingress
	for _, ing := range in.Ingresses {
		ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
		if last := c.applied[ref]; last == nil || last.ResourceVersion != ing.ResourceVersion {
			changed = append(changed, ing)
		}
	}
	if len(changed) == 0 {
		return nil, apply.Result{}, in, false
	}
	var tries [][]*networkingv1.Ingress
	if len(changed) > 1 {
		for _, ing := range changed[:min(len(changed), maxIsolate)] {
			tries = append(tries, []*networkingv1.Ingress{ing})
		}
	}
	tries = append(tries, changed)
	for _, hold := range tries {
		held := map[model.IngressRef]bool{}
		for _, ing := range hold {
			held[model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}] = true
		}
		try := in
		try.Ingresses = nil
		for _, ing := range in.Ingresses {
			ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
			switch {
			case !held[ref]:
				try.Ingresses = append(try.Ingresses, ing)
			case c.applied[ref] != nil:
				try.Ingresses = append(try.Ingresses, c.applied[ref])
			}
		}
		cfg, res, err := c.buildAndApply(ctx, try, reasons)
		var rejected *apply.RejectedError
		if err != nil && !errors.As(err, &rejected) {
			return nil, apply.Result{}, in, false
		}
		if err != nil {
			continue
		}
		if c.held == nil {
			c.held = map[model.IngressRef]heldIngress{}
		}
		for _, ing := range hold {
			ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
			last := c.applied[ref]
			c.held[ref] = heldIngress{rv: ing.ResourceVersion, last: last}
			kept := "it is not served"
			if last != nil {
				kept = "its previous version keeps serving"
			}
			f := report.Finding{Warning: true, Reason: "ConfigNotApplied",
				Message: "nginx refused the configuration with this Ingress's latest change; " + kept +
					", and the other Ingresses are applied: " + truncateErr(cause)}
			if c.events.Report("held/"+ref.String(), ing, []report.Finding{f}, "") {
				c.metrics.findings.WithLabelValues("Ingress", "Error", f.Reason).Inc()
				c.log.Warn("Ingress change held back: nginx refused it", zap.Stringer("ingress", ref), zap.Error(cause))
			}
		}
		return cfg, res, try, true
	}
	return nil, apply.Result{}, in, false
}

// truncateErr bounds how much of an nginx error an Event repeats.
func truncateErr(err error) string {
	msg := err.Error()
	if len(msg) > maxErrInEvent {
		msg = msg[:maxErrInEvent] + "…"
	}
	return msg
}
