package controller

import (
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/report"
	"github.com/portico-ingress/portico/pkg/watch"
)

// reportDiagnostics emits an Event and a log line per new diagnostic, and a
// Normal event when an Ingress becomes served without any.
func (c *Controller) reportDiagnostics(snap watch.Snapshot, cfg *model.Config) {
	byObj := map[diag.Object][]diag.Diagnostic{}
	for _, d := range cfg.Diagnostics {
		byObj[d.Object] = append(byObj[d.Object], d)
	}
	objs := map[diag.Object]runtime.Object{}
	for _, ing := range snap.Ingresses {
		objs[diag.Object{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}] = ing
	}
	for _, cm := range []*corev1.ConfigMap{snap.ConfigMap, snap.TCPServices, snap.UDPServices} {
		if cm != nil {
			objs[diag.Object{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}] = cm
		}
	}
	keep := map[string]bool{}
	report1 := func(obj diag.Object, ds []diag.Diagnostic, accepted string) {
		o, ok := objs[obj]
		if !ok {
			return
		}
		key := obj.String()
		keep[key] = true
		fs := make([]report.Finding, 0, len(ds))
		for _, d := range ds {
			fs = append(fs, report.Finding{Warning: d.Severity != diag.Info, Reason: d.Reason, Message: message(d)})
		}
		if !c.events.Report(key, o, fs, accepted) {
			return
		}
		for _, d := range ds {
			c.metrics.findings.WithLabelValues(d.Object.Kind, string(d.Severity), d.Reason).Inc()
			c.log.Warn("configuration problem", zap.Stringer("object", d.Object), zap.String("field", d.Field),
				zap.String("severity", string(d.Severity)), zap.String("reason", d.Reason), zap.String("message", d.Message))
		}
	}
	for _, ref := range cfg.Ingresses {
		obj := diag.Object{Kind: "Ingress", Namespace: ref.Namespace, Name: ref.Name}
		accepted := ""
		if !diag.HasError(byObj[obj]) && !c.cfg.DisableSyncEvents {
			accepted = "Scheduled for sync: the Ingress is served"
		}
		report1(obj, byObj[obj], accepted)
		delete(byObj, obj)
	}
	for obj, ds := range byObj {
		report1(obj, ds, "")
	}
	c.events.Forget(keep)
	if c.events.Deferred() {
		c.retryEvents()
	}
}

// eventRetry is how long findings over their namespace's Event budget
// (report.Events) wait for the sync that reports them.
const eventRetry = 5 * time.Second

// retryEvents asks for a sync in eventRetry, one at a time.
func (c *Controller) retryEvents() {
	if c.eventRetry.CompareAndSwap(false, true) {
		time.AfterFunc(eventRetry, func() {
			c.eventRetry.Store(false)
			c.watcher.Trigger("Events over a namespace's budget")
		})
	}
}

func message(d diag.Diagnostic) string {
	if d.Field == "" {
		return d.Message
	}
	return d.Field + ": " + d.Message
}

// ownedIngresses returns the cache objects of the Ingresses cfg owns.
func ownedIngresses(snap watch.Snapshot, cfg *model.Config) []*networkingv1.Ingress {
	want := make(map[model.IngressRef]bool, len(cfg.Ingresses))
	for _, r := range cfg.Ingresses {
		want[r] = true
	}
	var out []*networkingv1.Ingress
	for _, ing := range snap.Ingresses {
		if want[model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}] {
			out = append(out, ing)
		}
	}
	return out
}
