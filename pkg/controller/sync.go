package controller

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/plan"
	"github.com/portico-ingress/portico/pkg/render"
	"github.com/portico-ingress/portico/pkg/watch"
)

// applyTimeout bounds one Apply: reload, wait, push. nginx parses a
// config of 10,000 hosts in about a minute on 2 busy cores; a reload given
// up on would be repeated forever.
const applyTimeout = 5 * time.Minute

// sync runs the pipeline once.
func (c *Controller) sync(ctx context.Context, change watch.Change) (err error) {
	start := time.Now()
	reasons := change.Reasons
	defer func() {
		c.metrics.observeSync(time.Since(start), err)
		if err != nil {
			c.lastErr.Store(err.Error())
		} else {
			c.lastErr.Store("")
		}
	}()
	if change.EndpointsOnly {
		if done, err := c.syncEndpoints(ctx, reasons); done {
			return err
		}
	}
	c.lastSync.Store((*model.Config)(nil))
	if prev := c.last.Load(); prev != nil {
		c.last.Store(prev.Carried())
	}
	snap := c.watcher.Snapshot()
	in := c.modelInput(snap)
	in.Ingresses = c.holdBack(snap.Ingresses)
	in.ConfigMap = c.withHeldKeys(in.ConfigMap)
	in.Served = c.served
	reason := strings.Join(reasons, ", ")
	cfg, res, err := c.buildAndApply(ctx, in, reasons)
	var rejected *apply.RejectedError
	if errors.As(err, &rejected) {
		// One Ingress's change (a snippet) may be what nginx refuses: serve
		// the others and keep that one at its last good version.
		if icfg, ires, iin, ok := c.isolate(ctx, in, reasons, err); ok {
			cfg, res, in, err = icfg, ires, iin, nil
		} else if kcfg, kres, kin, ok := c.isolateKeys(ctx, in, reasons, err); ok {
			// Or a ConfigMap value nginx refuses.
			cfg, res, in, err = kcfg, kres, kin, nil
		}
	}
	if err != nil {
		if cfg != nil {
			c.reportNotApplied(snap, cfg, err)
		}
		return err
	}
	c.rememberApplied(in, cfg)
	c.addHeldDiagnostics(cfg, snap.ConfigMap)
	if ds := refusalDiagnostics(c.applier.Refused(), cfg, in.Ingresses); len(ds) > 0 {
		cfg.Diagnostics = append(cfg.Diagnostics, ds...)
		diag.Sort(cfg.Diagnostics)
	}
	c.lastSync.Store(cfg)
	c.synced.Store(true)
	c.log.Debug("synced", zap.String("reason", reason), zap.Bool("reloaded", res.Reloaded),
		zap.Bool("pushed", res.Pushed), zap.Duration("took", time.Since(start)))
	c.reportDiagnostics(snap, cfg)
	if c.elector == nil || !c.elector.Leading() {
		return nil
	}
	c.statusQ.offer(statusWork{addresses: c.publishAddresses(snap), ingresses: ownedIngresses(snap, cfg)})
	return nil
}

// syncEndpoints applies a change to EndpointSlices alone to the last plan
// nginx took, when it is whole (the last sync worked): its backends get
// the slices' endpoints and Lua their document; no model is built,
// nothing rendered, nginx.conf stays. done is false when there is no
// such plan: a full sync is needed.
func (c *Controller) syncEndpoints(ctx context.Context, reasons []string) (done bool, err error) {
	last := c.last.Load()
	running, _ := c.lastSync.Load().(*model.Config)
	if last == nil || running == nil || last.Model != running {
		return false, nil
	}
	start := time.Now()
	snap := c.watcher.Snapshot()
	p, err := last.WithEndpoints(last.Model.WithEndpoints(snap.Services, snap.EndpointSlices))
	if err != nil {
		return true, err
	}
	res, err := c.apply(ctx, nil, "", p, reasons)
	if err != nil {
		return true, err
	}
	c.lastSync.Store(p.Model)
	c.log.Debug("synced endpoints", zap.Strings("reasons", reasons), zap.Bool("pushed", res.Pushed), zap.Duration("took", time.Since(start)))
	return true, nil
}

