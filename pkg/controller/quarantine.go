package controller

import (
	"context"
	"errors"
	"maps"

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

// rememberApplied records the Ingresses in of a config nginx took, cfg,
// and the versions of them it served: the previous one of those whose
// latest the model refused (cfg.ServedPrevious).
func (c *Controller) rememberApplied(in model.Input, cfg *model.Config) {
	m := make(map[model.IngressRef]*networkingv1.Ingress, len(in.Ingresses))
	served := make(map[model.IngressRef]*networkingv1.Ingress, len(in.Ingresses))
	for _, ing := range in.Ingresses {
		ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
		m[ref], served[ref] = ing, ing
	}
	for _, ref := range cfg.ServedPrevious {
		served[ref] = in.Served[ref]
	}
	// reportDiagnostics, which follows, forgets the not-applied reports,
	// so a later failure is reported afresh.
	c.applied, c.served = m, served
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

// maxIsolateTries bounds the configs isolate tries; past it, the changes
// not yet tried are held back with the ones found.
const maxIsolateTries = 32

// isolate finds exactly the changed Ingresses whose new versions make
// nginx refuse the config. It first applies the config without any of
// the changes (when nginx refuses that too, they are not the cause), then
// tries half of the changes at a time on top of those that passed, and
// splits a half that fails until each failing change stands alone (k
// refused among n changes cost about 2k·log2(n) tries; a try nginx
// refuses costs an nginx -t, one it takes a load). The changes found are
// held at their last good versions (a new Ingress is left out) with a
// Warning Event naming nginx's error for each; the config of the last try
// nginx took is returned with its input.
func (c *Controller) isolate(ctx context.Context, in model.Input, reasons []string, cause error) (*model.Config, apply.Result, model.Input, bool) {
	var changed []*networkingv1.Ingress
	isChanged := map[model.IngressRef]bool{}
	for _, ing := range in.Ingresses {
		ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
		if last := c.applied[ref]; last == nil || last.ResourceVersion != ing.ResourceVersion {
			changed = append(changed, ing)
			isChanged[ref] = true
		}
	}
	if len(changed) == 0 {
		return nil, apply.Result{}, in, false
	}
	// try applies in with only the changes in take (the others at their
	// last good versions, or left out).
	try := func(take map[model.IngressRef]bool) (*model.Config, apply.Result, model.Input, error) {
		t := in
		t.Ingresses = nil
		for _, ing := range in.Ingresses {
			ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
			switch {
			case !isChanged[ref] || take[ref]:
				t.Ingresses = append(t.Ingresses, ing)
			case c.applied[ref] != nil:
				t.Ingresses = append(t.Ingresses, c.applied[ref])
			}
		}
		cfg, res, err := c.buildAndApply(ctx, t, reasons)
		return cfg, res, t, err
	}
	var (
		passed  = map[model.IngressRef]bool{}
		refused = map[*networkingv1.Ingress]error{}
		tries   int
		cfg     *model.Config
		res     apply.Result
		applied model.Input
		failed  error // an error other than nginx refusing the config
	)
	var search func(part []*networkingv1.Ingress)
	search = func(part []*networkingv1.Ingress) {
		if failed != nil {
			return
		}
		if tries >= maxIsolateTries {
			for _, ing := range part {
				refused[ing] = cause
			}
			return
		}
		take := maps.Clone(passed)
		for _, ing := range part {
			take[model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}] = true
		}
		tries++
		tcfg, tres, tin, err := try(take)
		var rejected *apply.RejectedError
		switch {
		case err == nil:
			passed, cfg, res, applied = take, tcfg, tres, tin
		case !errors.As(err, &rejected):
			failed = err
		case len(part) == 1:
			refused[part[0]] = err
		default:
			search(part[:len(part)/2])
			search(part[len(part)/2:])
		}
	}
	// First without any of the changes: if nginx refuses that too, they
	// are not the cause (a ConfigMap value may be: isolateKeys).
	var err error
	if cfg, res, applied, err = try(nil); err != nil {
		return nil, apply.Result{}, in, false
	}
	if len(changed) == 1 {
		refused[changed[0]] = cause
	} else {
		search(changed[:len(changed)/2])
		search(changed[len(changed)/2:])
	}
	if failed != nil {
		return nil, apply.Result{}, in, false
	}
	if c.held == nil {
		c.held = map[model.IngressRef]heldIngress{}
	}
	for _, ing := range changed {
		why, ok := refused[ing]
		if !ok {
			continue
		}
		ref := model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}
		last := c.applied[ref]
		c.held[ref] = heldIngress{rv: ing.ResourceVersion, last: last}
		kept := "it is not served"
		if last != nil {
			kept = "its previous version keeps serving"
		}
		f := report.Finding{Warning: true, Reason: "ConfigNotApplied",
			Message: "nginx refused the configuration with this Ingress's latest change; " + kept +
				", and the other Ingresses are applied: " + truncateErr(why)}
		if c.events.Report("held/"+ref.String(), ing, []report.Finding{f}, "") {
			c.metrics.findings.WithLabelValues("Ingress", "Error", f.Reason).Inc()
			c.log.Warn("Ingress change held back: nginx refused it", zap.Stringer("ingress", ref), zap.Error(why))
		}
	}
	return cfg, res, applied, true
}

// truncateErr bounds how much of an nginx error an Event repeats.
func truncateErr(err error) string {
	msg := err.Error()
	if len(msg) > maxErrInEvent {
		msg = msg[:maxErrInEvent] + "…"
	}
	return msg
}
