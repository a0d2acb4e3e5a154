package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Held keys: a ConfigMap value passes its parser but nginx may still
// refuse it (a log file in a directory nginx cannot write, a syslog host
// it cannot resolve). When nginx refuses a config whose ConfigMap values
// changed since the last config it took, the changed keys are held at
// their last good values (each alone first, then all), the rest is
// applied, and each held key is an Error diagnostic of the ConfigMap
// (a Warning Event) while that version of the ConfigMap stays.

// heldKeys are the keys of ConfigMap version rv that nginx refused, held
// at their last good values, and nginx's error.
type heldKeys struct {
	rv    string
	keys  []string
	cause string
}

// withHeldKeys is cm with the keys of c.heldCM at their last good values,
// while cm is the version they were held for.
func (c *Controller) withHeldKeys(cm *corev1.ConfigMap) *corev1.ConfigMap {
	h := c.heldCM
	if h == nil || cm == nil || cm.ResourceVersion != h.rv {
		c.heldCM = nil
		return cm
	}
	return holdKeys(cm, h.keys, c.lastGoodValues())
}

// lastGoodValues are the ConfigMap values of the last config nginx took.
func (c *Controller) lastGoodValues() map[string]string {
	if p := c.last.Load(); p != nil && p.Model != nil {
		return p.Model.ConfigMapValues
	}
	return nil
}

// holdKeys is a copy of cm with keys at their values in lastGood, or left
// out where lastGood has none.
func holdKeys(cm *corev1.ConfigMap, keys []string, lastGood map[string]string) *corev1.ConfigMap {
	out := cm.DeepCopy()
	for _, k := range keys {
		if v, ok := lastGood[k]; ok {
			out.Data[k] = v
		} else {
			delete(out.Data, k)
		}
	}
	return out
}

// changedKeys are the keys of cm whose value is not the one in effect in
// lastGood, and those lastGood has that cm lost, sorted.
func changedKeys(cm *corev1.ConfigMap, lastGood map[string]string) []string {
	var out []string
	for k, v := range cm.Data {
		if lv, ok := lastGood[k]; !ok || lv != v {
			out = append(out, k)
		}
	}
	for k := range lastGood {
		if _, ok := cm.Data[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// maxIsolate bounds the single keys isolateKeys tries before it holds
// back every changed one.
const maxIsolate = 5

// isolateKeys looks for the changed ConfigMap keys whose new values make
// nginx refuse the config: it tries holding each alone (up to
// maxIsolate), then all of them. On success it remembers them (c.heldCM)
// and returns the config applied, with their diagnostics, and its input.
func (c *Controller) isolateKeys(ctx context.Context, in model.Input, reasons []string, cause error) (*model.Config, apply.Result, model.Input, bool) {
	cm := in.ConfigMap
	if cm == nil {
		return nil, apply.Result{}, in, false
	}
	lastGood := c.lastGoodValues()
	changed := changedKeys(cm, lastGood)
	if len(changed) == 0 {
		return nil, apply.Result{}, in, false
	}
	var tries [][]string
	if len(changed) > 1 {
		for _, k := range changed[:min(len(changed), maxIsolate)] {
			tries = append(tries, []string{k})
		}
	}
	tries = append(tries, changed)
	for _, keys := range tries {
		try := in
		try.ConfigMap = holdKeys(cm, keys, lastGood)
		cfg, res, err := c.buildAndApply(ctx, try, reasons)
		var rejected *apply.RejectedError
		if err != nil && !errors.As(err, &rejected) {
			return nil, apply.Result{}, in, false
		}
		if err != nil {
			continue
		}
		c.heldCM = &heldKeys{rv: cm.ResourceVersion, keys: keys, cause: truncateErr(cause)}
		c.log.Warn("ConfigMap keys held at their last good values: nginx refused them", zap.Strings("keys", keys), zap.Error(cause))
		return cfg, res, try, true
	}
	return nil, apply.Result{}, in, false
}

// addHeldDiagnostics adds to cfg, applied with the held keys, an Error
// diagnostic of cm per held key.
func (c *Controller) addHeldDiagnostics(cfg *model.Config, cm *corev1.ConfigMap) {
	h := c.heldCM
	if h == nil || cm == nil {
		return
	}
	obj := diag.Object{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
	var ds []diag.Diagnostic
	for _, k := range h.keys {
		kept := "it is left out"
		if v, ok := cfg.ConfigMapValues[k]; ok {
			kept = fmt.Sprintf("its last good value %q is kept", v)
		}
		ds = append(ds, diag.Errorf("data["+k+"]", "ConfigNotApplied",
			"nginx refused the configuration with this value; %s, and the other keys are applied: %s", kept, h.cause))
	}
	cfg.Diagnostics = append(cfg.Diagnostics, diag.For(obj, ds)...)
	diag.Sort(cfg.Diagnostics)
}