// buildAndApply runs model, plan, render and apply once on in.
//
// nginx.conf names copies of the data files the model names: the new
// version of one unless nginx refused it (apply.DataFiles).
func (c *Controller) buildAndApply(ctx context.Context, in model.Input, reasons []string) (cfg *model.Config, res apply.Result, err error) {
	built := model.Build(in)
	// Changes to the ConfigMaps this model read sync; others need not.
	c.watcher.SetReferencedConfigMaps(built.ConfigMapRefs)
	err = c.dataFiles.Apply(built.DataFiles, func(copies map[string]string) error {
		opts := c.cfg.Plan
		opts.DataFiles = copies
		var aerr error
		cfg, res, aerr = c.planAndApply(ctx, built, opts, reasons)
		return aerr
	})
	return cfg, res, err
}

// planAndApply makes the plan of cfg with opts, renders it and applies
// it.
func (c *Controller) planAndApply(ctx context.Context, cfg *model.Config, opts plan.Options, reasons []string) (*model.Config, apply.Result, error) {
	p, err := plan.Make(cfg, c.last.Load(), opts)
	if err != nil {
		return nil, apply.Result{}, err
	}
	conf, sum, err := render.Render(p)
	if err != nil {
		return nil, apply.Result{}, err
	}
	res, err := c.apply(ctx, conf, sum, p, reasons)
	return cfg, res, err
}

// apply gives nginx conf (nil: the one it runs) with p's Lua documents
// and files, counts a load in the metrics, and once nginx took them keeps
// p as the last plan.
func (c *Controller) apply(ctx context.Context, conf []byte, sum string, p *plan.Plan, reasons []string) (apply.Result, error) {
	// A stuck nginx must not stall the loop: give up and retry with backoff.
	actx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	dyn := apply.Dynamic{Documents: p.Documents, AuthFiles: p.AuthFiles, PeerFiles: p.PeerFiles}
	if conf != nil {
		var err error
		if dyn.RoutedHosts, err = c.routedHosts(p, c.last.Load()); err != nil {
			return apply.Result{}, err
		}
	}
	before, wasRunning := c.applier.Stats(), c.applier.Nginx.Running()
	applyStart := time.Now()
	res, err := c.applier.Apply(actx, conf, sum, dyn, strings.Join(reasons, ", "))
	if after := c.applier.Stats(); after.Reloads > before.Reloads || after.ReloadFailures > before.ReloadFailures {
		var loadErr error
		if after.ReloadFailures > before.ReloadFailures {
			loadErr = err
		}
		c.metrics.observeLoad(reloadReason(wasRunning, reasons), time.Since(applyStart), loadErr)
	}
	if err == nil {
		c.last.Store(p)
	}
	return res, err
}

// routedHosts is the routed-hosts file of p, or nil when it is prev's,
// the last plan nginx took: the routes and nginx.conf's settings are (at
// 10,000 hosts it is megabytes, for a change elsewhere). The hosts whose
// routes did not change keep their text (render.RoutedHostsFile).
func (c *Controller) routedHosts(p, prev *plan.Plan) ([]byte, error) {
	if prev != nil && bytes.Equal(p.Documents.Routes.Body, prev.Documents.Routes.Body) &&
		reflect.DeepEqual(p.HTTP, prev.HTTP) && reflect.DeepEqual(p.Router, prev.Router) {
		return nil, nil
	}
	return c.routedFile.Render(p)
}

// modelInput is the model's input from a snapshot of the caches.
func (c *Controller) modelInput(snap watch.Snapshot) model.Input {
	var prev *model.Config
	if p := c.last.Load(); p != nil {
		prev = p.Model
	}
	return model.Input{
		Ingresses:      snap.Ingresses,
		IngressClasses: snap.IngressClasses,
		Services:       snap.Services,
		EndpointSlices: snap.EndpointSlices,
		Secrets:        snap.Secrets,
		ConfigMap:      snap.ConfigMap,
		ConfigMaps:     snap.ConfigMaps,
		TCPServices:    snap.TCPServices,
		UDPServices:    snap.UDPServices,
		Previous:       prev,
		Options:        c.cfg.Model,
		Now:            time.Now(),
		LocalAddresses: localAddresses(),
	}
}
