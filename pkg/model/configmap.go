package model

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// defaultGlobal is what an absent ConfigMap or key means.
var defaultGlobal = Global{LoadBalance: annotations.RoundRobin}

// parseConfigMap parses the controller's ConfigMap. A bad value is reported
// and the default is used in its place.
func parseConfigMap(cm *corev1.ConfigMap) (Global, []diag.Diagnostic) {
	g := defaultGlobal
	if cm == nil {
		return g, nil
	}
	obj := diag.Object{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
	var ds []diag.Diagnostic
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := cm.Data[k]
		field := "data[" + truncate(k) + "]"
		switch k {
		case "load-balance":
			lb, ok := annotations.ParseLoadBalance(v)
			if !ok {
				ds = append(ds, diag.Errorf(field, "InvalidOption", "invalid value %q: want round_robin or ewma; using %s", truncate(v), g.LoadBalance))
				continue
			}
			g.LoadBalance = lb
		default:
			ds = append(ds, diag.Warnf(field, "UnsupportedOption", "option is not supported by Portico and is ignored"))
		}
	}
	return g, diag.For(obj, ds)
}
