package lint

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Options shape a lint run.
type Options struct {
	// Model are the controller options linted against.
	Model model.Options
	// ConfigMap names the controller's ConfigMap ("namespace/name"); when
	// the input holds it, its values are checked too.
	ConfigMap string
	// StrictRefs reports references to Services, Secrets and ConfigMaps
	// missing from the input even when it holds none of that kind.
	StrictRefs bool
	// Now is the time certificates are checked against.
	Now time.Time
}

// Result is the outcome of Lint.
type Result struct {
	Objects     int               `json:"objects"`
	Skipped     int               `json:"skipped"`
	Diagnostics []diag.Diagnostic `json:"diagnostics"`
}

// Failed reports whether any diagnostic is a Warning or an Error.
func (r Result) Failed() bool {
	for _, d := range r.Diagnostics {
		if d.Severity != diag.Info {
			return true
		}
	}
	return false
}

// Lint runs the controller's model on objs and returns its diagnostics.
func Lint(objs *Objects, o Options) Result {
	opts := o.Model
	opts.ReportUnknownClass = true
	classes := objs.IngressClasses
	if len(classes) == 0 {
		classes = []*networkingv1.IngressClass{{
			ObjectMeta: metav1.ObjectMeta{Name: opts.IngressClass},
			Spec:       networkingv1.IngressClassSpec{Controller: opts.ControllerClass},
		}}
	}
	var cm *corev1.ConfigMap
	for _, c := range objs.ConfigMaps {
		if c.Namespace+"/"+c.Name == o.ConfigMap {
			cm = c
		}
	}
	cfg := model.Build(model.Input{
		Ingresses:      objs.Ingresses,
		IngressClasses: classes,
		Services:       objs.Services,
		EndpointSlices: objs.EndpointSlices,
		Secrets:        objs.Secrets,
		ConfigMap:      cm,
		ConfigMaps:     objs.ConfigMaps,
		Options:        opts,
		Now:            o.Now,
	})
	checkServices := o.StrictRefs || len(objs.Services) > 0
	checkSecrets := o.StrictRefs || len(objs.Secrets) > 0
	checkConfigMaps := o.StrictRefs || len(objs.ConfigMaps) > 1 || len(objs.ConfigMaps) == 1 && cm == nil
	ds := []diag.Diagnostic{}
	for _, d := range cfg.Diagnostics {
		switch {
		case d.Reason == "BackendNotFound" && !checkServices:
		case d.Reason == "InvalidTLSSecret" && !checkSecrets && strings.Contains(d.Message, "does not exist"):
		case (d.Reason == "InvalidAuthProxySetHeaders" || d.Reason == "InvalidCustomHeaders" || d.Reason == "InvalidFastCGIParams") &&
			!checkConfigMaps && strings.Contains(d.Message, "does not exist"):
		default:
			ds = append(ds, d)
		}
	}
	// Ingresses of another existing class are not ours to check; say so.
	owned := map[model.IngressRef]bool{}
	for _, r := range cfg.Ingresses {
		owned[r] = true
	}
	for _, ing := range objs.Ingresses {
		if owned[model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}] {
			continue
		}
		if ing.Spec.IngressClassName != nil && !hasClass(classes, *ing.Spec.IngressClassName) {
			continue // UnknownIngressClass already
		}
		_, why := model.Ownership(opts, classes, ing)
		ds = append(ds, diag.Diagnostic{Object: diag.Object{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name},
			Severity: diag.Info, Reason: "NotServed", Message: why + "; not checked"})
	}
	ds = append(ds, partlySupported(objs.Ingresses, owned, cm, ds)...)
	diag.Sort(ds)
	return Result{Objects: objs.Count(), Skipped: objs.Skipped, Diagnostics: ds}
}

// partlySupported notes each partly supported annotation of the owned
// Ingresses, and each partly supported key of the ConfigMap, with how
// Portico differs from ingress-nginx (from the registries), unless that
// field has a finding already.
func partlySupported(ings []*networkingv1.Ingress, owned map[model.IngressRef]bool, cm *corev1.ConfigMap, found []diag.Diagnostic) []diag.Diagnostic {
	type at struct {
		obj   diag.Object
		field string
	}
	seen := map[at]bool{}
	for _, d := range found {
		seen[at{d.Object, d.Field}] = true
	}
	var ds []diag.Diagnostic
	note := func(obj diag.Object, field, differs, doc string) {
		if !seen[at{obj, field}] {
			ds = append(ds, diag.Diagnostic{Object: obj, Field: field, Severity: diag.Info, Reason: "PartlySupported",
				Message: "partly supported by Portico: " + differs + " (" + doc + ")"})
		}
	}
	for _, ing := range ings {
		if !owned[model.IngressRef{Namespace: ing.Namespace, Name: ing.Name}] {
			continue
		}
		obj := diag.Object{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
		for k := range ing.Annotations {
			name, ok := strings.CutPrefix(k, annotations.Prefix)
			if e, known := annotations.Lookup(name); ok && known && e.Status == annotations.Partly {
				note(obj, "metadata.annotations["+k+"]", e.Differs, "docs/annotations.md")
			}
		}
	}
	if cm != nil {
		obj := diag.Object{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
		for k := range cm.Data {
			if key, ok := model.LookupConfigKey(k); ok && key.Status == annotations.Partly {
				note(obj, "data["+k+"]", key.Differs, "docs/configmap.md")
			}
		}
	}
	return ds
}

func hasClass(classes []*networkingv1.IngressClass, name string) bool {
	for _, c := range classes {
		if c.Name == name {
			return true
		}
	}
	return false
}
